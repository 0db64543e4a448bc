"""Ingestion: fetch sources, parse them into Articles, read seed documents.

The package imports nothing itself: worker processes that parse feeds import only
:mod:`briefs.ingest.parse` (feedparser, lxml, numpy), not the HTTP client or the text tools.
Polling is :func:`briefs.ingest.poll.poll_sources`.
"""

from __future__ import annotations
