"""Date and time of the box (manual 7.9): time zone, NTP ("Automatic time settings"), manual clock.

The settings (time.zone, time.ntp, time.ntp_server) are stored like any other; this module
applies them on the appliance through systemd: `timedatectl` for the zone, the NTP switch and
the clock (timedated also writes the real-time clock), a drop-in of systemd-timesyncd for the
server. On a developer machine nothing here touches the PC: the daemon does not call
`apply_time`, and `set_clock` refuses.

OS commands go through `run` (subprocess.run by default) so that tests record them.
"""

from __future__ import annotations

import re
import subprocess
from datetime import datetime
from pathlib import Path

from . import settings
from .messages import Msg
from .network import run_command, write_atomic
from .settings import ConfigError
from .store_time import zone as load_zone

TIMESYNCD_FILE = Path("etc/systemd/timesyncd.conf.d/wsmeasure.conf")   # under `root`
YEARS = range(2000, 2100)
_LOCAL = re.compile(r"(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?\Z")


def timesyncd_conf(server: str) -> str:
    return ("# Written by wsmeasure from its date and time settings (manual 7.9).\n"
            f"[Time]\nNTP={server}\n")


def apply_time(db, root: Path = Path("/"), run=subprocess.run) -> list[list[str]]:
    """Appliance only: the stored zone, NTP server and NTP switch made the system's.

    Returns the commands run. A failing command raises network.ApplyError."""
    done = []

    def command(*argv: str) -> None:
        run_command(run, *argv)
        done.append(list(argv))

    zone = settings.get(db, "time.zone")
    if zone:   # "" = keep the system's zone
        command("timedatectl", "set-timezone", zone)
    ntp = settings.get(db, "time.ntp")
    changed = write_atomic(Path(root) / TIMESYNCD_FILE, timesyncd_conf(settings.get(db, "time.ntp_server")))
    command("timedatectl", "set-ntp", "true" if ntp else "false")
    if ntp and changed:   # set-ntp leaves a running timesyncd alone: it reads a new server on restart
        command("systemctl", "try-restart", "systemd-timesyncd.service")
    return done


def parse_local_datetime(raw: str) -> datetime:
    """A date and time typed in the page: "YYYY-MM-DD HH:MM" or the HTML datetime-local form
    "YYYY-MM-DDTHH:MM" (seconds optional), years 2000..2099; naive, in the box's time zone."""
    text = str(raw if raw is not None else "").strip()
    match = _LOCAL.match(text)
    allowed = Msg("a date and time like 2024-03-06 10:07 (YYYY-MM-DD HH:MM), years 2000 to 2099")
    if not match:
        raise ConfigError("datetime", '"{raw}" is not {allowed}', raw=raw, allowed=allowed)
    try:
        when = datetime(*(int(part) for part in match.groups(default="0")))
    except ValueError as exc:   # 2024-02-30, 25:00...
        raise ConfigError("datetime", '"{raw}" is not a real date and time ({error}); allowed: {allowed}',
                          raw=raw, error=str(exc), allowed=allowed) from None
    if when.year not in YEARS:
        raise ConfigError("datetime", '"{raw}": the year must be from 2000 to 2099', raw=raw)
    return when


def set_clock(db, when: datetime, appliance: bool, run=subprocess.run) -> None:
    """Set the system clock (and the real-time clock) to `when`, wall time of the box's zone
    (a naive datetime; an aware one is converted to time.zone, "" = the system's)."""
    if not appliance:
        raise ConfigError("datetime", "the clock of a developer machine is not set by wsmeasure; "
                                      "set it with the system's own tools (or leave it to its NTP)")
    if settings.get(db, "time.ntp"):
        raise ConfigError("datetime", "the clock is set automatically from the NTP server: "
                                      "switch automatic time off first")
    if when.tzinfo is not None:
        when = when.astimezone(load_zone(settings.get(db, "time.zone"))).replace(tzinfo=None)
    if when.year not in YEARS:
        raise ConfigError("datetime", "{when}: the year must be from 2000 to 2099", when=f"{when:%Y-%m-%d %H:%M}")
    run_command(run, "timedatectl", "set-time", when.strftime("%Y-%m-%d %H:%M:%S"))
