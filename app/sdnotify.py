"""systemd's notification protocol, the part the box's unit uses (Type=notify, WatchdogSec=).

- `ready()` once the daemon serves: systemd then counts the unit as started (and units ordered
  after it start);
- `watchdog_loop()` runs in the daemon's asyncio loop and sends WATCHDOG=1 every half of the
  unit's WatchdogSec (systemd passes it as $WATCHDOG_USEC): a loop that hangs stops the pings,
  and systemd kills and restarts the daemon (Restart=on-failure);
- `stopping()` when a stop begins, so `systemctl status` says so while the threads wind down.

Everything is a no-op without $NOTIFY_SOCKET (a developer machine, the tests): the daemon never
needs to know whether systemd runs it. The protocol is one datagram of "KEY=VALUE" lines on the
AF_UNIX socket named by $NOTIFY_SOCKET ("@name" is an abstract socket); no libsystemd needed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket

log = logging.getLogger(__name__)


def _address(env=None) -> str | None:
    path = (os.environ if env is None else env).get("NOTIFY_SOCKET", "")
    if not path or path[0] not in "/@":
        return None
    return "\0" + path[1:] if path[0] == "@" else path


def notify(*states: str, env=None) -> bool:
    """Send the states ("READY=1", "STATUS=...") in one datagram; False if nobody listens."""
    address = _address(env)
    if address is None:
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.sendto("\n".join(states).encode(), address)
    except OSError as exc:   # systemd gone or the socket not ours: the daemon carries on
        log.debug("sd_notify %s to %s: %s", states, address, exc)
        return False
    return True


def watchdog_interval(env=None) -> float | None:
    """Seconds between two WATCHDOG=1: half the unit's WatchdogSec; None if it has none or if
    the watchdog is meant for another process ($WATCHDOG_PID)."""
    env = os.environ if env is None else env
    if _address(env) is None:
        return None
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    pid = env.get("WATCHDOG_PID", "")
    if usec <= 0 or (pid and pid != str(os.getpid())):
        return None
    return usec / 2 / 1e6


def ready(status: str = "") -> bool:
    return notify("READY=1", *([f"STATUS={status}"] if status else []))


def stopping(status: str = "stopping") -> bool:
    return notify("STOPPING=1", f"STATUS={status}")


async def watchdog_loop(interval: float) -> None:
    """WATCHDOG=1 every `interval` seconds, from the event loop itself: if the loop is stuck,
    no ping goes out. Cancelled at stop."""
    while True:
        notify("WATCHDOG=1")
        await asyncio.sleep(interval)


def start_watchdog() -> asyncio.Task | None:
    """The ping task on the running loop, or None when systemd asked for no watchdog."""
    interval = watchdog_interval()
    if interval is None:
        return None
    log.info("systemd watchdog: a ping every %.1f s", interval)
    return asyncio.get_running_loop().create_task(watchdog_loop(interval), name="sd-watchdog")
