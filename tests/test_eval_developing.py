"""``briefs eval developing`` on a fixture made from the demo corpus (tests/data/developing.jsonl).

The fixture: stories A (Guangzhou talks: 1 report on 4 April, 3 on the 5th, 4 on the 6th), B
(Calder Bay flood: 1, 5 and 2; the Tidewater Review document of the 5th is untitled), D (Orbis
outage: 2 on the 4th, 3 on the 5th), E (Kellan Dairy: 3 reports, all on the 5th) and K (the
Marrow Island ferry: a titled report on the 5th, then the untitled Saltmarsh Courier document
on the 6th, whose first sentence is 30 words long). Worked out by hand:

* stories = 4 (A, B, D, K have reports on two or more days; E does not);
* editions = 6 (A on the 5th and 6th, B on the 5th and 6th, D on the 5th, K on the 6th);
* every later day has titled new reports except K's 6th, whose only new report has neither a
  title nor a short first sentence: its headline falls back to the 5th's title (by design, never
  a cut-off sentence), so headline_share = 5/6 = 0.8333; every lead can come from the new
  reports, so lead_share = 1.0.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from briefs.cli import cli
from briefs.errors import EvaluationError
from briefs.evaluate.developing import load_day_records

FIXTURE = Path(__file__).parent / "data" / "developing.jsonl"


def test_eval_developing_scores_the_fixture_as_worked_out_by_hand() -> None:
    result = CliRunner().invoke(cli, ["eval", "developing", str(FIXTURE)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "stories": 4,
        "editions": 6,
        "lead_share": 1.0,
        "headline_share": 0.8333,
    }


def test_dates_are_days_or_timestamps(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    rows = [
        {"id": "1", "title": "t", "text": "x", "date": "2024-04-05", "story_id": "s"},
        {
            "id": "2",
            "title": "t",
            "text": "x",
            "date": "2024-04-05T23:30:00+02:00",
            "story_id": "s",
        },
        {"id": "3", "title": "t", "text": "x", "date": "2024-04-06T01:00:00", "story_id": "s"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    got = [r.published.isoformat() for r in load_day_records(path)]
    assert got == [
        "2024-04-05T12:00:00+00:00",  # a day: noon UTC
        "2024-04-05T21:30:00+00:00",
        "2024-04-06T01:00:00+00:00",  # no zone: UTC
    ]
    path.write_text(json.dumps({"id": "1", "story_id": "s", "date": "5 April"}) + "\n")
    with pytest.raises(EvaluationError, match="bad date"):
        load_day_records(path)
