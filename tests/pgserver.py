"""A throwaway PostgreSQL cluster for the tests: ``initdb`` in a temporary folder, listening on
a Unix socket there only (no TCP port), stopped and removed at the end of the session.

The server's programs are looked for on PATH, then in Debian's /usr/lib/postgresql/<n>/bin
(``.ci/run`` installs Debian's ``postgresql`` package when they are missing). PostgreSQL
refuses to run as root: as root the cluster belongs to the unprivileged user ``nobody``.
``$BRIEFS_TEST_POSTGRES`` (a URL of a server where the user may create databases) is used
instead of a cluster of our own when set.

``pg_ctl`` daemonizes the postmaster (its parent is init, not pytest), so a pytest killed
with SIGKILL would leave its cluster running. A watchdog process (:func:`_watch`), a child of
the process that started the cluster, stops the cluster and removes its folder as soon as
that process is gone (its parent pid changes); a normal end of the session stops it first.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["PostgresServer", "find_bin", "postgres_server"]

USER = "nobody"


def find_bin() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres, or None when PostgreSQL is absent."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    return None


def _as_owner(args: list[str]) -> list[str]:
    """The command run as the cluster's owner (``nobody`` when we are root)."""
    if os.geteuid() != 0:
        return args
    return ["runuser", "-u", USER, "--", *args]


class PostgresServer:
    """A running server; :meth:`new_database` gives each test its own database."""

    def __init__(self, admin_url: str, folder: Path | None = None, bindir: Path | None = None):
        self.admin_url = admin_url  # postgresql+psycopg URL of the ``postgres`` database
        self.folder = folder  # the cluster's folder (None: an outside server)
        self.bindir = bindir
        self._numbers = itertools.count(1)

    def url(self, database: str) -> str:
        """The URL of one database of this server."""
        import sqlalchemy as sa

        return sa.make_url(self.admin_url).set(database=database).render_as_string(False)

    def new_database(self, prefix: str = "t") -> str:
        """Create an empty database and return its URL."""
        import sqlalchemy as sa

        name = f"{prefix}_{os.getpid()}_{next(self._numbers)}"
        engine = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
                conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE template0')
        finally:
            engine.dispose()
        return self.url(name)

    def stop_command(self) -> list[str]:
        """The command that stops the cluster at once (as a crash of the server would)."""
        assert self.folder is not None and self.bindir is not None
        return _as_owner(
            [
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.folder / "data"),
                "-m",
                "immediate",
                "-w",
                "stop",
            ]
        )

    def stop(self) -> None:
        """Stop the cluster at once (as a crash of the server would)."""
        if self.folder is not None and self.bindir is not None:
            subprocess.run(self.stop_command(), check=False, capture_output=True)

    def start(self) -> None:
        """Start the cluster (again)."""
        assert self.folder is not None and self.bindir is not None
        options = f"-k {self.folder} -c listen_addresses='' -F -c max_connections=200"
        subprocess.run(
            _as_owner(
                [
                    str(self.bindir / "pg_ctl"),
                    "-D",
                    str(self.folder / "data"),
                    "-l",
                    str(self.folder / "server.log"),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    options,
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )


# Run by the watchdog process: argv is the pid to watch, the stop command (JSON), the folder.
_WATCHDOG = """
import json, os, shutil, subprocess, sys, time
parent, stop, folder = int(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
while os.getppid() == parent:
    time.sleep(0.2)
subprocess.run(stop, check=False, capture_output=True)
shutil.rmtree(folder, ignore_errors=True)
"""


def _watch(server: PostgresServer) -> subprocess.Popen[bytes]:
    """A process that stops ``server``'s cluster and removes its folder once this process
    dies without doing so (SIGKILL); killed by the caller at a normal end."""
    assert server.folder is not None
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            _WATCHDOG,
            str(os.getpid()),
            json.dumps(server.stop_command()),
            str(server.folder),
        ],
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # not stopped by a Ctrl-C meant for pytest before it cleans up
    )


def _skip_reason() -> str | None:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'briefs[postgres]')"
    if find_bin() is None:
        return "PostgreSQL's server programs (initdb, pg_ctl) are not installed"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser: cannot start PostgreSQL as another user"
    return None


@contextmanager
def postgres_server() -> Iterator[PostgresServer | str]:
    """A running server for the block, or the reason there is none (a string)."""
    outside = os.environ.get("BRIEFS_TEST_POSTGRES")
    if outside:
        yield PostgresServer(outside)
        return
    reason = _skip_reason()
    if reason is not None:
        yield reason
        return
    bindir = find_bin()
    assert bindir is not None
    # Not under pytest's tmp_path: its folders are private to root, and the socket path must
    # stay short (about 100 characters at most).
    folder = Path(tempfile.mkdtemp(prefix="briefs-pg-"))
    server = PostgresServer(
        f"postgresql+psycopg://postgres@/postgres?host={folder}", folder, bindir
    )
    watchdog: subprocess.Popen[bytes] | None = None
    try:
        if os.geteuid() == 0:
            shutil.chown(folder, USER)
        init = subprocess.run(
            _as_owner(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(folder / "data"),
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "--no-sync",
                    "-E",
                    "UTF8",
                    "--locale=C",
                ]
            ),
            capture_output=True,
            text=True,
        )
        if init.returncode != 0:
            yield f"initdb failed: {init.stderr.strip().splitlines()[-1:]}"
            return
        watchdog = _watch(server)
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
        if watchdog is not None:
            watchdog.kill()
            watchdog.wait()
