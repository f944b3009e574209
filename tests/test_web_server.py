"""The "Web Server configuration" pages (manual 7.7 to 7.11, 8.4.1, 8.8, 9): network, Modbus,
date and time, CSV and other settings, system information, backup/restore, software update."""

from __future__ import annotations

import ftplib
import re
import zipfile
from html import unescape

import pytest
from web import box, client, csrf_of  # noqa: F401

from wsmeasure import clock, installation, network, settings
from wsmeasure.ftp import UPLOAD_NAME
from wsmeasure.web import pages_server_update

ROUTES = ["/server", "/server/network", "/server/modbus", "/server/time", "/server/csv", "/server/sysinfo",
          "/server/backup", "/server/update"]
POSTS = ["/server/network", "/server/modbus", "/server/time", "/server/csv", "/server/sysinfo/optimize",
         "/server/backup", "/server/backup/restore", "/server/update"]


def error_of(page, field: str) -> str:
    """The message shown by a form field ("" if none)."""
    m = re.search(rf'<p class="error" id="{re.escape(field)}-error">([^<]*)</p>', page.text)
    return unescape(m.group(1)) if m else ""


def flashes(page) -> str:
    return " ".join(unescape(m) for m in re.findall(r'<p class="flash [^"]*" role="status">([^<]*)</p>', page.text))


def form_values(page, action: str) -> dict:
    """The fields a browser would send from the form posting to `action` (checkboxes: when checked)."""
    form = page.forms[[k for k, f in page.forms.items() if f.action == action][0]]
    return dict(form.submit_fields())


@pytest.fixture
def web_box(box):
    """The pages' own Box (appliance flag, sessions...)."""
    return box.app.config["wsm.box"]


# -- access --------------------------------------------------------------------------------------
def test_every_page_renders_for_the_administrator_and_greenup(client):
    for role in ("administrator", "greenUp"):
        web = client(role)
        for path in ROUTES:
            page = web.get(path)
            assert page.status_int == 200 and "<h1>" in page.text, path
    menu = client("administrator").get("/server")
    for target in ROUTES[1:] + ["/server/users"]:
        assert f'href="{target}"' in menu.text


@pytest.mark.parametrize("role", ["installer", "user"])
def test_others_get_403_on_every_server_route(box, client, role):
    web = client(role)
    csrf = csrf_of(web.get("/"))
    for path in ROUTES + ["/server/backup/restore"]:
        web.get(path, status=403)
    for path in POSTS:
        web.post(path, {"csrf": csrf, "confirmed": "1", "address": "10.0.0.5"}, status=403)
    answer = web.post("/server/update", {"csrf": csrf}, upload_files=[("bundle", "b.zip", b"x" * 1000)], status=403)
    assert "cannot open this page" in answer.text
    assert not (box.daemon.data_dir / "update" / pages_server_update.UPLOADED).exists()
    assert not (box.daemon.data_dir / "update" / pages_server_update.INCOMING).exists()


def test_a_post_without_the_csrf_token_is_refused(box, client):
    web = client("administrator")
    for path in POSTS:
        web.post(path, {"address": "10.0.0.5", "confirmed": "1"}, status=403)
    web.post("/server/update", {}, upload_files=[("bundle", "b.zip", b"x" * 100)], status=403)
    web.post("/server/update", {"csrf": "forged"}, upload_files=[("bundle", "b.zip", b"x" * 100)], status=403)
    assert not (box.daemon.data_dir / "update" / pages_server_update.UPLOADED).exists()
    assert settings.get(box.db, "net.address") == "192.168.1.100"


# -- network settings (7.7.1) ----------------------------------------------------------------------
def test_a_wrong_network_value_is_shown_by_its_field_and_nothing_is_stored(box, client):
    web = client("administrator")
    page = web.get("/server/network")
    before = {key: settings.get(box.db, key) for key in ("net.address", "net.mask", "net.gateway", "net.dns")}
    values = form_values(page, "/server/network")
    bad = web.post("/server/network", {**values, "address": "10.0.0.300", "dns": "10.0.0.1"}, status=400)
    assert "10.0.0.300" in error_of(bad, "address") and not error_of(bad, "mask")
    assert 'value="10.0.0.300"' in bad.text   # the typed value is shown again
    bad = web.post("/server/network", {**values, "address": "10.0.0.5", "csrf": csrf_of(page)}, status=400)
    assert "gateway" in error_of(bad, "gateway")   # 192.168.1.1 is not in 10.0.0.0/24
    # even "confirmed", a wrong form stores nothing
    web.post("/server/network", {**values, "mask": "255.0.255.0", "confirmed": "1"}, status=400)
    assert {key: settings.get(box.db, key) for key in before} == before


def test_network_settings_are_confirmed_then_stored_only_on_a_developer_machine(box, client, monkeypatch):
    applied = []
    monkeypatch.setattr(network, "apply_network", lambda db, *a, **k: applied.append(1))
    web = client("administrator")
    page = web.get("/server/network")
    assert "only stored" in page.text
    values = {**form_values(page, "/server/network"), "address": "192.168.1.120", "dns": "192.168.1.1 9.9.9.9"}
    confirm = web.post("/server/network", values)
    assert "192.168.1.120" in confirm.text and "Save these network settings?" in confirm.text
    assert settings.get(box.db, "net.address") == "192.168.1.100"   # not yet
    done = form_values(confirm, "/server/network")
    assert done["confirmed"] == "1"
    page = web.post("/server/network", done, status=303).follow()
    assert "saved" in flashes(page)
    assert settings.get(box.db, "net.address") == "192.168.1.120"
    assert settings.get(box.db, "net.dns") == "192.168.1.1, 9.9.9.9"
    assert applied == []   # a developer machine: stored only
    settings.set(box.db, "net.address", "192.168.1.100")


def test_on_the_appliance_a_network_change_is_applied(box, client, web_box, monkeypatch):
    applied = []
    monkeypatch.setattr(network, "apply_network", lambda db, *a, **k: applied.append(settings.get(db, "net.dns")))
    monkeypatch.setattr(web_box, "appliance", True)
    web = client("administrator")
    page = web.get("/server/network")
    assert "answer at that address only" in page.text
    values = {**form_values(page, "/server/network"), "dns": "192.168.1.2"}
    confirm = web.post("/server/network", values)
    web.post("/server/network", form_values(confirm, "/server/network"), status=303)
    assert applied == ["192.168.1.2"]   # same address: applied at once


# -- Modbus settings (7.8) ---------------------------------------------------------------------------
def test_modbus_settings_are_confirmed_then_reopen_the_port(box, client):
    web = client("administrator")
    assert "19200 8E1" in box.call("status")["rs485"]["settings"]
    page = web.get("/server/modbus")
    values = {**form_values(page, "/server/modbus"), "baudrate": "9600", "parity": "none", "timeout_ms": "400"}
    confirm = web.post("/server/modbus", values)
    assert "RS485 port restarts" in confirm.text and "9600 bit/s" in confirm.text
    assert settings.get(box.db, "serial.baudrate") == 19200   # not yet
    page = web.post("/server/modbus", form_values(confirm, "/server/modbus"), status=303).follow()
    assert "RS485 port was restarted" in flashes(page)
    rs485 = box.call("status")["rs485"]["settings"]
    assert "9600 8N1" in rs485 and "timeout 400 ms" in rs485
    # a wrong value in one field: nothing of the form is stored
    bad = web.post("/server/modbus", {**form_values(page, "/server/modbus"), "baudrate": "19200",
                                      "frame_interval_ms": "5000", "confirmed": "1"}, status=400)
    assert "frame_interval" in error_of(bad, "frame_interval_ms")
    assert settings.get(box.db, "serial.baudrate") == 9600
    back = {**form_values(page, "/server/modbus"), "baudrate": "19200", "parity": "even", "timeout_ms": "300",
            "confirmed": "1"}
    web.post("/server/modbus", back, status=303)
    assert "19200 8E1" in box.call("status")["rs485"]["settings"]


# -- date and time (7.9) ------------------------------------------------------------------------------
def test_date_and_time(box, client, web_box, monkeypatch):
    web = client("administrator")
    page = web.get("/server/time")
    assert "<optgroup" in page.text and ">Paris</option>" in page.text
    values = form_values(page, "/server/time")
    # a developer machine: the clock is not set from the page, and nothing of the form is stored
    bad = web.post("/server/time", {**values, "zone": "Europe/Rome", "datetime": "2024-03-06T10:07"}, status=400)
    assert "developer machine" in error_of(bad, "datetime")
    assert settings.get(box.db, "time.zone") == ""
    bad = web.post("/server/time", {**values, "datetime": "2024-02-30T10:07"}, status=400)
    assert "real date" in error_of(bad, "datetime")
    page = web.post("/server/time", {**values, "zone": "Europe/Rome", "ntp": "on", "ntp_server": "ntp.example.org",
                                     "sync_devices": "on"}, status=303).follow()
    assert "saved" in flashes(page)
    assert settings.get(box.db, "time.zone") == "Europe/Rome" and settings.get(box.db, "time.ntp") is True
    assert settings.get(box.db, "time.sync_devices") is True
    # the appliance: applied, and the clock set after the zone (NTP off first, else refused)
    calls = []
    monkeypatch.setattr(web_box, "appliance", True)
    monkeypatch.setattr(clock, "apply_time", lambda db, *a, **k: calls.append(("zone", settings.get(db, "time.zone"))))
    monkeypatch.setattr(clock, "set_clock", lambda db, when, appliance, run=None: calls.append(("clock", when))
                        if run is None else None)
    values = form_values(web.get("/server/time"), "/server/time")
    web.post("/server/time", {**values, "zone": "Europe/Paris", "ntp": "off", "datetime": "2024-03-06T10:07"},
             status=303)
    assert [c[0] for c in calls] == ["zone", "clock"] and calls[0][1] == "Europe/Paris"
    assert calls[1][1].isoformat() == "2024-03-06T10:07:00"
    for key in ("time.zone", "time.ntp", "time.sync_devices", "time.ntp_server"):
        settings.set(box.db, key, settings.row(key).default)


# -- CSV and other settings (7.11.1, 8.4.1) -----------------------------------------------------------
def test_csv_separators_cannot_both_be_commas(box, client):
    web = client("administrator")
    values = form_values(web.get("/server/csv"), "/server/csv")
    bad = web.post("/server/csv", {**values, "field_separator": "comma", "decimal_separator": "comma",
                                   "sample_rate": "15"}, status=400)
    assert "cannot both be a comma" in error_of(bad, "decimal_separator")
    assert settings.get(box.db, "csv.field_separator") == "semicolon"
    assert settings.get(box.db, "sample_rate_min") == 10   # nothing of the form
    # both at once the other way round is fine, whatever the order they are stored in
    web.post("/server/csv", {**values, "field_separator": "comma", "decimal_separator": "point"}, status=303)
    assert settings.get(box.db, "csv.field_separator") == "comma"
    web.post("/server/csv", {**values, "field_separator": "semicolon", "decimal_separator": "comma",
                             "language": "fr_BE"}, status=303)
    assert settings.get(box.db, "csv.decimal_separator") == "comma"
    assert settings.get(box.db, "language.default") == "fr_BE"
    settings.set(box.db, "language.default", "en")


def test_ftp_password_is_write_only_and_works_at_once(box, client):
    web = client("administrator")
    page = web.get("/server/csv")
    assert "factory password" in page.text
    values = form_values(page, "/server/csv")
    assert values["ftp_password"] == ""
    bad = web.post("/server/csv", {**values, "ftp_password": "a b"}, status=400)
    assert error_of(bad, "ftp_password") and 'value="a b"' not in bad.text
    web.post("/server/csv", {**values, "ftp_password": "S3cret-ftp"}, status=303)
    page = web.get("/server/csv")
    assert "S3cret-ftp" not in page.text and "factory password" not in page.text
    web.post("/server/csv", {**form_values(page, "/server/csv"), "ftp_password": ""}, status=303)   # unchanged
    ftp = ftplib.FTP(timeout=10)
    ftp.connect("127.0.0.1", box.daemon.ports["ftp"])
    try:
        ftp.login("wsmeasure", "S3cret-ftp")
    finally:
        ftp.close()
    with pytest.raises(ftplib.error_perm):
        ftp = ftplib.FTP(timeout=10)
        ftp.connect("127.0.0.1", box.daemon.ports["ftp"])
        try:
            ftp.login("wsmeasure", "wsmeasure")
        finally:
            ftp.close()
    settings.set(box.db, "ftp.password", "")
    box.call("reload")


# -- system information (8.8) ------------------------------------------------------------------------
def test_system_information_and_optimize(box, client):
    from wsmeasure import __version__

    web = client("administrator")
    page = web.get("/server/sysinfo")
    for label in ("Firmware version", "Last restart of the system", "CPU used", "Database size",
                  "Available storage space", "Last automatic backup", "Database health"):
        assert label in page.text
    assert __version__ in page.text
    done = web.post("/server/sysinfo/optimize", {"csrf": csrf_of(page)}, status=303).follow()
    assert re.search(r"Database optimized: [\d.]+ \w+ before, [\d.]+ \w+ now\.", flashes(done)), flashes(done)


# -- backup and restore (9) -----------------------------------------------------------------------------
def test_backup_then_restore_brings_the_installation_back(box, client):
    web = client("administrator")
    zip_path = box.daemon.history_dir / UPLOAD_NAME
    zip_path.unlink(missing_ok=True)
    page = web.get("/server/backup")
    assert "There is no database.zip" in page.text
    web.get("/server/backup/restore", status=404)
    page = web.post("/server/backup", {"csrf": csrf_of(page)}, status=303).follow()
    assert "database.zip" in flashes(page) and "FTP folder" in flashes(page)
    assert zipfile.is_zipfile(zip_path)
    devices = sorted(d.id for d in installation.devices(box.db))
    installation.delete_device(box.db, devices[-1])
    settings.set(box.db, "poll.interval_s", "33")
    confirm = web.get("/server/backup/restore")
    assert "whole configuration" in confirm.text
    page = web.post("/server/backup/restore", {"csrf": csrf_of(confirm)}, status=303).follow()
    assert "restored" in flashes(page)
    assert sorted(d.id for d in installation.devices(box.db)) == devices
    assert settings.get(box.db, "poll.interval_s") == 10
    assert web.get("/server/sysinfo").status_int == 200   # still logged in: the same users came back


def test_a_damaged_database_zip_is_refused_and_nothing_changes(box, client):
    web = client("administrator")
    zip_path = box.daemon.history_dir / UPLOAD_NAME
    zip_path.write_bytes(b"PK\x03\x04 this is not a whole zip")
    settings.set(box.db, "poll.interval_s", "34")
    confirm = web.get("/server/backup/restore")
    bad = web.post("/server/backup/restore", {"csrf": csrf_of(confirm)}, status=400)
    assert "database.zip is not a zip archive" in unescape(bad.text)
    assert settings.get(box.db, "poll.interval_s") == 34
    with zipfile.ZipFile(zip_path, "w") as archive:
        archive.writestr("config.db", b"garbage")
        archive.writestr("manifest.json", '{"product": "wsmeasure", "schema": 1}')
    bad = web.post("/server/backup/restore", {"csrf": csrf_of(confirm)}, status=400)
    assert "config.db is not a readable database" in unescape(bad.text)
    assert settings.get(box.db, "poll.interval_s") == 34
    settings.set(box.db, "poll.interval_s", "10")
    zip_path.unlink()


def test_restore_ends_the_sessions_of_users_it_changes(box, client):
    from wsmeasure import users
    from web import login

    web = client("administrator")
    page = web.post("/server/backup", {"csrf": csrf_of(web.get("/server/backup"))}, status=303).follow()
    green = next(u for u in users.users(box.db) if u.name == "greenUp")
    users.update_user(box.db, green.id, pin="24680", puk="1" * 14)
    other = login(box.app, "greenUp", pin="24680", puk="1" * 14)
    assert other.get("/server").status_int == 200
    confirm = web.get("/server/backup/restore")
    web.post("/server/backup/restore", {"csrf": csrf_of(confirm)}, status=303)
    assert other.get("/server", status=303).headers["Location"].endswith("/login?next=/server")
    assert web.get("/server").status_int == 200   # the administrator did not change
    assert page.status_int == 200


# -- software update (7.10) ------------------------------------------------------------------------------
def test_software_update_upload(box, client, monkeypatch):
    from wsmeasure import __version__

    web = client("administrator")
    folder = box.daemon.data_dir / "update"
    page = web.get("/server/update")
    assert __version__ in page.text and 'enctype="multipart/form-data"' in page.text
    monkeypatch.setattr(pages_server_update, "UPLOAD_MAX", 50_000)
    monkeypatch.setattr(pages_server_update, "FORM_SLACK", 10 ** 9)   # the stream's own count refuses it
    big = web.post("/server/update", {"csrf": csrf_of(page)}, upload_files=[("bundle", "big.zip", b"x" * 50_001)],
                   status=413)
    assert "larger than" in error_of(big, "bundle")
    assert not list(folder.iterdir())
    monkeypatch.setattr(pages_server_update, "FORM_SLACK", 1000)   # its announced length refuses it at once
    web.post("/server/update", {"csrf": csrf_of(page)}, upload_files=[("bundle", "big.zip", b"x" * 60_000)],
             status=413)
    # a bundle that fits: stored, handed to the updater, which has nothing to install it with yet
    payload = bytes(range(256)) * 150 + b"\r\n--tricky\r\n" * 10
    seen = []
    real = pages_server_update.update.install_update

    def spy(path, **options):
        seen.append(path.read_bytes())
        return real(path, **options)

    monkeypatch.setattr(pages_server_update.update, "install_update", spy)
    ok = web.post("/server/update", {"csrf": csrf_of(page)}, upload_files=[("bundle", "wsmeasure.jar", payload)],
                  status=400)
    assert seen == [payload]
    assert "not a wsmeasure update bundle" in error_of(ok, "bundle")
    assert not list(folder.iterdir())   # the upload is gone
    empty = web.post("/server/update", {"csrf": csrf_of(page)}, upload_files=[("bundle", "", b"")], status=400)
    assert "Choose the update file" in error_of(empty, "bundle")


def test_the_multipart_reader_streams_parts():
    import io

    class Trickle(io.BytesIO):   # a slow network: a few bytes per read, boundaries cut anywhere
        def read(self, n=-1):
            return super().read(min(n, 3))

    data = b"\r\n--XyY" * 3 + b"\r\n--Xy" + b"end"
    body = (b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok\r\n"
            b"--XyZ\r\nContent-Disposition: form-data; name=\"bundle\"; filename=\"a b.zip\"\r\n"
            b"Content-Type: application/zip\r\n\r\n" + data + b"\r\n--XyZ--\r\n")
    for stream in (io.BytesIO(body), Trickle(body)):
        reader = pages_server_update.Multipart(stream, b"XyZ", len(body))
        got = [(name, filename, b"".join(reader.body())) for name, filename in reader.parts()]
        assert got == [("csrf", None, b"tok"), ("bundle", "a b.zip", data)]
        assert reader.finished
    cut = pages_server_update.Multipart(io.BytesIO(body[:-20]), b"XyZ", len(body) - 20)
    with pytest.raises(pages_server_update._Stop):
        for _name, _filename in cut.parts():
            b"".join(cut.body())


def test_optimize_shows_why_it_did_not_run(client, web_box, monkeypatch):
    from wsmeasure.web.box import DaemonGone

    web = client("administrator")
    csrf = csrf_of(web.get("/server/sysinfo"))
    monkeypatch.setattr(web_box, "call", lambda cmd, **kw: {"ok": False, "error": f"unknown command {cmd!r}"})
    done = web.post("/server/sysinfo/optimize", {"csrf": csrf}, status=303).follow()
    assert "not optimized: unknown command 'optimize'" in flashes(done)

    def gone(cmd, **kw):
        raise DaemonGone("the acquisition service is not running")

    monkeypatch.setattr(web_box, "call", gone)
    done = web.post("/server/sysinfo/optimize", {"csrf": csrf}, status=303).follow()
    assert "did not answer: the acquisition service is not running" in flashes(done)
    assert web.get("/server/sysinfo").status_int == 200   # the page itself does without the daemon


def test_every_message_of_these_pages_is_translated():
    from wsmeasure.web.i18n import CODES, SOURCE
    from wsmeasure.web.messages import extract, missing

    messages = {m: w for m, w in extract().items() if any(x.startswith(("pages_server", "server")) for x in w)}
    assert len(messages) > 100
    for code in CODES:
        if code != SOURCE:
            assert not missing(code, messages), (code, sorted(missing(code, messages))[:5])


def test_pages_show_in_the_session_language(box):
    from web import login

    web = login(box.app, "greenUp")
    page = web.get("/server/modbus")
    web.post("/language", {"csrf": csrf_of(page), "lang": "de", "next": "/server/modbus"}, status=303)
    page = web.get("/server/modbus")
    assert "Modbus-Einstellungen" in page.text and "Baudrate" in page.text
    confirm = web.post("/server/modbus", form_values(page, "/server/modbus"))
    assert "Diese Modbus-Einstellungen speichern?" in confirm.text and "<th>Jetzt</th>" in confirm.text


def test_a_restore_on_the_appliance_applies_the_restored_network(box, client, web_box, monkeypatch):
    import time

    from wsmeasure.web import pages_server_system

    web = client("administrator")
    web.post("/server/backup", {"csrf": csrf_of(web.get("/server/backup"))}, status=303)
    settings.set(box.db, "net.address", "192.168.1.150")
    applied, timed = [], []
    monkeypatch.setattr(web_box, "appliance", True)
    monkeypatch.setattr(pages_server_system, "APPLY_DELAY_S", 0.01)
    monkeypatch.setattr(network, "apply_network", lambda db, *a, **k: applied.append(settings.get(db, "net.address")))
    monkeypatch.setattr(clock, "apply_time", lambda db, *a, **k: timed.append(1))
    confirm = web.get("/server/backup/restore")
    page = web.post("/server/backup/restore", {"csrf": csrf_of(confirm)}, status=200)
    assert 'href="https://192.168.1.100/"' in page.text and "new address" in page.text
    for _ in range(500):
        if applied:
            break
        time.sleep(0.01)
    assert applied == ["192.168.1.100"] and timed == [1]
    (box.daemon.history_dir / UPLOAD_NAME).unlink()
