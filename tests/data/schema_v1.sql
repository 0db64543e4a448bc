-- The database schema at version 1 (briefs 0.1 foundation), for the migration test.
CREATE TABLE meta (
	"key" VARCHAR(64) NOT NULL, 
	value TEXT NOT NULL, 
	PRIMARY KEY ("key")
);
CREATE TABLE feed_state (
	source_id VARCHAR(64) NOT NULL, 
	url TEXT, 
	etag TEXT, 
	last_modified TEXT, 
	last_status TEXT, 
	last_polled DATETIME, 
	next_poll DATETIME, 
	consecutive_failures INTEGER NOT NULL, 
	last_error TEXT, 
	disabled BOOLEAN NOT NULL, 
	PRIMARY KEY (source_id)
);
CREATE TABLE articles (
	id VARCHAR(40) NOT NULL, 
	source_id VARCHAR(64) NOT NULL, 
	url TEXT NOT NULL, 
	guid TEXT NOT NULL, 
	title TEXT NOT NULL, 
	published DATETIME NOT NULL, 
	fetched DATETIME NOT NULL, 
	outlet TEXT NOT NULL, 
	author TEXT NOT NULL, 
	language VARCHAR(16) NOT NULL, 
	summary TEXT NOT NULL, 
	body TEXT NOT NULL, 
	body_origin VARCHAR(16) NOT NULL, 
	image_url TEXT, 
	content_hash VARCHAR(40) NOT NULL, 
	duplicate_of VARCHAR(40), 
	story_id VARCHAR(40), 
	PRIMARY KEY (id)
);
CREATE INDEX ix_articles_url ON articles (url);
CREATE INDEX ix_articles_published ON articles (published);
CREATE INDEX ix_articles_fetched ON articles (fetched);
CREATE INDEX ix_articles_source_guid ON articles (source_id, guid);
CREATE INDEX ix_articles_story ON articles (story_id);
CREATE INDEX ix_articles_hash ON articles (content_hash);
CREATE TABLE stories (
	id VARCHAR(40) NOT NULL, 
	first_seen DATETIME NOT NULL, 
	last_updated DATETIME NOT NULL, 
	title TEXT NOT NULL, 
	terms TEXT NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX ix_stories_updated ON stories (last_updated);
CREATE TABLE editions (
	id VARCHAR(64) NOT NULL, 
	date DATE NOT NULL, 
	slot VARCHAR(32) NOT NULL, 
	built_at DATETIME NOT NULL, 
	title TEXT NOT NULL, 
	story_counts TEXT NOT NULL, 
	content_html TEXT NOT NULL, 
	summary TEXT NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO meta VALUES ('schema_version', '1');
