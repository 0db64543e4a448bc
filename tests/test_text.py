from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from briefs.text import (
    STOP_WORDS,
    Tokenizer,
    _nltk_words,
    raw_tokens,
    split_paragraphs,
    split_sentences,
    stem,
    words,
)
from tests.conftest import SEEDS


def test_abbreviations_do_not_split() -> None:
    text = "Mr. Smith met U.S. officials on Jan. 5 at 3 p.m. in Washington. They talked."
    assert split_sentences(text) == [
        "Mr. Smith met U.S. officials on Jan. 5 at 3 p.m. in Washington.",
        "They talked.",
    ]


def test_quotes_are_kept_whole() -> None:
    text = '"We are late. We must go," she said. Then they left. “It rained. A lot,” he added.'
    assert split_sentences(text) == [
        '"We are late. We must go," she said.',
        "Then they left.",
        "“It rained. A lot,” he added.",
    ]


def test_paragraph_break_ends_a_sentence() -> None:
    assert split_sentences("Heading without stop\n\nFirst sentence here.") == [
        "Heading without stop",
        "First sentence here.",
    ]
    assert split_paragraphs("a\nb\n\n\nc") == ["a b", "c"]


def test_words_drop_punctuation() -> None:
    assert words("Prices rose 3.5%, it said.") == ["Prices", "rose", "3.5", "it", "said"]


# Snowball's English algorithm since 3.0 keeps these apart from the shorter word NLTK's older copy
# conflates them with (university/universal/universe, organic/organ, evening/even, added/ad, ...).
SNOWBALL_REVISIONS = {
    "added": "add",
    "adding": "add",
    "emergency": "emergenc",
    "evening": "evening",
    "internal": "internal",
    "international": "internat",
    "organic": "organic",
    "organization": "organiz",
    "radiologist": "radiolog",
    "university": "universiti",
}


def test_stems_are_nltks_snowball_stems_but_for_snowballs_revisions() -> None:
    from nltk.stem.snowball import SnowballStemmer

    nltk_stem = SnowballStemmer("english").stem
    vocabulary = {"it’s", "don’t", "trump’s", "company’s", "o’brien", "‘quoted", "café", "naïve"}
    for path in sorted((SEEDS / "docs").glob("*.txt")):
        for raw, _ in raw_tokens(path.read_text(encoding="utf-8")):
            vocabulary.add(raw.lower().strip("'’-"))
    vocabulary |= {"running", "generously", "skies", "dying", "news", "communism", "arsenal"}
    for word in sorted(vocabulary - SNOWBALL_REVISIONS.keys()):
        assert stem(word) == nltk_stem(word), word
    for word, expected in SNOWBALL_REVISIONS.items():
        assert stem(word) == expected
        assert nltk_stem(word) != expected


def test_stop_words_are_sumys() -> None:
    from sumy.utils import get_stop_words

    assert frozenset(get_stop_words("english")) == STOP_WORDS
    assert "the" in STOP_WORDS


def test_curly_apostrophes_stem_like_straight_ones() -> None:
    assert stem("it’s") == stem("it's") == "it"
    assert stem("don’t") == "don't"
    assert stem("Running") == "run"


def test_sumy_accepts_the_tokenizer() -> None:
    from sumy.parsers.plaintext import PlaintextParser
    from sumy.summarizers.luhn import LuhnSummarizer

    doc = PlaintextParser.from_string(
        "Cats purr. Dogs bark loudly at night. Cats sleep a lot.", Tokenizer()
    ).document
    assert len(doc.sentences) == 3
    assert len(LuhnSummarizer()(doc, 1)) == 1


def test_a_new_quotation_ends_an_open_one() -> None:
    # Quotes that run over paragraphs leave each paragraph's quotation open; the next
    # quotation must not swallow the rest of the text.
    text = '"If you want the pension, you must work longer. "It is unacceptable," he said. He left.'
    assert split_sentences(text) == [
        '"If you want the pension, you must work longer.',
        '"It is unacceptable," he said.',
        "He left.",
    ]


def test_word_tokens_are_nltks() -> None:
    from nltk.tokenize import NLTKWordTokenizer

    from tests.conftest import SEEDS

    reference = NLTKWordTokenizer()
    texts = [
        p.read_text(encoding="utf-8")
        for p in sorted(SEEDS.rglob("*.*"))
        if p.is_file() and p.suffix in {".txt", ".xml", ".atom", ".rdf", ".json", ".md"}
    ]
    sentences = [s for t in texts for s in split_sentences(t)]
    sentences += [
        "I cannot go; gimme the 'tis and wanna-be lemme more'n that -- d'ye see?",
        "He said \"don't\" and '' `quoted' (twice) [maybe] {or} <not> ... ok!? 3.5% $4,000 #1 @x *",
        "“Curly” ‘single’ «angle» „low“ — dash – en ‒ fig ― bar. It's 'em we'll they're I'm I'd",
        "Ends with a colon:",
        "Ends, with a comma,",
        'Quote at the end."',
        "  spaces\tand\nnewlines\u00a0nbsp  ",
    ]
    for sentence in sentences:
        assert _nltk_words(sentence) == reference.tokenize(sentence), sentence


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("ab C'\"`.,:;!?-—()[]{}<>«»“”‘’„$%&*@#\n\t\u00a0tnsd")),
        max_size=40,
    )
)
def test_word_tokens_are_nltks_on_any_text(text: str) -> None:
    from nltk.tokenize import NLTKWordTokenizer

    assert _nltk_words(text) == NLTKWordTokenizer().tokenize(text)


_PIECES = [
    "cannot",
    "Cannot",
    "d'ye",
    "gimme",
    "gonna",
    "gotta",
    "lemme",
    "more'n",
    "wanna",
    "'tis",
    "'Twas",
    "don't",
    "it's",
    '"',
    "'",
    ".",
    "..",
    ",",
    ":",
    "--",
    "—",
    "(",
    ")",
    "a",
    "B",
    "x.",
    " ",
    "  ",
    "\n",
    "«",
    "»",
    "“",
    "”",
    "‘",
    "’",
    "$",
    "*",
    "?",
    "!",
    "''",
    "``",
    "¼",
    "\x1c",
]


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=15))
def test_word_tokens_are_nltks_on_tricky_pieces(pieces: list[str]) -> None:
    from nltk.tokenize import NLTKWordTokenizer

    text = "".join(pieces)
    assert _nltk_words(text) == NLTKWordTokenizer().tokenize(text)


def test_strip_controls_drops_c0_c1_and_bidi_controls_and_keeps_text() -> None:
    from briefs.text import clean_line, shorten, strip_controls

    hostile = "a\x00b\x1bc\x7fd\x85e\x9bf\u202eg\u2066h\u2069i\ufeffj\u202ak\uffffl\r\n\tm"
    assert strip_controls(hostile) == "abcdefghijkl\n\tm"
    # the directional marks stay: right-to-left text needs them and they reorder nothing else
    assert strip_controls("\u05e9\u200f1\u200e\u061c") == "\u05e9\u200f1\u200e\u061c"
    assert strip_controls("lone \ud800 surrogate") == "lone \ufffd surrogate"
    # letters of every script, emoji and joiners stay
    kept = "café Ελλάδα العربية עברית 日本語 👩\u200d💻 a\u00adb"
    assert strip_controls(kept) == kept
    assert clean_line(" a\u2028b\n\tc  ") == "a b c"
    assert shorten("word " * 100, 50).endswith("…") and len(shorten("word " * 100, 50)) <= 50
    assert shorten("x" * 80, 50) == "x" * 49 + "…"
    assert shorten("short", 50) == "short"


@pytest.mark.slow
@given(st.text(), st.integers(min_value=1, max_value=400))
@settings(max_examples=300, deadline=None)
def test_clean_line_is_one_bounded_showable_line(value: str, limit: int) -> None:
    from briefs.text import clean_line, strip_controls

    line = clean_line(value, limit)
    assert len(line) <= limit and "\n" not in line
    assert strip_controls(line) == line
    line.encode("utf-8")  # no lone surrogates
