"""The tables, as SQLAlchemy Core metadata: the latest schema version.

A fresh database is created from these definitions (see :mod:`briefs.store.migrations` for the
version chain that brings older files here). Columns added by a later schema version say so.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

metadata = sa.MetaData()

meta_table = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

feed_state = sa.Table(
    "feed_state",
    metadata,
    sa.Column("source_id", sa.String(64), primary_key=True),
    sa.Column("url", sa.Text),
    sa.Column("etag", sa.Text),
    sa.Column("last_modified", sa.Text),
    sa.Column("last_status", sa.Text),
    sa.Column("last_polled", sa.DateTime),
    sa.Column("next_poll", sa.DateTime),
    sa.Column("consecutive_failures", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text),
    sa.Column("disabled", sa.Boolean, nullable=False, default=False),
    # schema 3
    sa.Column("source_url", sa.Text),
    sa.Column("last_success", sa.DateTime),
    sa.Column("retry_until", sa.DateTime),
    sa.Column("floor_minutes", sa.Integer),
    sa.Column("site_url", sa.Text),
    sa.Column("feed_title", sa.Text),
    # schema 7
    sa.Column("parser", sa.Text),
    sa.Column("parser_fallback", sa.Text),
)

articles = sa.Table(
    "articles",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("source_id", sa.String(64), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("guid", sa.Text, nullable=False, default=""),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("published", sa.DateTime, nullable=False),
    sa.Column("fetched", sa.DateTime, nullable=False),
    sa.Column("outlet", sa.Text, nullable=False),
    sa.Column("author", sa.Text, nullable=False, default=""),
    sa.Column("language", sa.String(16), nullable=False, default=""),
    sa.Column("summary", sa.Text, nullable=False, default=""),
    sa.Column("body", sa.Text, nullable=False, default=""),
    sa.Column("body_origin", sa.String(16), nullable=False, default="none"),
    sa.Column("image_url", sa.Text),
    sa.Column("content_hash", sa.String(40), nullable=False, default=""),
    sa.Column("duplicate_of", sa.String(40)),
    sa.Column("story_id", sa.String(40)),
    # schema 9: words in the text (body, else summary), counted when stored (NULL in rows
    # stored before), so the full-text scan finds teasers without reading texts.
    sa.Column("words", sa.Integer),
    sa.Column("tags", sa.Text),  # the item's categories, one a line (schema 10)
    # a hash index on PostgreSQL, whose B-tree entries are limited to about 2.7 kB and a URL may
    # be up to ingest.bounds.MAX_URL (4 kB); the look-ups by URL are all equality
    sa.Index("ix_articles_url", "url", postgresql_using="hash"),
    sa.Index("ix_articles_source_guid", "source_id", "guid"),
    sa.Index("ix_articles_published", "published"),
    sa.Index("ix_articles_fetched", "fetched"),
    sa.Index("ix_articles_story", "story_id"),
    sa.Index("ix_articles_hash", "content_hash"),
)

stories = sa.Table(
    "stories",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("first_seen", sa.DateTime, nullable=False),
    sa.Column("last_updated", sa.DateTime, nullable=False),
    sa.Column("title", sa.Text, nullable=False, default=""),
    sa.Column("terms", sa.Text, nullable=False, default="[]"),
    sa.Index("ix_stories_updated", "last_updated"),
)

# Why each article is in its story (written when grouping places it; see models.StoryLink).
story_links = sa.Table(
    "story_links",
    metadata,
    sa.Column("article_id", sa.String(40), primary_key=True),
    sa.Column("story_id", sa.String(40), nullable=False),
    sa.Column("similarity", sa.Float, nullable=False, default=0.0),
    sa.Column("via", sa.String(40)),
    sa.Column("shared", sa.Text, nullable=False, default="[]"),
    sa.Column("duplicate", sa.Boolean, nullable=False, default=False),
    sa.Index("ix_story_links_story", "story_id"),
)

# Schema 11: each edition is one brief's (``brief``: its id; the editions stored before there
# were several briefs are the default brief's), so two briefs can each have 2024-04-06.
editions = sa.Table(
    "editions",
    metadata,
    sa.Column("brief", sa.String(64), primary_key=True, server_default="default"),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("date", sa.Date, nullable=False),
    sa.Column("slot", sa.String(32), nullable=False, default=""),
    sa.Column("built_at", sa.DateTime, nullable=False),
    sa.Column("title", sa.Text, nullable=False, default=""),
    # story id -> number of member articles when this edition was built (growth between editions)
    sa.Column("story_counts", sa.Text, nullable=False, default="{}"),
    # the edition's rendered HTML fragment, for the feeds that carry past editions
    sa.Column("content_html", sa.Text, nullable=False, default=""),
    sa.Column("summary", sa.Text, nullable=False, default=""),
)

# The email of one edition to one recipient: at most one row each, so nobody gets an edition
# twice. Rows are created ("planned") when an edition is due to be sent and move
# pending -> sending -> sent | failed | pending (retry later); "sending" left by a crash becomes
# "uncertain" and is not resent without being asked.
# Schema 11: per brief too (one brief's edition of a day is not another's).
deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("brief", sa.String(64), primary_key=True, server_default="default"),
    sa.Column("edition_id", sa.String(64), primary_key=True),
    sa.Column("recipient", sa.String(320), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("created", sa.DateTime, nullable=False),
    sa.Column("last_attempt", sa.DateTime),
    sa.Column("next_attempt", sa.DateTime),
    sa.Column("sent_at", sa.DateTime),
    sa.Column("message_id", sa.Text),
    sa.Column("error", sa.Text),
    sa.Index("ix_deliveries_status", "status", "next_attempt"),
)

# Schema 11: notifications (Apprise), one row per edition, target, kind and item (a story's id
# for "story", else ""), with the text composed when the edition was built.
notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("edition_id", sa.String(64), primary_key=True),
    sa.Column("target", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("item", sa.String(64), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("created", sa.DateTime, nullable=False),
    sa.Column("last_attempt", sa.DateTime),
    sa.Column("next_attempt", sa.DateTime),
    sa.Column("sent_at", sa.DateTime),
    sa.Column("error", sa.Text),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("markdown", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Index("ix_notifications_status", "status", "next_attempt"),
    sa.Index("ix_notifications_item", "target", "kind", "item"),
)

# Schema 3: the outcome of every article page fetched for its full text, cached per URL, so
# no page is ever fetched twice.
pages = sa.Table(
    "pages",
    metadata,
    sa.Column("url", sa.Text, primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("fetched", sa.DateTime, nullable=False),
    sa.Column("http_status", sa.Integer),
    sa.Column("attempts", sa.Integer, nullable=False, default=1),
    sa.Column("next_try", sa.DateTime),
    sa.Column("text", sa.Text, nullable=False, default=""),
    sa.Column("error", sa.Text),
)

# Schema 3: MinHash signatures of article texts and their LSH band keys, to find syndicated
# copies of an article among everything stored without comparing against every article.
# Schema 5: each sketch has an integer number, and the band index is a WITHOUT ROWID table of
# (band key, sketch number): one B-tree keyed for the lookup, plus an index by sketch number
# that new sketches append to. A tenth of the old size and a third of the insert time of
# (band key, 40-character article id) rows with their two indexes.
sketches = sa.Table(
    "sketches",
    metadata,
    sa.Column("num", sa.Integer, primary_key=True),
    sa.Column("article_id", sa.String(40), nullable=False, unique=True),
    sa.Column("published", sa.DateTime, nullable=False),
    sa.Column("signature", sa.LargeBinary, nullable=False),
    sa.Index("ix_sketches_published", "published"),
)
sketch_bands = sa.Table(
    "sketch_bands",
    metadata,
    sa.Column("band_key", sa.BigInteger, primary_key=True),
    sa.Column("sketch", sa.Integer, primary_key=True),
    sa.Index("ix_sketch_bands_sketch", "sketch"),
    sqlite_with_rowid=False,
)

# Schema 6: rows a later stage could not process (an article dated in year 1 makes every
# window computation overflow), moved out of the way with the reason and the row as JSON, so
# one bad row never stops every later run and nothing is silently destroyed.
quarantine = sa.Table(
    "quarantine",
    metadata,
    sa.Column("num", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("table_name", sa.String(32), nullable=False),
    sa.Column("row_id", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("quarantined", sa.DateTime, nullable=False),
    sa.Column("data", sa.Text, nullable=False),
)

# One embedding per article (briefs.embed), made once and kept; ``model`` says which model made
# it (a vector of another model is not comparable and is not read).
embeddings = sa.Table(
    "embeddings",
    metadata,
    sa.Column("article_id", sa.String(40), primary_key=True),
    sa.Column("model", sa.String(64), nullable=False),
    sa.Column("vector", sa.LargeBinary, nullable=False),
    sqlite_with_rowid=False,
)

# Splits and merges of stories by the window's re-clustering (see models.StoryChange). A story
# merged into another has no row in ``stories`` any more; its changes say where it went.
story_changes = sa.Table(
    "story_changes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("story_id", sa.String(40), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("other", sa.String(40), nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Index("ix_story_changes_story", "story_id"),
)

# Schema 11: the messages each mailbox source (IMAP folder, maildir) has read, so that a poll
# reads only new ones: by Message-ID, and for IMAP by UID under the folder's UIDVALIDITY (the
# highest UID read is where the next poll starts), for a maildir by the file's unique name.
seen_messages = sa.Table(
    "seen_messages",
    metadata,
    sa.Column("source_id", sa.String(64), primary_key=True),
    sa.Column("message_id", sa.Text, primary_key=True),
    sa.Column("seen", sa.DateTime, nullable=False),
    sa.Column("uidvalidity", sa.BigInteger),
    sa.Column("uid", sa.BigInteger),
    sa.Column("name", sa.Text),
)

# Schema 13: which poller is polling a source, until when (a lease). Pollers on several hosts
# claim due sources here, poll them and delete their claims; a killed poller's claims expire.
source_claims = sa.Table(
    "source_claims",
    metadata,
    sa.Column("source_id", sa.String(64), primary_key=True),
    sa.Column("owner", sa.String(128), nullable=False),
    sa.Column("expires", sa.DateTime, nullable=False),
)

# Articles whose sketches are written per statement (each has 32 band rows).
SKETCH_BATCH = 2000

# The dates the store accepts and keeps (see briefs.ingest.bounds.STORED_RANGE): far enough
# from datetime's limits that no stage's window arithmetic can overflow.
STORED_RANGE = (dt.datetime(1970, 1, 1, tzinfo=dt.UTC), dt.datetime(9000, 1, 1, tzinfo=dt.UTC))
