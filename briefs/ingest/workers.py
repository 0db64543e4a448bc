"""Worker processes for the CPU-bound parts of ingestion: parsing feeds, extracting pages.

Both pools come from here, so they share one way of starting and stopping. Workers are forked
by multiprocessing's fork server: the briefs process runs threads and an event loop, which must
not be forked. The fork server imports, once for all workers, what they run
(:mod:`briefs.ingest.forkserver`). Each worker ignores SIGINT and SIGTERM (Ctrl-C and a service
manager signal the whole process group; the briefs process decides, finishes its job with the
workers' help and shuts them down) and exits as soon as the briefs process's end of its
"lifeline" pipe closes, however that process ends.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.context
import os
import signal
import threading
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.connection import Connection

__all__ = ["WorkerPool", "stop_fork_server", "worker_ready"]

# What the fork server imports before forking any worker (one list for every pool: the fork
# server is started once per process, by whichever pool starts first).
PRELOAD = ["briefs.ingest.forkserver"]


def _worker_init(lifeline: Connection) -> None:
    """In each worker process: leave signals to the parent, and exit when the parent is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(lifeline,), daemon=True).start()


def _watch_parent(lifeline: Connection) -> None:
    """Exit as soon as the parent's end of the lifeline closes (the parent ended or was killed:
    an idle worker would otherwise wait on its task queue for ever)."""
    with contextlib.suppress(EOFError, OSError):
        lifeline.recv_bytes()
    os._exit(0)


def worker_ready() -> None:
    """Does nothing, in a worker: waiting for it tells that the worker has started (so a time
    budget given to the next task does not count the start)."""


def stop_fork_server() -> None:
    """Stop multiprocessing's fork server of this process, if it runs and no pool of ours is
    open: it holds the workers' imports (about 50 MB) until the process exits, although a
    process that is done with its workers needs none. The next pool starts it again."""
    if WorkerPool.open:
        return
    import multiprocessing.forkserver

    server = getattr(multiprocessing.forkserver, "_forkserver", None)
    stop = getattr(server, "_stop", None)  # CPython's own (its tests use it); not on Windows
    if stop is not None:
        with contextlib.suppress(OSError, ChildProcessError):
            stop()


class WorkerPool(ProcessPoolExecutor):
    """A process pool of ``workers`` from the fork server (spawned where there is none), with a
    lifeline: :meth:`shutdown` closes it, which ends every worker, busy or not."""

    open = 0  # pools of this process not shut down yet (the fork server serves them all)

    def __init__(self, workers: int) -> None:
        context: multiprocessing.context.BaseContext
        if "forkserver" in multiprocessing.get_all_start_methods():
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(PRELOAD)
        else:  # Windows
            context = multiprocessing.get_context("spawn")
        reader, writer = context.Pipe(duplex=False)
        self._lifeline: tuple[Connection, Connection] | None = (reader, writer)
        super().__init__(workers, mp_context=context, initializer=_worker_init, initargs=(reader,))
        WorkerPool.open += 1

    def kill(self) -> None:
        """End every worker at once, busy or not (SIGKILL), and the pool with them: for work
        that overran its budget. Work still in the pool fails with BrokenProcessPool."""
        for process in list((self._processes or {}).values()):
            with contextlib.suppress(OSError, ValueError, AttributeError):
                process.kill()
        self.shutdown(wait=False, cancel_futures=True)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop the pool; without ``wait`` the workers end at once (their lifeline closes)."""
        super().shutdown(wait=wait, cancel_futures=cancel_futures)
        if self._lifeline is not None:
            for end in self._lifeline:
                end.close()
            self._lifeline = None
            WorkerPool.open -= 1
