"""System information (manual 8.8) on a real data directory: sizes, CPU, boot time, backup status,
data.db health read without writing, and the "Optimize" button."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from wsmeasure import __version__
from wsmeasure.backup import auto_backup
from wsmeasure.db import open_config
from wsmeasure.store import Store
from wsmeasure.sysinfo import CpuMeter, boot_time, database_size, health, optimize, system_info


@pytest.fixture
def box(tmp_path):
    """A data directory as the daemon leaves it: config.db, data.db (open for writing), CSV files."""
    db = open_config(tmp_path)
    store = Store(tmp_path)
    (tmp_path / "history" / "1").mkdir(parents=True)
    (tmp_path / "history" / "1" / "2024-03.csv").write_bytes(b"x" * 1000)
    (tmp_path / "history" / "database.zip").write_bytes(b"y" * 234)
    yield tmp_path, db, store
    store.close()
    db.close()


def fill(store: Store, rows: int = 2000) -> None:
    """Bulk that a retention pass later deletes (a table of its own, the store's tables untouched)."""
    c = store.conn
    c.execute("CREATE TABLE IF NOT EXISTS filler (data BLOB)")
    c.execute("BEGIN")
    c.executemany("INSERT INTO filler VALUES (?)", ((os.urandom(2000),) for _ in range(rows)))
    c.execute("COMMIT")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- the page ----------------------------------------------------------------------------------------
def test_system_info_of_a_running_box(box):
    data_dir, db, store = box
    started = time.time() - 60
    info = system_info(data_dir, started, __version__)
    assert info["version"] == __version__ and info["started"] == started
    assert info["boot"] <= started and info["boot"] == boot_time()
    assert 0.0 <= info["cpu_percent"] <= 100.0
    sizes = info["database_bytes"]
    assert sizes["history"] == 1234
    assert sizes["config"] >= (data_dir / "config.db").stat().st_size > 0
    assert sizes["data"] >= (data_dir / "data.db").stat().st_size > 0
    assert sizes["total"] == sizes["config"] + sizes["data"] + sizes["history"]
    assert 0 < info["free_bytes"] <= info["disk_bytes"]
    assert info["backup"] == {"time": None, "status": "none", "last_ok": None}
    assert info["health"] == {"freelist_pages": 0, "page_count": info["health"]["page_count"],
                              "fragmented": False, "ok": True}
    auto_backup(db, data_dir, now=started + 30)
    assert system_info(data_dir, started, __version__)["backup"] == \
        {"time": started + 30, "status": "ok", "last_ok": started + 30}


def test_symlinks_in_the_history_are_not_counted(box):
    data_dir, _, _ = box
    (data_dir / "history" / "link").symlink_to(data_dir / "config.db")
    assert database_size(data_dir)["history"] == 1234


def test_without_data_db_there_is_no_health_yet(tmp_path):
    assert health(tmp_path) is None


# -- CPU ------------------------------------------------------------------------------------------------
def write_stat(path: Path, user: int, system: int, idle: int, iowait: int) -> None:
    path.write_text(f"cpu  {user} 0 {system} {idle} {iowait} 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\nbtime 1700000000\n")


def test_cpu_percent_is_the_busy_share_since_the_previous_sample(tmp_path):
    stat = tmp_path / "stat"
    write_stat(stat, 100, 50, 800, 50)
    meter = CpuMeter(stat)
    t0 = time.monotonic()
    assert meter.sample() == 0.0                 # nothing moved in the first window
    assert time.monotonic() - t0 >= 0.2
    write_stat(stat, 160, 70, 900, 70)           # busy +80, idle and iowait +120
    assert meter.sample() == 40.0
    write_stat(stat, 260, 70, 900, 70)
    assert meter.sample() == 100.0
    assert boot_time(stat) == 1700000000


def test_the_real_cpu_is_measured_over_a_first_short_window():
    meter = CpuMeter()
    t0 = time.monotonic()
    first = meter.sample()
    assert 0.15 <= time.monotonic() - t0 < 5 and 0.0 <= first <= 100.0
    assert 0.0 <= meter.sample() <= 100.0


# -- data.db health and Optimize --------------------------------------------------------------------------
def test_health_reads_without_writing(box):
    data_dir, _, store = box
    fill(store, 200)
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = digest(data_dir / "data.db"), (data_dir / "data.db").stat().st_mtime_ns
    assert health(data_dir)["ok"] is True
    assert (digest(data_dir / "data.db"), (data_dir / "data.db").stat().st_mtime_ns) == before
    assert (data_dir / "data.db-wal").stat().st_size == 0


def test_deleted_bulk_is_fragmentation_and_optimize_gives_the_space_back(box):
    data_dir, _, store = box
    fill(store)
    store.conn.execute("DELETE FROM filler")
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    sick = health(data_dir)
    assert sick["fragmented"] is True and sick["ok"] is True
    assert sick["freelist_pages"] / sick["page_count"] > 0.2
    sizes = optimize(store.conn)
    assert sizes["after"] < sizes["before"] / 4
    assert sizes["after"] == (data_dir / "data.db").stat().st_size   # WAL truncated too
    cured = health(data_dir)
    assert cured["fragmented"] is False and cured["freelist_pages"] == 0 and cured["ok"] is True


def test_a_big_wal_is_fragmentation_too(box):
    data_dir, _, store = box
    store.conn.execute("PRAGMA wal_autocheckpoint = 0")   # a reader holding the WAL, as it were
    fill(store, 35_000)   # about 70 MiB of pages in the WAL
    assert (data_dir / "data.db-wal").stat().st_size > 64 * 2 ** 20
    sick = health(data_dir, check=False)
    assert sick["fragmented"] is True and sick["freelist_pages"] == 0 and sick["ok"] is None
    optimize(store.conn)
    assert health(data_dir)["fragmented"] is False


def test_a_damaged_data_db_is_reported(tmp_path):
    import sqlite3

    with sqlite3.connect(tmp_path / "data.db") as conn:
        conn.execute("CREATE TABLE t (x INTEGER PRIMARY KEY, y TEXT)")
        conn.execute("CREATE INDEX t_y ON t (y)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", ((i, f"row {i}" * 20) for i in range(3000)))
    conn.close()
    raw = bytearray((tmp_path / "data.db").read_bytes())
    page = 4096
    raw[5 * page:5 * page + 12] = b"\xff" * 12   # a page in the middle with its b-tree header torn
    (tmp_path / "data.db").write_bytes(bytes(raw))
    assert health(tmp_path)["ok"] is False


def test_optimize_refuses_inside_a_transaction(box):
    _, _, store = box
    store.conn.execute("BEGIN")
    with pytest.raises(RuntimeError, match="outside any transaction"):
        optimize(store.conn)
    store.conn.execute("ROLLBACK")
