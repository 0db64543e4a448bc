"""The main text of an HTML document (trafilatura), for article pages and newsletters alike.

A leaf module (no settings, no fetching), so the newsletter reader, which the configuration's
source registry reaches, uses the very extraction :mod:`briefs.ingest.extract` gives pages.
"""

from __future__ import annotations

import logging

import trafilatura

__all__ = ["extract_text"]

log = logging.getLogger(__name__)


def extract_text(page: str | bytes, url: str | None = None) -> str:
    """The main text of an HTML page, paragraphs separated by blank lines ("" if none)."""
    if not page or not page.strip():
        return ""
    try:
        text = trafilatura.extract(
            page,
            url=url,
            include_comments=False,
            with_metadata=False,
        )
    except (ValueError, TypeError, AttributeError, RecursionError) as exc:
        # trafilatura and lxml raise these on hostile markup; the page is just unusable.
        log.debug("extraction failed for %s: %s", url, exc)
        return ""
    if not text:
        return ""
    paragraphs = [" ".join(line.split()) for line in text.splitlines()]
    return "\n\n".join(p for p in paragraphs if p)
