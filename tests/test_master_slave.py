"""Two daemons on loopback: a master reads a slave box's energies (unit 247) and, through the
slave's Modbus TCP gateway, a meter on the slave's RS485 bus."""

import os
import signal
import subprocess
import sys

import pytest
from test_daemon import cli, wait_for

from wsmeasure import control
from wsmeasure.daemon import DEV_PORTS
from wsmeasure.db import open_config
from wsmeasure.installation import add_device, add_gateway

BASE = 20000 + os.getpid() % 1000 * 10


def start(data_dir, offset):
    proc = subprocess.Popen([sys.executable, "-m", "wsmeasure", "--data-dir", str(data_dir), "run",
                             "--port-offset", str(offset)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: proc.poll() is not None or control.notify(data_dir, "status"), timeout=60)
    assert proc.poll() is None
    return proc


def device(data_dir, ident):
    status = control.request(data_dir, "status")
    return next(d for g in status["gateways"] for d in g["devices"] if d["id"] == ident), status


@pytest.mark.slow
def test_a_master_reads_a_slave_box(tmp_path):
    slave_dir, master_dir = tmp_path / "slave", tmp_path / "master"
    for d in (slave_dir, master_dir):
        cli(d, "config", "set", "recorder.slot_s", "1")
        cli(d, "config", "set", "poll.interval_s", "1")
    cli(slave_dir, "config", "set", "modbus_tcp.enabled", "on")
    slave_port = DEV_PORTS["modbus_tcp"] + BASE
    db = open_config(master_dir)
    box = add_gateway(db, "127.0.0.1", name="Slave box", kind="virtual", port=slave_port)
    total = add_device(db, box.id, "wsmeasure_virtual", "WSMEASURE", name="Slave: all loads", remote_id=29999)
    meter = add_device(db, box.id, "wsmeasure_virtual", "WSMEASURE", name="Slave: device 1", remote_id=10001)
    gw = add_gateway(db, "127.0.0.1", name="Slave's RS485", kind="ip", port=slave_port)
    remote = add_device(db, gw.id, "emdx3_meter", "0 146 69", 1, name="Main incomer, remote")
    add_device(db, gw.id, "greenup", "0 590 02", 30, name="Charging station")  # behind the slave's gateway
    db.close()

    slave = start(slave_dir, BASE)
    master = start(master_dir, BASE + 1)
    try:
        # energies recorded by the slave reach the master as 64-bit Wh counters
        d, status = wait_for(lambda: (r := device(master_dir, total.id))[0]["values"].get("Ea+") and r, timeout=60)
        assert d["status"] == "on" and d["values"]["Ea+"] > 0
        assert device(master_dir, meter.id)[0]["status"] == "on"
        # the slave's own meter, polled by the master through the slave's gateway
        r, _ = wait_for(lambda: (r := device(master_dir, remote.id))[0]["values"].get("V1") and r, timeout=60)
        assert 220 < r["values"]["V1"] < 240 and r["status"] == "on"
        # sync frame interval (ON by default): a gateway with a Green'Up station keeps 200 ms
        wait_for(lambda: control.request(slave_dir, "status")["rs485"]["frame_interval_ms"] == 200, timeout=60)
        assert cli(slave_dir, "config", "get", "serial.frame_interval_ms").stdout.strip() == "200"
        gws = {g["name"]: g for g in status["gateways"]}
        assert gws["Slave box"]["status"] == "on"
        test = cli(master_dir, "test", "gateway", str(gw.id), check=False)
        assert "1 of 2 addresses answer" in test.stdout  # the meter; no station on the slave's bus
        # the slave stops answering Modbus TCP: the master says so
        cli(slave_dir, "config", "set", "modbus_tcp.enabled", "off")
        wait_for(lambda: device(master_dir, remote.id)[0]["status"] == "error", timeout=60)
        failed = cli(master_dir, "test", "gateway", str(gw.id), check=False)
        assert failed.returncode == 1 and "127.0.0.1" in failed.stdout
    finally:
        for proc in (master, slave):
            proc.send_signal(signal.SIGTERM)
        for proc in (master, slave):
            assert proc.wait(timeout=20) == 0
