"""Keep the daemon's memory flat on glibc: few malloc arenas, big blocks given back at once.

Each web thread would get its own malloc arena, and glibc raises its mmap threshold after the
first big block is freed, so the 16 MiB that one scrypt check of a PIN uses (secrets.py) stays
in that thread's heap for good: measured 67 -> 168 MiB RSS after 30 logins. Two arenas and a
fixed 1 MiB threshold keep it flat (54 -> 57 MiB). Called once, before any thread starts;
a no-op where the C library is not glibc. MALLOC_ARENA_MAX / MALLOC_MMAP_THRESHOLD_ in the
environment still win, so the unit file or a developer can override it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3     # from glibc's malloc.h
M_ARENA_MAX = -8
ARENAS = 2
MMAP_THRESHOLD = 1 << 20


def tune_malloc() -> bool:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        mallopt = libc.mallopt if libc else None
    except (OSError, AttributeError):
        return False
    if mallopt is None:
        return False
    ok = True
    if "MALLOC_ARENA_MAX" not in os.environ:
        ok &= mallopt(M_ARENA_MAX, ARENAS) == 1
    if "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        ok &= mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    if not ok:
        log.warning("mallopt refused a setting: memory may grow with the web threads")
    return ok
