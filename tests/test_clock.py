"""Date and time (manual 7.9): the settings, the commands the appliance runs (recorded, not run),
the manual date/time input, and the refusals (NTP on, developer machine)."""

from __future__ import annotations

import configparser
import subprocess
from datetime import datetime, timezone

import pytest

from wsmeasure import settings
from wsmeasure.clock import TIMESYNCD_FILE, apply_time, parse_local_datetime, set_clock
from wsmeasure.db import open_config
from wsmeasure.network import ApplyError
from wsmeasure.settings import ConfigError


@pytest.fixture
def db(tmp_path):
    db = open_config(tmp_path / "data")
    yield db
    db.close()


class Recorder:
    """Stands in for subprocess.run: records the commands the appliance would run."""

    def __init__(self):
        self.commands = []

    def __call__(self, argv, **kwargs):
        assert kwargs.get("check") is True
        self.commands.append(argv)
        return subprocess.CompletedProcess(argv, 0, "", "")


def ntp_server(root) -> str:
    parser = configparser.ConfigParser()
    parser.read_string((root / TIMESYNCD_FILE).read_text())
    return parser["Time"]["NTP"]


# -- settings -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("key, raw, value", [
    ("time.ntp", "on", True),
    ("time.ntp_server", "Time.Example.ORG.", "time.example.org"),
    ("time.ntp_server", "10.0.0.2", "10.0.0.2"),
    ("time.ntp_server", "ntp-1.intranet", "ntp-1.intranet"),
    ("time.sync_devices", "on", True),
])
def test_time_settings_accepted(db, key, raw, value):
    assert settings.set(db, key, raw) == value and settings.get(db, key) == value


@pytest.mark.parametrize("raw", ["", "ntp_server.local", "-ntp.org", "ntp..org", "a" * 64 + ".org",
                                 "x." * 127 + "org", "300.1.1.1", "ntp.org:123", "ntp server"])
def test_a_bad_ntp_server_is_refused_saying_what_is_allowed(db, raw):
    with pytest.raises(ConfigError) as exc:
        settings.set(db, "time.ntp_server", raw)
    assert "host name" in exc.value.message or "IPv4" in exc.value.message
    assert settings.get(db, "time.ntp_server") == "0.europe.pool.ntp.org"


# -- applying them on the appliance --------------------------------------------------------------------
def test_factory_settings_keep_the_system_zone_and_ntp_off(db, tmp_path):
    run = Recorder()
    assert apply_time(db, tmp_path, run) == [["timedatectl", "set-ntp", "false"]]
    assert run.commands == [["timedatectl", "set-ntp", "false"]]
    assert ntp_server(tmp_path) == "0.europe.pool.ntp.org"   # ready for the day NTP is switched on


def test_zone_and_ntp_applied_and_timesyncd_restarted_only_for_a_new_server(db, tmp_path):
    settings.set(db, "time.zone", "Europe/Paris")
    settings.set(db, "time.ntp", "on")
    settings.set(db, "time.ntp_server", "192.168.1.2")
    run = Recorder()
    apply_time(db, tmp_path, run)
    assert run.commands == [["timedatectl", "set-timezone", "Europe/Paris"], ["timedatectl", "set-ntp", "true"],
                            ["systemctl", "try-restart", "systemd-timesyncd.service"]]
    assert ntp_server(tmp_path) == "192.168.1.2"
    run.commands.clear()
    apply_time(db, tmp_path, run)   # nothing new for timesyncd: no restart
    assert run.commands == [["timedatectl", "set-timezone", "Europe/Paris"], ["timedatectl", "set-ntp", "true"]]
    assert [p.name for p in (tmp_path / TIMESYNCD_FILE).parent.iterdir()] == ["wsmeasure.conf"]


def test_a_failing_command_says_which_and_why(db, tmp_path):
    settings.set(db, "time.zone", "Europe/Rome")

    def run(argv, **kwargs):   # a real process failing as timedatectl does without its daemon
        return subprocess.run(["sh", "-c", "echo 'Failed to connect to bus' >&2; exit 1"], **kwargs)

    with pytest.raises(ApplyError, match="timedatectl set-timezone Europe/Rome: Failed to connect to bus"):
        apply_time(db, tmp_path, run)


# -- the manual date and time ------------------------------------------------------------------------
@pytest.mark.parametrize("raw, expected", [
    ("2024-03-06 10:07", datetime(2024, 3, 6, 10, 7)),
    ("2024-03-06T10:07", datetime(2024, 3, 6, 10, 7)),      # HTML datetime-local
    (" 2024-03-06T10:07:30 ", datetime(2024, 3, 6, 10, 7, 30)),
    ("2000-01-01 00:00", datetime(2000, 1, 1)),
    ("2099-12-31 23:59", datetime(2099, 12, 31, 23, 59)),
    ("2024-02-29 12:00", datetime(2024, 2, 29, 12)),
])
def test_dates_accepted(raw, expected):
    assert parse_local_datetime(raw) == expected


@pytest.mark.parametrize("raw, fragment", [
    ("", "YYYY-MM-DD HH:MM"),
    ("06/03/2014 10:07", "YYYY-MM-DD HH:MM"),
    ("2024-3-6 10:07", "YYYY-MM-DD HH:MM"),
    ("2024-03-06", "YYYY-MM-DD HH:MM"),
    ("2024-03-06 10:07 PM", "YYYY-MM-DD HH:MM"),
    ("2023-02-29 12:00", "not a real date"),
    ("2024-03-06 24:00", "not a real date"),
    ("1999-12-31 23:59", "2000 to 2099"),
    ("2100-01-01 00:00", "2000 to 2099"),
    (None, "YYYY-MM-DD HH:MM"),
])
def test_dates_refused(raw, fragment):
    with pytest.raises(ConfigError) as exc:
        parse_local_datetime(raw)
    assert exc.value.field == "datetime" and fragment in exc.value.message


def test_the_appliance_sets_its_clock(db):
    run = Recorder()
    set_clock(db, parse_local_datetime("2024-03-06T10:07"), appliance=True, run=run)
    assert run.commands == [["timedatectl", "set-time", "2024-03-06 10:07:00"]]


def test_an_aware_time_is_set_as_the_wall_time_of_the_box(db):
    settings.set(db, "time.zone", "Europe/Paris")
    run = Recorder()
    set_clock(db, datetime(2024, 7, 1, 8, 0, tzinfo=timezone.utc), appliance=True, run=run)
    assert run.commands == [["timedatectl", "set-time", "2024-07-01 10:00:00"]]   # CEST


def test_no_manual_clock_while_ntp_sets_it(db):
    settings.set(db, "time.ntp", "on")
    run = Recorder()
    with pytest.raises(ConfigError) as exc:
        set_clock(db, datetime(2024, 3, 6, 10, 7), appliance=True, run=run)
    assert exc.value.field == "datetime" and "switch automatic time off first" in exc.value.message
    assert run.commands == []


def test_a_developer_machine_clock_is_never_set(db):
    run = Recorder()
    with pytest.raises(ConfigError) as exc:
        set_clock(db, datetime(2024, 3, 6, 10, 7), appliance=False, run=run)
    assert exc.value.field == "datetime"
    assert exc.value.message.startswith("the clock of a developer machine is not set by wsmeasure")
    assert run.commands == []
