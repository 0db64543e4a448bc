"""Progress of long ingest work: a rich progress bar in a terminal, plain log lines otherwise.

The poller and the page fetcher report through the small :class:`Progress` protocol; the CLI
chooses the implementation (:func:`make_progress`) so nothing in ingest writes to the terminal.
"""

from __future__ import annotations

import logging
from typing import Protocol

__all__ = ["LogProgress", "NullProgress", "Progress", "RichProgress", "make_progress"]

log = logging.getLogger(__name__)


class Progress(Protocol):
    """Receives progress of named tasks ("poll", "pages")."""

    def start(self, task: str, total: int) -> None:
        """A task with ``total`` steps begins."""

    def advance(self, task: str, detail: str = "") -> None:
        """One step of a task is done; ``detail`` names it (e.g. the source id)."""

    def finish(self, task: str) -> None:
        """A task is over."""


class NullProgress:
    """Reports nothing."""

    def start(self, task: str, total: int) -> None:
        """Ignore."""

    def advance(self, task: str, detail: str = "") -> None:
        """Ignore."""

    def finish(self, task: str) -> None:
        """Ignore."""


class LogProgress:
    """Plain log lines: one about every tenth of a task, and one at its end."""

    def __init__(self) -> None:
        self._totals: dict[str, int] = {}
        self._done: dict[str, int] = {}

    def __enter__(self) -> LogProgress:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def start(self, task: str, total: int) -> None:
        """Remember the size of a task."""
        self._totals[task] = total
        self._done[task] = 0

    def advance(self, task: str, detail: str = "") -> None:
        """Log every tenth step (and each step of small tasks)."""
        done = self._done.get(task, 0) + 1
        self._done[task] = done
        total = self._totals.get(task, 0)
        step = max(total // 10, 1)
        if done % step == 0 and done < total:
            log.info("%s: %d/%d done (%s)", task, done, total, detail)

    def finish(self, task: str) -> None:
        """Log the end of a task."""
        if self._totals.get(task):
            log.info("%s: %d/%d done", task, self._done.get(task, 0), self._totals[task])


class RichProgress:
    """A transient rich progress bar (use as a context manager)."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
        )
        from rich.progress import Progress as Bar

        self._bar = Bar(
            TextColumn("{task.description:<6}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[detail]}", style="dim"),
            console=Console(),
            transient=True,
        )
        self._tasks: dict[str, object] = {}

    def __enter__(self) -> RichProgress:
        self._bar.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._bar.stop()

    def start(self, task: str, total: int) -> None:
        """Add a bar for the task."""
        self._tasks[task] = self._bar.add_task(task, total=total, detail="")

    def advance(self, task: str, detail: str = "") -> None:
        """Move the task's bar one step."""
        task_id = self._tasks.get(task)
        if task_id is not None:
            self._bar.update(task_id, advance=1, detail=detail)  # type: ignore[arg-type]

    def finish(self, task: str) -> None:
        """Remove the task's bar."""
        task_id = self._tasks.pop(task, None)
        if task_id is not None:
            self._bar.remove_task(task_id)  # type: ignore[arg-type]


def make_progress(terminal: bool) -> RichProgress | LogProgress:
    """A rich bar for a terminal, log lines otherwise."""
    return RichProgress() if terminal else LogProgress()
