"""Giving freed memory back to the operating system between the stages of a run.

A stage that reads a day of articles frees them when it ends, but glibc's allocator keeps the
freed pages in the process (objects of other stages sit between them), so a run's resident
memory only grows: measured on a 50k-article day (benchmarks/README.md), the briefs process
held 315 MB through the poll and 500 MB at the end, though what was still in use was far less.
:func:`release` asks glibc (``malloc_trim``) to return every free page, which it does in a few
milliseconds; the next stage starts from what is in use. Where the C library is not glibc
(musl, macOS), it does nothing.
"""

from __future__ import annotations

import ctypes
import functools
import logging
from collections.abc import Callable
from typing import cast

__all__ = ["release"]

log = logging.getLogger(__name__)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(None)  # the C library this process runs on
    except OSError:
        return None
    trim = getattr(libc, "malloc_trim", None)  # glibc's own: not in musl or macOS
    if trim is None:
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return cast("Callable[[int], int]", trim)


def release() -> bool:
    """Return the process's free heap pages to the operating system; whether any were."""
    trim = _malloc_trim()
    return bool(trim(0)) if trim is not None else False
