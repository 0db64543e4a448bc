"""What notifications say, and how bodies are cut to each service's size (no sending here: the
Apprise services are made from their URLs, which reaches nothing)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from briefs.config import NotifySettings, load_config
from briefs.models import Notification
from briefs.notify.channel import AppriseChannel
from briefs.notify.compose import ELLIPSIS, fit_body, fit_title

LINK = "Read the edition: https://news.example.org/2024-04-06.html"


def body(lines: int) -> str:
    return "\n".join(
        [*(f"{i}. Headline number {i} of the day (3 outlets)" for i in range(1, lines + 1)), LINK]
    )


def test_a_body_that_fits_is_left_alone() -> None:
    text = body(3)
    assert fit_body(text, len(text)) == text
    assert fit_body(text, 0) == text  # no limit


@pytest.mark.parametrize("limit", [60, 120, 200, 333, 500])
def test_a_long_body_loses_whole_lines_and_keeps_its_link(limit: int) -> None:
    text = body(20)
    cut = fit_body(text, limit)
    assert len(cut) <= limit
    lines = cut.split("\n")
    assert lines[-1] == LINK and lines[-2] == ELLIPSIS
    # every line left is a whole line of the original, in order, from its start
    assert lines[:-2] == text.split("\n")[: len(lines) - 2]


def test_a_limit_below_the_link_keeps_the_first_lines_then_cuts_at_a_word() -> None:
    text = body(5)
    cut = fit_body(text, 50)
    assert cut == "1. Headline number 1 of the day (3 outlets)"
    tiny = fit_body(text, 20)
    assert len(tiny) <= 20 and tiny.endswith(ELLIPSIS) and tiny.startswith("1. Headline")
    assert fit_title("A headline of several words", 14) == "A headline" + ELLIPSIS


def _notification(lines: int) -> Notification:
    md = "\n".join(
        [
            *(
                f"{i}. [Headline {i}](<https://news.example.org/x.html#story-{i}>)"
                for i in range(1, lines + 1)
            ),
            "[Read the edition](<https://news.example.org/x.html>)",
        ]
    )
    return Notification(
        "2024-04-06", "t", "edition", "", "The Brief: Saturday, 6 April 2024", md, body(lines)
    )


@pytest.mark.parametrize(
    ("url", "limit", "markdown"),
    [
        ("pover://" + "u" * 30 + "@" + "t" * 30, 1024, False),  # Pushover: 1,024, plain text
        ("ntfy://127.0.0.1:9/topic", 7800, False),
        ("ntfy://127.0.0.1:9/topic?format=markdown", 7800, True),
        ("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ", 35000, True),
    ],
)
def test_each_service_gets_its_format_within_its_own_limit(
    url: str, limit: int, markdown: bool
) -> None:
    channel = AppriseChannel(NotifySettings(name="t", url=url))
    channel.connect()
    assert channel._service.body_maxlen <= limit
    title, text, fmt = channel.body_of(_notification(400))
    assert len(text) <= channel._service.body_maxlen
    assert fmt == ("markdown" if markdown else "text")
    last = text.split("\n")[-1]
    assert last == ("[Read the edition](<https://news.example.org/x.html>)" if markdown else LINK)
    assert title == "The Brief: Saturday, 6 April 2024"
    channel.close()


def test_a_service_without_titles_has_the_title_counted_in_its_body() -> None:
    # Twilio: 160 characters, no title (Apprise puts it first in the body)
    url = "twilio://AC" + "1" * 32 + ":" + "a" * 32 + "@15551234567/15557654321"
    channel = AppriseChannel(NotifySettings(name="sms", url=url))
    channel.connect()
    title, text, _ = channel.body_of(_notification(10))
    assert len(title) + 2 + len(text) <= 160
    assert text.split("\n")[-1] == LINK


def test_format_overrides_what_the_service_takes() -> None:
    channel = AppriseChannel(
        NotifySettings(name="t", url="json://127.0.0.1:9/x", format="markdown")
    )
    channel.connect()
    assert channel.body_of(_notification(2))[2] == "markdown"
    plain = dataclasses.replace(channel.target, format="text")
    channel = AppriseChannel(plain)
    channel.connect()
    assert channel.body_of(_notification(2))[2] == "text"


def test_targets_follow_their_brief(tmp_path: Path) -> None:
    from briefs.errors import ConfigError
    from briefs.notify.compose import targets_of

    path = tmp_path / "briefs.toml"
    desk = '[[briefs]]\nid = "local"\n[[briefs]]\nid = "sport"\n'
    path.write_text(
        desk + '[[notify]]\nname = "first"\nurl_env = "A"\n'
        '[[notify]]\nname = "sport"\nurl_env = "B"\nbrief = "sport"\n'
    )
    config = load_config(path)
    # no brief: the first of the desk's
    assert [t.name for t in targets_of(config.for_brief("local"))] == ["first"]
    assert [t.name for t in targets_of(config.for_brief("sport"))] == ["sport"]
    # one brief only: every target follows it
    path.write_text('[[notify]]\nname = "only"\nurl_env = "A"\n')
    assert [t.name for t in targets_of(load_config(path))] == ["only"]
    path.write_text(desk + '[[notify]]\nurl_env = "A"\nbrief = "weather"\n')
    with pytest.raises(
        ConfigError, match=r"notify\[0\]\.brief 'weather' is not a brief \(local, sport\)"
    ):
        load_config(path)
