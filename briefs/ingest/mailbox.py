"""Mailboxes as sources: an IMAP folder (imap-tools) or a maildir, read for newsletters.

Each poll reads only the messages not read before (:class:`~briefs.models.MailboxMemory`,
kept by the store): in an IMAP folder the UIDs above the highest one read under the folder's
UIDVALIDITY (a folder whose UIDVALIDITY changed is read anew, and a message whose Message-ID
was read before is skipped unread); in a maildir the files whose unique names were not read
(and again, not a Message-ID read before). Nothing is ever changed: the IMAP folder is opened
read-only (EXAMINE) and messages are fetched with ``BODY.PEEK`` (no ``\\Seen`` flag), a
maildir's files are only opened for reading (never moved from ``new/`` to ``cur/``).

Bounds: at most ``MAX_MESSAGE_BYTES`` of a message are read (a 20 MB attachment is never read
whole: the text parts, which come first, are); at most ``MAX_MESSAGES`` messages a poll (the
newest; the rest of a first poll of a large folder is left as read). A message that cannot be
read is that message's error (counted in the source's status, remembered as read so that it
is not read again); a connection lost in the middle is the source's error, with the messages
read before it kept.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import imaplib
import logging
import re
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import (
    ImapToolsError,
    MailboxFetchError,
    MailboxFolderSelectError,
    MailboxFolderStatusError,
    MailboxLoginError,
    MailboxStarttlsError,
)
from imap_tools.mailbox import BaseMailBox
from imap_tools.utils import check_command_status

from briefs.errors import ParseError, SourceError
from briefs.ingest.letters import message_key, parse_message, read_letter
from briefs.models import Article, ImapSettings, MailboxMemory, SeenMessage, Source

__all__ = [
    "MAX_MESSAGES",
    "MAX_MESSAGE_BYTES",
    "MailboxRead",
    "read_imap",
    "read_maildir",
]

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 2_000_000
MAX_MESSAGES = 500
# Messages whose headers are fetched in one command (a folder read anew, by Message-ID).
_HEADER_BATCH = 200
_FETCHED = re.compile(rb"UID\s+(\d+)", re.IGNORECASE)
_SIZE = re.compile(rb"RFC822\.SIZE\s+(\d+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class MailboxRead:
    """What one poll of a mailbox read: the articles, the messages to remember as read, the
    messages that could not be read (each with why), and how the poll ended."""

    articles: tuple[Article, ...]
    seen: tuple[SeenMessage, ...]
    messages: int  # messages read (articles made or not)
    skipped: tuple[str, ...] = ()
    truncated: int = 0  # messages over MAX_MESSAGE_BYTES, of which only the start was read
    left: int = 0  # new messages left unread (beyond MAX_MESSAGES)
    lost: str | None = None  # the source's error (the connection was lost) after the others

    @property
    def status(self) -> str:
        """The poll's status line: ``"ok, 3 messages"`` and what was skipped or cut."""
        parts = [f"ok, {self.messages} message{'' if self.messages == 1 else 's'}"]
        if self.left:
            parts.append(f"{self.left} older left unread (at most {MAX_MESSAGES} a poll)")
        if self.truncated:
            parts.append(f"{self.truncated} over {MAX_MESSAGE_BYTES} bytes read in part")
        if self.skipped:
            n = len(self.skipped)
            parts.append(
                f"skipped {n} unreadable message{'' if n == 1 else 's'} ({self.skipped[0]})"
            )
        return ", ".join(parts)


@dataclass
class _Reading:
    """The messages of one poll as they are read."""

    source: Source
    memory: MailboxMemory
    now: dt.datetime
    articles: list[Article] = field(default_factory=list)
    seen: list[SeenMessage] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)
    messages: int = 0
    truncated: int = 0

    def take(self, raw: bytes, size: int, where: str, **place: Any) -> None:
        """Read one message (``raw``: its first bytes when ``size`` is larger)."""
        self.messages += 1
        try:
            message = parse_message(raw)
            key = message_key(message)
        except ParseError as exc:
            self.skipped.append(f"{where}: {exc}")
            return
        if key in self.memory.message_ids or key in self.keys:
            return  # a copy of a message read before (under another UID or file name)
        self.keys.add(key)
        self.seen.append(SeenMessage(self.source.id, key, self.now, **place))
        if size > len(raw):
            self.truncated += 1
        try:
            letter = read_letter(message, self.source, self.now)
        except (ParseError, RecursionError, MemoryError) as exc:
            reason = str(exc) if isinstance(exc, ParseError) else type(exc).__name__
            log.warning("%s: %s (%s): %s", self.source.id, where, key, reason)
            self.skipped.append(f"{where}: {reason}")
            return
        self.articles.extend(letter.articles)

    def done(self, left: int = 0, lost: str | None = None) -> MailboxRead:
        return MailboxRead(
            tuple(self.articles),
            tuple(self.seen),
            self.messages,
            tuple(self.skipped),
            self.truncated,
            left,
            lost,
        )


def read_maildir(source: Source, memory: MailboxMemory, now: dt.datetime) -> MailboxRead:
    """The messages of the maildir at ``source.location`` not read before (oldest first)."""
    folder = Path(source.location)
    found: list[tuple[float, str, Path]] = []
    for sub in ("new", "cur"):
        try:
            entries = list((folder / sub).iterdir())
        except OSError as exc:
            raise SourceError(
                f"{folder} is not a readable maildir ({sub}/: {exc.strerror or exc})"
            ) from exc
        for path in entries:
            # the unique name is the part before the info (":2,FLAGS"; "!" or ";" elsewhere)
            name = re.split(r"[:!;]", path.name, maxsplit=1)[0]
            if path.name.startswith(".") or name in memory.names:
                continue
            try:
                found.append((path.stat().st_mtime, name, path))
            except OSError:
                continue  # gone since it was listed (moved to cur/ or deleted)
    found.sort()
    todo = found[-MAX_MESSAGES:]
    reading = _Reading(source, memory, now)
    for _, name, path in todo:
        try:
            with path.open("rb") as fh:
                raw = fh.read(MAX_MESSAGE_BYTES)
                size = len(raw) + len(fh.read(1))
        except OSError as exc:
            reading.skipped.append(f"{name}: cannot read: {exc.strerror or exc}")
            continue
        reading.take(raw, size, name, name=name)
    return reading.done(left=len(found) - len(todo))


def read_imap(
    source: Source, settings: ImapSettings, password: str, memory: MailboxMemory, now: dt.datetime
) -> MailboxRead:
    """The messages of the IMAP folder not read before (nothing in the folder is changed)."""
    where = f"{settings.host}:{settings.imap_port}"
    box = _connect(settings, where)
    reading = _Reading(source, memory, now)
    try:
        try:
            box.login(settings.username, password, initial_folder=None)
        except MailboxLoginError as exc:
            raise SourceError(f"IMAP login refused for {settings.username} at {where}") from exc
        try:
            status = box.folder.status(settings.folder, ["UIDVALIDITY", "MESSAGES"])
            box.folder.set(settings.folder, readonly=True)  # EXAMINE: nothing is changed
        except (MailboxFolderStatusError, MailboxFolderSelectError) as exc:
            raise SourceError(f"no IMAP folder {settings.folder!r} at {where}") from exc
        uidvalidity = int(status.get("UIDVALIDITY", 0))
        last = memory.highest_uid(uidvalidity)
        uids = sorted(int(u) for u in box.uids(f"UID {last + 1}:*" if last else "ALL"))
        uids = [u for u in uids if u > last]  # "n:*" always answers the last UID, even below n
        if not last and memory.message_ids:
            uids = _unread(box, uids, memory)
        todo = uids[-MAX_MESSAGES:]
        for i, uid in enumerate(todo):
            try:
                raw, size = _fetch_bounded(box, uid)
            except (imaplib.IMAP4.abort, OSError) as exc:
                lost = (
                    f"IMAP connection to {where} lost while fetching message {i + 1} of "
                    f"{len(todo)}: {_reason(exc)}"
                )
                return reading.done(len(uids) - len(todo), lost)
            if raw is None:
                continue  # expunged since the search
            reading.take(raw, size, f"UID {uid}", uidvalidity=uidvalidity, uid=uid)
        return reading.done(len(uids) - len(todo))
    except (imaplib.IMAP4.abort, OSError) as exc:
        raise SourceError(f"IMAP connection to {where} lost: {_reason(exc)}") from exc
    except (imaplib.IMAP4.error, ImapToolsError) as exc:
        raise SourceError(f"IMAP server {where} refused: {_reason(exc)}") from exc
    finally:
        _logout(box)


def _connect(settings: ImapSettings, where: str) -> BaseMailBox:
    port = settings.imap_port
    try:
        if settings.security == "none":
            return MailBoxUnencrypted(settings.host, port, timeout=settings.timeout)
        context = ssl.create_default_context(cafile=settings.cafile or None)
        if settings.security == "starttls":
            return MailBoxStartTls(
                settings.host, port, timeout=settings.timeout, ssl_context=context
            )
        return MailBox(settings.host, port, timeout=settings.timeout, ssl_context=context)
    except ssl.SSLError as exc:
        raise SourceError(f"TLS with IMAP server {where} failed: {_reason(exc)}") from exc
    except MailboxStarttlsError as exc:
        raise SourceError(f"IMAP server {where} refused STARTTLS") from exc
    except (OSError, imaplib.IMAP4.error, ValueError) as exc:
        raise SourceError(f"cannot connect to IMAP server {where}: {_reason(exc)}") from exc


def _logout(box: BaseMailBox) -> None:
    try:
        box.logout()
    except (imaplib.IMAP4.error, ImapToolsError, OSError):
        with contextlib.suppress(OSError):
            box.client.shutdown()


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:200]
    return text or type(exc).__name__


def _unread(box: BaseMailBox, uids: Sequence[int], memory: MailboxMemory) -> list[int]:
    """The UIDs whose Message-ID was not read before (a folder read anew: its UIDVALIDITY
    changed), from their headers alone."""
    keep: list[int] = []
    for start in range(0, len(uids), _HEADER_BATCH):
        batch = uids[start : start + _HEADER_BATCH]
        for uid, raw, _size in _fetch(box, ",".join(map(str, batch)), "HEADER", MAX_MESSAGE_BYTES):
            try:
                if message_key(parse_message(raw)) in memory.message_ids:
                    continue
            except ParseError:
                pass
            keep.append(uid)
    return sorted(keep)


def _fetch_bounded(box: BaseMailBox, uid: int) -> tuple[bytes | None, int]:
    """One message's first MAX_MESSAGE_BYTES and its whole size (None: no such UID now)."""
    for found, raw, size in _fetch(box, str(uid), "", MAX_MESSAGE_BYTES):
        if found == uid:
            return raw, size
    return None, 0


def _fetch(
    box: BaseMailBox, uid_set: str, section: str, limit: int
) -> Iterable[tuple[int, bytes, int]]:
    """``UID FETCH`` of a section's first ``limit`` bytes with ``BODY.PEEK`` (the ``\\Seen``
    flag is never set): (uid, bytes, size of the whole message) for each message answered."""
    result = box.client.uid("FETCH", uid_set, f"(UID RFC822.SIZE BODY.PEEK[{section}]<0.{limit}>)")
    check_command_status(result, MailboxFetchError)
    data = result[1]
    out: list[tuple[int, bytes, int]] = []
    for i, item in enumerate(data):
        if not isinstance(item, tuple) or len(item) != 2:
            continue
        head = bytes(item[0])
        closing = data[i + 1] if i + 1 < len(data) and isinstance(data[i + 1], bytes) else b""
        uid = _FETCHED.search(head) or _FETCHED.search(closing)
        size = _SIZE.search(head) or _SIZE.search(closing)
        if uid is None:
            continue
        body = bytes(item[1])
        out.append((int(uid.group(1)), body, int(size.group(1)) if size else len(body)))
    return out
