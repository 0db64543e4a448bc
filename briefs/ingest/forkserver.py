"""Imported by the fork server that starts the worker processes, and by nothing else.

:class:`briefs.ingest.workers.WorkerPool` has multiprocessing's fork server import this module
before it forks any worker: what the workers run (trafilatura for pages; feedparser, lxml and
NumPy for feeds and their sketches) is then imported once for all of them, and the server
ignores SIGTERM. A service manager stopping the daemon signals every process of the service
(systemd does), and a fork server that died would break the pool (its workers look dead to the
pool) in the middle of the job the daemon is finishing; the server still exits when the briefs
process does. Importing this module anywhere else would make that process ignore SIGTERM.
"""

from __future__ import annotations

import signal

import briefs.ingest.dedupe
import briefs.ingest.extract
import briefs.ingest.parse  # noqa: F401

signal.signal(signal.SIGTERM, signal.SIG_IGN)
