"""The database: a SQLite file by default, any SQLAlchemy URL for bigger installs.

Written with SQLAlchemy 2 Core so that a database server can replace SQLite. The schema has a
version; a fresh database is created at the latest version, an older one is migrated step by step
inside one transaction per step. Every write happens in a transaction, so a crash at any point
leaves the database consistent.

One module per concern, one :class:`Store` for callers:

- :mod:`~briefs.store.schema` the tables; :mod:`~briefs.store.migrations` the version chain;
- :mod:`~briefs.store.base` the engine, transactions and stored value conventions;
- :mod:`~briefs.store.sources` polling state; :mod:`~briefs.store.claims` pollers' leases on
  sources; :mod:`~briefs.store.articles` articles;
  :mod:`~briefs.store.quarantine` rows that cannot be processed; :mod:`~briefs.store.pages` the
  page cache; :mod:`~briefs.store.sketches` near-duplicate sketches;
  :mod:`~briefs.store.embeddings` article embeddings; :mod:`~briefs.store.mailboxes` the
  messages mailbox sources have read;
- :mod:`~briefs.store.stories` stories; :mod:`~briefs.store.editions` built editions and small
  facts; :mod:`~briefs.store.deliveries` email deliveries; :mod:`~briefs.store.notifications`
  notifications;
- :mod:`~briefs.store.database` the :class:`Store` made of them all, and :func:`open_store`.
"""

from __future__ import annotations

from briefs.store.database import Store, open_store
from briefs.store.migrations import SCHEMA_VERSION
from briefs.store.schema import STORED_RANGE

__all__ = ["SCHEMA_VERSION", "STORED_RANGE", "Store", "open_store"]
