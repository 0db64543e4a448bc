"""File locks next to the database, so that briefs processes take turns.

Three locks, each a file beside the database (``briefs.db.<name>.lock``; beside the config file
when the database is a server URL):

- ``daemon``: held for the daemon's whole life, so a second daemon refuses to start;
- ``build``: held while polling, grouping and building, so ``briefs run`` during a daemon's build
  waits for it (up to a timeout) instead of interleaving writes;
- ``mail``: held while sending email, so two senders never mail the same recipient.

They are ``flock`` locks: the kernel drops them when the process dies, so a crash never leaves a
stale lock. Each acquisition opens its own file description, so two threads of one process
exclude each other too. The file holds a line saying who holds it, for error messages.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from briefs.errors import LockError

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from briefs.config import Config

__all__ = ["FileLock", "lock_path", "named_lock"]


class FileLock:
    """An exclusive ``flock`` on one file; use :meth:`hold` or ``with lock.hold(...)``."""

    def __init__(self, path: Path, purpose: str) -> None:
        self.path = path
        self.purpose = purpose
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock now."""
        return self._fd is not None

    def acquire(
        self,
        timeout: float = 0.0,
        stop: threading.Event | None = None,
        doing: str = "briefs",
    ) -> None:
        """Take the lock, waiting up to ``timeout`` seconds; raise LockError if it stays taken.

        ``doing`` says what the holder does, for the message another process shows.
        """
        if self._fd is not None:
            raise LockError(f"{self.path} is already held by this process")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise LockError(f"cannot open lock file {self.path}: {exc.strerror or exc}") from exc
        deadline = time.monotonic() + max(timeout, 0.0)
        delay = 0.05
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                left = deadline - time.monotonic()
                if delay == 0.05 and left > 0:
                    # said once, so that a command waiting for the daemon is not silent
                    log.warning(
                        "waiting up to %.0f s for %s to finish (%s)",
                        timeout,
                        self.holder() or "another briefs process",
                        self.path.name,
                    )
                if left <= 0 or (stop is not None and stop.is_set()):
                    os.close(fd)
                    holder = self.holder() or "another briefs process"
                    waited = f" after waiting {timeout:.0f} s" if timeout > 0 else ""
                    raise LockError(
                        f"{holder} holds {self.path}{waited}; "
                        f"cannot {self.purpose} now, try again later"
                    ) from None
                if stop is not None:
                    stop.wait(min(delay, left))
                else:
                    time.sleep(min(delay, left))
                delay = min(delay * 2, 1.0)
        self._fd = fd
        line = (
            f"{doing} (pid {os.getpid()}, "
            f"since {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')})\n"
        )
        os.ftruncate(fd, 0)
        os.pwrite(fd, line.encode("utf-8"), 0)

    def release(self) -> None:
        """Let go of the lock (a no-op if it is not held)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            # Emptied before unlocking, so a reader never blames a process that let go.
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
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
        if self._fd is not None:
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

    def hold(
        self, timeout: float = 0.0, stop: threading.Event | None = None, doing: str = "briefs"
    ) -> FileLock:
        """Acquire and return self, for ``with lock.hold(timeout, doing=...):``."""
        self.acquire(timeout, stop, doing)
        return self

    def __enter__(self) -> FileLock:
        if self._fd is None:
            self.acquire()
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


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


def named_lock(config: Config, name: str) -> FileLock:
    """One of the locks of this database: "daemon", "build", "mail" or "notify"."""
    return FileLock(lock_path(config, name), _PURPOSES[name])
