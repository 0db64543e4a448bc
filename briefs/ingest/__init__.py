"""Ingestion: fetch sources, parse them into Articles, read seed documents."""

from __future__ import annotations

from briefs.ingest.poll import poll_sources

__all__ = ["poll_sources"]
