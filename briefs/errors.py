"""The one exception family of briefs.

    BriefsError                 anything briefs reports to a person
    ├── ConfigError             a missing, unreadable or invalid configuration file or key
    ├── SourceError             a source could not be polled or parsed
    │   ├── FetchError          the HTTP request failed (network, status, limits)
    │   │   └── UnsafeURLError  an article URL is refused (private address, bad scheme)
    │   ├── ParseError          the bytes are not a feed or seed document we can read
    │   └── ExtractionError     no text could be extracted from a fetched page (hostile markup,
    │                           or the worker process extracting it died)
    ├── StoreError              the database could not be opened, migrated or written
    ├── RenderError             a template is missing or broken
    ├── PublishError            output/ could not be written
    ├── DeliveryError           an email could not be sent (or email is misconfigured)
    │   ├── TransientDeliveryError  worth trying again later (4xx reply, connection lost)
    │   └── PermanentDeliveryError  refused for good for this recipient (5xx reply)
    ├── LockError               another briefs process holds the lock
    ├── ServeError              the output folder cannot be served (no folder, port taken)
    ├── SearchError             a search query cannot be read, or the database has no index
    └── EvaluationError         an evaluation input file is unusable

The CLI turns any BriefsError into a one-line message and a non-zero exit code.
"""

from __future__ import annotations


class BriefsError(Exception):
    """Base of every error briefs raises on purpose."""


class ConfigError(BriefsError):
    """The configuration is missing, unreadable or invalid."""


class SourceError(BriefsError):
    """A source could not be polled or read. Its subject, as rss2email's feed errors carry
    theirs: the ``source`` it concerns (the source id) and the ``url`` or path it was reading
    ("" when unknown). The code that knows the subject fills it in on the way up (see
    :func:`about`): the fetcher names the URL, the parser and the polling facade the source.
    """

    def __init__(self, message: str, *, source: str = "", url: str = "") -> None:
        super().__init__(message)
        self.source = source
        self.url = url


class FetchError(SourceError):
    """An HTTP fetch failed."""


class ExtractionError(SourceError):
    """Extracting a page's text failed; ``transient`` when trying again later may succeed."""

    def __init__(
        self, message: str, *, transient: bool = False, source: str = "", url: str = ""
    ) -> None:
        super().__init__(message, source=source, url=url)
        self.transient = transient


class UnsafeURLError(FetchError):
    """A URL from a feed is refused: a non-http(s) scheme, a private or reserved host."""


class ParseError(SourceError):
    """Input could not be parsed as a feed or a seed document."""


class StoreError(BriefsError):
    """The database could not be opened, migrated or written."""


class RenderError(BriefsError):
    """A template is missing or failed to render."""


class PublishError(BriefsError):
    """The output folder could not be written."""


class DeliveryError(BriefsError):
    """An email could not be delivered. Its subject, as rss2email's errors carry theirs: the
    ``recipient`` it concerns, or the ``server`` when it concerns every recipient ("" when
    unknown)."""

    def __init__(self, message: str, *, recipient: str = "", server: str = "") -> None:
        super().__init__(message)
        self.recipient = recipient
        self.server = server


class TransientDeliveryError(DeliveryError):
    """A temporary failure: a 4xx reply, a timeout or a lost connection. Retry later."""

    def __init__(
        self,
        message: str,
        *,
        connection_lost: bool = False,
        recipient: str = "",
        server: str = "",
    ) -> None:
        super().__init__(message, recipient=recipient, server=server)
        self.connection_lost = connection_lost


class PermanentDeliveryError(DeliveryError):
    """The server refused the message for this recipient for good (a 5xx reply)."""


class LockError(BriefsError):
    """Another briefs process holds the lock."""


class ServeError(BriefsError):
    """The output folder cannot be served."""


class SearchError(BriefsError):
    """A search query cannot be read (its message says why, for the person who typed it), or
    the database offers no full-text index to search."""


class EvaluationError(BriefsError):
    """An evaluation input is unusable."""


def about(exc: SourceError, *, source: str = "", url: str = "") -> None:
    """Fill in ``exc``'s subject where it has none (a deeper layer's names win)."""
    exc.source = exc.source or source
    exc.url = exc.url or url
