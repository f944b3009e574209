"""The System configuration pages (manual 7.16): gateways and devices, loads / measure groups /
panel boards, data sample rate, advanced configuration; access, CSRF, translations, page size."""

from __future__ import annotations

import ast
import gzip
import re
from pathlib import Path

import pytest
from web import box, client, csrf_of  # noqa: F401

from wsmeasure import groupings, installation, settings
from wsmeasure.web import box as box_mod
from wsmeasure.web.i18n import CODES, SOURCE, read_catalog

ROOT = Path(__file__).parent.parent


def form_of(page, action_end: str):
    """The page's form posting to a URL ending with `action_end`."""
    found = [f for f in page.forms.values() if (f.action or "").endswith(action_end)]
    assert found, f"no form to ...{action_end} in {[f.action for f in page.forms.values()]}"
    return found[0]


def device_named(db, name):
    return next((d for d in installation.devices(db) if d.name == name), None)


def flashes(page) -> list[str]:
    return re.findall(r'<p class="flash [a-z]+" role="status">([^<]*)</p>', page.text)


def add_meter(web, name: str, address: int, gid: int = 1, expect=303):
    page = web.get(f"/system/gateways/{gid}/devices/new?family=emdx3_meter")
    form = form_of(page, f"/system/gateways/{gid}/devices/new")
    form["model"] = "0 146 68"
    form["address"] = str(address)
    form["name"] = name
    return form.submit(status=expect)


# -- menu -----------------------------------------------------------------------------------------
def test_menu_and_home_tile(client):
    web = client("installer")
    assert 'href="/system"' in web.get("/").text
    page = web.get("/system")
    for href in ("/system/gateways", "/system/boards", "/system/sample-rate", "/system/advanced"):
        assert f'href="{href}"' in page.text


# -- devices ----------------------------------------------------------------------------------------
def test_installer_adds_an_emdx3_meter_on_the_local_gateway(client, box):
    web = client("installer")
    step1 = web.get("/system/gateways/1/devices/new")
    assert "family=emdx3_meter" in step1.text and "family=wsmeasure_virtual" not in step1.text
    done = add_meter(web, "Boiler room", 30)
    device = device_named(box.db, "Boiler room")
    assert device is not None and device.address == 30 and device.model == "0 146 68"
    assert done.headers["Location"].endswith(f"/system/devices/{device.id}")
    page = done.follow()
    assert "Device Boiler room saved." in flashes(page)
    listing = web.get("/system/gateways/1/devices")
    assert f'href="/system/devices/{device.id}"' in listing.text and "Boiler room" in listing.text
    assert "<span class=\"addr\">30</span>" in listing.text


def test_test_button_shows_the_daemons_verdict(client, box):
    web = client("installer")
    if device_named(box.db, "Verdict meter") is None:
        add_meter(web, "Verdict meter", 31)
    device = device_named(box.db, "Verdict meter")
    page = web.get(f"/system/devices/{device.id}")
    answer = web.post(f"/system/devices/{device.id}/test", {"csrf": csrf_of(page)}, status=303)
    shown = flashes(answer.follow())
    assert any(m.startswith("Test passed: the device answered in") for m in shown), shown
    # a silent device: the daemon says why, and the page says it too
    assert box.call("fault", id=device.id, fault="silent")["ok"]
    try:
        verdict = box.call("test", what="device", id=device.id)
        answer = web.post(f"/system/devices/{device.id}/test", {"csrf": csrf_of(page)}, status=303)
        assert not verdict["ok"]
        assert f"Test failed: {verdict['message']}" in flashes(answer.follow())
    finally:
        box.call("fault", id=device.id, fault=None)
    gateway = web.post("/system/gateways/1/test", {"csrf": csrf_of(page)}, status=303).follow()
    assert any(m.startswith(("Test passed:", "Test failed:")) and "addresses answer" in m for m in flashes(gateway))


@pytest.mark.parametrize("field, address, name", [("address", 1, "Fresh name"), ("name", 32, "Main incomer")])
def test_duplicate_address_or_name_is_refused_by_the_field(client, box, field, address, name):
    web = client("installer")
    before = [(d.id, d.name, d.address) for d in installation.devices(box.db)]
    page = add_meter(web, name, address, expect=400)
    assert page.status_int == 400
    error = re.search(rf'<p class="error" id="{field}-error">([^<]+)</p>', page.text)
    assert error, page.text
    assert "already used" in error.group(1)
    assert f'name="name" type="text" value="{name}"' in page.text        # typed values kept
    assert f'name="address" type="number" value="{address}"' in page.text
    assert [(d.id, d.name, d.address) for d in installation.devices(box.db)] == before   # nothing saved


def test_pulse_counter_needs_its_position_and_concentrator(client, box):
    web = client("installer")
    page = web.get("/system/gateways/1/devices/new?family=pulse_electricity")
    form = form_of(page, "/system/gateways/1/devices/new")
    form["model"], form["address"], form["name"] = "0 046 73", "4", "Oven"
    form["concentrator"] = "0 046 87"
    form["position"] = "1"   # Kitchen is there already
    refused = form.submit(status=400)
    assert 'id="position-error"' in refused.text and device_named(box.db, "Oven") is None
    form = form_of(refused, "/system/gateways/1/devices/new")
    form["position"] = "5"
    form.submit(status=303)
    oven = device_named(box.db, "Oven")
    assert (oven.address, oven.position, oven.concentrator) == (4, 5, "0 046 87")
    assert "<span class=\"addr\">4-5</span>" in web.get("/system/gateways/1/devices").text


def test_generic_meter_fields_and_groups_and_load(client, box):
    web = client("installer")
    group = groupings.add_group(box.db, "Workshop")
    page = web.get("/system/gateways/1/devices/new?family=generic")
    form = form_of(page, "/system/gateways/1/devices/new")
    form["model"], form["address"], form["name"] = "GENERIC", "40", "Compressor"
    form["fn"], form["register"], form["words"], form["encoding"] = "4", "c652", "2", "F32"
    form["multiplier"], form["word_order"] = "0,1", "low_first"
    form["load"] = str(next(ld.id for ld in groupings.loads(box.db) if ld.key == "sockets"))
    next(box_ for box_ in form.fields["groups"] if box_._value == str(group.id)).checked = True
    form.get("exclude_totals", index=1).checked = True   # (index 0: the hidden "off" before it)
    form.submit(status=303)
    d = device_named(box.db, "Compressor")
    assert (d.fn, d.register, d.words, d.encoding, d.multiplier, d.word_order) == (4, 0xC652, 2, "F32", 0.1, "low_first")
    assert d.exclude_totals and d.load.key == "sockets"
    assert [g.name for g in groupings.device_groups(box.db, d.id)] == ["Workshop"]
    again = web.get(f"/system/devices/{d.id}")
    assert 'value="C652"' in again.text and 'value="0.1"' in again.text


def test_two_sided_station_offers_its_other_side(client, box):
    web = client("installer")
    page = web.get("/system/gateways/1/devices/new?family=greenup_legacy")
    assert 'data-when="two_sides"' in page.text and 'data-when="single_phase"' in page.text
    form = form_of(page, "/system/gateways/1/devices/new")
    form["model"], form["address"], form["side"], form["phase"], form["name"] = "0 590 32", "50", "A", "L1", "Bay 1A"
    station = form.submit(status=303).follow()
    link = re.search(r'href="([^"]+side=B)"', station.text)
    assert link, station.text
    other = web.get(link.group(1).replace("&amp;", "&"))
    form = form_of(other, "/system/gateways/1/devices/new")
    assert (form["model"].value, form["address"].value, form["side"].value) == ("0 590 32", "50", "B")
    form["phase"], form["name"] = "L2", "Bay 1B"
    form.submit(status=303)
    b = device_named(box.db, "Bay 1B")
    assert (b.address, b.side, b.phase) == (50, "B", "L2")
    listing = web.get("/system/gateways/1/devices").text
    assert '<span class="addr">50-A</span>' in listing and '<span class="addr">50-B</span>' in listing


def test_virtual_gateway_and_its_remote_ids(client, box):
    web = client("installer")
    page = web.get("/system/gateways/new")
    form = form_of(page, "/system/gateways/new")
    form["kind"], form["address"], form["name"] = "virtual", "192.0.2.60", "Slave 1"
    form.submit(status=303)
    gw = next(g for g in installation.gateways(box.db) if g.name == "Slave 1")
    assert gw.kind == "virtual"
    step1 = web.get(f"/system/gateways/{gw.id}/devices/new")
    assert "family=wsmeasure_virtual" in step1.text and "family=emdx3_meter" not in step1.text
    page = web.get(f"/system/gateways/{gw.id}/devices/new?family=wsmeasure_virtual")
    assert 'data-fill="f-remote_id"' in page.text
    form = form_of(page, f"/system/gateways/{gw.id}/devices/new")
    form["model"], form["remote_id"], form["name"] = "WSMEASURE", "all", "Slave total"
    form.submit(status=303)
    d = device_named(box.db, "Slave total")
    assert (d.address, d.remote_id) == (247, 29999)
    form = form_of(web.get(f"/system/gateways/{gw.id}/devices/new?family=wsmeasure_virtual"),
                   f"/system/gateways/{gw.id}/devices/new")
    form["remote_id"] = "20000"
    refused = form.submit(status=400)
    assert 'id="remote_id-error"' in refused.text
    assert '<span class="addr">247-29999</span>' in web.get(f"/system/gateways/{gw.id}/devices").text
    installation.delete_device(box.db, d.id)
    installation.delete_gateway(box.db, gw.id)


def test_edit_device_keeps_typed_values_when_refused(client, box):
    web = client("installer")
    if device_named(box.db, "Edit me") is None:
        add_meter(web, "Edit me", 33)
    d = device_named(box.db, "Edit me")
    page = web.get(f"/system/devices/{d.id}")
    form = form_of(page, f"/system/devices/{d.id}")
    form["name"], form["address"] = "Edited", "999"
    refused = form.submit(status=400)
    assert 'id="address-error"' in refused.text and 'value="Edited"' in refused.text
    assert device_named(box.db, "Edit me").address == 33
    form = form_of(refused, f"/system/devices/{d.id}")
    form["address"] = "34"
    form.submit(status=303)
    assert device_named(box.db, "Edited").address == 34


def test_delete_asks_for_confirmation_then_deletes(client, box):
    web = client("installer")
    add_meter(web, "Short-lived", 35)
    d = device_named(box.db, "Short-lived")
    page = web.get(f"/system/devices/{d.id}")
    assert f'href="/system/devices/{d.id}/delete"' in page.text
    confirm = web.get(f"/system/devices/{d.id}/delete")
    assert "Delete device Short-lived?" in confirm.text and device_named(box.db, "Short-lived") is not None
    done = form_of(confirm, f"/system/devices/{d.id}/delete").submit(status=303)
    assert done.headers["Location"].endswith("/system/gateways/1/devices")
    assert device_named(box.db, "Short-lived") is None
    assert "Device Short-lived deleted." in flashes(done.follow())


def test_device_and_gateway_on_off(client, box):
    web = client("installer")
    if device_named(box.db, "Switchable") is None:
        add_meter(web, "Switchable", 36)
    d = device_named(box.db, "Switchable")
    page = web.get(f"/system/devices/{d.id}")
    assert 'class="onoff is-on"' in page.text
    off = web.post(f"/system/devices/{d.id}/switch", {"csrf": csrf_of(page), "on": "off"}, status=303).follow()
    assert not device_named(box.db, "Switchable").enabled and 'class="onoff is-off"' in off.text
    status = {x["id"]: x["status"] for g in box.call("status")["gateways"] for x in g["devices"]}
    assert status[d.id] == "off"   # reloaded: the daemon no longer polls it
    web.post(f"/system/devices/{d.id}/switch", {"csrf": csrf_of(page), "on": "on"}, status=303)
    assert device_named(box.db, "Switchable").enabled

    # the Local gateway: OFF cascades (core), its devices cannot be switched ON meanwhile
    web.post("/system/gateways/1/switch", {"csrf": csrf_of(page), "on": "off"}, status=303)
    try:
        assert not installation.local_gateway(box.db).enabled
        web.post(f"/system/devices/{d.id}/switch", {"csrf": csrf_of(page), "on": "off"}, status=303)
        refused = web.post(f"/system/devices/{d.id}/switch", {"csrf": csrf_of(page), "on": "on"}, status=400)
        assert "switch the gateway ON first" in refused.text
    finally:
        web.post("/system/gateways/1/switch", {"csrf": csrf_of(page), "on": "on"}, status=303)
        installation.set_device_enabled(box.db, d.id, True)
    assert installation.local_gateway(box.db).enabled


# -- gateways ---------------------------------------------------------------------------------------
def test_gateways_add_save_test_delete(client, box):
    web = client("installer")
    listing = web.get("/system/gateways")
    assert "127.0.0.1" in listing.text and "Local" in listing.text and 'class="led st-' in listing.text
    page = web.get("/system/gateways/new")
    form = form_of(page, "/system/gateways/new")
    form["address"], form["name"], form["description"] = "192.0.2.10", "Basement", "Panel B1"
    done = form.submit(status=303)
    gw = next(g for g in installation.gateways(box.db) if g.name == "Basement")
    assert (gw.address, gw.kind, gw.description) == ("192.0.2.10", "ip", "Panel B1")
    assert done.headers["Location"].endswith(f"/system/gateways/{gw.id}")
    # same address again: refused by the field
    form = form_of(web.get("/system/gateways/new"), "/system/gateways/new")
    form["address"], form["name"] = "192.0.2.10", "Twin"
    refused = form.submit(status=400)
    assert 'id="address-error"' in refused.text and 'value="Twin"' in refused.text
    # save, with a panel board
    board = groupings.add_panel_board(box.db, "Board B1")
    page = web.get(f"/system/gateways/{gw.id}")
    form = form_of(page, f"/system/gateways/{gw.id}")
    form["name"], form["panel_board"] = "Basement gateway", str(board.id)
    form.submit(status=303)
    gw = next(g for g in installation.gateways(box.db) if g.id == gw.id)
    assert gw.name == "Basement gateway" and gw.panel_board_id == board.id
    by_board = web.get(f"/system/gateways?show=board-{board.id}")
    assert "Basement gateway" in by_board.text and ">Local<" not in by_board.text
    # OFF: Test says so (the daemon's verdict)
    web.post(f"/system/gateways/{gw.id}/switch", {"csrf": csrf_of(page), "on": "off"}, status=303)
    tested = web.post(f"/system/gateways/{gw.id}/test", {"csrf": csrf_of(page)}, status=303).follow()
    assert any(m.startswith("Test failed:") for m in flashes(tested))
    # a gateway with a device is not deleted; without, after confirmation
    add_meter(web, "On basement", 1, gid=gw.id)
    confirm = web.get(f"/system/gateways/{gw.id}/delete")
    refused = form_of(confirm, f"/system/gateways/{gw.id}/delete").submit(status=400)
    assert "still has 1 device(s)" in refused.text
    installation.delete_device(box.db, device_named(box.db, "On basement").id)
    form_of(web.get(f"/system/gateways/{gw.id}/delete"), f"/system/gateways/{gw.id}/delete").submit(status=303)
    assert all(g.id != gw.id for g in installation.gateways(box.db))


def test_local_gateway_is_never_deleted(client, box):
    web = client("installer")
    page = web.get("/system/gateways/1")
    assert 'href="/system/gateways/1/delete"' not in page.text
    refused = web.post("/system/gateways/1/delete", {"csrf": csrf_of(page)}, status=400)
    assert "cannot be deleted" in refused.text and installation.local_gateway(box.db) is not None


def test_eq_device_offers_only_devices_with_thd(client, box):
    web = client("installer")
    page = web.get("/system/gateways/1")
    options = dict(re.findall(r'<option value="(\d*)"[^>]*>([^<]*)</option>',
                              re.search(r'<select id="f-eq".*?</select>', page.text, re.S).group(0)))
    names = " ".join(options.values())
    assert "Main incomer" in names and "Lighting" in names and "Kitchen" not in names
    main = device_named(box.db, "Main incomer")
    form = form_of(page, "/system/gateways/1")
    form["eq"] = str(main.id)
    form.submit(status=303)
    assert device_named(box.db, "Main incomer").eq
    form = form_of(web.get("/system/gateways/1"), "/system/gateways/1")
    form["eq"] = ""
    form.submit(status=303)
    assert not device_named(box.db, "Main incomer").eq


# -- loads, measure groups, panel boards --------------------------------------------------------------
@pytest.mark.parametrize("kind", ["loads", "groups", "boards"])
def test_groupings_add_rename_disable_erase(client, box, kind):
    web = client("installer")
    rows = {"loads": groupings.loads, "groups": groupings.groups, "boards": groupings.panel_boards}[kind]
    page = web.get(f"/system/{kind}/new")
    form = form_of(page, f"/system/{kind}/new")
    form["name"] = f"New {kind}"
    if kind != "loads":
        form["description"] = "first floor"
    form.submit(status=303)
    row = next(r for r in rows(box.db) if r.name == f"New {kind}")
    # rename (a name used already is refused by the field)
    form = form_of(web.get(f"/system/{kind}/{row.id}"), f"/system/{kind}/{row.id}")
    form["name"] = f"Renamed {kind}"
    form.submit(status=303)
    assert next(r for r in rows(box.db) if r.id == row.id).name == f"Renamed {kind}"
    form = form_of(web.get(f"/system/{kind}/new"), f"/system/{kind}/new")
    form["name"] = f"renamed {kind}"   # names compare without case
    refused = form.submit(status=400)
    assert 'id="name-error"' in refused.text
    # Delete -> Disable, then Enable, then Erase
    choice = web.get(f"/system/{kind}/{row.id}/delete")
    form_of(choice, f"/system/{kind}/{row.id}/switch").submit("on", status=303)
    assert not next(r for r in rows(box.db) if r.id == row.id).enabled
    assert "Disabled" in web.get(f"/system/{kind}").text
    choice = web.get(f"/system/{kind}/{row.id}/delete")
    form_of(choice, f"/system/{kind}/{row.id}/switch").submit("on", status=303)
    assert next(r for r in rows(box.db) if r.id == row.id).enabled
    form_of(web.get(f"/system/{kind}/{row.id}/delete"), f"/system/{kind}/{row.id}/erase").submit(status=303)
    assert all(r.id != row.id for r in rows(box.db))


def test_predefined_loads_can_only_be_disabled(client, box):
    web = client("installer")
    heating = next(ld for ld in groupings.loads(box.db) if ld.key == "heating")
    page = web.get(f"/system/loads/{heating.id}")
    assert 'name="name"' not in page.text   # not renamable: no field
    refused = web.post(f"/system/loads/{heating.id}", {"csrf": csrf_of(page), "name": "Warmth"}, status=400)
    assert "cannot be renamed" in refused.text
    assert next(ld for ld in groupings.loads(box.db) if ld.key == "heating").name == "Heating"
    choice = web.get(f"/system/loads/{heating.id}/delete")
    assert f"/system/loads/{heating.id}/erase" not in choice.text
    refused = web.post(f"/system/loads/{heating.id}/erase", {"csrf": csrf_of(page)}, status=400)
    assert "built-in load" in refused.text
    others = next(ld for ld in groupings.loads(box.db) if ld.key == "others")
    assert f"/system/loads/{others.id}/switch" not in web.get(f"/system/loads/{others.id}/delete").text


def test_at_most_eight_user_loads(client, box):
    web = client("installer")
    page = web.get("/system/loads/new")
    made = [r for r in groupings.loads(box.db) if r.kind == "user"]
    for i in range(len(made), 8):
        web.post("/system/loads/new", {"csrf": csrf_of(page), "name": f"Load {i}"}, status=303)
    refused = web.post("/system/loads/new", {"csrf": csrf_of(page), "name": "Ninth"}, status=400)
    assert "at most 8 loads" in refused.text
    for r in groupings.loads(box.db):
        if r.kind == "user":
            groupings.erase_load(box.db, r.id)


# -- settings -----------------------------------------------------------------------------------------
def test_sample_rate_and_status_poll_time(client, box):
    web = client("installer")
    page = web.get("/system/sample-rate")
    form = form_of(page, "/system/sample-rate")
    assert form["sample_rate_min"].value == "10"
    form["sample_rate_min"] = "15"
    assert "Settings saved." in flashes(form.submit(status=303).follow())
    assert settings.get(box.db, "sample_rate_min") == 15
    refused = web.post("/system/sample-rate", {"csrf": csrf_of(page), "sample_rate_min": "7"}, status=400)
    assert 'class="error"' in refused.text and settings.get(box.db, "sample_rate_min") == 15
    settings.set(box.db, "sample_rate_min", "10")

    page = web.get("/system/advanced")
    form = form_of(page, "/system/advanced")
    assert form["poll.status_interval_s"].value == "60"
    form["poll.status_interval_s"] = "30"
    form.submit(status=303)
    assert settings.get(box.db, "poll.status_interval_s") == 30
    assert box.daemon.poller.status_interval == 30   # applied by the reload
    settings.set(box.db, "poll.status_interval_s", "60")


def test_saved_change_warns_when_the_daemon_is_gone(client, box, monkeypatch):
    web = client("installer")
    page = web.get("/system/sample-rate")
    the_box = box.app.config["wsm.box"]
    real = the_box.call

    def gone(cmd, **args):
        if cmd == "reload":
            raise box_mod.DaemonGone("the acquisition service is not running")
        return real(cmd, **args)

    monkeypatch.setattr(the_box, "call", gone)
    done = web.post("/system/sample-rate", {"csrf": csrf_of(page), "sample_rate_min": "5"}, status=303).follow()
    assert settings.get(box.db, "sample_rate_min") == 5
    assert any("did not answer" in m for m in flashes(done))
    monkeypatch.undo()
    settings.set(box.db, "sample_rate_min", "10")


# -- access --------------------------------------------------------------------------------------------
def system_urls(box):
    out = []
    for route in box.app.routes:
        if route.config.get("page") == "system":
            out.append((route.method, re.sub(r"<[a-z]+:int>", "1", route.rule)))
    return out


def test_users_without_the_system_page_get_403_everywhere(client, box):
    urls = system_urls(box)
    assert len(urls) > 30
    web = client("user")
    token = csrf_of(web.get("/"))
    for method, url in urls:
        if method == "GET":
            answer = web.get(url, status="*")
        else:
            answer = web.post(url, {"csrf": token, "name": "x", "on": "off"}, status="*")
        assert answer.status_int == 403, (method, url, answer.status_int)
    for name in ("administrator", "installer", "greenUp"):
        assert client(name).get("/system/gateways").status_int == 200


def test_post_without_csrf_is_refused(client, box):
    web = client("installer")
    before = settings.get(box.db, "sample_rate_min")
    web.post("/system/sample-rate", {"sample_rate_min": "60"}, status=403)
    assert settings.get(box.db, "sample_rate_min") == before
    web.post("/system/loads/new", {"name": "Sneaky"}, status=403)
    assert all(r.name != "Sneaky" for r in groupings.loads(box.db))
    web.post("/system/gateways/1/switch", {"on": "off"}, status=403)
    assert installation.local_gateway(box.db).enabled


# -- size and translations ------------------------------------------------------------------------------
def test_pages_stay_small(client, box):
    web = client("installer")
    assets = sum(len(gzip.compress((ROOT / "web" / "static" / name).read_bytes()))
                 for name in ("style.css", "app.js", "system.css", "system.js", "favicon.svg"))
    for url in ("/system", "/system/gateways?show=devices", "/system/devices/1", "/system/loads",
                "/system/gateways/1/devices/new?family=greenup"):
        page = web.get(url)
        assert len(gzip.compress(page.body)) + assets < 100_000, url


MINE = ["web/pages_system.py", "web/pages_system_common.py", "web/pages_system_gateways.py",
        "web/pages_system_devices.py", "web/pages_system_groupings.py"]


def msgids() -> set[str]:
    """Every literal _("...") of the system pages (Python via ast; templates by pattern)."""
    found = set()
    for name in MINE:
        for node in ast.walk(ast.parse((ROOT / name).read_text())):
            if (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                    and (getattr(node.func, "attr", None) == "_" or getattr(node.func, "id", None) == "_")):
                found.add(node.args[0].value)
    for tpl in (ROOT / "web" / "views").glob("system*.tpl"):
        for literal in re.findall(r'_\(("(?:[^"\\]|\\.)*")\)', tpl.read_text()):
            found.add(ast.literal_eval(literal))
    return found


def test_every_string_is_translated():
    wanted = msgids()
    assert len(wanted) > 100
    for code in CODES:
        if code == SOURCE:
            continue
        po = ROOT / "web" / "locale" / code / "LC_MESSAGES" / "system.po"
        assert po.exists(), po
        have = read_catalog(code)
        missing = sorted(m for m in wanted if not have.get(m))
        assert not missing, f"{code}: {missing[:10]}"
        for m in wanted:   # the placeholders survive translation
            assert set(re.findall(r"\{[a-z_]+\}", m)) == set(re.findall(r"\{[a-z_]+\}", have[m])), (code, m)
