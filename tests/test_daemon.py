"""`wsmeasure run` end to end: a real daemon process, its virtual installation, the CLI beside it."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from wsmeasure import control

# Ports of this test run's daemons, away from a developer's own daemon and from parallel runs.
PORTS = ("--port-offset", str(10000 + os.getpid() % 2000 * 10))


def cli(data_dir, *args, check=True):
    proc = subprocess.run([sys.executable, "-m", "wsmeasure", "--data-dir", str(data_dir), *args],
                          capture_output=True, text=True, timeout=60)
    if check and proc.returncode:
        raise AssertionError(f"wsmeasure {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def wait_for(predicate, timeout=20.0, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(step)
    raise AssertionError("condition not reached in time")


def devices(data_dir):
    status = control.request(data_dir, "status")
    return {d["id"]: d for gw in status["gateways"] for d in gw["devices"]}


@pytest.fixture
def daemon(tmp_path):
    cli(tmp_path, "config", "set", "poll.interval_s", "1")
    proc = subprocess.Popen([sys.executable, "-m", "wsmeasure", "--data-dir", str(tmp_path), "run", *PORTS],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: control.socket_path(tmp_path).exists() or proc.poll() is not None)
        assert proc.poll() is None, proc.stdout.read()
        yield proc, tmp_path
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def all_on(data_dir):
    devs = devices(data_dir)
    return devs if devs and all(d["status"] == "on" and d["values"] for d in devs.values()) else None


def test_newcomer_sees_live_values_of_the_demo_installation(daemon):
    proc, data_dir = daemon
    devs = wait_for(lambda: all_on(data_dir))
    families = {d["family"] for d in devs.values()}
    assert {"emdx3_meter", "emdx3_counter", "pulse_water", "pulse_gas", "generic"} <= families
    assert all(isinstance(v, int) for d in devs.values() for k, v in d["values"].items()
               if k in ("Ea+", "water", "gas"))
    out = cli(data_dir, "status").stdout
    assert "virtual installation" in out and "Main incomer" in out and "[ON   ]" in out
    status = json.loads(cli(data_dir, "status", "--json").stdout)
    assert status["rs485"]["virtual"] and status["rs485"]["frame_interval_ms"] == 50


def test_settings_change_while_running_and_the_test_button(daemon):
    proc, data_dir = daemon
    wait_for(lambda: all_on(data_dir))
    cli(data_dir, "config", "set", "serial.baudrate", "9600")
    wait_for(lambda: "9600" in control.request(data_dir, "status")["rs485"]["settings"])
    wait_for(lambda: all_on(data_dir))  # the port was reopened at the new speed, devices answer
    ok = cli(data_dir, "test", "device", "1")
    assert ok.stdout.startswith("OK: the device answered") and "Ea+" in ok.stdout
    missing = cli(data_dir, "test", "device", "999", check=False)
    assert missing.returncode == 1 and "no device with ID 999" in missing.stdout


def test_a_silent_device_shows_communication_error_and_recovers(daemon):
    proc, data_dir = daemon
    wait_for(lambda: all_on(data_dir))
    assert control.request(data_dir, "fault", id=2, fault="silent")["ok"]
    devs = wait_for(lambda: (d := devices(data_dir)) and d[2]["status"] == "error" and d)
    assert all(d["status"] == "on" for i, d in devs.items() if i != 2)
    failed = cli(data_dir, "test", "device", "2", check=False)
    assert failed.returncode == 1 and "no valid answer from address 2" in failed.stdout
    control.request(data_dir, "fault", id=2, fault=None)
    wait_for(lambda: devices(data_dir)[2]["status"] == "on")


def test_one_daemon_per_data_dir_and_clean_shutdown(daemon):
    proc, data_dir = daemon
    second = subprocess.run([sys.executable, "-m", "wsmeasure", "--data-dir", str(data_dir), "run", *PORTS],
                            capture_output=True, text=True, timeout=30)
    assert second.returncode == 1 and "another wsmeasure daemon" in second.stderr
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    assert not control.socket_path(data_dir).exists()
    gone = cli(data_dir, "status", check=False)
    assert gone.returncode == 3 and "no daemon is running" in gone.stderr


def test_ftp_share_answers_and_takes_a_new_password_without_restart(daemon):
    import ftplib

    proc, data_dir = daemon
    status = wait_for(lambda: control.request(data_dir, "status").get("ftp") and control.request(data_dir, "status"))
    host, port = status["ftp"].split(":")
    with ftplib.FTP() as ftp:
        ftp.connect(host, int(port), timeout=10)
        ftp.login("wsmeasure", "wsmeasure")
        ftp.nlst()
    cli(data_dir, "config", "set", "ftp.password", "n3w-pass")
    with ftplib.FTP() as ftp:
        ftp.connect(host, int(port), timeout=10)
        with pytest.raises(ftplib.error_perm):
            ftp.login("wsmeasure", "wsmeasure")
    with ftplib.FTP() as ftp:
        ftp.connect(host, int(port), timeout=10)
        ftp.login("wsmeasure", "n3w-pass")


def test_modbus_tcp_server_switches_on_live_and_forwards_to_the_bus(daemon):
    import asyncio

    from pymodbus.client import AsyncModbusTcpClient

    proc, data_dir = daemon
    wait_for(lambda: all_on(data_dir))
    assert control.request(data_dir, "status")["modbus_tcp"] is None  # OFF by default (7.8)
    cli(data_dir, "config", "set", "modbus_tcp.enabled", "on")
    host, port = wait_for(lambda: control.request(data_dir, "status")["modbus_tcp"]).split(":")

    async def read():
        client = AsyncModbusTcpClient(host, port=int(port), timeout=3, retries=0)
        await client.connect()
        try:
            volts = await client.read_holding_registers(0xC558, count=2, device_id=1)   # meter V1
            absent = await client.read_holding_registers(0xC558, count=2, device_id=99)
            slave = await client.read_holding_registers(29999, count=4, device_id=247)  # all loads, Wh
            return volts, absent, slave
        finally:
            client.close()

    volts, absent, slave = asyncio.run(read())
    assert 22000 < (volts.registers[0] << 16 | volts.registers[1]) < 24000   # 0.01 V
    assert absent.isError() and absent.exception_code == 0x0B
    assert not slave.isError() and len(slave.registers) == 4
    cli(data_dir, "config", "set", "modbus_tcp.enabled", "off")
    wait_for(lambda: control.request(data_dir, "status")["modbus_tcp"] is None)
