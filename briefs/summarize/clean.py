"""Which sentences are worth quoting: datelines stripped, boilerplate and fragments dropped.

A brief quotes sources verbatim, so a candidate sentence is either kept as printed (minus a
leading dateline such as ``LONDON (Reuters) -``) or dropped. A quoted sentence must stand alone,
away from the page it was printed on. The classes dropped, each named by :func:`rejection`:

* ``byline`` and ``dateline``: who wrote it and when the page was updated ("By Jane Doe, Staff
  Reporter", "Updated 17 Feb 2026, 10:05"), not news.
* ``caption``: text about a picture. Captions that say so ("Photo: ...", "... / Getty Images",
  "An undated photo of ...") and verbless ones: a caption names who or what is shown, where and
  when, with no main verb ("Lion dancers performing at a shop in Manila on Tuesday.", "Prime
  Minister Mark Carney in Ottawa on Wednesday."). A news sentence states something, so it has a
  verb. The test, for sentences of at most 25 words, looks for a closed class (auxiliaries,
  modals, the forms of irregular verbs), a regular ``-ed`` past or a present ``-s`` verb before
  its object, and applies only to a sentence ending in a place-or-time phrase ("on Tuesday",
  "in March 2024"): the shape every wire caption has.
* ``self-reference``: a sentence that only makes sense on the outlet's own page: it points at
  the page or its media ("in this video", "this podcast"), has the outlet speak as "us" outside
  quotation marks ("talked to us", "spoke with us", "joins us"), or tells the reader to act on
  the page ("click here", "sign up", "scroll down", "Watch:", "Listen:", "Read:"), or is a
  broadcast teaser's hand-off to its correspondent ("Imtiaz Tyab has details.", "Jane Doe
  reports from Kyiv."): the whole sentence, a name and "has more/details/the latest".
* ``read-more``, ``newsletter``, ``copyright``: links, prompts and notices around the article.
* ``truncated``: a teaser cut at a length limit: it ends in an ellipsis ("..." or "…", also
  inside closing quotes or brackets). A sentence that trails off on purpose is rare in news
  copy; a feed that cuts its teasers does it to most of its items.
* ``mid-clause``: the sentence ends on a word that cannot end an English clause (an article,
  a possessive, a coordinating conjunction, "of"), which is what a cut that kept the full stop
  leaves ("... the number of."), or on a comma, colon or dash.
* ``fragment``: too short, no closing punctuation (except at the end of its text, where a
  teaser printed without its full stop is quoted when it is a complete clause: a finite verb,
  and a last word that can end one), starting in lower case (a bad split), or a
  piece of a quotation split across paragraphs; ``all-caps``: text in capitals; ``too-long``:
  over a length cap (usually two sentences the splitter could not separate).

One more class is not dropped but tied to its neighbour: a sentence that opens by pointing
back at the one before it (:func:`refers_back`: "Since then ...", "However, ...", "But ...",
"This is ...", "It also ...") means nothing without it. The summarizer quotes it only after
its antecedent (the previous sentence of the same text) was chosen, never as a story's first
sentence or in the timeline.

How many candidates each class removes on clean article texts (BBC, MMDS) and on teaser feeds
is measured in docs/summaries.md: on the clean texts the new classes must remove almost nothing.
"""

from __future__ import annotations

import re

from briefs.models import Article
from briefs.text import split_sentences

__all__ = [
    "MAX_SENTENCE_WORDS",
    "MIN_SENTENCE_WORDS",
    "clean_sentence",
    "is_title",
    "refers_back",
    "rejection",
    "strip_dateline",
]

MIN_SENTENCE_WORDS = 4
MAX_SENTENCE_WORDS = 60
_CAPS_SHARE = 0.7
_CAPS_MIN_LETTERS = 8
_CAPTION_WORDS = 25  # a caption is one short line; a longer verbless sentence is a list or a tail

_SEPARATOR = r"(?:--|—|–|-|:)"
# "(Meridian Wire) --", "(AP) —"
_AGENCY_DATELINE = re.compile(rf"^\(\s*[^()\n]{{2,60}}\)\s*{_SEPARATOR}\s*")
# "LONDON (Reuters) -", "CALDER BAY —", "SINGAPORE:", "TOKYO/LONDON:", "CAIRO :",
# "WASHINGTON, March 3 (AP) --": a place in capitals, an optional date and agency, a separator.
_PLACE_DATELINE = re.compile(
    r"^[A-Z][A-Z.'’/&]*(?:[ -][A-Z][A-Z.'’/&]*){0,4}"
    r"(?:,\s*[A-Z][A-Za-z.]*(?:\s+[A-Z][A-Za-z.]*)?)?"
    r"(?:,?\s+[A-Z][a-z]{2,8}\.?\s+\d{1,2})?"
    r"\s*(?:\(\s*[^()\n]{2,60}\))?"
    rf"\s*{_SEPARATOR}\s+(?=\S)"
)

_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "byline",
        re.compile(
            r"^(?i:(?:written|words|text|reporting|additional reporting|compiled)\s+)?(?i:by)\s+"
            r"[A-Z][\w'’-]*\.?(?:\s+(?:[A-Z][\w'’-]*\.?|and|&|de|van|von|al|bin))*"
            r"\s*(?:$|[,|;/—–-]\s*[^.!?]{0,60}$)"
        ),
    ),
    (
        "byline",
        re.compile(r"^\(?\s*(?:additional\s+)?reporting by\b.*(?:editing|writing) by\b", re.I),
    ),
    (
        "caption",
        re.compile(
            r"^\(?\s*(?:photo|photos|photograph|picture|pictured|image|caption|file photo|video|"
            r"watch|listen|graphic)\s*(?:[:|]|\(|\bcredit\b)",
            re.IGNORECASE,
        ),
    ),
    ("caption", re.compile(r"(?:/|\|)\s*(?:getty images|afp|reuters|ap|epa|pa)\W*$", re.I)),
    (
        "caption",
        re.compile(
            r"^(?:an?|the)\s+(?:undated\s+|file\s+|handout\s+|aerial\s+)?"
            r"(?:photo|photograph|picture|image|screenshot|video still)\s+"
            r"(?:of|shows|showing|taken|released|provided|made available)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "dateline",
        re.compile(
            r"^(?:last\s+)?(?:updated|published|posted|first published|modified)\b"
            r"(?:\s+(?:on|at))?\s*:?\s*(?:\d|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
            r"|mon|tue|wed|thu|fri|sat|sun|today|yesterday)",
            re.IGNORECASE,
        ),
    ),
    (
        "read-more",
        re.compile(
            r"^(?:read more|read also|also read|more on this|see also"
            r"|related(?: coverage| stories)?"
            r"|recommended|more:|latest:|click here|tap here|follow us|share this|advertisement"
            r"|download (?:our|the) app)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "newsletter",
        re.compile(
            r"\b(?:sign(?:\s|-)?up|subscribe|register)\b.{0,80}"
            r"\b(?:newsletter|inbox|briefing|alerts?|updates|email)\b",
            re.IGNORECASE,
        ),
    ),
    ("newsletter", re.compile(r"^(?:get|join)\s+(?:our|the)\b.{0,40}\bnewsletter\b", re.I)),
    (
        "copyright",
        re.compile(
            r"©|^copyright\b|\(c\)\s*\d{4}|\bcopyright\s+\d{4}|\ball rights reserved\b", re.I
        ),
    ),
    (
        "self-reference",
        re.compile(
            r"\b(?:in|on|from|watch|see|throughout)\s+this\s+(?:video|clip|podcast|episode|"
            r"gallery|slideshow|live\s?blog|photo essay|interactive|page|newsletter|article)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "self-reference",
        re.compile(
            r"\b(?:click|tap|swipe)\s+(?:here|below|above|the\s+link|on\s+the\s+link)\b"
            r"|\bscroll\s+(?:down|up)\b"
            # "sign up" as an instruction to the reader, not "agreed to sign up to a deal"
            r"|^(?:please\s+)?sign(?:\s|-)?up\b"
            r"|\bsign(?:\s|-)?up\s+(?:here|now|today|below|for\s+free|as\s+an?\s+"
            r"(?:subscriber|member)|(?:for|to)\s+(?:our|my))\b",
            re.IGNORECASE,
        ),
    ),
    (
        "self-reference",
        re.compile(
            r"^(?:watch|listen|read|see)(?:\s+(?:now|live|more|the|our|it))?\s*[:\-–—]", re.I
        ),
    ),
    (
        # A broadcast teaser's hand-off to its correspondent ("Imtiaz Tyab has details.",
        # "Tony Dokoupil has more on its symbolism.", "Jane Doe reports from Kyiv."): the whole
        # sentence points at the report beside it on the outlet's page.
        "self-reference",
        re.compile(
            r"^(?:[A-Z][\w.'’-]+\s+){1,3}(?:(?:has|have)\s+(?:more|(?:the\s+)?details|"
            r"the\s+latest|the\s+story|a\s+report|the\s+report)"
            r"(?:\s+(?:on|about|from)\s+[^.!?]{1,60})?"
            r"|reports(?:\s+from\s+[^.!?]{1,40})?)[.!]$"
        ),
    ),
)


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


# An ellipsis at the end, before any closing quotes or brackets: a teaser cut at its limit.
_TRUNCATED = re.compile(r"(?:\.\s?\.\s?\.|…)\s*[\"'”’)\]」』]*\s*$")
# Words that cannot end an English clause: what a cut that kept its full stop leaves behind.
_OPEN_ENDINGS = _wordset(
    "a an the and or nor but their its our your my whose whether because although"
)
_LAST_WORD = re.compile(r"([A-Za-z]+)\W*$")
# ... and, without a final stop, prepositions and auxiliaries: "... the report said it was".
_UNFINISHED = _OPEN_ENDINGS | _wordset(
    """of to in on at for with by from into onto about as than over under after before
    between against during without within via per is are was were be been being has have had
    will would shall should can could may might must do does did not that which who whom"""
)
_OPEN_PUNCT = re.compile(r"[,;:\-–—]\s*$")
# A caption's closing place-or-time phrase: "on Tuesday.", "on Feb. 17.", "in March 2024.",
# "in 2019.", ", 2024."
_WEEKDAY = r"(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day"
_MONTH = (
    r"(?:Jan(?:uary|\.)?|Feb(?:ruary|\.)?|Mar(?:ch|\.)?|Apr(?:il|\.)?|May|June?|July?|"
    r"Aug(?:ust|\.)?|Sep(?:t(?:ember)?|\.)?|Oct(?:ober|\.)?|Nov(?:ember|\.)?|Dec(?:ember|\.)?)"
)
_CAPTION_TAIL = re.compile(
    rf"(?:\b(?:on|in|at)\s+(?:{_WEEKDAY}|{_MONTH}(?:\s+\d{{1,2}})?(?:,?\s+\d{{4}})?|\d{{4}})"
    rf"|,\s+\d{{4}})[\"”’)]*\.$"
)
# Finite-verb evidence for the verbless-caption test (a closed class and regular past tenses).
_VERBS = _wordset(
    # auxiliaries and modals
    """am is are was were be been being has have had do does did will would shall should can
    could may might must"""
    # English irregular verbs: present, past (participles in -en/-n included); regular verbs
    # show themselves by -ed
    """ say says said tell tells told make makes made go goes went gone come comes came take takes
    took taken give gives gave given get gets got see sees saw seen find finds found leave leaves
    left begin begins began begun win wins won lose loses lost hold holds held meet meets met lead
    leads led fall falls fell fallen rise rises rose risen run runs ran hit hits set sets put puts
    cut cuts send sends sent spend spends spent build builds built bring brings brought think
    thinks thought keep keeps kept pay pays paid become becomes became break breaks broke broken
    choose chooses chose chosen drive drives drove driven fly flies flew flown grow grows grew
    grown know knows knew known shoot shoots shot speak speaks spoke spoken stand stands stood
    strike strikes struck wear wears wore worn write writes wrote written sell sells sold fight
    fights fought catch catches caught teach teaches taught seek seeks sought sit sits sat lie lies
    lay draw draws drew drawn slide slides slid buy buys bought mean means meant hear hears heard
    feel feels felt deal deals dealt lend lends lent hide hides hid bite bites bit eat eats ate
    eaten forget forgets forgot forgotten freeze freezes froze frozen hang hangs hung lay lays
    ride rides rode ridden ring rings rang rung sing sings sang sung sink sinks sank sunk sleep
    sleeps slept spread spreads swear swears swore sworn sweep sweeps swept swim swims swam swing
    swings swung throw throws threw thrown understand understands understood wake wakes woke
    withdraw withdraws withdrew withdrawn shake shakes shook shaken steal steals stole stolen
    show shows shown remain remains seem seems appear appears open opens close closes play plays
    face faces begin plan plans want wants need needs"""
)
_REGULAR_PAST = re.compile(r"^[a-z]{2,}ed$")
_NOT_PAST = _wordset("speed seed feed weed deed breed greed steed creed indeed hundred")
# A present-tense verb: a lower-case word in -s before an object or a particle ("recounts the").
_PRESENT_VERB = re.compile(
    r"\b[a-z]+[^su\W]s\s+(?:the|a|an|his|her|their|its|that|this|to|back|up|out|down|off)\b"
)


def _verbless(text: str) -> bool:
    """No word in the sentence is evidence of a finite verb (see the module docstring)."""
    for word in re.findall(r"[A-Za-z’']+", text):
        lower = word.lower().replace("’", "'")
        if lower in _VERBS:
            return False
        if word.islower() and _REGULAR_PAST.match(word) and word not in _NOT_PAST:
            return False
        if lower.endswith(("n't", "'s", "'re", "'ve", "'ll", "'d")) and word[0].islower():
            return False
    return not _PRESENT_VERB.search(text)


# The outlet speaking as "us" ("talked to us", "joins us"), looked for outside quotations only.
_NARRATOR_US = re.compile(
    r"\b(?:talk(?:s|ed|ing)?|spoke|speaks?|speaking|join(?:s|ed)?|sat down)\s+(?:to|with)\s+us\b"
    r"|\bjoin(?:s|ed)?\s+us\b"
)
_QUOTED = re.compile(r"[\"“][^\"“”]*(?:[\"”]|$)")

_CLOSING_PUNCT = re.compile(r"[.!?…。！？][\"'”’)\]」』]*$|[\"”’][.!?]?$")
_TAIL = 12  # closing punctuation is looked for in the last characters only
_ASCII_UPPER = bytes(range(ord("A"), ord("Z") + 1))
_ASCII_LOWER = bytes(range(ord("a"), ord("z") + 1))
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Translation tables that delete the upper- and lower-case letters of the Basic Multilingual
# Plane: counting what they remove counts cased letters in C (scripts without case count as
# neither, so Chinese is never "capitals").
_UPPER = dict.fromkeys(i for i in range(0x10000) if chr(i).isupper())
_LOWER = dict.fromkeys(i for i in range(0x10000) if chr(i).islower())


def strip_dateline(text: str) -> str:
    """The sentence without a leading dateline (``(Meridian Wire) --``, ``LONDON (Reuters) -``)."""
    stripped = text.strip()
    for pattern in (_AGENCY_DATELINE, _PLACE_DATELINE):
        match = pattern.match(stripped)
        if match:
            rest = stripped[match.end() :]
            # Keep the dateline when what follows is not a sentence (the "place" was a word).
            if rest[:1].isupper() or rest[:1] in "\"“‘'(0123456789":
                return rest
    return stripped


_STRAIGHT_OPENS = re.compile(r'(?:^|(?<=[\s(\[—–-]))"(?=\S)')


def _starts_inside_quote(text: str) -> bool:
    """Whether the sentence closes a quotation it did not open (a piece split off a quote).

    A sentence that opens a quotation and leaves it open is whole: quotations that run over
    several sentences or paragraphs close only at their end. Straight quotes open when they
    follow a space or the start and precede a non-space; curly ones say which they are.
    """
    depth = 0
    for match in re.finditer(r'["“”]', text):
        mark = match.group()
        opening = mark == "“" or (mark == '"' and _STRAIGHT_OPENS.match(text, match.start()))
        if opening:
            depth += 1
        elif depth == 0:
            return True
        else:
            depth -= 1
    return False


def _complete_clause(text: str) -> bool:
    """Whether a sentence without its final stop is whole: it has a finite verb and ends on a
    word that can end a clause (not an article, conjunction, preposition or auxiliary, which
    is where a cut at a length limit leaves a teaser), in a letter, digit or closing quote;
    and it is written in sentence case (a line whose longer words are all capitalized is a
    heading or a link: "Iranian Progress Cannot Be Stopped")."""
    if not re.search(r"[\w\"”’)]$", text) or _verbless(text):
        return False
    long_words = [w for w in re.findall(r"[^\W\d_]+", text) if len(w) >= 4]
    if long_words and all(w[0].isupper() for w in long_words):
        return False
    final = _LAST_WORD.search(text)
    return not (final and final.group(1).lower() in _UNFINISHED)


def rejection(text: str, *, last: bool = False) -> str | None:
    """Why a (dateline-stripped) sentence is not worth quoting, or None when it is.

    ``last``: the sentence ends its text. A teaser's last sentence printed without its full
    stop ("... there have not been any arrests") is quoted when it is a complete clause (see
    :func:`_complete_clause`); cut-off teasers end in an ellipsis (``truncated``) or on a word
    that leaves the clause open."""
    stripped = text.strip()
    for reason, pattern in _RULES:
        if pattern.search(stripped):
            return reason
    # Scripts written without spaces (Chinese, Japanese) count about two characters a word.
    ascii_only = stripped.isascii()
    n_words = len(stripped.split())
    if not ascii_only:
        n_words += len(_CJK.findall(stripped)) // 2
    if n_words < MIN_SENTENCE_WORDS:
        return "fragment"
    if n_words > MAX_SENTENCE_WORDS:
        return "too-long"
    if _TRUNCATED.search(stripped[-_TAIL:]):
        return "truncated"
    if _OPEN_PUNCT.search(stripped):
        return "mid-clause"
    if not _CLOSING_PUNCT.search(stripped[-_TAIL:]):
        if not (last and _complete_clause(stripped)):
            return "fragment"
    else:
        final = _LAST_WORD.search(stripped[:-1])
        if final and final.group(1).lower() in _OPEN_ENDINGS and stripped.endswith("."):
            return "mid-clause"
    first = stripped.split(None, 1)[0]
    if first.isalpha() and first.islower():
        return "fragment"  # starts mid-sentence: a bad split
    if _starts_inside_quote(stripped):
        return "fragment"  # the end of a quotation split from its start
    if ascii_only:
        raw = stripped.encode("ascii")
        upper = len(raw) - len(raw.translate(None, _ASCII_UPPER))
        cased = upper + len(raw) - len(raw.translate(None, _ASCII_LOWER))
    else:
        upper = len(stripped) - len(stripped.translate(_UPPER))
        cased = upper + len(stripped) - len(stripped.translate(_LOWER))
    if cased >= _CAPS_MIN_LETTERS and upper > _CAPS_SHARE * cased:
        return "all-caps"
    if _NARRATOR_US.search(_QUOTED.sub(" ", stripped)):
        return "self-reference"
    if n_words <= _CAPTION_WORDS and _CAPTION_TAIL.search(stripped) and _verbless(stripped):
        return "caption"
    return None


def clean_sentence(text: str, *, last: bool = False) -> str | None:
    """The sentence as it will be quoted (dateline stripped), or None if it should be dropped;
    ``last``: it ends its text (see :func:`rejection`)."""
    stripped = strip_dateline(text)
    return None if rejection(stripped, last=last) is not None else stripped


_ELLIPSIS = re.compile(r"(?:\.\s?\.\s?\.|…)\W*$")
_NON_WORD = re.compile(r"\W+")


def _key(text: str) -> str:
    return _NON_WORD.sub(" ", text.lower()).strip()


def is_title(article: Article) -> bool:
    """Whether the article's title is a real one: not empty, not cut off with an ellipsis, and
    not the text's own first sentence shortened (what ingest makes for an untitled item)."""
    title = " ".join(article.title.split())
    if not title or _ELLIPSIS.search(title):
        return False
    first = split_sentences(article.text[:2000])
    if not first:
        return True
    lead = strip_dateline(first[0])
    head = _key(title)
    return not (head and _key(lead).startswith(head) and len(head) < len(_key(lead)))


# Openers that point back at the sentence before: connectives ("However", "Since then", "As a
# result"), demonstrative subjects ("This is", "These measures") and "also" after a pronoun.
# "Then-President", "This week" and "Those who" point at nothing before them, and a sentence
# that opens with a quotation is speech: its "this" is the speaker's ('"This is the only
# hustle we know," miners tell the BBC'), quoted as said.
_BACK_CONNECTIVE = re.compile(
    r"^(?:since then|by then|until then|after that|before that|even so|that said"
    r"|as a result|in addition|in turn|on the other hand|instead|however|but|yet|still|also"
    r"|moreover|furthermore|additionally|meanwhile|nevertheless|nonetheless|therefore|thus"
    r"|hence|otherwise|besides|likewise|similarly|then|(?:it|he|she|they|we)\s+(?:also|too))"
    r"(?![\w-])",
    re.IGNORECASE,
)
_DEMONSTRATIVE = re.compile(r"^(?:this|that|these|those)\s+([\w’']+)", re.IGNORECASE)
_NOT_BACK = _wordset(
    """year years week weeks month months morning afternoon evening night weekend season summer
    winter spring autumn fall time day days decade century quarter who"""
)


def refers_back(text: str) -> bool:
    """Whether the sentence opens by pointing back at the one before it (see the module
    docstring): it cannot stand alone in a summary."""
    stripped = text.strip()
    if _BACK_CONNECTIVE.match(stripped):
        return True
    match = _DEMONSTRATIVE.match(stripped)
    return match is not None and match.group(1).lower() not in _NOT_BACK
