"""WCAG AA contrast of the page's colour pairs, light and dark, computed from brief.css itself
(the browser test measures the rendered page too; this one runs without a browser)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT

CSS = (ROOT / "templates" / "brief.css").read_text(encoding="utf-8")
# (text, background, minimum ratio): body text 4.5, the large coloured badge text 4.5 as well.
PAIRS = [
    ("fg", "bg", 7.0),
    ("muted", "bg", 4.5),
    ("muted", "card", 4.5),
    ("accent", "bg", 4.5),
    ("accent", "card", 4.5),
    ("badge-fg", "accent", 4.5),
    ("focus", "bg", 3.0),  # a focus ring is a graphical object: 3:1
    ("bar", "bg", 3.0),  # the coverage bar too
]


def _variables(block: str) -> dict[str, str]:
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", block))


def _luminance(hex_colour: str) -> float:
    def channel(v: int) -> float:
        c = v / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    """The WCAG 2 contrast ratio of two #rrggbb colours."""
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _schemes() -> dict[str, dict[str, str]]:
    light = _variables(CSS.split("@media (prefers-color-scheme: dark)")[0])
    dark_block = CSS.split("@media (prefers-color-scheme: dark)")[1].split("}\n}")[0]
    return {"light": light, "dark": {**light, **_variables(dark_block)}}


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(("fg", "bg", "minimum"), PAIRS)
def test_colour_pairs_meet_wcag_aa(scheme: str, fg: str, bg: str, minimum: float) -> None:
    colours = _schemes()[scheme]
    ratio = contrast(colours[fg], colours[bg])
    assert ratio >= minimum, f"{scheme}: --{fg} on --{bg} is {ratio:.2f}:1 (needs {minimum})"


def test_contrast_formula() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
