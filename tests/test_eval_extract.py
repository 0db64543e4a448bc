"""`briefs eval extract`: the benchmark's metric, on a tiny folder and on the shared dev split."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from briefs.cli import cli
from briefs.evaluate.extract import score_pages, shingle_match
from tests.conftest import shared_path


def test_shingle_metric_matches_the_benchmark_definition() -> None:
    truth = "one two three four five six"
    assert shingle_match(truth, truth) == (1.0, 0.0, 0.0)
    # 3 true shingles; prediction drops the last word: 2 shared, 1 missed
    assert shingle_match(truth, "one two three four five") == pytest.approx((2 / 3, 0, 1 / 3))
    assert shingle_match(truth, "") == (0.0, 0.0, 1.0)
    assert shingle_match("", "") == (0.0, 0.0, 0.0)
    scores = score_pages([(truth, truth), (truth, "one two three four five"), ("", "")])
    # precision over pages with a prediction (1, 1); recall over pages with a truth (1, 2/3)
    assert scores.precision == pytest.approx(1.0)
    assert scores.recall == pytest.approx(5 / 6)
    assert scores.f1 == pytest.approx(2 * 1 * (5 / 6) / (1 + 5 / 6))


def test_eval_extract_prints_one_json_object(tmp_path: Path) -> None:
    (tmp_path / "html").mkdir()
    body = " ".join(f"Sentence number {i} of the article says something new." for i in range(30))
    page = (
        "<html><head><title>T</title></head><body><nav><a href='/'>Home</a> <a href='/w'>World"
        f"</a></nav><article><h1>T</h1><p>{body}</p></article><footer>About us</footer>"
        "</body></html>"
    )
    with gzip.open(tmp_path / "html" / "p1.html.gz", "wt", encoding="utf-8") as f:
        f.write(page)
    (tmp_path / "ground-truth.json").write_text(
        json.dumps({"p1": {"articleBody": body, "url": "https://x.example/p1"}})
    )
    result = CliRunner().invoke(cli, ["eval", "extract", str(tmp_path)])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert set(scores) == {"pages", "precision", "recall", "f1"}
    assert scores["pages"] == 1 and scores["recall"] == 1.0 and scores["f1"] > 0.95
    (tmp_path / "html" / "p1.html.gz").unlink()
    result = CliRunner().invoke(cli, ["eval", "extract", str(tmp_path)])
    assert result.exit_code == 1 and "no page for id 'p1'" in result.output


def test_metric_reproduces_the_published_reference_score() -> None:
    """Our metric on the benchmark's own trafilatura outputs gives SOURCE.md's dev figure."""
    folder = shared_path("data", "article-extraction-benchmark")
    truth = json.loads((folder / "ground-truth.json").read_text())
    ref = json.loads((folder / "reference-outputs" / "trafilatura.json").read_text())["output"]
    scores = score_pages(
        [(truth[k]["articleBody"], ref[k].get("articleBody") or "") for k in sorted(truth)]
    )
    assert round(scores.f1, 3) == 0.963


@pytest.mark.slow
def test_extraction_meets_the_goal_on_the_dev_split() -> None:
    folder = shared_path("data", "article-extraction-benchmark")
    result = CliRunner().invoke(cli, ["eval", "extract", str(folder)])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert scores["pages"] == 91
    assert scores["f1"] >= 0.96


@pytest.mark.slow
def test_the_product_never_scores_below_bare_trafilatura_on_any_fold() -> None:
    """Options are kept only if they hold on every fold: on none may the wrapper lose."""
    import trafilatura

    from briefs.evaluate.extract import load_benchmark
    from briefs.ingest.extract import extract_text

    folder = shared_path("data", "article-extraction-benchmark")
    pages = list(load_benchmark(folder))
    product = [(truth, extract_text(html, url)) for _, html, truth, url in pages]
    bare = [
        (truth, trafilatura.extract(html, url=url, include_comments=False) or "")
        for _, html, truth, url in pages
    ]
    for k in range(5):
        assert score_pages(product[k::5]).f1 >= score_pages(bare[k::5]).f1 - 1e-9, f"fold {k}"
    assert score_pages(product).f1 >= score_pages(bare).f1 - 1e-9
