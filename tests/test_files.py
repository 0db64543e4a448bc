from __future__ import annotations

import datetime as dt

from briefs.ingest.files import parse_seed_document, read_seed_folder
from briefs.models import Source
from tests.conftest import SEEDS, shared_path

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
SRC = Source("docs", "files", "/tmp", "Seed documents")


def test_shared_seed_document_ingests_with_date_outlet_and_headline() -> None:
    path = shared_path("seeds", "000_af49e2640a8b7a42.txt")
    article = parse_seed_document(path.read_text(encoding="utf-8"), SRC, path.name, NOW)
    assert article.published.date() == dt.date(2024, 4, 6)
    assert article.outlet == "Bloomberg"
    assert article.title.startswith("US Treasury Secretary Janet Yellen and Chinese Vice Premier")
    assert len(article.title.split()) <= 17
    assert not article.body.startswith("date")
    assert "(Bloomberg)" not in article.body[:40]
    assert article.body.startswith("US Treasury Secretary Janet Yellen")
    assert article.body_origin == "file"


def test_header_lines_win() -> None:
    text = "title: Ferry back\nurl: https://x.example/a?utm_source=rss#top\nsource: Saltmarsh Post\n\ndate 2024-04-06 (Ignored Wire) -- Ferries ran again on Saturday.\n\nMore text here."
    article = parse_seed_document(text, SRC, "a.txt", NOW)
    assert article.title == "Ferry back"
    assert article.url == "https://x.example/a"
    assert article.outlet == "Saltmarsh Post"
    assert article.body.startswith("Ferries ran again")


def test_document_without_date_uses_now_and_source_name() -> None:
    article = parse_seed_document("Just one line of text about something.", SRC, "b.txt", NOW)
    assert article.published == NOW
    assert article.outlet == "Seed documents"


def test_bundled_seed_folder_reads_every_document() -> None:
    source = Source("docs", "files", str(SEEDS / "docs"), "Seed documents")
    articles, errors = read_seed_folder(source, NOW)
    assert errors == []
    assert len(articles) == len(list((SEEDS / "docs").glob("*.txt")))
    assert all(a.published.year == 2024 for a in articles)
    assert len({a.id for a in articles}) == len(articles)


def test_a_document_of_control_characters_only_is_refused_as_empty() -> None:
    import pytest

    from briefs.errors import ParseError

    for text in ("\x1b", "date 2024-04-05\n\x1b\x07", "\x1b\x1b \n\n\x9b"):
        with pytest.raises(ParseError, match="empty seed document"):
            parse_seed_document(text, SRC, "doc.txt", NOW)


def test_a_tags_line_gives_the_documents_categories() -> None:
    text = "title: Ferry back\ntags: Local, Transport , local\n\nFerries ran again on Saturday."
    article = parse_seed_document(text, SRC, "a.txt", NOW)
    assert article.tags == ("Local", "Transport")  # each once, the first spelling kept
    assert article.body == "Ferries ran again on Saturday."
    untagged = parse_seed_document("Ferries ran again on Saturday.", SRC, "b.txt", NOW)
    assert untagged.tags == ()
