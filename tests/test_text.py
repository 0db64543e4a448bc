from __future__ import annotations

from briefs.text import Tokenizer, split_paragraphs, split_sentences, words


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


def test_sumy_accepts_the_tokenizer() -> None:
    from sumy.parsers.plaintext import PlaintextParser
    from sumy.summarizers.luhn import LuhnSummarizer

    doc = PlaintextParser.from_string(
        "Cats purr. Dogs bark loudly at night. Cats sleep a lot.", Tokenizer()
    ).document
    assert len(doc.sentences) == 3
    assert len(LuhnSummarizer()(doc, 1)) == 1
