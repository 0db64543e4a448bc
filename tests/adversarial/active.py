"""Find active content in rendered output: what a browser or mail client could execute."""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

DANGEROUS_TAGS = {
    "script",
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "base",
    "form",
    "svg",
    "math",
    "template",
    "portal",
    "noscript",
}
URL_ATTRS = {
    "href",
    "src",
    "action",
    "formaction",
    "srcset",
    "data",
    "poster",
    "background",
    "xlink:href",
    "{http://www.w3.org/1999/xlink}href",
    "cite",
    "longdesc",
    "dynsrc",
    "lowsrc",
}
_NOISE = re.compile(r"[\x00-\x20\u200b]+")
# <link> relations that only describe the page; anything else (stylesheet, import, preload...) loads.
_PASSIVE_RELS = {
    "alternate",
    "icon",
    "shortcut icon",
    "canonical",
    "home",
    "archives",
    "prev",
    "next",
}
BAD_SCHEMES = ("javascript:", "vbscript:", "data:", "livescript:")


def _bad_url(value: str) -> bool:
    squashed = _NOISE.sub("", value).lower()
    return squashed.startswith(BAD_SCHEMES) or any(f" {s}" in f" {squashed}" for s in ())


def active_content(markup: str, *, ours: tuple[str, ...] = ()) -> list[str]:
    """Every element or attribute in ``markup`` that could run script; empty when safe.

    ``ours`` names tags the template itself legitimately uses (e.g. ``style`` in <head>), whose
    contents are still checked for script-bearing CSS.
    """
    problems: list[str] = []
    if not markup.strip():
        return problems
    try:
        doc = lxml.html.document_fromstring(markup)
    except (etree.ParserError, ValueError):
        doc = lxml.html.fragment_fromstring(markup, create_parent="div")
    for el in doc.iter():
        if not isinstance(el.tag, str):
            continue
        tag = el.tag.lower().split("}")[-1]
        if tag in DANGEROUS_TAGS:
            problems.append(f"<{tag}> element")
        if tag == "meta" and (el.get("http-equiv") or "").lower() == "refresh":
            problems.append("meta refresh")
        if tag == "link" and (el.get("rel") or "").lower() not in _PASSIVE_RELS:
            problems.append(f"<link rel={el.get('rel')!r}>")
        if tag == "style" and "style" not in ours:
            problems.append("<style> from content")
        if tag == "style":
            css = (el.text or "").lower()
            if any(
                bad in css
                for bad in ("javascript:", "expression(", "@import", "behavior:", "-moz-binding")
            ):
                problems.append("script-bearing CSS in <style>")
        for name, value in el.attrib.items():
            lname = name.lower()
            if lname.startswith("on"):
                problems.append(f"event attribute {name}= on <{tag}>")
            icon = tag == "link" and (el.get("rel") or "").lower() == "icon"
            if icon and _NOISE.sub("", value).lower().startswith("data:image/"):
                continue  # an inline favicon is drawn as an image and cannot run script
            if lname in URL_ATTRS and _bad_url(value):
                problems.append(f"{name}={value[:40]!r} on <{tag}>")
            if lname == "style" and any(
                b in value.lower() for b in ("javascript:", "expression(", "url(", "behavior:")
            ):
                problems.append(f"style={value[:40]!r} on <{tag}>")
    return problems
