"""systemd's notify protocol as the box's unit (Type=notify, WatchdogSec=30) sees it.

The socket here is a real AF_UNIX datagram socket named by $NOTIFY_SOCKET, as systemd makes
one; the daemon is a real `wsmeasure run` process.
"""

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from wsmeasure import control, sdnotify

# 49000..56990: away from test_daemon / test_master_slave (10000..29990) and tests/web.py (30000..48990)
PORTS = ("--port-offset", str(49000 + os.getpid() % 800 * 10))


@pytest.fixture
def notify_socket(tmp_path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = tmp_path / "notify.sock"
    sock.bind(str(path))
    sock.settimeout(0.2)
    yield sock, str(path)
    sock.close()


def received(sock, until, deadline_s=30.0, proc=None):
    """Datagrams (as sets of lines, with their arrival time) until `until(messages)` holds."""
    messages = []
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:   # it died: say how, not "timed out"
            raise AssertionError(f"the daemon exited with {proc.returncode}: {proc.communicate()[0]}")
        try:
            data = sock.recv(4096)
        except socket.timeout:
            continue
        messages.append((time.monotonic(), set(data.decode().splitlines())))
        if until(messages):
            return messages
    raise AssertionError(f"not received in {deadline_s} s; got {[m for _, m in messages]}")


@contextlib.contextmanager
def daemon(argv, env):
    """The daemon (argv) with its output kept: killed if a check failed, and never a traceback."""
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        out = proc.communicate()[0]
    assert "Traceback" not in out, out


def stop(sock, proc) -> None:
    """SIGTERM, as systemd stops the unit: STOPPING=1, then a clean exit."""
    proc.send_signal(signal.SIGTERM)
    received(sock, lambda m: any("STOPPING=1" in lines for _, lines in m))
    assert proc.wait(60) == 0


def test_daemon_says_ready_pings_the_watchdog_and_says_stopping(notify_socket, tmp_path):
    sock, path = notify_socket
    data_dir = tmp_path / "data"
    env = {**os.environ, "NOTIFY_SOCKET": path, "WATCHDOG_USEC": "400000"}   # WatchdogSec=0.4
    env.pop("WATCHDOG_PID", None)
    with daemon([sys.executable, "-m", "wsmeasure", "--data-dir", str(data_dir), "run", *PORTS], env) as proc:
        messages = received(sock, lambda m: any("READY=1" in lines for _, lines in m), proc=proc)
        ready_at = next(t for t, lines in messages if "READY=1" in lines)
        # READY=1 comes once the daemon serves: its control socket answers by then
        assert control.request(data_dir, "status")["ok"]
        assert any(line.startswith("STATUS=") for line in messages[-1][1])
        # pings every WatchdogSec/2 = 0.2 s, before READY (a hung start-up is caught) and after
        assert any("WATCHDOG=1" in lines for t, lines in messages if t <= ready_at)
        pings = received(sock, lambda m: sum("WATCHDOG=1" in lines for _, lines in m) >= 10)
        times = [t for t, lines in pings if "WATCHDOG=1" in lines]
        gaps = [b - a for a, b in zip(times, times[1:])]
        assert max(gaps) < 0.4, gaps   # never as long as the watchdog timeout
        assert sum(gaps) / len(gaps) > 0.1, gaps   # and not a busy loop
        stop(sock, proc)


def test_nothing_is_sent_and_nothing_fails_without_notify_socket(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    assert sdnotify.notify("READY=1") is False
    assert sdnotify.ready() is False and sdnotify.stopping() is False
    assert sdnotify.watchdog_interval() is None


def test_watchdog_interval_is_half_of_watchdogsec_and_only_for_its_own_pid(notify_socket):
    _, path = notify_socket
    env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "30000000"}
    assert sdnotify.watchdog_interval(env) == 15.0
    assert sdnotify.watchdog_interval({**env, "WATCHDOG_PID": str(os.getpid())}) == 15.0
    assert sdnotify.watchdog_interval({**env, "WATCHDOG_PID": str(os.getpid() + 1)}) is None
    assert sdnotify.watchdog_interval({**env, "WATCHDOG_USEC": "0"}) is None
    assert sdnotify.watchdog_interval({**env, "WATCHDOG_USEC": "x"}) is None
    assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "30000000"}) is None   # no socket: no pings


def test_abstract_socket_and_a_vanished_listener(tmp_path):
    name = f"wsmeasure-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        assert sdnotify.notify("READY=1", "STATUS=up", env={"NOTIFY_SOCKET": "@" + name})
        assert sock.recv(100) == b"READY=1\nSTATUS=up"
    # systemd gone (the socket file stays, nobody reads it): False, no exception
    assert sdnotify.notify("WATCHDOG=1", env={"NOTIFY_SOCKET": str(tmp_path / "none.sock")}) is False
    assert sdnotify.notify("WATCHDOG=1", env={"NOTIFY_SOCKET": "relative"}) is False


def test_a_stuck_event_loop_stops_the_pings(notify_socket, monkeypatch):
    """The point of pinging from the loop: while it hangs, systemd hears nothing."""
    sock, path = notify_socket
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    monkeypatch.setenv("WATCHDOG_USEC", "100000")   # a ping every 0.05 s
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    times, done = [], threading.Event()

    def listen():   # systemd's side, timing each ping as it arrives
        while not done.is_set():
            try:
                sock.recv(100)
            except socket.timeout:
                continue
            times.append(time.monotonic())

    async def main():
        task = sdnotify.start_watchdog()
        await asyncio.sleep(0.3)
        time.sleep(0.6)   # the loop is stuck (a blocking call in a coroutine)
        await asyncio.sleep(0.3)
        task.cancel()

    listener = threading.Thread(target=listen)
    listener.start()
    try:
        asyncio.run(main())
        time.sleep(0.1)
    finally:
        done.set()
        listener.join()
    gaps = sorted(b - a for a, b in zip(times, times[1:]))
    assert len(times) >= 8, times
    assert gaps[-1] >= 0.55, gaps           # the hang: silence
    assert gaps[-2] < 0.2, gaps             # otherwise a ping every 0.05 s


# -- the daemon under wsmeasure.service's seccomp rules ---------------------------------------------
SANDBOX = r'''
"""Exec a command under the seccomp rules systemd loads for wsmeasure.service's SystemCallFilter=,
MemoryDenyWriteExecute=yes and RestrictAddressFamilies= (same system calls, same argument tests)."""
import errno, json, os, socket, subprocess, sys
import seccomp

unit = json.loads(sys.argv[1])
def group(name):
    if not name.startswith("@"):
        return {name}
    out = subprocess.run(["systemd-analyze", "syscall-filter", name], capture_output=True, text=True, check=True).stdout
    calls = set()
    for line in out.splitlines()[1:]:
        word = line.strip()
        if word and not word.startswith("#"):
            calls |= group(word)
    return calls
allowed = set()
for value in unit["SystemCallFilter"]:
    deny = value.startswith("~")
    names = set().union(*(group(w) for w in value.lstrip("~").split()))
    allowed = allowed - names if deny else allowed | names
calls = seccomp.SyscallFilter(defaction=seccomp.ERRNO(errno.EPERM))
for call in sorted(allowed):
    try:
        calls.add_rule(seccomp.ALLOW, call)
    except (RuntimeError, ValueError, OSError):   # not a system call of this architecture
        pass
rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
eperm = seccomp.ERRNO(errno.EPERM)
if unit["MemoryDenyWriteExecute"] == ["yes"]:
    WX = 0x2 | 0x4
    rules.add_rule(eperm, "mmap", seccomp.Arg(2, seccomp.MASKED_EQ, WX, WX))
    for name in ("mprotect", "pkey_mprotect"):
        rules.add_rule(eperm, name, seccomp.Arg(2, seccomp.MASKED_EQ, 0x4, 0x4))
    rules.add_rule(eperm, "shmat", seccomp.Arg(2, seccomp.MASKED_EQ, 0o100000, 0o100000))
families = {getattr(socket, name) for name in unit["RestrictAddressFamilies"][0].split()}
for family in range(46):
    if family not in families:
        rules.add_rule(seccomp.ERRNO(errno.EAFNOSUPPORT), "socket", seccomp.Arg(0, seccomp.EQ, family))
rules.load()
calls.load()
os.execvp(sys.argv[2], sys.argv[2:])
'''
SYSTEM_PYTHON = "/usr/bin/python3"   # Debian's, with python3-seccomp (libseccomp's bindings)


def sandboxed(tmp_path, *argv):
    """argv as wsmeasure.service's seccomp rules would run it."""
    import json
    import shutil
    from pathlib import Path

    assert shutil.which("systemd-analyze"), "systemd-analyze is missing (tests/run.sh installs systemd)"
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import seccomp"], capture_output=True)
    assert probe.returncode == 0, "python3-seccomp is missing (tests/run.sh installs it)"
    keys = {}
    for line in (Path(__file__).parent.parent / "systemd/wsmeasure.service").read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and key in ("SystemCallFilter", "MemoryDenyWriteExecute", "RestrictAddressFamilies"):
            keys.setdefault(key, []).append(value.strip())
    assert keys["MemoryDenyWriteExecute"] == ["yes"] and keys["SystemCallFilter"][0] == "@system-service"
    script = tmp_path / "sandbox.py"
    script.write_text(SANDBOX)
    return [SYSTEM_PYTHON, str(script), json.dumps(keys), *argv]


def test_the_daemon_serves_under_the_units_seccomp_rules(notify_socket, tmp_path):
    """MemoryDenyWriteExecute=yes, the system call filter and the address families of the unit:
    the daemon starts, serves and stops under them (what systemd 252 loads for these options)."""
    sock, path = notify_socket
    refused = subprocess.run(sandboxed(tmp_path, sys.executable, "-c", """if 1:
        import mmap, os, socket
        for attempt in (lambda: mmap.mmap(-1, 4096, prot=7), lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW),
                        lambda: os.setuid(0)):
            try:
                attempt()
                print("allowed")
            except OSError as exc:
                print("refused", exc.errno)
        """), capture_output=True, text=True, timeout=60)
    assert refused.stdout.split("\n")[:3] == ["refused 1", "refused 97", "refused 1"], refused.stdout + refused.stderr
    data_dir = tmp_path / "data"
    env = {**os.environ, "NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000"}
    argv = sandboxed(tmp_path, sys.executable, "-m", "wsmeasure", "--data-dir", str(data_dir), "run",
                     "--port-offset", str(int(PORTS[1]) + 1))
    with daemon(argv, env) as proc:
        received(sock, lambda m: any("READY=1" in lines for _, lines in m), deadline_s=60)
        status = control.request(data_dir, "status")
        assert status["ok"] and status["rs485"]["virtual"] and status["ftp"]
        stop(sock, proc)
