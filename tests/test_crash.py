"""SIGKILL at random moments while recording: nothing committed is lost, changed or doubled.

Slots of one second (`recorder.slot_s`, a developer setting) so that many slots are written
between kills; the virtual meters keep counting while the daemon is dead, like real ones.
"""

import csv
import io
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_daemon import PORTS, cli, wait_for

from wsmeasure import control

KILLS = 12


def start(data_dir: Path) -> subprocess.Popen:
    """A daemon that answers on its control socket (the killed one left a stale socket file)."""
    proc = subprocess.Popen([sys.executable, "-m", "wsmeasure", "--data-dir", str(data_dir), "run", *PORTS],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: proc.poll() is not None or control.notify(data_dir, "status"))
    assert proc.poll() is None
    return proc


def energy_rows(data_dir: Path) -> dict:
    con = sqlite3.connect(data_dir / "data.db")
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = con.execute("SELECT e.ts, e.device, q.name, e.delta, e.idx FROM energy_slot e"
                           " JOIN quantity q ON q.id = e.qty").fetchall()
    finally:
        con.close()
    out = {(ts, dev, q): (delta, idx) for ts, dev, q, delta, idx in rows}
    assert len(out) == len(rows)  # no slot stored twice
    return out


def check_csv_files(root: Path) -> int:
    files = 0
    for path in root.rglob("*.csv"):
        raw = path.read_bytes()
        assert raw.endswith(b"\r\n"), f"{path} ends with a torn line"
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
        assert len({len(r) for r in rows}) == 1, f"{path}: rows of different widths"
        files += 1
    return files


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_and_doubles_nothing(tmp_path):
    cli(tmp_path, "config", "set", "recorder.slot_s", "1")
    cli(tmp_path, "config", "set", "poll.interval_s", "1")
    rng = random.Random(2026)
    seen: dict = {}
    for _ in range(KILLS):
        proc = start(tmp_path)
        time.sleep(rng.uniform(1.0, 4.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        rows = energy_rows(tmp_path)
        lost = {k for k in seen if k not in rows}
        changed = {k for k in seen if k in rows and rows[k] != seen[k]}
        assert not lost and not changed
        seen = rows
        check_csv_files(tmp_path / "history")
    assert len(seen) > 10 * KILLS
    # every counter chains: each slot's consumption is exactly the index step since the previous
    # slot, across every kill and restart (a gap goes, whole, to the slot after it)
    by_series: dict = {}
    for (ts, dev, q), (delta, idx) in sorted(seen.items()):
        by_series.setdefault((dev, q), []).append((ts, delta, idx))
    for series, rows in by_series.items():
        for (_, _, before), (ts, delta, idx) in zip(rows, rows[1:]):
            assert delta == idx - before, (series, ts)
    # the daemon starts again after the last kill and the CSV files catch up with data.db
    proc = start(tmp_path)
    try:
        wait_for(lambda: control.request(tmp_path, "status")["recorder"]["pending"] == 0)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    assert check_csv_files(tmp_path / "history") > 10
