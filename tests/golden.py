"""Golden-file comparison: rendered output against tests/golden/, volatile fields normalised.

Regenerate only on request: ``BRIEFS_REGEN_GOLDEN=1 python -m pytest tests/test_render.py
tests/test_feeds.py`` rewrites the files (review the diff before committing it).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden"
REGEN = os.environ.get("BRIEFS_REGEN_GOLDEN") == "1"

_VOLATILE = (
    # Message-ID: time, pid and random part
    (re.compile(r"(Message-ID:)\s*<[^>]*>", re.I), r"\1 <MESSAGE-ID>"),
    # MIME boundaries
    (re.compile(r"={15}\d+=="), "===============BOUNDARY=="),
)


def normalise(text: str) -> str:
    """Replace the fields that change from run to run."""
    for pattern, repl in _VOLATILE:
        text = pattern.sub(repl, text)
    return text.replace("\r\n", "\n")


def assert_golden(name: str, actual: str | bytes) -> None:
    """Compare with tests/golden/<name>; with BRIEFS_REGEN_GOLDEN=1, rewrite it instead."""
    text = actual.decode("utf-8") if isinstance(actual, bytes) else actual
    text = normalise(text)
    path = GOLDEN / name
    if REGEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    assert path.is_file(), f"{path} is missing: run with BRIEFS_REGEN_GOLDEN=1 to create it"
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff_at = next(
            (i for i, (a, b) in enumerate(zip(text, expected, strict=False)) if a != b),
            min(len(text), len(expected)),
        )
        raise AssertionError(
            f"{name} differs from its golden file at character {diff_at}:\n"
            f"expected: {expected[max(diff_at - 80, 0) : diff_at + 80]!r}\n"
            f"actual:   {text[max(diff_at - 80, 0) : diff_at + 80]!r}\n"
            "If the change is intended, regenerate with BRIEFS_REGEN_GOLDEN=1 and review the diff."
        )
