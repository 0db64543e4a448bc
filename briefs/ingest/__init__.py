"""Ingestion: fetch sources, parse them into Articles, read seed documents.

``poll_sources`` is imported on first use: the extraction worker processes import
:mod:`briefs.ingest.extract` only, and should not pay for the feed parser and the text tools.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from briefs.ingest.poll import poll_sources

__all__ = ["poll_sources"]


def __getattr__(name: str) -> Any:
    if name == "poll_sources":
        from briefs.ingest.poll import poll_sources

        return poll_sources
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
