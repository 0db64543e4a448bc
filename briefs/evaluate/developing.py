"""Developing stories on labelled data: does each later day's edition lead with that day's news?

Reads the JSON Lines format ``briefs eval group`` reads: ``id``, ``title``, ``text``, optional
``summary`` (the feed teaser), ``date`` (``YYYY-MM-DD``, taken as noon UTC, or an ISO timestamp,
UTC when it names no zone) and the gold ``story_id``. The articles are fed day by day (UTC
days) through the product itself: stored in a SQLite file in a temporary folder, linked to
their copies, grouped (:func:`briefs.grouping.group_pending`), and one edition built per day
(:func:`briefs.edition.build_edition`: summarizing, ranking and rendering as a run does, with
no cap on stories so that ranking does not decide what is checked).

For every gold story with reports on two or more days, at each later day that brings it new
reports, the edition's story holding most of that day's reports is found, and two things are
checked: its lead sentence and its headline come from one of that day's reports (the
headline's article, :attr:`briefs.models.Summary.headline_id`). A story missing from the
edition fails both. Printed: ``stories`` (gold stories checked), ``editions`` (story-days
checked), ``lead_share`` and ``headline_share``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from briefs.config import BriefSettings, Config, GroupSettings, SummarySettings
from briefs.errors import EvaluationError
from briefs.models import Article, Brief, Edition
from briefs.timing import Timings

__all__ = ["DayRecord", "evaluate_developing", "load_day_records"]

# No cap: every story of the day is in its edition, so the check is of summaries, not ranking.
_UNCAPPED = 1_000_000


@dataclass(frozen=True, slots=True)
class DayRecord:
    """One labelled article with its publication time."""

    id: str
    title: str
    text: str
    summary: str
    published: dt.datetime
    gold: str


def _published(value: Any, where: str) -> dt.datetime:
    if not isinstance(value, str) or not value.strip():
        raise EvaluationError(f"{where}: a date is needed (YYYY-MM-DD or an ISO timestamp)")
    text = value.strip()
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return dt.datetime.combine(day, dt.time(12, 0), dt.UTC)
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise EvaluationError(f"{where}: bad date {value!r}") from None
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)


def load_day_records(path: str | Path) -> list[DayRecord]:
    """The labelled articles of a JSON Lines file (blank lines skipped)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvaluationError(f"cannot read {path}: {exc}") from exc
    records: list[DayRecord] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvaluationError(f"{where}: not JSON: {exc.msg}") from exc
        if not isinstance(row, dict) or "id" not in row or "story_id" not in row:
            raise EvaluationError(f"{where}: expected an object with id and story_id")
        records.append(
            DayRecord(
                id=str(row["id"]),
                title=str(row.get("title") or ""),
                text=str(row.get("text") or ""),
                summary=str(row.get("summary") or ""),
                published=_published(row.get("date"), where),
                gold=str(row["story_id"]),
            )
        )
    if not records:
        raise EvaluationError(f"{path}: no records")
    return records


def _article(record: DayRecord) -> Article:
    # The format names no outlet: each article is its own report, from its own outlet.
    ident = hashlib.sha1(f"eval:{record.id}".encode()).hexdigest()[:16]
    return Article(
        id=ident,
        source_id="eval",
        url=f"https://eval.invalid/{ident}",
        title=record.title,
        published=record.published,
        fetched=record.published,
        outlet=f"article {record.id}",
        guid=record.id,
        summary=record.summary,
        body=record.text,
        body_origin="file" if record.text else "feed",
    )


def _config(folder: Path, summary: SummarySettings, group: GroupSettings) -> Config:
    brief = BriefSettings(
        title="Evaluation",
        timezone="UTC",
        max_stories=_UNCAPPED,
        max_per_outlet=_UNCAPPED,
        images=False,
    )
    return Config(
        path=folder / "eval.toml",
        database=str(folder / "eval.db"),
        output=folder / "output",
        templates=None,
        group=group,
        summary=summary,
        brief=brief,
    )


def _editions(records: Sequence[DayRecord], config: Config) -> dict[dt.date, Brief]:
    """Build one edition per UTC day, feeding each day's articles in first."""
    from briefs.edition import build_edition
    from briefs.grouping import group_pending
    from briefs.ingest.copies import link_copies
    from briefs.store import open_store

    by_day: dict[dt.date, list[Article]] = defaultdict(list)
    for record in records:
        by_day[record.published.date()].append(_article(record))
    store = open_store(config.database)
    out: dict[dt.date, Brief] = {}
    try:
        for day in sorted(by_day):
            added = store.add_articles(by_day[day])
            link_copies(store, {a.id for a in added})
            group_pending(config, store)
            cutoff = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 0), dt.UTC)
            brief, _ = build_edition(config, store, Edition(day), cutoff, Timings())
            out[day] = brief
    finally:
        store.close()
    return out


def evaluate_developing(
    records: Sequence[DayRecord],
    summary: SummarySettings | None = None,
    group: GroupSettings | None = None,
) -> dict[str, Any]:
    """Lead and headline shares over the later days of every multi-day gold story."""
    ids = {r.id: _article(r).id for r in records}
    days_of: dict[str, dict[dt.date, set[str]]] = defaultdict(lambda: defaultdict(set))
    for record in records:
        days_of[record.gold][record.published.date()].add(ids[record.id])
    chains = {gold: days for gold, days in days_of.items() if len(days) >= 2}
    if not chains:
        raise EvaluationError("no gold story has reports on two or more days")
    with tempfile.TemporaryDirectory(prefix="briefs-eval-") as tmp:
        config = _config(Path(tmp), summary or SummarySettings(), group or GroupSettings())
        editions = _editions(records, config)
    checked = leads = headlines = 0
    for days in chains.values():
        for day in sorted(days)[1:]:
            fresh = days[day]
            checked += 1
            brief = editions.get(day)
            stories = brief.stories if brief is not None else ()
            best = max(
                stories,
                key=lambda s: len(fresh & {a.id for a in s.articles}),
                default=None,
            )
            if best is None or not fresh & {a.id for a in best.articles}:
                continue
            sentences = best.summary.sentences
            leads += bool(sentences) and sentences[0].article_id in fresh
            headlines += best.summary.headline_id in fresh
    return {
        "stories": len(chains),
        "editions": checked,
        "lead_share": round(leads / checked, 4),
        "headline_share": round(headlines / checked, 4),
    }
