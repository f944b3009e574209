"""System information (manual 8.8): firmware, restarts, CPU, database size, space, backup, health.

Everything is read, nothing written: data.db is opened read-only for its health, so the page
can be shown beside the recorder at any time. `optimize` is the page's "Optimize" button; it
writes, so the daemon is to run it in its writer thread on the recorder's own data.db connection.
Times are epoch seconds (the page shows them in the user's zone), sizes are bytes.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
import time
from pathlib import Path

from .backup import last_auto_backup
from .db import CONFIG_DB
from .store import BUSY_TIMEOUT_S, DATA_DB

HISTORY = "history"              # the CSV tree, root of the FTP share
FRAGMENTED_SHARE = 0.2           # free pages above this share of the file: worth a VACUUM
WAL_LIMIT = 64 * 2 ** 20         # a WAL this big means checkpoints are not keeping up
FIRST_WINDOW_S = 0.2             # the first CPU sample has no previous one: measure this long


def _cpu_times(stat: Path) -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs from the "cpu" line of /proc/stat."""
    with open(stat) as file:
        fields = [int(x) for x in file.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)   # idle + iowait
    total = sum(fields[:8])   # guest times (fields 9, 10) are already counted in user and nice
    return total - idle, total


class CpuMeter:
    """Percent of CPU time busy since the previous sample (all CPUs together)."""

    def __init__(self, stat: Path = Path("/proc/stat")):
        self.stat = stat
        self._last: tuple[int, int] | None = None
        self._lock = threading.Lock()   # pages are served by several threads

    def sample(self) -> float:
        with self._lock:
            if self._last is None:
                self._last = _cpu_times(self.stat)
                time.sleep(FIRST_WINDOW_S)
            busy, total = _cpu_times(self.stat)
            last_busy, last_total = self._last
            self._last = busy, total
        if total <= last_total:
            return 0.0   # less than one clock tick went by
        return round(100.0 * (busy - last_busy) / (total - last_total), 1)


CPU = CpuMeter()   # one per process: each page view measures since the previous one


def boot_time(stat: Path = Path("/proc/stat")) -> int:
    """When the system (the hardware, manual 8.8 B) last started, epoch seconds."""
    with open(stat) as file:
        for line in file:
            if line.startswith("btime "):
                return int(line.split()[1])
    raise OSError(f"no btime line in {stat}")


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def tree_size(root: Path) -> int:
    """Bytes of the regular files under `root` (symlinks not followed)."""
    total = 0
    for folder, _, files in os.walk(root):
        for name in files:
            try:
                st = os.lstat(os.path.join(folder, name))
            except FileNotFoundError:   # a file replaced meanwhile (CSV rewrite, upload)
                continue
            if not os.path.islink(os.path.join(folder, name)):
                total += st.st_size
    return total


def database_size(data_dir: Path) -> dict:
    """Bytes of config.db, data.db (each with its -wal) and the CSV history, and their total."""
    data_dir = Path(data_dir)
    parts = {
        "config": sum(_size(data_dir / f"{CONFIG_DB}{ext}") for ext in ("", "-wal")),
        "data": sum(_size(data_dir / f"{DATA_DB}{ext}") for ext in ("", "-wal")),
        "history": tree_size(data_dir / HISTORY),
    }
    return {**parts, "total": sum(parts.values())}


def health(data_dir: Path, check: bool = True) -> dict | None:
    """data.db's health, opened read-only: free pages, fragmentation, quick_check (None: no data.db).

    "ok" is None when `check` is False; a damaged file gives ok False and "error"."""
    path = Path(data_dir) / DATA_DB
    if not path.exists():
        return None
    result = {"freelist_pages": 0, "page_count": 0, "fragmented": False, "ok": None}
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    try:
        result["freelist_pages"] = freelist = conn.execute("PRAGMA freelist_count").fetchone()[0]
        result["page_count"] = pages = conn.execute("PRAGMA page_count").fetchone()[0]
        wal = _size(path.with_name(DATA_DB + "-wal"))
        result["fragmented"] = (pages > 0 and freelist / pages > FRAGMENTED_SHARE) or wal > WAL_LIMIT
        if check:
            result["ok"] = conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    except sqlite3.DatabaseError as exc:   # "malformed", "not a database": damaged beyond a check's report
        result.update(ok=False, error=str(exc))
    finally:
        conn.close()
    return result


def system_info(data_dir: Path, started: float | None, version: str, cpu: CpuMeter = CPU) -> dict:
    """What the "System information" page shows (manual 8.8 A-D)."""
    data_dir = Path(data_dir)
    disk = shutil.disk_usage(data_dir)   # .free counts what an unprivileged process may use
    return {
        "version": version,
        "started": started,                  # the daemon
        "boot": boot_time(),                 # the system
        "cpu_percent": cpu.sample(),
        "database_bytes": database_size(data_dir),
        "free_bytes": disk.free,
        "disk_bytes": disk.total,
        "backup": last_auto_backup(data_dir),
        "health": health(data_dir),
    }


def _file_bytes(conn: sqlite3.Connection) -> int:
    path = Path(conn.execute("PRAGMA database_list").fetchone()[2])
    return _size(path) + _size(path.with_name(path.name + "-wal"))


def optimize(conn: sqlite3.Connection) -> dict:
    """The "Optimize" button: checkpoint, VACUUM (free pages given back, rows packed), checkpoint
    again (VACUUM goes through the WAL), PRAGMA optimize. `conn` is an open connection of data.db
    outside any transaction; returns the bytes of data.db + WAL before and after."""
    if conn.in_transaction:
        raise RuntimeError("optimize needs a connection outside any transaction")
    before = _file_bytes(conn)
    path = Path(conn.execute("PRAGMA database_list").fetchone()[2])
    free = shutil.disk_usage(path.parent).free
    if free < before:   # VACUUM writes a new copy of the file into the WAL before the old pages go
        raise OSError(f"optimizing data.db needs about {before // 2 ** 20} MiB free; "
                      f"{free // 2 ** 20} MiB are free")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("VACUUM")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA optimize")
    return {"before": before, "after": _file_bytes(conn)}
