"""Feed HTML to text: the tree-free reading of simple markup equals lxml's reading of it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from briefs.ingest.clean import _TAGGISH, _simple_text, _tree_text, clean_text, html_to_text

# Pieces of markup: tags the simple reader takes and tags it must leave to the tree, entities it
# takes and ones it must not, whitespace between inline elements, quotes, stray brackets.
_PIECES = [
    "<p>",
    "</p>",
    "<P class='x'>",
    "<br>",
    "<br/>",
    "<div>",
    "</div>",
    "<li>",
    "<ul>",
    "</ul>",
    "<h2>",
    "</h2>",
    '<a href="https://e.example/?a=1&amp;b=2">',
    "</a>",
    "<b>",
    "</b>",
    "<em>",
    "</em>",
    "<span>",
    "</span>",
    "<img src='x.png'>",
    "<table><tr><td>",
    "</td></tr></table>",
    "<script>x()</script>",
    "<figure>",
    '<a title="1 > 0">',
    "&amp;",
    "&lt;b&gt;",
    "&nbsp;",
    "&#39;",
    "&#128;",
    "&#x2014;",
    "&apos;",
    "&copy",
    "AT&T",
    " ",
    "  \n ",
    "\t",
    "1 < 2",
    "a > b",
    "\x07",
    "word",
    "Two words.",
    "é",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=30))
def test_simple_markup_reads_as_the_tree_reads_it(pieces: list[str]) -> None:
    markup = "".join(pieces)
    if not _TAGGISH.search(markup):
        return  # html_to_text does not parse markup without tags at all
    # html_to_text cleans control characters first (clean_text), then reads the markup
    assert html_to_text(markup) == _tree_text(clean_text(markup)), markup


def test_the_simple_reader_takes_feed_bodies_and_refuses_the_rest() -> None:
    body = '<p>One &amp; two.</p>\n<p>A <a href="https://e.example/x?a=1&amp;b=2">link</a>.</p>'
    assert _simple_text(body) is not None
    assert html_to_text(body) == "One & two.\n\nA link."
    for markup in ("<p>x</p><script>y</script>", "<p>a <img src=x> b</p>", "<p>&#128;</p>"):
        assert _simple_text(markup) is None, markup
