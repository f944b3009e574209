"""The core's messages in the user's language (app/messages.py): refusals, restore errors and Test
verdicts are templates with named parameters, every template is found for the translators
(web/messages.py, domain "core"), and the pages show them translated."""

from __future__ import annotations

import json
import re
import string
import zipfile
from datetime import datetime

import pytest
from web import box, csrf_of, login  # noqa: F401

from wsmeasure import backup, clock, groupings, network, settings, update, users
from wsmeasure import installation as inst
from wsmeasure.db import open_config
from wsmeasure.drivers.catalogue import families
from wsmeasure.messages import Msg, verdict
from wsmeasure.settings import ConfigError
from wsmeasure.specs import VIRTUAL
from wsmeasure.web.i18n import catalog, core_text
from wsmeasure.web.messages import built_templates, extract, extract_core, main

KNOWN = set(extract())   # every msgid: the pages' and the core's


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def model_with(family: str, tag: str) -> str:
    return next(m.cat_no for m in families()[family].models.values() if tag in m.tags)


# -- bad inputs: each raises one refusal ------------------------------------------------------------
def local(db):
    return inst.local_gateway(db).id


def twice(call):
    """The same call twice: the second is refused (a used address, name, PIN...)."""
    return lambda db: (call(db), call(db))


def slave(db):
    return inst.add_gateway(db, "192.168.1.30", kind=VIRTUAL).id


def meter(db, address=5, **kw):
    return inst.add_device(db, local(db), "emdx3_meter", address=address, **kw)


def full_groups(db):
    names = [groupings.add_group(db, f"Group {n}").id for n in range(6)]
    meter(db, groups=names)


def off_gateway_device(db):
    gw = inst.add_gateway(db, "192.168.1.20")
    device = inst.add_device(db, gw.id, "emdx3_meter", address=3)
    inst.set_gateway_enabled(db, gw.id, False)
    inst.set_device_enabled(db, device.id, True)


def gateway_with_device(db):
    gw = inst.add_gateway(db, "192.168.1.20")
    inst.add_device(db, gw.id, "emdx3_meter", address=3)
    inst.delete_gateway(db, gw.id)


def with_users(call):
    return lambda db: (users.seed(db), call(db))


def no_admin_left(db):
    for u in users.users(db):
        if u.admin:
            users.update_user(db, u.id, enabled=False)


def zip_with(data_dir, members: dict):
    folder = data_dir / "history"
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(folder / "database.zip", "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def restore(members=None, raw: bytes | None = None):
    def call(db, data_dir):
        if raw is not None:
            (data_dir / "history").mkdir(parents=True, exist_ok=True)
            (data_dir / "history" / "database.zip").write_bytes(raw)
        elif members is not None:
            zip_with(data_dir, members)
        backup.restore_backup(db, data_dir)
    return call


BAD = [
    # settings (settings.py: parsers and cross-checks)
    ("baud rate", lambda db: settings.set(db, "serial.baudrate", "1234"), "serial.baudrate"),
    ("not a number", lambda db: settings.set(db, "serial.timeout_ms", "soon"), "serial.timeout_ms"),
    ("out of range", lambda db: settings.set(db, "serial.timeout_ms", "9"), "serial.timeout_ms"),
    ("on or off", lambda db: settings.set(db, "modbus_tcp.enabled", "maybe"), "modbus_tcp.enabled"),
    ("device path", lambda db: settings.set(db, "serial.port", "ttyUSB0"), "serial.port"),
    ("time zone", lambda db: settings.set(db, "time.zone", "Mars/Base"), "time.zone"),
    ("port range", lambda db: settings.set(db, "ftp.passive_ports", "ports"), "ftp.passive_ports"),
    ("short port range", lambda db: settings.set(db, "ftp.passive_ports", "60000-60001"), "ftp.passive_ports"),
    ("FTP password", lambda db: settings.set(db, "ftp.password", "a b"), "ftp.password"),
    ("IPv4", lambda db: settings.set(db, "net.address", "300.1.1.1"), "net.address"),
    ("loopback", lambda db: settings.set(db, "net.address", "127.0.0.1"), "net.address"),
    ("mask with holes", lambda db: settings.set(db, "net.mask", "255.0.255.0"), "net.mask"),
    ("mask /31", lambda db: settings.set(db, "net.mask", "31"), "net.mask"),
    ("four DNS", lambda db: settings.set(db, "net.dns", "1.1.1.1 2.2.2.2 3.3.3.3 4.4.4.4"), "net.dns"),
    ("host name", lambda db: settings.set(db, "time.ntp_server", "no_such host"), "time.ntp_server"),
    ("language", lambda db: settings.set(db, "language.default", "xx"), "language.default"),
    ("unknown key", lambda db: settings.set(db, "no.such", "1"), "key"),
    ("two commas", lambda db: settings.set(db, "csv.field_separator", "comma"), "csv"),
    ("network address", lambda db: settings.set(db, "net.address", "192.168.1.0"), "net.address"),
    ("broadcast address", lambda db: settings.set(db, "net.address", "192.168.1.255"), "net.address"),
    ("gateway is me", lambda db: settings.set(db, "net.gateway", "192.168.1.100"), "net.gateway"),
    ("gateway elsewhere", lambda db: settings.set(db, "net.gateway", "10.0.0.1"), "net.gateway"),
    ("network form", lambda db: network.save_network(db, "1.2.3", "255.255.255.0", "", ""), "address"),
    ("EQ edition", lambda db: (inst.set_eq_device(db, local(db), meter(db, model="0 146 69").id),
                               settings.set(db, "edition", "10")), "edition"),
    # date and time, update
    ("no date", lambda db: clock.parse_local_datetime("yesterday"), "datetime"),
    ("no such day", lambda db: clock.parse_local_datetime("2024-02-30 10:00"), "datetime"),
    ("old year", lambda db: clock.parse_local_datetime("1999-01-01 10:00"), "datetime"),
    ("developer clock", lambda db: clock.set_clock(db, datetime(2024, 1, 1), appliance=False), "datetime"),
    ("NTP clock", lambda db: (settings.set(db, "time.ntp", "on"),
                              clock.set_clock(db, datetime(2024, 1, 1), appliance=True)), "datetime"),
    ("updater", lambda db: update.install_update(db.database + ".bundle"), "bundle"),
    # gateways
    ("gateway address", lambda db: inst.add_gateway(db, ""), "address"),
    ("gateway IPv4", lambda db: inst.add_gateway(db, "1.2.3"), "address"),
    ("gateway is this box", lambda db: inst.add_gateway(db, "127.0.0.1"), "address"),
    ("gateway multicast", lambda db: inst.add_gateway(db, "224.0.0.1"), "address"),
    ("gateway port", lambda db: inst.add_gateway(db, "192.168.1.20", port="x"), "port"),
    ("gateway port range", lambda db: inst.add_gateway(db, "192.168.1.20", port=70000), "port"),
    ("local added", lambda db: inst.add_gateway(db, "192.168.1.20", kind="local"), "kind"),
    ("gateway kind", lambda db: inst.add_gateway(db, "192.168.1.20", kind="radio"), "kind"),
    ("gateway twice", twice(lambda db: inst.add_gateway(db, "192.168.1.20")), "address"),
    ("gateway name", lambda db: inst.add_gateway(db, "192.168.1.20", name="Local"), "name"),
    ("local address", lambda db: inst.update_gateway(db, local(db), address="192.168.1.9"), "address"),
    ("local port", lambda db: inst.update_gateway(db, local(db), port=503), "port"),
    ("local deleted", lambda db: inst.delete_gateway(db, local(db)), "gateway"),
    ("gateway with devices", gateway_with_device, "gateway"),
    ("no gateway", lambda db: inst.delete_gateway(db, 999), "gateway"),
    ("description", lambda db: inst.add_gateway(db, "192.168.1.20", description="two\nlines"), "description"),
    # devices
    ("family", lambda db: inst.add_device(db, local(db), "toaster", address=1), "family"),
    ("model", lambda db: inst.add_device(db, local(db), "emdx3_meter", model="1 234 56", address=1), "model"),
    ("address required", lambda db: inst.add_device(db, local(db), "emdx3_meter"), "address"),
    ("address range", lambda db: meter(db, address=300), "address"),
    ("address word", lambda db: meter(db, address="five"), "address"),
    ("address used", twice(meter), "address"),
    ("device name used", lambda db: (meter(db, 5, name="Boiler"), meter(db, 6, name="boiler")), "name"),
    ("name too long", lambda db: meter(db, name="x" * 200), "name"),
    ("no remote ID here", lambda db: meter(db, remote_id=10001), "remote_id"),
    ("no interface here", lambda db: meter(db, interface=2), "interface"),
    ("no side here", lambda db: meter(db, side="A"), "side"),
    ("no position here", lambda db: meter(db, position=1), "position"),
    ("no supply here", lambda db: meter(db, supply="upstream"), "supply"),
    ("no phase here", lambda db: meter(db, phase="L1"), "phase"),
    ("no generic here", lambda db: meter(db, fn=3), "fn"),
    ("no alerts here", lambda db: meter(db, exclude_alerts="on"), "exclude_alerts"),
    ("flag", lambda db: meter(db, exclude_totals="maybe"), "exclude_totals"),
    ("virtual here", lambda db: inst.add_device(db, local(db), "wsmeasure_virtual", remote_id=10001), "family"),
    ("concentrator required", lambda db: inst.add_device(db, local(db), "pulse_electricity", address=4),
     "concentrator"),
    ("no inputs", lambda db: inst.add_device(db, local(db), "pulse_electricity", address=4,
                                             concentrator="0 146 68"), "concentrator"),
    ("position required", lambda db: inst.add_device(db, local(db), "pulse_electricity", address=4,
                                                     concentrator="0 046 87"), "position"),
    ("position range", lambda db: inst.add_device(db, local(db), "pulse_electricity", address=4,
                                                  concentrator="0 046 87", position=99), "position"),
    ("position used", twice(lambda db: inst.add_device(db, local(db), "pulse_electricity", address=4,
                                                       concentrator="0 046 87", position=1)), "position"),
    ("host declared twice", twice(lambda db: inst.add_device(db, local(db), "emdx3_counter", address=4,
                                                             model=model_with("emdx3_counter", "pulse_input"))),
     "address"),
    ("side required", lambda db: inst.add_device(db, local(db), "greenup_legacy", address=8, phase="L1",
                                                 model=model_with("greenup_legacy", "two_sides")), "side"),
    ("side choice", lambda db: inst.add_device(db, local(db), "greenup_legacy", address=8, side="C"), "side"),
    ("side used", twice(lambda db: inst.add_device(db, local(db), "greenup_legacy", address=8, side="A",
                                                   phase="L1", model=model_with("greenup_legacy", "two_sides"))),
     "side"),
    ("phase required", lambda db: inst.add_device(db, local(db), "greenup", address=8,
                                                  model=model_with("greenup", "single_phase")), "phase"),
    ("interface twice", lambda db: inst.add_device(db, local(db), "ems_cx3", address="2-1", interface=3),
     "interface"),
    ("module address", lambda db: inst.add_device(db, local(db), "ems_cx3", address="x-1"), "address"),
    ("module used", twice(lambda db: inst.add_device(db, local(db), "ems_cx3", address="2-1")), "address"),
    ("register required", lambda db: inst.add_device(db, local(db), "generic", address=9), "register"),
    ("register hex", lambda db: inst.add_device(db, local(db), "generic", address=9, register="zz"), "register"),
    ("register range", lambda db: inst.add_device(db, local(db), "generic", address=9, register="1FFFF"),
     "register"),
    ("register end", lambda db: inst.add_device(db, local(db), "generic", address=9, register="FFFF", words=2),
     "register"),
    ("multiplier", lambda db: inst.add_device(db, local(db), "generic", address=9, register="C652",
                                              multiplier="x"), "multiplier"),
    ("multiplier 0", lambda db: inst.add_device(db, local(db), "generic", address=9, register="C652",
                                                multiplier="0"), "multiplier"),
    ("encoding", lambda db: inst.add_device(db, local(db), "generic", address=9, register="C652", words=1,
                                            encoding="U32"), "encoding"),
    ("function", lambda db: inst.add_device(db, local(db), "generic", address=9, register="C652", fn=5), "fn"),
    ("remote ID required", lambda db: inst.add_device(db, slave(db), "wsmeasure_virtual"), "remote_id"),
    ("remote ID 20000", lambda db: inst.add_device(db, slave(db), "wsmeasure_virtual", remote_id=20000),
     "remote_id"),
    ("remote address", lambda db: inst.add_device(db, slave(db), "wsmeasure_virtual", remote_id=10001, address=5),
     "address"),
    ("remote ID used", lambda db: (inst.add_device(db, slave(db), "wsmeasure_virtual", remote_id=10001),
                                   inst.add_device(db, inst.gateways(db)[-1].id, "wsmeasure_virtual",
                                                   remote_id=10001)), "remote_id"),
    ("meter on a slave", lambda db: inst.add_device(db, slave(db), "emdx3_meter", address=5), "family"),
    ("EQ without THD", lambda db: inst.set_eq_device(db, local(db), meter(db).id), "eq"),
    ("EQ elsewhere", lambda db: inst.set_eq_device(db, inst.add_gateway(db, "192.168.1.20").id,
                                                   meter(db, model="0 146 69").id), "eq"),
    ("EQ model changed", lambda db: (inst.set_eq_device(db, local(db), meter(db, model="0 146 69").id),
                                     inst.update_device(db, inst.devices(db)[0].id, model="0 046 76")), "eq"),
    ("no device", lambda db: inst.delete_device(db, 999), "device"),
    ("gateway OFF", off_gateway_device, "enabled"),
    # loads, groups, panel boards
    ("load name required", lambda db: groupings.add_load(db, ""), "name"),
    ("load name used", lambda db: groupings.add_load(db, "heating"), "name"),
    ("nine loads", lambda db: [groupings.add_load(db, f"Load {n}") for n in range(9)], "load"),
    ("built-in renamed", lambda db: groupings.rename_load(db, 1, "Warmth"), "load"),
    ("built-in erased", lambda db: groupings.erase_load(db, 1), "load"),
    ("others disabled", lambda db: groupings.set_load_enabled(db, "others", False), "load"),
    ("no load ID", lambda db: groupings.set_load_enabled(db, 999, False), "load"),
    ("no load name", lambda db: meter(db, load="Sauna"), "load"),
    ("water load", lambda db: meter(db, load="water"), "load"),
    ("water counter load", lambda db: inst.add_device(db, local(db), "pulse_water", address=4,
                                                      concentrator="0 046 87", position=1, load="heating"), "load"),
    ("disabled load", lambda db: (groupings.set_load_enabled(db, "heating", False), meter(db, load="heating")),
     "load"),
    ("no group", lambda db: meter(db, groups=["Kitchen"]), "groups"),
    ("six groups", full_groups, "groups"),
    ("disabled group", lambda db: (groupings.set_group_enabled(db, groupings.add_group(db, "Kitchen").id, False),
                                   meter(db, groups=["Kitchen"])), "groups"),
    ("group name", lambda db: groupings.add_group(db, " "), "name"),
    ("group ID", lambda db: groupings.erase_group(db, 999), "measure_group"),
    ("panel board name", twice(lambda db: groupings.add_panel_board(db, "Main")), "name"),
    ("panel board ID", lambda db: groupings.erase_panel_board(db, 999), "panel_board"),
    ("no panel board", lambda db: inst.add_gateway(db, "192.168.1.20", panel_board="Attic"), "panel_board"),
    # users (the four of a new box first)
    ("user name", with_users(lambda db: users.add_user(db, "", "12345", "12345678901234")), "name"),
    ("user name used", with_users(lambda db: users.add_user(db, "Installer", "12345", "12345678901234")), "name"),
    ("PIN", with_users(lambda db: users.add_user(db, "Ann", "12", "12345678901234")), "pin"),
    ("PUK", with_users(lambda db: users.add_user(db, "Ann", "12345", "1")), "puk"),
    ("PIN used", with_users(lambda db: users.add_user(db, "Ann", "99999", "12345678901234")), "pin"),
    ("pages", with_users(lambda db: users.add_user(db, "Ann", "12345", "12345678901234", pages=["kitchen"])),
     "pages"),
    ("admin erased", with_users(lambda db: users.erase_user(db, 1)), "user"),
    ("no admin left", with_users(no_admin_left), "enabled"),
    ("no user", lambda db: users.user(db, 999), "user"),
]


RESTORES = [
    ("no file", restore()),
    ("not a zip", restore(raw=b"not a zip")),
    ("unexpected entries", restore({"config.db": b"", "manifest.json": b"{}", "../evil": b""})),
    ("a member missing", restore({"config.db": b""})),
    ("manifest JSON", restore({"config.db": b"", "manifest.json": b"{"})),
    ("not ours", restore({"config.db": b"", "manifest.json": b'{"product": "other"}'})),
    ("newer", restore({"config.db": b"", "manifest.json": b'{"product": "wsmeasure", "schema": 999}'})),
    ("not a database", restore({"config.db": b"garbage" * 100,
                                "manifest.json": b'{"product": "wsmeasure", "schema": 1}'})),
]


@pytest.fixture
def db(tmp_path):
    db = open_config(tmp_path / "data")
    yield db
    db.close()


def check_message(msg: Msg) -> int:
    """A message and the Msg parameters in it: known templates, every placeholder given; their count."""
    assert isinstance(msg, Msg), repr(msg)
    assert msg.template in KNOWN, f"not found for the translators: {msg.template!r}"
    assert fields(msg.template) <= set(msg.params), (msg.template, msg.params)
    return 1 + sum(check_message(v) for v in msg.params.values() if isinstance(v, Msg))


def marked(text: str) -> str:
    """A stand-in translation: the same text, marked."""
    return f"<{text}>"


def check_translates(refusal) -> None:
    count = check_message(refusal.message)
    translated = refusal.translated(marked)
    assert translated.count("<") >= count and translated != str(refusal), translated
    assert re.sub(r"[<>]", "", translated) == str(refusal)   # the English, word for word


@pytest.mark.parametrize("name, call, field", BAD, ids=[row[0] for row in BAD])
def test_every_refusal_has_a_known_template_with_all_its_placeholders(db, name, call, field):
    with pytest.raises(ConfigError) as raised:
        call(db)
    assert raised.value.field == field, raised.value.message
    assert str(raised.value) == raised.value.message
    check_translates(raised.value)


@pytest.mark.parametrize("name, call", RESTORES, ids=[row[0] for row in RESTORES])
def test_every_restore_refusal_has_a_known_template(db, tmp_path, name, call):
    with pytest.raises(backup.RestoreError) as raised:
        call(db, tmp_path / "data")
    check_translates(raised.value)


def test_templates_are_literals_found_for_the_translators():
    assert not built_templates(), "messages built at run time cannot be translated"
    core = extract_core()
    assert len(core) > 200
    for fam in families().values():
        assert fam.label in core and all(m.label in core for m in fam.models.values())


def test_the_translators_list_of_core_messages(capsys):
    assert main(["--json", "core"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed.keys() == extract_core().keys()
    assert listed["the gateway is OFF"].startswith("app/poller.py:")
    assert main(["--missing-json", "core", "--lang", "de"]) == 0
    lacking = json.loads(capsys.readouterr().out)
    assert set(lacking) <= set(listed)
    assert "EMDX3 multifunction meter" not in lacking   # translated already (a label the pages showed)


def test_a_verdict_crosses_the_control_socket_and_is_translated():
    said = verdict(False, "no valid answer from address {unit} ({kind}): check the address, wiring and serial "
                          "settings", unit=5, kind=Msg("timeout"))
    carried = json.loads(json.dumps(said))
    assert carried["message"] == ("no valid answer from address 5 (timeout): check the address, wiring and "
                                  "serial settings")
    german = {carried["template"]: "keine gültige Antwort von Adresse {unit} ({kind}): Adresse, Verkabelung und "
                                   "serielle Einstellungen prüfen", "timeout": "Zeitüberschreitung"}
    assert core_text(lambda s: german.get(s, s), carried) == ("keine gültige Antwort von Adresse 5 "
                                                              "(Zeitüberschreitung): Adresse, Verkabelung und "
                                                              "serielle Einstellungen prüfen")
    assert core_text(lambda s: s, {"ok": False, "message": "as is"}) == "as is"   # no template: shown as it is


def test_a_translation_with_a_broken_placeholder_falls_back_to_english():
    msg = Msg("the name {name} is used", name="Boiler")
    assert msg.translated({"the name {name} is used": "der Name {nom} ist belegt"}.get) == "the name Boiler is used"


# -- the pages, in German -----------------------------------------------------------------------------
def german_session(app):
    web = login(app, "installer")
    page = web.get("/")
    web.post("/language", {"csrf": csrf_of(page), "lang": "de", "next": "/"}, status=303)
    return web


def test_a_refused_device_form_shows_the_core_message_in_german(box, monkeypatch):
    used = ('address {unit} is already used on gateway "{gateway}" by "{other}"; devices share an address only '
            "as the inputs of one pulse concentrator or the two sides of one station")
    range_ = "{what} must be from {lo} to {hi} (not {value})"
    assert {used, range_, "the Modbus address"} <= set(extract_core())
    german = catalog("de").messages
    monkeypatch.setitem(german, used, 'Adresse {unit} ist am Gateway "{gateway}" bereits von "{other}" belegt')
    monkeypatch.setitem(german, range_, "{what} muss zwischen {lo} und {hi} liegen (nicht {value})")
    monkeypatch.setitem(german, "the Modbus address", "Die Modbus-Adresse")
    web = german_session(box.app)
    gid = inst.local_gateway(box.db).id

    def add(address, name, status):
        page = web.get(f"/system/gateways/{gid}/devices/new?family=emdx3_meter")
        form = next(f for f in page.forms.values() if (f.action or "").endswith("/devices/new"))
        form["address"], form["name"] = str(address), name
        return form.submit(status=status)

    add(61, "Erster Zähler", 303)
    page = add(61, "Zweiter Zähler", 400)
    error = re.search(r'<p class="error" id="address-error">([^<]+)</p>', page.text)
    assert error and error.group(1) == "Adresse 61 ist am Gateway &quot;Local&quot; bereits von " \
                                       "&quot;Erster Zähler&quot; belegt", page.text
    page = add(300, "Dritter Zähler", 400)
    assert "Die Modbus-Adresse muss zwischen 1 und 247 liegen (nicht 300)" in page.text


def test_a_test_verdict_shows_in_german(box, monkeypatch):
    german = catalog("de").messages
    monkeypatch.setitem(german, "{answering} of {total} addresses answer", "{answering} von {total} Adressen antworten")
    web = german_session(box.app)
    gid = inst.local_gateway(box.db).id
    page = web.get(f"/system/gateways/{gid}")
    shown = web.post(f"/system/gateways/{gid}/test", {"csrf": csrf_of(page)}, status=303).follow()
    assert re.search(r"\d+ von \d+ Adressen antworten", shown.text), shown.text
