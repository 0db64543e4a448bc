"""Summaries: attributed, cleaned, non-redundant, within budget; one-article and titles-only
stories; every method by name."""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from briefs.config import SUMMARY_METHODS, SummarySettings
from briefs.errors import ConfigError
from briefs.models import Article, Story
from briefs.summarize import (
    METHODS,
    Tuning,
    check_method,
    clean_sentence,
    is_title,
    refers_back,
    rejection,
    strip_dateline,
    summarize_story,
)
from briefs.summarize.candidates import candidates as _candidates
from briefs.text import split_sentences
from tests.builders import article as make_article

T0 = dt.datetime(2024, 4, 5, 8, 0, tzinfo=dt.UTC)


def article(
    ident: str,
    outlet: str,
    body: str,
    title: str = "",
    *,
    summary: str = "",
    duplicate_of: str | None = None,
    minutes: int = 0,
) -> Article:
    return make_article(
        ident,
        title,
        at=T0,
        minutes=minutes,
        fetched=T0,
        source=outlet.lower().replace(" ", "-"),
        outlet=outlet,
        url=f"https://{outlet.lower().replace(' ', '')}.example/{ident}",
        summary=summary,
        body=body,
        body_origin="extracted" if body else "feed",
        duplicate_of=duplicate_of,
    )


def story_of(*articles: Article) -> Story:
    return Story("s1", tuple(a.id for a in articles), T0, T0, title="Story title")


FLOOD_WIRE = (
    "(Meridian Wire) -- The River Calder burst its banks on Thursday, flooding about 600 homes "
    "in the Lowfield district of Calder Bay.\n\n"
    "Mayor Rosa Ilesanmi declared a state of emergency after 140 mm of rain fell in 36 hours.\n\n"
    "Emergency crews used boats to rescue residents from upstairs windows on Quay Road.\n\n"
    "Forecasters expect the river to fall over the weekend as drier weather arrives."
)
FLOOD_HERALD = (
    "By Jane Doe, Staff Reporter\n\n"
    "Floodwater swept through the Lowfield district of Calder Bay on Thursday after the River "
    "Calder burst its banks, leaving about 600 homes under water.\n\n"
    "Photo: Firefighters wade along Mill Lane in the Lowfield district / Harbour Herald\n\n"
    "Mayor Rosa Ilesanmi said the city had never faced water like this and declared a state of "
    "emergency on Thursday evening.\n\n"
    "The council has opened the Calder Bay Leisure Centre as a shelter for evacuated families.\n\n"
    "Read more: Calder Bay floods - how to make an insurance claim\n\n"
    "Sign up for our newsletter for live updates on the Calder Bay floods.\n\n"
    "© 2024 Harbour Herald. All rights reserved."
)
FLOOD_DISPATCH = (
    "CALDER BAY — Rowing boats replaced cars on Quay Road on Friday as Calder Bay absorbed the "
    "worst flood in its recorded history.\n\n"
    "About 2,300 residents of the Lowfield district spent the night in shelters after the River "
    "Calder rose to a record 5.8 metres.\n\n"
    '"We left with the clothes we were wearing. We did not even take the cat," said Peter Osei, '
    "whose ground floor flooded late on Thursday.\n\n"
    "Schools across the city will stay closed on Monday."
)


def flood_story() -> tuple[Story, list[Article]]:
    arts = [
        article("w1", "Meridian Wire", FLOOD_WIRE, "River Calder bursts its banks", minutes=0),
        article("h1", "Harbour Herald", FLOOD_HERALD, "Calder Bay homes flooded", minutes=30),
        article("p1", "Pacific Dispatch", FLOOD_DISPATCH, "Record flood in Calder Bay", minutes=60),
    ]
    return story_of(*arts), arts


def test_every_sentence_is_printed_by_the_article_it_is_attributed_to() -> None:
    story, arts = flood_story()
    by_id = {a.id: a for a in arts}
    for method in SUMMARY_METHODS:
        summary = summarize_story(story, arts, SummarySettings(method, 4, 500))
        assert summary.sentences, method
        for sentence in summary.sentences:
            source = by_id[sentence.article_id]
            assert sentence.outlet == source.outlet
            assert sentence.url == source.url
            assert sentence.text in source.body.replace("\n\n", " ")
            assert split_sentences(source.body)[sentence.position].endswith(sentence.text)
        assert summary.outlets == ("Meridian Wire", "Harbour Herald", "Pacific Dispatch")


def test_cleaning_drops_boilerplate_and_keeps_the_news() -> None:
    dropped = {
        "By Jane Doe, Staff Reporter": "byline",
        "By Luis Ortega, staff writer": "byline",
        "(Reporting by Jane Doe; Editing by John Smith)": "byline",
        "Photo: Firefighters wade along Mill Lane / Harbour Herald": "caption",
        "Read more: Calder Bay floods - how to make an insurance claim": "read-more",
        "Sign up for our newsletter for live updates on the Calder Bay floods.": "newsletter",
        "Subscribe to get the markets briefing in your inbox every weekday.": "newsletter",
        "© 2024 Harbour Herald. All rights reserved.": "copyright",
        "Copyright 2024 Meridian Wire Ltd.": "copyright",
        "SINGAPORE:": "fragment",
        "Tottenham v Brighton": "fragment",
        "said the minister in a statement on Friday.": "fragment",
        'We left," she said on Friday night.': "fragment",
        "THE RIVER HAS BURST ITS BANKS AND THE CITY IS FLOODED.": "all-caps",
        " ".join(["word"] * 70) + ".": "too-long",
    }
    for text, reason in dropped.items():
        assert rejection(strip_dateline(text)) == reason, text
        assert clean_sentence(text) is None, text
    kept = [
        "By Friday, the river had fallen to 3 metres.",
        "Patents are not copyright, but something much stronger.",
        '"If you want the pension you were promised, you must work longer.',
        'She said "no" and left the room on Friday.',
        "The so-called “green” deal was signed in Brussels.",
    ]
    for text in kept:
        assert clean_sentence(text) == text, text


def test_datelines_are_stripped_and_the_sentence_kept() -> None:
    cases = {
        "(Meridian Wire) -- Skyward Air cancelled 340 flights.": "Skyward Air cancelled 340 flights.",
        "LONDON (Reuters) - Shares fell on Monday.": "Shares fell on Monday.",
        "CALDER BAY — Rowing boats replaced cars.": "Rowing boats replaced cars.",
        "CAIRO :     Abu Dhabi signed the deal.": "Abu Dhabi signed the deal.",
        "TOKYO/LONDON: Japan said it would act.": "Japan said it would act.",
        "WASHINGTON, March 3 (AP) -- The Senate voted.": "The Senate voted.",
        "US-China talks resumed on Friday.": "US-China talks resumed on Friday.",
    }
    for raw, expected in cases.items():
        assert strip_dateline(raw) == expected


def test_quotes_stay_whole() -> None:
    text = (
        '"We left with the clothes we were wearing. We did not even take the cat," said Peter '
        'Osei. "I don\'t know when we will go back. "Nobody in our street knows."'
    )
    sentences = split_sentences(text)
    assert sentences[0].endswith("said Peter Osei.")
    assert all(clean_sentence(s) for s in sentences)


def test_summary_drops_boilerplate_and_strips_datelines() -> None:
    story, arts = flood_story()
    summary = summarize_story(story, arts, SummarySettings("textrank", 10, 10_000))
    texts = [s.text for s in summary.sentences]
    assert not any(t.startswith(("By ", "Photo:", "Read more", "Sign up", "©")) for t in texts)
    assert not any(t.startswith(("(Meridian Wire)", "CALDER BAY")) for t in texts)
    assert any(t.startswith("The River Calder burst its banks") for t in texts)


def test_a_repeated_wire_sentence_is_quoted_once() -> None:
    wire = (
        "Skyward Air cancelled 340 flights on Friday after cabin crew confirmed a 48-hour strike "
        "starting at 12:01 a.m. on Saturday."
    )
    arts = [
        article("m", "Meridian Wire", f"(Meridian Wire) -- {wire}\n\nThe union wants a 9% raise."),
        # The same wire copy, reprinted by another outlet (not marked as a duplicate).
        article("h", "Harbour Herald", f"{wire}\n\nPassengers were told to check the website."),
        article(
            "n",
            "Northgate Times",
            "Skyward Air has cancelled 340 flights because cabin crew will strike for 48 hours "
            "from early Saturday.\n\nTalks with the union broke down on Thursday evening.",
        ),
    ]
    summary = summarize_story(story_of(*arts), arts, SummarySettings("textrank", 4, 500))
    texts = [s.text for s in summary.sentences]
    assert sum(t == wire for t in texts) == 1
    # The paraphrase says the same thing: the redundancy cut removes it too.
    assert not any(t.startswith("Skyward Air has cancelled 340 flights") for t in texts)
    # Without the cut (threshold above any cosine) the paraphrase would have been chosen.
    loose = summarize_story(
        story_of(*arts), arts, SummarySettings("textrank", 4, 500), Tuning(redundancy=1.01)
    )
    assert any(s.text.startswith("Skyward Air has cancelled") for s in loose.sentences)
    assert sum(s.text == wire for s in loose.sentences) == 1  # word for word: never twice


def test_marked_duplicates_are_skipped_but_counted_as_members() -> None:
    story, arts = flood_story()
    copy = article("h2", "Harbour Herald", FLOOD_WIRE, "Flood copy", duplicate_of="w1")
    summary = summarize_story(story, [*arts, copy], SummarySettings("textrank", 5, 500))
    assert all(s.article_id != "h2" for s in summary.sentences)


def test_budget_in_sentences_and_words() -> None:
    story, arts = flood_story()
    for n, words in ((1, 500), (2, 500), (3, 40), (5, 60)):
        summary = summarize_story(story, arts, SummarySettings("textrank", n, words))
        assert 1 <= len(summary.sentences) <= n
        total = sum(len(s.text.split()) for s in summary.sentences)
        assert total <= words or len(summary.sentences) == 1


def test_one_article_story_is_lead_aware_and_in_document_order() -> None:
    body = (
        "The Northgate Maritime Museum reopened on Saturday after a $42 million renovation that "
        "added a glass atrium and restored the 1912 steam tug Ardent.\n\n"
        "The museum had been closed for three years while builders replaced its roof.\n\n"
        "Curators said the restored tug Ardent would be open to visitors every weekend.\n\n"
        "The renovation was paid for by the city and a museum appeal.\n\n"
        "Admission is free until April 14, the museum said in a statement."
    )
    one = article("m1", "The Northgate Times", body, "Northgate Maritime Museum reopens")
    summary = summarize_story(story_of(one), [one], SummarySettings("textrank", 3, 200))
    assert summary.headline == "Northgate Maritime Museum reopens"
    assert summary.outlets == ("The Northgate Times",)
    positions = [s.position for s in summary.sentences]
    assert positions == sorted(positions) and len(positions) == 3
    assert positions[0] == 0  # the lead, which carries the news
    assert all(s.article_id == "m1" for s in summary.sentences)


def test_feed_text_is_used_when_there_is_no_body() -> None:
    teaser = article(
        "t1",
        "The Northgate Times",
        "",
        "Calder Bay United book cup final spot",
        summary="Calder Bay United beat Westmarch Athletic 3-1 to reach the Federation Cup final.",
    )
    summary = summarize_story(story_of(teaser), [teaser], SummarySettings())
    assert [s.text for s in summary.sentences] == [teaser.summary]


def test_a_titles_only_story_gets_its_other_titles() -> None:
    arts = [
        article("a", "Meridian Wire", "", "Orbis Cloud outage knocks banks offline"),
        article("b", "The Northgate Times", "", "Orbis Cloud outage disrupts banking apps"),
        article("c", "Pacific Dispatch", "", "Orbis Cloud outage knocks banks offline"),
        article("d", "Harbour Herald", "", "Orbis promises credits after outage"),
    ]
    summary = summarize_story(story_of(*arts), arts, SummarySettings())
    assert summary.headline in {a.title for a in arts}
    texts = [s.text for s in summary.sentences]
    assert summary.headline not in texts
    assert len(texts) == len(set(texts)) == 2
    for s in summary.sentences:
        assert s.text == next(a.title for a in arts if a.id == s.article_id)
    single = summarize_story(story_of(arts[0]), arts[:1], SummarySettings())
    assert single.headline == arts[0].title and single.sentences == ()
    nothing = summarize_story(story_of(), [], SummarySettings())
    assert nothing.headline == "Story title" and nothing.sentences == ()


def test_headline_is_the_most_representative_member_title() -> None:
    story, arts = flood_story()
    off_topic = article(
        "x1",
        "Civic Ledger",
        "Calder Bay United fans queued overnight for cup final tickets at Estuary Park.\n\n"
        "The club said all 18,400 tickets were sold within two hours.",
        "Ticket rush at Estuary Park",
    )
    summary = summarize_story(story, [off_topic, *arts], SummarySettings())
    assert summary.headline in {a.title for a in arts}


def test_every_method_is_known_by_name_and_scores_each_sentence() -> None:
    assert set(METHODS) == set(SUMMARY_METHODS)
    assert check_method("TextRank") == "textrank"
    with pytest.raises(ConfigError, match="unknown summary method 'kl'"):
        check_method("kl")
    story, arts = flood_story()
    texts = [split_sentences(a.text) for a in arts]
    cands = _candidates(arts, texts)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for method in SUMMARY_METHODS:
            summary = summarize_story(story, arts, SummarySettings(method, 3, 500))
            assert len(summary.sentences) == 3, method
    assert len(cands) > 8


def test_config_names_the_method_and_run_can_override_it(seeds_copy: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from briefs.cli import cli
    from briefs.config import load_config

    cfg = seeds_copy / "briefs.toml"
    bad = tmp_path / "bad.toml"
    bad.write_text('[summary]\nmethod = "kl"\n')
    with pytest.raises(ConfigError, match=r"bad.toml: summary.method must be one of textrank"):
        load_config(bad)
    assert load_config(cfg, {"summary": {"method": "luhn"}}).summary.method == "luhn"
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["--config", str(cfg), "run", "--out", str(out), "--method", "LexRank"]
    )
    assert result.exit_code == 0, result.output
    assert (out / "2024-04-06.md").is_file()
    result = CliRunner().invoke(cli, ["--config", str(cfg), "run", "--method", "kl"])
    assert result.exit_code == 2 and "Invalid value for '--method'" in result.output


_WORDS = ["River", "Calder", "rose", "flood", "homes", "mayor", "said", "on", "Friday", "the"]
_TAILS = [".", "!", "?", ",", "", '."', ":"]


@st.composite
def _bodies(draw: st.DrawFn) -> str:
    paragraphs = []
    for _ in range(draw(st.integers(0, 4))):
        sentences = []
        for _ in range(draw(st.integers(1, 4))):
            words = draw(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=12))
            prefix = draw(st.sampled_from(["", "", '"', "LONDON (Reuters) - ", "By "]))
            sentences.append(prefix + " ".join(words) + draw(st.sampled_from(_TAILS)))
        paragraphs.append(" ".join(sentences))
    return "\n\n".join(paragraphs)


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(_bodies(), st.sampled_from(["", "Flood", "River rises"])), max_size=4),
    st.sampled_from(SUMMARY_METHODS),
    st.integers(1, 4),
)
def test_any_story_gets_an_attributed_summary(
    members: list[tuple[str, str]], method: str, n: int
) -> None:
    arts = [
        article(f"a{i}", f"Outlet {i % 2}", body, title) for i, (body, title) in enumerate(members)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        summary = summarize_story(story_of(*arts), arts, SummarySettings(method, n, 60))
    assert len(summary.sentences) <= n
    by_id = {a.id: a for a in arts}
    for sentence in summary.sentences:
        source = by_id[sentence.article_id]
        assert sentence.outlet == source.outlet and sentence.url == source.url
        assert sentence.text in source.body.replace("\n\n", " ") or sentence.text == source.title
    # The headline is a member's real title, a member's own (whole, quotable) sentence, or an
    # honest label: never invented, never a sentence cut short.
    titles = {a.title for a in arts if is_title(a)}
    sentences = {clean_sentence(s) for a in arts for s in split_sentences(a.text)}
    labels = {f"From {a.outlet}: untitled report" for a in arts}
    assert summary.headline in titles | sentences | labels | {"Story title"}


def test_the_summary_does_not_depend_on_the_order_articles_come_in() -> None:
    story, arts = flood_story()
    settings = SummarySettings("textrank", 4, 500)
    expected = summarize_story(story, arts, settings)
    for order in ([2, 0, 1], [1, 2, 0], [2, 1, 0]):
        assert summarize_story(story, [arts[i] for i in order], settings) == expected


def test_term_set_similarity_counts_the_events_own_words() -> None:
    from briefs.summarize.candidates import unit_tfidf as _unit_tfidf
    from briefs.summarize.graph import count_matrix
    from briefs.summarize.story import _redundancy_space

    terms = [("flood", "citi", "rise"), ("flood", "citi", "fall"), ("flood", "citi", "rain")]
    counts = count_matrix(terms)
    unit = _unit_tfidf(counts)
    by_terms = _redundancy_space(counts, unit, Tuning(similarity="terms"))
    assert (by_terms @ by_terms.T).toarray()[0, 1] == pytest.approx(2 / 3)
    # Over the story, "flood" and "citi" are in every sentence: tf-idf weighs them least.
    assert (unit @ unit.T).toarray()[0, 1] < 2 / 3
    assert _redundancy_space(counts, unit, Tuning()) is unit


def test_sentences_that_do_not_stand_alone_are_not_candidates() -> None:
    dropped = {
        # teasers cut at a length limit
        "A glove found near the home appears to match those worn by…": "truncated",
        "Hiring by Meta, Amazon and Google has risen sharply in India...": "truncated",
        "“Who else is going to pay for all of this...”": "truncated",
        # a cut that kept its full stop, or ended on a comma
        "The council said it would review the cost of the.": "mid-clause",
        "The minister, who spoke in Geneva on Tuesday,": "mid-clause",
        # photo captions: verbless, ending in a place and time; or saying what they are
        "Lion dancers performing at a furniture shop in Manila on Tuesday.": "caption",
        "Prime Minister Mark Carney in Ottawa, Canada, on Wednesday.": "caption",
        "An undated photo of the compound where the deportees are held.": "caption",
        # only makes sense on the outlet's page
        "Pelicot talked to us about her new memoir.": "self-reference",
        "Watch: the moment the bridge gave way in the storm.": "caption",
        "In this video, our correspondent walks through the flooded streets.": "self-reference",
        "Please click on the link below to see the full list of winners.": "self-reference",
        "Sign up now and get the first month free of charge.": "self-reference",
        "Imtiaz Tyab has details.": "self-reference",
        "Tony Dokoupil has more on its symbolism.": "self-reference",
        "Holly Williams reports from Kyiv.": "self-reference",
        # update stamps
        "Updated 17 February 2026, 10:05 GMT.": "dateline",
    }
    for text, reason in dropped.items():
        assert rejection(strip_dateline(text)) == reason, text
    kept = [
        "Mass shootings are rare in Canada, but not unheard of.",
        "LG Card's creditors have given LG group until Wednesday to sign up to a $1.1bn deal.",
        'She said: "If you told us a year ago we would win, we would have laughed."',
        "Inbev bought out another partner in August 2004.",
        "The pair agreed to meet for breakfast one morning in June 2016.",
        "Roger Federer plays Greg Rusedski in the second round on Wednesday.",
        "The film recounts the life of blues singer Ray Charles, who died in 2004.",
        "Police officers kept watch as fans gathered in Vienna on Friday.",
        "Apple has more cash than any other company in the world.",
        "The agency reports from its regional offices every quarter.",
        "Reuters reports that the talks will resume on Monday.",
    ]
    for text in kept:
        assert clean_sentence(text) == text, text


def test_a_teaser_feed_story_never_quotes_cut_teasers_captions_or_page_references() -> None:
    arts = [
        article(
            "t1",
            "Teaser Times",
            "A glove found near the Guthrie home appears to match those worn by…\n\n"
            "Lion dancers performing at a furniture shop in Manila on Tuesday.\n\n"
            "Pelicot talked to us about her new memoir.",
            "Glove found near Guthrie home",
        ),
        article(
            "w1",
            "Meridian Wire",
            "Police said on Monday that a glove found near the Guthrie home carried DNA that "
            "did not match any profile in the national database.\n\n"
            "Investigators are still searching the desert around the house.",
            "No DNA match on glove in Guthrie case",
            minutes=30,
        ),
    ]
    summary = summarize_story(story_of(*arts), arts, SummarySettings("textrank", 5, 500))
    texts = [s.text for s in summary.sentences]
    assert texts and all(s.article_id == "w1" for s in summary.sentences), texts


def test_a_teasers_last_sentence_without_its_full_stop_is_quoted_when_it_is_whole() -> None:
    """BBC prints some teasers without a final stop: a complete clause at the end of the text
    is news; one that ends on a word leaving the clause open, or has no verb, is not."""
    whole = (
        "It's been two weeks since the 84 year old's disappearance and authorities say there "
        "have not been any arrests"
    )
    assert rejection(whole, last=True) is None
    assert rejection(whole) == "fragment"  # not at the end of its text: a bad split
    for cut in (
        "Police said on Monday that the glove did not match any profile in the",
        "The council said the cost of the repairs would be paid for by",
        "Rising costs and empty shelves across Calder Bay",  # a heading: no verb
        "Iranian Progress Cannot Be Stopped",  # a heading (or a link): title case
    ):
        assert rejection(cut, last=True) == "fragment", cut
    teaser = article(
        "b1",
        "BBC News",
        "",
        "No DNA matches on glove found in Nancy Guthrie case, police say",
        summary=whole + " ",
    )
    summary = summarize_story(story_of(teaser), [teaser], SummarySettings("textrank", 3, 110))
    assert [s.text for s in summary.sentences] == [whole]


FERRY = (
    "Ferry services between Saltmarsh harbour and Marrow Island will resume on Wednesday after "
    "the island's only passenger vessel completed emergency hull repairs.\n\n"
    "The MV Kittiwake was taken out of service on March 22 when a routine inspection found "
    "corrosion in its hull plating. Since then the island's 640 residents have relied on a "
    "reduced freight service and a water taxi that carries up to 12 passengers.\n\n"
    "However, the island's shop owners said deliveries of fresh food had become irregular.\n\n"
    "The operator said the Kittiwake would run its normal timetable from the first sailing."
)


def test_a_sentence_that_refers_back_is_quoted_only_after_the_one_it_refers_to() -> None:
    for text in (
        "Since then the island's 640 residents have relied on a water taxi.",
        "However, the shop owners said deliveries had become irregular.",
        "But the council said the repairs would take a year.",
        "This is the third closure in two years.",
        "It also said fares would rise in May.",
    ):
        assert refers_back(text), text
    for text in (
        "This week the council approved the new timetable.",
        "Those who lost their homes will be housed by the council.",
        "Then-President Obama visited the island in 2012.",
        "The council said the repairs would take a year.",
        "Butter prices rose by a third in March.",
        '"This is the only hustle we know," miners tell the BBC.',  # speech, quoted as said
    ):
        assert not refers_back(text), text
    ferry = article("f1", "Saltmarsh Courier", FERRY, "Marrow Island ferry to resume")
    texts = split_sentences(FERRY)
    cands = _candidates([ferry], [texts])
    since = next(c for c in cands if c.sentence.text.startswith("Since then"))
    assert since.after is not None
    assert cands[since.after].sentence.text.startswith("The MV Kittiwake")
    for n in range(1, 6):
        summary = summarize_story(story_of(ferry), [ferry], SummarySettings("textrank", n, 500))
        quoted = [s.text for s in summary.sentences]
        assert quoted and not refers_back(quoted[0]), quoted
        for i, text in enumerate(quoted):
            if refers_back(text):
                before = texts[texts.index(text) - 1]
                assert before in quoted[:i], quoted
    # the sentence it refers to cannot be quoted: neither can it
    cut = FERRY.replace("corrosion in its hull plating.", "corrosion in its hull plating, the.")
    cut_texts = split_sentences(cut)
    assert not any(
        c.sentence.text.startswith("Since then") for c in _candidates([ferry], [cut_texts])
    )
