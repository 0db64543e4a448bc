"""``briefs eval``: quality measured on labelled data."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from briefs.cli.app import State, cli, handle_errors
from briefs.config import SUMMARY_METHODS, find_config, load_config


@cli.group("eval")
def evaluate() -> None:
    """Measure quality on labelled data.

    \b
    Example:
      briefs eval extract ../shared/data/article-extraction-benchmark
      briefs eval group ../shared/data/mmds2025-news-clustering/dev.jsonl --lang en
      briefs eval developing stories-by-day.jsonl
    """


@evaluate.command("extract")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.pass_obj
@handle_errors
def eval_extract(state: State, folder: str) -> None:
    """Score article text extraction on a benchmark folder; print one JSON object.

    FOLDER holds html/<id>.html.gz and ground-truth.json, as the Article Extraction Benchmark
    does. The metric is the benchmark's own (word 4-gram shingles; precision and recall averaged
    over pages; F1 of the two). Prints {"pages", "precision", "recall", "f1"}.

    \b
    Example:
      briefs eval extract ../shared/data/article-extraction-benchmark
    """
    import json

    from briefs.evaluate.extract import evaluate_extraction

    scores = evaluate_extraction(Path(folder))
    click.echo(json.dumps(scores.as_dict()))


@evaluate.command("summarize")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "-n",
    "--sentences",
    type=click.IntRange(min=1),
    help="Sentences per summary (default: 3 single-article, 5 multi-article).",
)
@click.option(
    "--method",
    type=click.Choice(SUMMARY_METHODS, case_sensitive=False),
    help="Summary method (default: the built-in summary.method).",
)
@click.option("--lang", help="Only articles whose lang_guess is this (multi-article files).")
@click.option("--words", type=click.IntRange(min=1), help="Word budget (default: none).")
@handle_errors
def eval_summarize(
    file: str, sentences: int | None, method: str | None, lang: str | None, words: int | None
) -> None:
    """Score the summarizer on a JSON Lines file; print one JSON object.

    Single-article files (text/paragraphs + reference_summary) give mean ROUGE-1/2/L F1:
    {"articles", "rouge1", "rouge2", "rougeL"}. Multi-article files (story_id + sentences
    with human relevance) give, for each story of 2+ articles, the mean relevance and NDCG
    of the sentences picked: {"stories", "mean_relevance", "ndcg"}. The built-in summary
    settings are used (not the config file); options override them. ROUGE needs the
    rouge-score package (pip install 'briefs[eval]').

    \b
    Example:
      briefs eval summarize ../shared/data/bbc-news-summary/dev.jsonl --sentences 3
      briefs eval summarize ../shared/data/mmds2025-news-clustering/dev.jsonl --lang en
    """
    import json

    from briefs.evaluate.summarize import evaluate_summaries

    def run(progress: Callable[[int, int], None] | None) -> dict[str, Any]:
        return evaluate_summaries(
            file,
            sentences=sentences,
            method=method.lower() if method else None,
            lang=lang,
            words=words,
            progress=progress,
        )

    if sys.stderr.isatty():
        from rich.progress import Progress

        with Progress(console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task("summarizing", total=None)
            result = run(lambda done, total: bar.update(task, completed=done, total=total))
    else:
        result = run(None)
    click.echo(json.dumps(result))


@evaluate.command("group")
@click.argument("path", metavar="FILE.jsonl", type=click.Path(dir_okay=False))
@click.option("--lang", default=None, help="Only articles whose lang_guess is this (e.g. en).")
@click.option(
    "--text",
    "text_mode",
    type=click.Choice(["title", "lead", "full"]),
    default="lead",
    show_default=True,
    help="What the grouper reads: the title, title + teaser/lead (as from a feed), or full text.",
)
@click.option(
    "--orders",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Also group under N other draws of ids and file order (which order articles of one "
    "time); report mean and range.",
)
@click.pass_obj
@handle_errors
def eval_group_cmd(state: State, path: str, lang: str | None, text_mode: str, orders: int) -> None:
    """Group labelled articles with the product's grouping and score them against gold stories.

    FILE.jsonl has one article a line: id, title, text, date (YYYY-MM-DD, an ISO timestamp
    with or without zone, or null), story_id, and optionally summary (the feed teaser) and
    lang_guess. Articles are grouped in time order, one day per call, as daily runs would;
    those with a date only get a pseudo-random time in their day. Prints one JSON object:
    articles, gold_stories, predicted_stories, bcubed_precision/recall/f1 and
    pairwise_precision/recall/f1; ``languages`` (the F1s per lang_guess, when there are
    several) and, with --orders N, ``orders`` (mean, min, max and range of the F1s over N other
    orders). Uses the [group] settings of the configuration if one is found, else the defaults
    (the semantic signal when the embedding model is installed).

    \b
    Example:
      briefs eval group ../shared/data/mmds2025-news-clustering/dev.jsonl --lang en --orders 6
    """
    import json

    from briefs.config import GroupSettings
    from briefs.embed import load_embedder
    from briefs.errors import ConfigError
    from briefs.evaluate.group import embed_records, evaluate_grouping, load_records

    try:
        config_file = find_config(state.config_path)
    except ConfigError:
        settings = GroupSettings()
    else:
        settings = load_config(config_file).group
    records = load_records(path, lang)
    embedder = load_embedder() if settings.semantic else None
    embeddings = embed_records(records, embedder) if embedder is not None else None
    result = evaluate_grouping(
        records,
        settings,
        text_mode,  # type: ignore[arg-type]
        embeddings=embeddings,
        orders=orders,
    )
    click.echo(json.dumps(result))


@evaluate.command("developing")
@click.argument("path", metavar="FILE.jsonl", type=click.Path(dir_okay=False))
@handle_errors
def eval_developing_cmd(path: str) -> None:
    """Feed labelled articles day by day through grouping, summarizing and edition building, and
    check that each later day's edition leads a developing story with that day's news.

    FILE.jsonl is in the format `briefs eval group` reads (id, title, text, optional summary,
    date as YYYY-MM-DD or an ISO timestamp, story_id). For every gold story with reports on two
    or more days, at each later day, the edition's story is checked: does its lead sentence, and
    does its headline, come from that day's reports? Prints one JSON object: stories, editions,
    lead_share, headline_share. Uses the default settings.

    \b
    Example:
      briefs eval developing stories-by-day.jsonl
    """
    import json

    from briefs.evaluate.developing import evaluate_developing, load_day_records

    click.echo(json.dumps(evaluate_developing(load_day_records(path))))
