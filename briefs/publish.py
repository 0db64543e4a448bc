"""The only writer of output/: atomic files that never escape the folder.

Every file is written to a temporary name in the same folder, flushed to disk and renamed over
the old one, so a reader (or a crash) sees the old version or the new one, never half a file.

Temporary names are briefs' own (``.briefs-<name>.<random>.tmp``): the sweep of what a crashed
run left behind removes only those, and only in the folders briefs writes (the output folder
and ``outbox/<edition>/``), so an output folder shared with other programs (``output = "."``)
never loses their files, and the sweep never walks a whole tree.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from pathlib import Path

from briefs.errors import PublishError

__all__ = ["Publisher", "replace_file"]

log = logging.getLogger(__name__)

# A temporary file this old was left by a writer that died (a write takes milliseconds).
STALE_SECONDS = 3600
TEMP_PREFIX = ".briefs-"
TEMP_SUFFIX = ".tmp"
# the folders briefs writes into, relative to the output folder
_WRITTEN_FOLDERS = (".", "stories", "outbox/*")


class Publisher:
    """Writes files into one output folder, atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.written: list[Path] = []
        self._sweep()

    def _sweep(self) -> None:
        """Remove temporary files that a crashed run left behind."""
        if not self.root.is_dir():
            return
        # (glob, not rglob: never a walk below the output folder)
        cutoff = time.time() - STALE_SECONDS
        pattern = f"{TEMP_PREFIX}*{TEMP_SUFFIX}"
        found = [
            tmp for folder in _WRITTEN_FOLDERS for tmp in self.root.glob(f"{folder}/{pattern}")
        ]
        for tmp in found:
            try:
                if tmp.is_file() and tmp.stat().st_mtime < cutoff:
                    tmp.unlink()
                    log.info("removed %s, left by an interrupted run", tmp)
            except OSError as exc:
                log.warning("cannot remove %s: %s", tmp, exc)

    def path(self, name: str) -> Path:
        """The absolute path of ``name`` inside the folder; refuses paths that escape it."""
        target = (self.root / name).resolve()
        if not target.is_relative_to(self.root) or target == self.root:
            raise PublishError(f"refusing to write outside {self.root}: {name!r}")
        return target

    def remove(self, name: str) -> bool:
        """Delete ``name`` if it exists; whether it did."""
        target = self.path(name)
        try:
            target.unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise PublishError(f"cannot remove {target}: {exc.strerror or exc}") from exc
        return True

    def write(self, name: str, data: bytes | str) -> Path:
        """Atomically replace ``name`` with ``data`` (str is written as UTF-8)."""
        target = self.path(name)
        payload = data.encode("utf-8") if isinstance(data, str) else data
        try:
            replace_file(target, payload)
        except OSError as exc:
            raise PublishError(f"cannot write {target}: {exc.strerror or exc}") from exc
        self.written.append(target)
        return target


def replace_file(target: Path, payload: bytes) -> None:
    """Atomically replace ``target`` with ``payload``: a temporary file of briefs' own name in
    the same folder, flushed to disk, then renamed over it (raises OSError, leaving no
    temporary file)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f"{TEMP_PREFIX}{target.name}.", suffix=TEMP_SUFFIX, dir=target.parent
    )
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
