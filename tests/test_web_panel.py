"""My panel board (manual 8.2.1): the demo installation's devices with their status, the Measure
page of a device with its values and units, the live JSON API, who may open it, filters per
gateway and panel board, the page weight, the phone layout."""

from __future__ import annotations

import gzip
import json
import re
import ssl
import time
import urllib.request
from html import unescape

import pytest
from web import box, client, login  # noqa: F401

from wsmeasure import groupings, installation, settings
from wsmeasure.web.i18n import catalog
from wsmeasure.web.pages_panel import number, scaled

DEMO = ("Main incomer", "Lighting", "Heating", "Water main", "Kitchen", "Hot water", "Gas boiler",
        "Third-party meter", "DPX3 630 general", "Ventilation", "Signalling interface")


@pytest.fixture(scope="module")
def polled(box):  # noqa: F811
    """name -> device of the status, once the daemon has read every demo device (1 s polls)."""
    settings.set(box.db, "poll.interval_s", "1")
    box.call("reload")
    deadline = time.monotonic() + 60
    while True:
        devices = {d["name"]: d for g in box.call("status")["gateways"] for d in g["devices"]}
        if all(devices.get(n, {}).get("values") for n in DEMO):
            return devices
        assert time.monotonic() < deadline, {n: d["status"] for n, d in devices.items()}
        time.sleep(0.3)


def cell(page_text: str, quantity: str) -> str:
    """The text of the value cell of a quantity on the page."""
    m = re.search(r'data-q="%s"[^>]*>([^<]*)<' % re.escape(quantity), page_text)
    assert m, f"no cell for {quantity}"
    return unescape(m.group(1))


def listed(page_text: str) -> dict[str, str]:
    """device name -> its status in section A."""
    items = re.findall(r'<li data-dev="\d+" data-status="(\w+)">.*?<span class="name">([^<]*)</span>', page_text, re.S)
    return {unescape(name): status for status, name in items}


def test_the_demo_devices_are_listed_with_their_status(client, polled):  # noqa: F811
    page = client("installer").get("/panel")
    devices = listed(page.text)
    for name in DEMO:
        assert devices.get(name) == "on", name
    assert 'aria-label="On"' in page.text
    # address - position of pulse counters
    assert re.search(r'<span class="addr"[^>]*>3-1</span>\s*<span class="name">Water main', page.text)
    # the breaker's state icon, the functions of the supervision interface
    dpx3 = re.search(r'data-dev="%d".*?</li>' % polled["DPX3 630 general"]["id"], page.text, re.S).group(0)
    assert re.search(r'class="icon brk brk-(open|closed|tripped)"', dpx3)
    signalling = re.search(r'data-dev="%d".*?</li>' % polled["Signalling interface"]["id"], page.text, re.S).group(0)
    for function in ("measure", "state", "command"):
        assert f"fn-{function}" in signalling
    lighting = re.search(r'data-dev="%d".*?</li>' % polled["Lighting"]["id"], page.text, re.S).group(0)
    assert "fn-state" not in lighting and "icon brk" not in lighting
    assert "/static/panel.css" in page.text and "/static/panel.js" in page.text


def test_a_meter_shows_its_energies_powers_voltages_and_harmonics(client, polled):  # noqa: F811
    web = client("installer")
    page = web.get(f"/panel?device={polled['Main incomer']['id']}")
    for heading in ("Energy", "Power", "Voltages, currents and frequency", "Total harmonic distortion (THD)",
                    "Harmonics"):
        assert f"<h3>{heading}</h3>" in page.text
    assert re.fullmatch(r"\d[\d,]*\.\d{3}\xa0(kWh|MWh)", cell(page.text, "Ea+"))
    assert re.fullmatch(r"\d[\d,]*(\.\d{3})?\xa0(Wh|kWh|MWh)", cell(page.text, "Ea-"))
    assert re.fullmatch(r"\d[\d,]*(\.\d{3})?\xa0(varh|kvarh|Mvarh)", cell(page.text, "Er+"))
    assert re.fullmatch(r"2\d\d\.\d\xa0V", cell(page.text, "V1"))
    assert re.fullmatch(r"[34]\d\d\.\d\xa0V", cell(page.text, "U12"))
    assert re.fullmatch(r"\d+\.\d\d\xa0A", cell(page.text, "I1"))
    assert re.fullmatch(r"\d\d\.\d\d\xa0Hz", cell(page.text, "F"))
    assert re.fullmatch(r"-?\d[\d,]*(\.\d\d)?\xa0(W|kW)", cell(page.text, "P"))
    assert re.fullmatch(r"-?[01]\.\d{3}", cell(page.text, "PF"))
    assert re.fullmatch(r"\d+\.\d\xa0%", cell(page.text, "H3_I1"))
    # an Access meter has THD, no harmonics
    page = web.get(f"/panel?device={polled['Lighting']['id']}")
    assert "<h3>Total harmonic distortion (THD)</h3>" in page.text and "<h3>Harmonics</h3>" not in page.text


def test_the_api_gives_values_that_change_over_time(client, polled):  # noqa: F811
    web = client("installer")
    ident = polled["Ventilation"]["id"]
    first = web.get(f"/api/panel?device={ident}").json
    assert first["ok"] is True
    assert {d["id"] for d in first["devices"]} >= {d["id"] for d in polled.values()}
    assert all(set(d) >= {"id", "status", "status_text", "breaker"} for d in first["devices"])
    device = first["device"]
    assert device["id"] == ident and device["status"] == "on" and device["read_at"]
    energy = device["values"]["Ea+"]
    assert set(energy) == {"value", "text", "unit", "state"} and energy["unit"] in ("kWh", "MWh")
    deadline = time.monotonic() + 40
    while True:   # the virtual meter's energy grows (Wh resolution) and its readings are fresh
        later = web.get(f"/api/panel/{ident}").json["device"]
        if later["values"]["Ea+"]["value"] > energy["value"] and later["read_at"] > device["read_at"]:
            break
        assert time.monotonic() < deadline, (energy, later["values"]["Ea+"])
        time.sleep(1)
    web.get("/api/panel/99999", status=404)


def test_water_and_gas_counters_show_volumes(client, polled):  # noqa: F811
    web = client("installer")
    page = web.get(f"/panel?device={polled['Water main']['id']}")
    assert "<h3>Water consumption</h3>" in page.text and "<h3>Energy</h3>" not in page.text
    assert re.fullmatch(r"\d[\d,]*\.\d{3}\xa0m³|\d{1,3}\xa0dm³", cell(page.text, "water"))
    values = web.get(f"/api/panel/{polled['Gas boiler']['id']}").json["device"]["values"]
    assert set(values) == {"gas"} and values["gas"]["unit"] in ("dm³", "m³")


@pytest.mark.parametrize("name, value, lang, expected", [
    ("water", 999, "en", ("999", "dm³")),
    ("water", 2901741, "en", ("2,901.741", "m³")),
    ("gas", 2901741, "de", ("2\u202f901,741", "m³")),
    ("Ea+", 999, "en", ("999", "Wh")),
    ("Ea+", 53_052, "en", ("53.052", "kWh")),
    ("Ea+", 53_051_000, "fr", ("53,051", "MWh")),
    ("Er-", 1_500, "en", ("1.500", "kvarh")),
    ("P", -1234, "en", ("-1.23", "kW")),
    ("S", 2_500_000, "it", ("2,500", "MVA")),
    ("V1", 230.04, "en", ("230.0", "V")),
    ("PF", 0.9031, "en", ("0.903", "")),
    ("F", 49.999, "en", ("50.00", "Hz")),
    ("THD_I1", -0.01, "en", ("0.0", "%")),
    ("I1", None, "en", ("\u2014", "")),
])
def test_values_are_scaled_and_formatted_for_the_language(name, value, lang, expected):
    assert scaled(name, value, lang) == expected


def test_numbers_group_thousands_per_language():
    assert number(1234567.891, 2, "en") == "1,234,567.89"
    assert number(1234567.891, 2, "nl_BE") == "1\u202f234\u202f567,89"


def test_state_devices_show_their_states_and_generic_meters_only_energy(client, polled):  # noqa: F811
    web = client("installer")
    page = web.get(f"/panel?device={polled['DPX3 630 general']['id']}")
    assert "<h3>State</h3>" in page.text and cell(page.text, "breaker") in ("Open", "Closed", "Tripped")
    assert cell(page.text, "alarm") == "No alarm"
    page = web.get(f"/panel?device={polled['Signalling interface']['id']}")
    assert cell(page.text, "in1") in ("On", "Off") and cell(page.text, "out4") in ("On", "Off")
    assert re.fullmatch(r"\d+\.\d\d\xa0mA", cell(page.text, "ain1"))
    assert "<button" not in page.text.split('class="values')[1]   # commands are not offered here
    for name in ("Third-party meter", "Kitchen"):
        values = web.get(f"/api/panel/{polled[name]['id']}").json["device"]["values"]
        assert set(values) == {"Ea+"}, name


def wait_status(box, ident: int, status: str) -> None:  # noqa: F811
    deadline = time.monotonic() + 40
    while next(d for g in box.call("status")["gateways"] for d in g["devices"] if d["id"] == ident)["status"] != status:
        assert time.monotonic() < deadline, status
        time.sleep(0.3)


def test_a_communication_error_keeps_the_last_values_with_their_time(box, client, polled):  # noqa: F811
    web = client("installer")
    ident = polled["Lighting"]["id"]
    assert box.call("fault", id=ident, fault="silent")["ok"]
    try:
        wait_status(box, ident, "error")
        page = web.get(f"/panel?device={ident}")
        assert listed(page.text)["Lighting"] == "error" and 'aria-label="Communication error"' in page.text
        assert "Communication error: the values shown are the last ones read, at" in page.text
        assert 'class="groups stale"' in page.text and re.fullmatch(r"2\d\d\.\d\xa0V", cell(page.text, "V1"))
        device = web.get(f"/api/panel/{ident}").json["device"]
        assert device["status"] == "error" and device["values"]["V1"]["unit"] == "V"
    finally:
        box.call("fault", id=ident, fault=None)
    wait_status(box, ident, "on")


def test_other_users_and_strangers_are_refused(box, client, polled):  # noqa: F811
    user = client("user")
    user.get("/panel", status=403)
    for url in ("/api/panel", "/api/panel/1"):
        answer = user.get(url, status=403)
        assert answer.content_type == "application/json" and answer.json["ok"] is False
    for name in ("administrator", "greenUp"):
        client(name).get("/panel", status=200)
    from web import browser_for

    stranger = browser_for(box.app)
    assert stranger.get("/api/panel", status=401).json["ok"] is False
    assert "/login?next=/panel" in stranger.get("/panel", status=303).headers["Location"]


def test_filter_per_gateway_and_panel_board_and_off_devices(box, client, polled):  # noqa: F811
    board = groupings.add_panel_board(box.db, "Basement board")
    remote = installation.add_gateway(box.db, "192.0.2.10", name="Basement gateway", panel_board=board.id,
                                      enabled=False)
    meter = installation.add_device(box.db, remote.id, "emdx3_meter", "0 146 68", 7, "Basement meter")
    box.call("reload")
    web = client("installer")
    everything = listed(web.get("/panel").text)
    assert everything["Basement meter"] == "off" and everything["Main incomer"] == "on"
    local = installation.local_gateway(box.db).id
    page = web.get(f"/panel?list=gateway-{local}")
    assert set(listed(page.text)) == set(DEMO)
    assert f'<option value="gateway-{local}" selected>' in page.text
    assert f'<option value="board-{board.id}">Basement board</option>' in page.text
    for which in (f"board-{board.id}", f"gateway-{remote.id}"):
        page = web.get(f"/panel?list={which}")
        assert listed(page.text) == {"Basement meter": "off"}, which
        # an OFF device is listed, never shown with measures (manual 7.16.1.5)
        assert "This device is switched OFF" in page.text and "data-q=" not in page.text
    api = web.get(f"/api/panel?list=board-{board.id}&device={meter.id}").json
    assert [d["id"] for d in api["devices"]] == [meter.id] and api["device"]["values"] == {}
    # an unknown list shows every device; an unknown device is a 404 with the list
    assert set(listed(web.get("/panel?list=board-999").text)) == set(everything)
    assert "There is no device with this ID." in web.get("/panel?device=99999", status=404).text


def test_translated_labels_and_decimal_comma(box, polled):  # noqa: F811
    from web import csrf_of

    web = login(box.app, "greenUp")
    home = web.get("/")
    web.post("/language", {"csrf": csrf_of(home), "lang": "de", "next": "/panel"})
    page = web.get(f"/panel?device={polled['Main incomer']['id']}")
    de = catalog("de").gettext
    for english in ("Active energy imported", "Voltages, currents and frequency", "Active power", "Total", "Harmonics"):
        assert de(english) != english and de(english) in page.text, english
    assert "Wirkenergie" in page.text
    assert re.fullmatch(r"\d[\d\u202f]*,\d{3}\xa0(kWh|MWh)", cell(page.text, "Ea+"))
    assert re.fullmatch(r"2\d\d,\d\xa0V", cell(page.text, "V1"))
    api = web.get(f"/api/panel/{polled['DPX3 630 general']['id']}").json["device"]
    assert api["status_text"] == de("On") != "On"
    assert api["values"]["breaker"]["text"] in (de("Open"), de("Closed"), de("Tripped"))


def test_the_page_and_its_assets_weigh_under_100_kb_compressed(box, client, polled):  # noqa: F811
    sid = client("installer").cookies["wsm_sid"]
    unverified = ssl.create_default_context()
    unverified.check_hostname = False
    unverified.verify_mode = ssl.CERT_NONE

    def fetch(path: str) -> tuple[bytes, bytes]:
        request = urllib.request.Request(box.https + path, headers={"Accept-Encoding": "gzip",
                                                                    "Cookie": f"wsm_sid={sid}"})
        with urllib.request.urlopen(request, context=unverified, timeout=30) as answer:
            assert answer.status == 200, path
            raw = answer.read()
            gzipped = answer.headers.get("Content-Encoding") == "gzip"
        return raw, gzip.decompress(raw) if gzipped else raw

    raw, html = fetch(f"/panel?device={polled['Main incomer']['id']}")   # the heaviest: harmonics
    assert b'data-q="H31_I3"' in html
    assets = re.findall(rb'(?:href|src)="(/static/[^"]+\.(?:css|js)[^"]*)"', html)
    assert any(b"panel.css" in a for a in assets) and any(b"panel.js" in a for a in assets)
    total = len(raw) + sum(len(fetch(unescape(a.decode()))[0]) for a in assets)
    assert total < 100 * 1024, total
    raw, body = fetch(f"/api/panel?device={polled['Main incomer']['id']}")
    assert json.loads(body)["ok"] is True and len(raw) < len(body)   # the API is compressed too


def browser_login(box, page):  # noqa: F811
    """Give the browser a logged-in installer session."""
    web = login(box.app, "installer")
    page.context.add_cookies([{"name": "wsm_sid", "value": web.cookies["wsm_sid"], "url": box.https}])


@pytest.mark.browser
def test_live_refresh_in_a_browser(box, polled, page):  # noqa: F811
    browser_login(box, page)
    page.goto(f"{box.https}/panel?device={polled['Ventilation']['id']}")
    first = page.inner_text("[data-read-at]")
    page.wait_for_function("t => document.querySelector('[data-read-at]').textContent !== t", arg=first,
                           timeout=15_000)   # new values without reloading (1 s polls, 3 s refresh)
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
    values = page.locator(".values").bounding_box()
    devices = page.locator(".devices").bounding_box()
    assert devices["x"] + devices["width"] <= values["x"]   # side by side on a desktop
    assert page.console_errors == []


@pytest.mark.browser
def test_phone_layout_puts_the_list_above_the_values(box, polled, phone_page):  # noqa: F811
    browser_login(box, phone_page)
    phone_page.goto(f"{box.https}/panel?device={polled['Signalling interface']['id']}")
    devices = phone_page.locator(".devices").bounding_box()
    values = phone_page.locator(".values").bounding_box()
    assert devices["y"] + devices["height"] <= values["y"]
    assert devices["height"] < 844 / 2   # collapsed: the values start on the first screen
    assert values["width"] <= 390 and phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    assert phone_page.locator(".devs a[aria-current]").is_visible()   # scrolled into the short list
    assert phone_page.console_errors == []
