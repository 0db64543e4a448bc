"""Locks of one database, so that briefs processes take turns: ``flock`` files beside a SQLite
database, advisory locks inside a PostgreSQL one (so processes on several hosts exclude each
other).

Three locks, each a file beside the SQLite database (``briefs.db.<name>.lock``; beside the config
file for another server URL) or a PostgreSQL advisory lock of the database:

- ``daemon``: held for the daemon's whole life, so a second daemon refuses to start;
- ``build``: held while polling, grouping and building, so ``briefs run`` during a daemon's build
  waits for it (up to a timeout) instead of interleaving writes;
- ``mail``: held while sending email, so two senders never mail the same recipient.

Both kinds are dropped when the holder dies (the kernel drops a ``flock``; the server drops a
session's advisory locks with its connection), so a crash never leaves a stale lock. Each
acquisition has its own file description or its own connection, so two threads of one
process exclude each other too. Both say who holds them, for error messages: the file holds
a line; the advisory lock's connection carries it as its ``application_name``. They wait,
warn and refuse in the same words (:class:`Lock`).
"""

from __future__ import annotations

import abc
import datetime as dt
import fcntl
import logging
import os
import socket
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from briefs.errors import LockError

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from briefs.config import Config

__all__ = ["AdvisoryLock", "FileLock", "Lock", "lock_path", "named_lock"]


class Lock(abc.ABC):
    """An exclusive lock: :meth:`hold` or ``with lock.hold(timeout, doing=...):``.

    The waiting, the warning while waiting and the refusal are the same for every kind; a
    kind says how to try once (:meth:`_open`, :meth:`_try`, :meth:`_mark`, :meth:`_close`),
    where it is (``where``, for messages) and who holds it (:meth:`holder`).
    """

    where: str  # the lock, as messages name it
    label: str  # a short name of it, for the waiting line

    def __init__(self, purpose: str) -> None:
        self.purpose = purpose
        self._held = False

    @property
    def held(self) -> bool:
        """Whether this object holds the lock now."""
        return self._held

    def acquire(
        self,
        timeout: float = 0.0,
        stop: threading.Event | None = None,
        doing: str = "briefs",
    ) -> None:
        """Take the lock, waiting up to ``timeout`` seconds; raise LockError if it stays taken.

        ``doing`` says what the holder does, for the message another process shows.
        """
        if self._held:
            raise LockError(f"{self.where} is already held by this process")
        self._open()
        deadline = time.monotonic() + max(timeout, 0.0)
        delay = 0.05
        try:
            while not self._try():
                left = deadline - time.monotonic()
                if delay == 0.05 and left > 0:
                    # said once, so that a command waiting for the daemon is not silent
                    log.warning(
                        "waiting up to %.0f s for %s to finish (%s)",
                        timeout,
                        self.holder() or "another briefs process",
                        self.label,
                    )
                if left <= 0 or (stop is not None and stop.is_set()):
                    holder = self.holder() or "another briefs process"
                    waited = f" after waiting {timeout:.0f} s" if timeout > 0 else ""
                    raise LockError(
                        f"{holder} holds {self.where}{waited}; "
                        f"cannot {self.purpose} now, try again later"
                    )
                if stop is not None:
                    stop.wait(min(delay, left))
                else:
                    time.sleep(min(delay, left))
                delay = min(delay * 2, 1.0)
        except BaseException:
            self._close()
            raise
        self._held = True
        self._mark(doing)

    def release(self) -> None:
        """Let go of the lock (a no-op if it is not held)."""
        if self._held:
            self._held = False
            self._unmark()
        self._close()

    @abc.abstractmethod
    def holder(self) -> str | None:
        """Who holds the lock ("briefs daemon (pid 12, since ...)"), if anyone says so."""

    @abc.abstractmethod
    def is_locked(self) -> bool:
        """Whether some process (this one included) holds the lock right now."""

    def hold(
        self, timeout: float = 0.0, stop: threading.Event | None = None, doing: str = "briefs"
    ) -> Lock:
        """Acquire and return self, for ``with lock.hold(timeout, doing=...):``."""
        self.acquire(timeout, stop, doing)
        return self

    def __enter__(self) -> Lock:
        if not self._held:
            self.acquire()
        return self

    def __exit__(self, *_: object) -> None:
        self.release()

    # -- one kind of lock -------------------------------------------------------------------
    @abc.abstractmethod
    def _open(self) -> None:
        """Get ready to try (open the file, connect); raise LockError if that fails."""

    @abc.abstractmethod
    def _try(self) -> bool:
        """Try to take the lock once, without waiting."""

    @abc.abstractmethod
    def _mark(self, doing: str) -> None:
        """Say who holds it now (just taken)."""

    @abc.abstractmethod
    def _unmark(self) -> None:
        """Let go of the lock itself (it is held)."""

    @abc.abstractmethod
    def _close(self) -> None:
        """Undo :meth:`_open` (also after a failed acquisition)."""


def _since() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class FileLock(Lock):
    """An exclusive ``flock`` on one file."""

    def __init__(self, path: Path, purpose: str) -> None:
        super().__init__(purpose)
        self.path = path
        self.where = str(path)
        self.label = path.name
        self._fd: int | None = None

    def _open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise LockError(f"cannot open lock file {self.path}: {exc.strerror or exc}") from exc

    def _try(self) -> bool:
        assert self._fd is not None
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _mark(self, doing: str) -> None:
        assert self._fd is not None
        line = f"{doing} (pid {os.getpid()}, since {_since()})\n"
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, line.encode("utf-8"), 0)

    def _unmark(self) -> None:
        assert self._fd is not None
        # Emptied before unlocking, so a reader never blames a process that let go.
        os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def holder(self) -> str | None:
        """Who holds the lock, as written by the holder ("daemon (pid 12, since ...)")."""
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            return None
        return text or None

    def is_locked(self) -> bool:
        """Whether some process (this one included) holds the lock right now."""
        if self._held:
            return True
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False


# PostgreSQL's two-key advisory locks: every briefs lock has this first key ("brif"), and its
# number among the locks as the second, so pg_locks shows which lock a session holds.
ADVISORY_CLASS = 0x62726966
_NUMBERS = {"daemon": 1, "build": 2, "mail": 3}
# PostgreSQL keeps this many bytes of a session's application_name (NAMEDATALEN - 1).
_APP_NAME_BYTES = 63


class AdvisoryLock(Lock):
    """A session-level PostgreSQL advisory lock (``pg_try_advisory_lock``) of one database,
    held on a connection of its own for as long as the lock is held."""

    def __init__(self, url: str, name: str, purpose: str) -> None:
        from briefs.store.database import describe_database

        super().__init__(purpose)
        self.url = url
        self.name = name
        self.key = (ADVISORY_CLASS, _NUMBERS[name])
        self.where = f"the {name} lock of database {describe_database(url)}"
        self.label = f"{name} lock"
        self._engine: Any = None
        self._conn: Any = None

    def _connect(self) -> Any:
        import sqlalchemy as sa
        from sqlalchemy.pool import NullPool

        from briefs.store.database import describe_database, missing_driver

        try:
            if self._engine is None:
                self._engine = sa.create_engine(self.url, poolclass=NullPool)
            return self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except ImportError as exc:
            raise LockError(missing_driver(describe_database(self.url), exc)) from exc
        except sa.exc.SQLAlchemyError as exc:
            detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            raise LockError(
                f"cannot connect to database {describe_database(self.url)} for its "
                f"{self.name} lock: {detail[0] if detail else exc.__class__.__name__}"
            ) from exc

    def _open(self) -> None:
        self._conn = self._connect()

    def _try(self) -> bool:
        import sqlalchemy as sa

        return bool(
            self._conn.execute(
                sa.text("SELECT pg_try_advisory_lock(:a, :b)"), {"a": self.key[0], "b": self.key[1]}
            ).scalar_one()
        )

    def _mark(self, doing: str) -> None:
        import sqlalchemy as sa

        suffix = f" (pid {os.getpid()} on {socket.gethostname()})"
        room = max(_APP_NAME_BYTES - len(suffix.encode()), 24)
        name = doing.encode()[:room].decode(errors="ignore") + suffix
        name = name.encode()[:_APP_NAME_BYTES].decode(errors="ignore")
        self._conn.execute(sa.text("SELECT set_config('application_name', :n, false)"), {"n": name})

    def _unmark(self) -> None:
        import sqlalchemy as sa

        try:
            self._conn.execute(
                sa.text("SELECT pg_advisory_unlock(:a, :b)"), {"a": self.key[0], "b": self.key[1]}
            )
        except sa.exc.SQLAlchemyError as exc:  # the connection is gone, and the lock with it
            log.debug("%s: unlock failed: %s", self.where, exc)

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def _holders(self) -> list[Any]:
        import sqlalchemy as sa

        query = sa.text(
            "SELECT a.application_name, a.state_change FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = :a AND l.objid = :b "
            "AND l.objsubid = 2 AND l.database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        conn = self._conn if self._conn is not None else self._connect()
        try:
            return list(conn.execute(query, {"a": self.key[0], "b": self.key[1]}).all())
        finally:
            if conn is not self._conn:
                conn.close()

    def holder(self) -> str | None:
        """Who holds the lock: the holder's ``application_name`` and when it took the lock."""
        try:
            rows = self._holders()
        except LockError:
            return None
        if not rows:
            return None
        name, since = rows[0]
        when = f", since {since.astimezone(dt.UTC).isoformat(timespec='seconds')}" if since else ""
        if name.endswith(")"):
            return f"{name[:-1]}{when})"
        return f"{name or 'a briefs process'}{when}".strip()

    def is_locked(self) -> bool:
        """Whether some session (this one included) holds the lock right now."""
        return self._held or bool(self._holders())


def lock_path(config: Config, name: str) -> Path:
    """Where the lock called ``name`` lives: beside the SQLite file, else beside the config."""
    if "://" not in config.database:
        db = Path(config.database)
        return db.with_name(f"{db.name}.{name}.lock")
    return config.base_dir / f"briefs.{name}.lock"


_PURPOSES = {
    "daemon": "run a second daemon",
    "build": "poll or build",
    "mail": "send email",
    "notify": "send notifications",
}


def named_lock(config: Config, name: str) -> Lock:
    """One of the locks of this database: "daemon", "build", "mail" or "notify" (an advisory lock
    for a PostgreSQL database, else a file)."""
    if config.database.startswith(("postgresql:", "postgresql+", "postgres:")):
        return AdvisoryLock(config.database, name, _PURPOSES[name])
    return FileLock(lock_path(config, name), _PURPOSES[name])
