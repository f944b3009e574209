"""A full disk: a clear error in the log, nothing lost, and recording resumes when space returns."""

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from test_crash import energy_rows
from test_daemon import PORTS, cli, wait_for

from wsmeasure import control


@pytest.fixture
def small_disk(tmp_path):
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mnt)], capture_output=True).returncode:
        pytest.skip("mounting a tmpfs needs root")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(path):
    """Take every free byte of the file system."""
    with open(path, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass


@pytest.mark.slow
def test_full_disk_is_reported_and_recording_resumes(small_disk):
    data = small_disk / "data"
    cli(data, "config", "set", "recorder.slot_s", "1")
    cli(data, "config", "set", "poll.interval_s", "1")
    log = open(small_disk.parent / "daemon.log", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "wsmeasure", "--data-dir", str(data), "run", *PORTS],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: proc.poll() is not None or control.notify(data, "status"))
        wait_for(lambda: len(energy_rows(data)) > 20)
        filler = small_disk / "filler"
        fill(filler)
        status = wait_for(lambda: (s := control.request(data, "status"))["recorder"]["error"] and s)
        assert "full" in status["recorder"]["error"]
        wait_for(lambda: control.request(data, "status")["recorder"]["pending"] >= 20)  # kept in memory
        os.unlink(filler)
        wait_for(lambda: control.request(data, "status")["recorder"]["pending"] == 0, timeout=30)
        assert control.request(data, "status")["recorder"]["error"] is None
        rows = energy_rows(data)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    log.seek(0)
    text = log.read()
    assert "cannot write the measurements to data.db" in text and "writable again" in text
    assert text.count("cannot write the measurements") == 1  # said once, not every second
    # nothing lost while the disk was full: every counter still chains slot after slot
    series = {}
    for (ts, dev, q), (delta, idx) in sorted(rows.items()):
        series.setdefault((dev, q), []).append((delta, idx))
    for steps in series.values():
        for (_, before), (delta, idx) in zip(steps, steps[1:]):
            assert delta == idx - before
    con = sqlite3.connect(data / "data.db")
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
