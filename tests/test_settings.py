"""Settings: the manual's defaults, parsing and refusals, config.db shared between processes, the CLI."""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
from decimal import Decimal
from pathlib import Path

import pytest

from wsmeasure import configcli, control, settings
from wsmeasure.db import CONFIG_DB, open_config
from wsmeasure.settings import ConfigError

DOCS = Path(__file__).parent.parent / "docs" / "configuration.md"


@pytest.fixture
def db(tmp_path):
    db = open_config(tmp_path)
    yield db
    db.close()


def stored(data_dir: Path) -> dict:
    """The setting table as another process sees it."""
    with sqlite3.connect(data_dir / CONFIG_DB) as conn:
        return dict(conn.execute("SELECT key, value FROM setting"))


# The manual's values (7.8 Modbus settings, 7.16.4 sample rate, release notes "Status Poll Time" and
# "Frame Interval", 3 catalogue numbers), written out again so that a changed default fails here.
MANUAL_DEFAULTS = [
    ("serial.port", ""),
    ("serial.baudrate", 19200),
    ("serial.parity", "even"),
    ("serial.stopbits", 1),
    ("serial.timeout_ms", 300),
    ("serial.frame_interval_ms", 50),
    ("serial.frame_interval_sync", True),
    ("modbus_tcp.enabled", False),
    ("poll.interval_s", 10),
    ("poll.status_interval_s", 60),
    ("sample_rate_min", 10),
    ("edition", 32),
    ("time.zone", ""),
    ("csv.field_separator", "semicolon"),
    ("csv.decimal_separator", "comma"),
    ("ftp.password", ""),
    ("ftp.passive_ports", "60000-60099"),
    ("ftp.max_connections", 10),
    ("net.address", "192.168.1.100"),
    ("net.mask", "255.255.255.0"),
    ("net.gateway", "192.168.1.1"),
    ("net.dns", "192.168.1.1"),
    ("time.ntp", False),
    ("time.ntp_server", "0.europe.pool.ntp.org"),
    ("time.sync_devices", False),
    ("language.default", "en"),
    ("web.session_idle_min", 15),
    ("bill.currency", "EUR"),
    ("bill.gas_kwh_per_m3", Decimal("10.55")),
    ("recorder.slot_s", 0),
    ("virtual.paced", False),
    ("virtual.seeded", False),
]


def test_the_defaults_table_lists_every_setting():
    assert [k for k, _ in MANUAL_DEFAULTS] == [r.key for r in settings.SETTINGS]


@pytest.mark.parametrize("key, expected", MANUAL_DEFAULTS)
def test_defaults(db, key, expected):
    value = settings.get(db, key)
    assert value == expected and type(value) is type(expected)


def test_a_fresh_box_stores_no_setting(db, tmp_path):
    assert stored(tmp_path) == {}
    assert settings.all(db) == dict(MANUAL_DEFAULTS)


ACCEPTED = [
    # key                          raw           value            stored
    ("time.zone",                  "Europe/Paris", "Europe/Paris", "Europe/Paris"),
    ("csv.decimal_separator",      "point",      "point",         "point"),
    ("ftp.passive_ports",          "2000-2003",  "2000-2003",     "2000-2003"),
    ("serial.baudrate",            "1200",       1200,            "1200"),
    ("serial.baudrate",            " 115200 ",   115200,          "115200"),
    ("serial.parity",              "NONE",       "none",          "none"),
    ("serial.parity",              "odd",        "odd",           "odd"),
    ("serial.stopbits",            "2",          2,               "2"),
    ("serial.timeout_ms",          "50",         50,              "50"),
    ("serial.timeout_ms",          "5000",       5000,            "5000"),
    ("serial.frame_interval_ms",   "0",          0,               "0"),
    ("serial.frame_interval_ms",   "1000",       1000,            "1000"),
    ("serial.frame_interval_sync", "off",        False,           "off"),
    ("modbus_tcp.enabled",         "true",       True,            "on"),
    ("modbus_tcp.enabled",         "1",          True,            "on"),
    ("virtual.paced",              "On",         True,            "on"),
    ("virtual.paced",              "FALSE",      False,           "off"),
    ("virtual.paced",              "0",          False,           "off"),
    ("poll.interval_s",            "1",          1,               "1"),
    ("poll.interval_s",            "600",        600,             "600"),
    ("poll.status_interval_s",     "3",          3,               "3"),
    ("poll.status_interval_s",     "120",        120,             "120"),
    ("sample_rate_min",            "15",         15,              "15"),
    ("sample_rate_min",            "1",          1,               "1"),
    ("edition",                    "10",         10,              "10"),
    ("serial.port",                "/dev/ttyUSB0", "/dev/ttyUSB0", "/dev/ttyUSB0"),
    ("serial.port",                "",           "",              ""),
]


@pytest.mark.parametrize("key, raw, value, text", ACCEPTED)
def test_accepted_values(db, tmp_path, key, raw, value, text):
    assert settings.set(db, key, raw) == value
    assert settings.get(db, key) == value and type(settings.get(db, key)) is type(value)
    assert stored(tmp_path)[key] == text


REFUSED = [
    # key                          raw             the message names
    ("serial.baudrate",            "12345",        "1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200"),
    ("serial.baudrate",            "fast",         "allowed values: 1200"),
    ("serial.parity",              "mark",         "none, even, odd"),
    ("serial.stopbits",            "1.5",          "1, 2"),
    ("serial.timeout_ms",          "49",           "50..5000 ms"),
    ("serial.timeout_ms",          "5001",         "50..5000 ms"),
    ("serial.timeout_ms",          "3e2",          "whole number"),
    ("serial.frame_interval_ms",   "-1",           "0..1000 ms"),
    ("serial.frame_interval_ms",   "1001",         "0..1000 ms"),
    ("serial.frame_interval_sync", "maybe",        "on/off"),
    ("modbus_tcp.enabled",         "",             "on/off"),
    ("poll.interval_s",            "0",            "1..600 s"),
    ("poll.status_interval_s",     "20",           "3, 5, 10, 15, 30, 45, 60, 90, 120"),
    ("sample_rate_min",            "7",            "1, 5, 10, 15, 30, 60"),
    ("edition",                    "255",          "10, 32"),
    ("serial.port",                "ttyUSB0",      "absolute device path"),
    ("serial.port",                "/dev/tty USB0", "absolute device path"),
    ("time.zone",                  "Mars/Olympus", "time zone like Europe/Paris"),
    ("ftp.passive_ports",          "80-90",        "1024..65535"),
    ("ftp.passive_ports",          "60000",        "port range"),
    ("ftp.password",               "a b c d",      "without spaces"),
    ("ftp.password",               "abc",          "4 to 64"),
    ("recorder.slot_s",            "3601",         "0..3600 s"),
]


def test_a_comma_cannot_separate_both_fields_and_decimals(db):
    with pytest.raises(ConfigError, match="cannot both be a comma"):
        settings.set(db, "csv.field_separator", "comma")  # the decimal separator is a comma by default
    assert settings.get(db, "csv.field_separator") == "semicolon"
    settings.set(db, "csv.decimal_separator", "point")
    settings.set(db, "csv.field_separator", "comma")
    with pytest.raises(ConfigError, match="cannot both be a comma"):
        settings.set(db, "csv.decimal_separator", "comma")
    assert settings.get(db, "csv.decimal_separator") == "point"


def test_the_ftp_password_is_stored_hashed(db, tmp_path):
    from wsmeasure.secrets import verify_secret

    settings.set(db, "ftp.password", "s3cret!")
    raw = stored(tmp_path)["ftp.password"]
    assert "s3cret" not in raw and verify_secret("s3cret!", raw) and not verify_secret("wsmeasure", raw)


@pytest.mark.parametrize("key, raw, fragment", REFUSED)
def test_refused_values_name_what_is_allowed_and_change_nothing(db, tmp_path, key, raw, fragment):
    before = settings.all(db)
    with pytest.raises(ConfigError) as exc:
        settings.set(db, key, raw)
    assert exc.value.field == key
    assert fragment in exc.value.message and exc.value.message.startswith(key)
    assert settings.all(db) == before and stored(tmp_path) == {}


def test_a_refused_value_keeps_the_previous_one(db):
    settings.set(db, "serial.baudrate", "9600")
    with pytest.raises(ConfigError):
        settings.set(db, "serial.baudrate", "9601")
    assert settings.get(db, "serial.baudrate") == 9600


@pytest.mark.parametrize("call", [lambda db: settings.get(db, "serial.speed"),
                                  lambda db: settings.set(db, "serial.speed", "9600")])
def test_unknown_keys_are_refused_with_the_list_of_keys(db, call):
    with pytest.raises(ConfigError) as exc:
        call(db)
    assert '"serial.speed"' in str(exc.value) and "serial.baudrate" in str(exc.value)


def test_every_default_is_a_valid_value():
    for row in settings.SETTINGS:
        assert settings.format_value(row.parse(row.default)) == row.default, row.key


def test_a_stored_value_gone_bad_reads_as_the_default(db, tmp_path, caplog):
    with sqlite3.connect(tmp_path / CONFIG_DB) as conn:
        conn.execute("INSERT INTO setting (key, value) VALUES ('serial.baudrate', '31250')")
    assert settings.get(db, "serial.baudrate") == 19200
    assert "serial.baudrate" in caplog.text


def test_settings_survive_a_reopen(tmp_path):
    db = open_config(tmp_path)
    settings.set(db, "serial.parity", "odd")
    db.close()
    db = open_config(tmp_path)
    assert settings.get(db, "serial.parity") == "odd"
    db.close()


def test_config_db_is_wal_full_sync_with_foreign_keys_and_a_busy_timeout(db):
    pragma = lambda name: db.execute_sql(f"PRAGMA {name}").fetchone()[0]  # noqa: E731
    assert pragma("journal_mode") == "wal"
    assert pragma("synchronous") == 2   # FULL
    assert pragma("foreign_keys") == 1
    assert pragma("busy_timeout") >= 1000


def test_a_second_connection_sees_a_change(tmp_path):
    daemon, cli = open_config(tmp_path), open_config(tmp_path)
    assert settings.get(daemon, "poll.interval_s") == 10   # read before: no stale cache after
    settings.set(cli, "poll.interval_s", "30")
    assert settings.get(daemon, "poll.interval_s") == 30
    settings.set(daemon, "poll.interval_s", "20")
    assert settings.get(cli, "poll.interval_s") == 20
    daemon.close()
    cli.close()


def test_a_writer_waits_for_another_writer_instead_of_failing(db, tmp_path):
    other = sqlite3.connect(tmp_path / CONFIG_DB, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")   # another process in the middle of a write
    other.execute("INSERT INTO setting (key, value) VALUES ('serial.parity', 'odd')")
    released = threading.Event()
    outcome = {}

    def write():
        try:
            settings.set(db, "serial.baudrate", "9600")
            outcome["after_release"] = released.is_set()
        except Exception as exc:  # noqa: BLE001 -- reported by the assertion below
            outcome["error"] = exc

    writer = threading.Thread(target=write)
    writer.start()
    writer.join(0.3)
    released.set()
    other.execute("COMMIT")
    other.close()
    writer.join(10)
    assert outcome == {"after_release": True}
    assert settings.get(db, "serial.baudrate") == 9600 and settings.get(db, "serial.parity") == "odd"


# -- the CLI -------------------------------------------------------------------------------------
def cli(capsys, data_dir, *argv):
    code = configcli.main(list(argv), data_dir)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_list_shows_every_setting_and_marks_the_changed_ones(tmp_path, capsys):
    configcli.main(["set", "serial.parity", "odd"], tmp_path)
    capsys.readouterr()
    code, out, _ = cli(capsys, tmp_path, "list")
    assert code == 0
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert list(lines) == [r.key for r in settings.SETTINGS]
    assert lines["serial.parity"].split()[1:3] == ["*", "odd"]
    assert lines["serial.baudrate"].split()[1] == "19200"
    assert lines["serial.port"].split()[1] == '""'


def test_cli_get_and_set(tmp_path, capsys):
    assert cli(capsys, tmp_path, "get", "serial.baudrate") == (0, "19200\n", "")
    assert cli(capsys, tmp_path, "set", "serial.baudrate", "38400")[:2] == (0, "serial.baudrate = 38400\n")
    assert cli(capsys, tmp_path, "get", "serial.baudrate")[:2] == (0, "38400\n")
    assert cli(capsys, tmp_path, "set", "serial.frame_interval_sync", "0")[:2] == \
        (0, "serial.frame_interval_sync = off\n")
    assert cli(capsys, tmp_path, "get", "serial.port")[:2] == (0, "\n")


@pytest.mark.parametrize("argv, fragment", [
    (("set", "serial.baudrate", "12345"), "allowed values: 1200, 2400"),
    (("set", "edition", "16"), "allowed values: 10, 32"),
    (("get", "nope"), 'unknown setting "nope"'),
    (("set", "nope", "1"), 'unknown setting "nope"'),
    (("set", "serial.baudrate"), "required"),
    (("frobnicate",), "invalid choice"),
])
def test_cli_refusals_exit_2_with_a_message_and_change_nothing(tmp_path, capsys, argv, fragment):
    code, out, err = cli(capsys, tmp_path, *argv)
    assert code == 2 and out == "" and fragment in err
    if (tmp_path / CONFIG_DB).exists():
        assert stored(tmp_path) == {}


def test_cli_refuses_an_unknown_key_without_creating_a_config(tmp_path, capsys):
    assert cli(capsys, tmp_path / "new", "get", "nope")[0] == 2
    assert not (tmp_path / "new").exists()


def test_cli_set_asks_a_running_daemon_to_reload(tmp_path, capsys):
    requests = []
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(control.socket_path(tmp_path)))
    server.listen(1)
    server.settimeout(10)

    def serve_one():   # a stand-in daemon on the real control socket protocol
        try:
            conn, _ = server.accept()
        except OSError:   # nobody came: the assertion below says so
            return
        with conn:
            requests.append(json.loads(conn.makefile().readline()))
            conn.sendall(b'{"ok": true}\n')

    daemon = threading.Thread(target=serve_one, daemon=True)
    daemon.start()
    code, out, err = cli(capsys, tmp_path, "set", "poll.interval_s", "5")
    daemon.join(10)
    server.close()
    assert code == 0 and requests == [{"cmd": "reload"}] and "reload" in err


def test_cli_set_without_a_daemon_still_saves(tmp_path, capsys):
    code, _, err = cli(capsys, tmp_path, "set", "poll.interval_s", "5")
    assert code == 0 and err == ""
    assert stored(tmp_path) == {"poll.interval_s": "5"}


def test_the_wsmeasure_command_reaches_the_config_cli(tmp_path, capsys):
    from wsmeasure.cli import main

    assert main(["--data-dir", str(tmp_path), "config", "set", "serial.stopbits", "2"]) == 0
    assert main(["--data-dir", str(tmp_path), "config", "set", "serial.stopbits", "3"]) == 2
    assert stored(tmp_path) == {"serial.stopbits": "2"}


def test_the_docs_list_every_setting_with_its_default():
    text = DOCS.read_text()
    for row in settings.SETTINGS:
        line = next((ln for ln in text.splitlines() if ln.startswith(f"| `{row.key}`")), None)
        assert line is not None, f"{row.key} missing from {DOCS.name}"
        assert f"`{row.default}`" in line or (row.default == "" and '`""`' in line), row.key
