"""System configuration > Bill of consumptions (manual 7.16.3): currency and gas factor, tariffs with
dated prices, ordered cost rules; refusals by field with nothing saved; access; and the daemon
pricing its next slots once a tariff is configured (costs stored in data.db)."""

from __future__ import annotations

import re
import time
import zlib

import pytest
from web import RunningBox, client, csrf_of, port_offset  # noqa: F401

from wsmeasure import settings, tariffs
from wsmeasure.db import open_config
from wsmeasure.store import Store
from wsmeasure.store_time import SLOT


@pytest.fixture(scope="module")
def box(tmp_path_factory, request):
    """A daemon recording 1-second slots, polling every second: costs show up within seconds."""
    data_dir = tmp_path_factory.mktemp("box")
    db = open_config(data_dir)
    settings.set(db, "recorder.slot_s", "1")
    settings.set(db, "poll.interval_s", "1")
    db.close()
    salt = zlib.crc32(request.module.__name__.encode()) % 97
    running = RunningBox(data_dir, port_offset(salt)).start()
    try:
        yield running
    finally:
        running.stop()


def form_of(page, action_end: str):
    found = [f for f in page.forms.values() if (f.action or "").endswith(action_end)]
    assert found, f"no form to ...{action_end} in {[f.action for f in page.forms.values()]}"
    return found[0]


def flashes(page) -> list[str]:
    return re.findall(r'<p class="flash [a-z]+" role="status">([^<]*)</p>', page.text)


def field_error(page, name: str) -> str | None:
    m = re.search(rf'<div class="field invalid"><label for="f-{re.escape(name)}">.*?<p class="error" '
                  rf'id="{re.escape(name)}-error">([^<]*)</p>', page.text, re.S)
    return m.group(1) if m else None


def add_tariff(web, kind: str, name: str, prices: list[tuple[str, str]], colour: str = "#123456", status=303):
    page = web.get(f"/system/bill/{kind}/tariffs/new")
    form = form_of(page, f"/system/bill/{kind}/tariffs/new")
    form["name"] = name
    form["colour"] = colour
    for i, (price, valid_from) in enumerate(prices, 1):
        form[f"price{i}"] = price
        form[f"from{i}"] = valid_from
    return form.submit(status=status)


def add_rule(web, kind: str, status=303, **values):
    page = web.get(f"/system/bill/{kind}/rules/new")
    form = form_of(page, f"/system/bill/{kind}/rules/new")
    weekdays = values.pop("weekdays", None)
    for key, value in values.items():
        if key == "repeat":   # a switch: the hidden "off", then the checkbox
            form.set(key, value, index=1)
        else:
            form[key] = value
    if weekdays is not None:
        for box_ in form.fields["weekdays"]:
            box_.checked = box_._value in weekdays
    return form.submit(status=status)


def named(db, kind, name):
    return next(t for t in tariffs.tariffs(db, kind) if t.name == name)


# -- the menu and the page ------------------------------------------------------------------------------
def test_menu_links_to_the_bill_and_the_page_shows_the_three_kinds(client):
    web = client("installer")
    assert 'href="/system/bill"' in web.get("/system").text
    page = web.get("/system/bill")
    for kind in tariffs.KINDS:
        assert f'href="/system/bill/{kind}"' in page.text
    assert "DEFAULT" in page.text and 'name="currency"' in page.text
    assert 'name="gas_kwh_per_m3"' not in page.text   # the gas factor is on the Gas tab only
    gas = web.get("/system/bill/gas")
    assert 'name="gas_kwh_per_m3"' in gas.text and 'value="10.55"' in gas.text
    web.get("/system/bill/steam", status=404)


def test_user_without_the_system_page_gets_403(client):
    web = client("user")
    web.get("/system/bill", status=403)
    web.get("/system/bill/electricity/tariffs/new", status=403)
    csrf = csrf_of(web.get("/"))
    web.post("/system/bill/electricity/tariffs/new", {"csrf": csrf, "name": "X", "price1": "1"}, status=403)


# -- currency and gas factor ----------------------------------------------------------------------------
def test_currency_and_gas_factor_saved_or_refused_by_field(client, box):
    web = client("installer")
    page = web.get("/system/bill/gas")
    form = form_of(page, "/system/bill/gas/settings")
    form["currency"] = "chf"
    form["gas_kwh_per_m3"] = "11,163"
    done = form.submit(status=303)
    assert "Settings saved." in flashes(done.follow())
    assert tariffs.currency(box.db) == "CHF" and str(tariffs.gas_kwh_per_m3(box.db)) == "11.163"

    form = form_of(web.get("/system/bill/gas"), "/system/bill/gas/settings")
    form["currency"] = "EUR"
    form["gas_kwh_per_m3"] = "25"
    refused = form.submit(status=400)
    assert "at most 20 kWh/m3" in field_error(refused, "gas_kwh_per_m3")
    assert 'value="25"' in refused.text
    assert tariffs.currency(box.db) == "CHF"   # nothing saved, not even the good currency

    form = form_of(web.get("/system/bill/electricity"), "/system/bill/electricity/settings")
    form["currency"] = "ZZZ"
    refused = form.submit(status=400)
    assert "ISO 4217" in field_error(refused, "currency")
    form = form_of(web.get("/system/bill/electricity"), "/system/bill/electricity/settings")
    form["currency"] = "EUR"
    form.submit(status=303)
    assert tariffs.currency(box.db) == "EUR"


# -- tariffs and rules ----------------------------------------------------------------------------------
def test_installer_adds_tariffs_and_rules_and_moves_a_rule(client, box):
    web = client("installer")
    done = add_tariff(web, "water", "Standard", [("3,5", "")])
    assert "Tariff Standard saved." in flashes(done.follow())
    add_tariff(web, "water", "Summer", [("4.1", "2024-06-01"), ("4.25", "2025-06-01")], colour="#00aa00")
    standard, summer = named(box.db, "water", "Standard"), named(box.db, "water", "Summer")
    assert standard.colour == "#123456" and str(standard.prices[0].price) == "3.50000"
    assert [str(p.valid_from) for p in summer.prices] == ["2024-06-01", "2025-06-01"]
    assert tariffs.rules(box.db, "water")[-1].tariff_id == standard.id   # the first tariff is the DEFAULT's

    page = web.get("/system/bill/water")
    assert 'fill="#00aa00"' in page.text and "4.10/m3 from 2024-06-01" in page.text

    add_rule(web, "water", tariff=str(summer.id), date_from="2024-06-21", date_to="2024-09-22", repeat=True)
    add_rule(web, "water", tariff=str(standard.id), time_from="22:00", time_to="05:59",
             weekdays=["sat", "sun"])
    first, second, default = tariffs.rules(box.db, "water")
    assert first.tariff_id == summer.id and first.repeat and default.default
    assert (second.time_from, second.time_to, second.weekdays) == (22 * 60, 5 * 60 + 59, frozenset({5, 6}))

    page = web.get("/system/bill/water")
    assert "2024-06-21 to 2024-09-22, every year" in page.text and "22:00–05:59" in page.text
    move = form_of(page, f"/system/bill/water/rules/{second.id}/move")
    done = move.submit("direction", index=0, status=303)   # Move up
    assert "Cost rule moved." in flashes(done.follow())
    assert [r.id for r in tariffs.rules(box.db, "water")] == [second.id, first.id, default.id]

    # edit a rule, then delete it through its confirmation page
    page = web.get(f"/system/bill/water/rules/{first.id}")
    form = form_of(page, f"/system/bill/water/rules/{first.id}")
    assert form["date_from"].value == "2024-06-21"
    form["time_from"] = "08:00"
    form.submit(status=303)
    assert tariffs.rules(box.db, "water")[1].time_from == 8 * 60
    confirm = web.get(f"/system/bill/water/rules/{first.id}/delete")
    form_of(confirm, f"/system/bill/water/rules/{first.id}/delete").submit(status=303)
    assert [r.id for r in tariffs.rules(box.db, "water")] == [second.id, default.id]

    # the DEFAULT rule: its tariff only; it cannot be moved or deleted
    page = web.get("/system/bill/water/rules/default")
    assert 'name="date_from"' not in page.text
    form = form_of(page, "/system/bill/water/rules/default")
    form["tariff"] = str(summer.id)
    form.submit(status=303)
    assert tariffs.rules(box.db, "water")[-1].tariff_id == summer.id
    csrf = csrf_of(page)
    web.post(f"/system/bill/water/rules/{default.id}/move", {"csrf": csrf, "direction": "up"}, status=404)
    web.post(f"/system/bill/water/rules/{default.id}/delete", {"csrf": csrf}, status=404)

    # a tariff in use is not deleted; one no rule uses is (its costs stay under its ID)
    confirm = web.get(f"/system/bill/water/tariffs/{summer.id}/delete")
    refused = form_of(confirm, f"/system/bill/water/tariffs/{summer.id}/delete").submit(status=400)
    assert "choose another tariff for the DEFAULT rule first" in refused.text
    web.post(f"/system/bill/water/rules/{second.id}/delete", {"csrf": csrf}, status=303)
    confirm = web.get(f"/system/bill/water/tariffs/{standard.id}/delete")
    done = form_of(confirm, f"/system/bill/water/tariffs/{standard.id}/delete").submit(status=303)
    assert "Tariff Standard deleted." in flashes(done.follow())
    assert [t.name for t in tariffs.tariffs(box.db, "water")] == ["Summer"]
    assert standard.id in tariffs.cost_quantities(box.db, "water")


REFUSED_TARIFFS = [
    # prices                              field     says
    ([("", "")],                          "price1", "at least one price"),
    ([("abc", "")],                       "price1", "is not a price per m3"),
    ([("-1", "")],                        "price1", "is not a price per m3"),
    ([("0.123456", "")],                  "price1", "up to 5 decimals"),
    ([("1", "2024-01-01"), ("2", "")],    "from2",  "each needs the date"),
    ([("1", "2024-01-01"), ("2", "2024-01-01")], "from2", "one price per date"),
    ([("1", "2024-13-01")],               "from1",  "is not a date"),
    ([("", "2024-01-01")],                "price1", "is missing"),
]


@pytest.mark.parametrize("prices, field, says", REFUSED_TARIFFS)
def test_refused_tariff_shows_by_field_and_saves_nothing(client, box, prices, field, says):
    web = client("installer")
    before = tariffs.tariffs(box.db, "gas")
    refused = add_tariff(web, "gas", "Refused", prices, status=400)
    assert says in (field_error(refused, field) or ""), refused.text
    assert 'value="Refused"' in refused.text   # typed values kept
    assert tariffs.tariffs(box.db, "gas") == before


def test_refused_rule_shows_by_field_and_saves_nothing(client, box):
    web = client("installer")
    if not tariffs.tariffs(box.db, "gas"):
        add_tariff(web, "gas", "Gas base", [("1.2", "")])
    gid = str(tariffs.tariffs(box.db, "gas")[0].id)
    before = tariffs.rules(box.db, "gas")
    cases = [
        (dict(tariff=gid, time_from="25:00"), "time_from", "is not a time"),
        (dict(tariff=gid, date_to="2024-01-01"), "date_from", "needs its first day"),
        (dict(tariff=gid, date_from="2024-05-01", date_to="2024-04-01"), "date_to", "before it begins"),
        (dict(tariff=gid, repeat=True), "repeat", "needs a date or a period"),
        (dict(tariff=gid, weekdays=[]), "weekdays", "at least one day"),
    ]
    for values, field, says in cases:
        refused = add_rule(web, "gas", status=400, **values)
        if field == "weekdays":
            assert says in refused.text
        else:
            assert says in (field_error(refused, field) or ""), (field, refused.text)
    assert tariffs.rules(box.db, "gas") == before


def test_at_most_five_tariffs_per_kind(client, box):
    web = client("installer")
    for n in range(len(tariffs.tariffs(box.db, "electricity")), tariffs.MAX_TARIFFS):
        add_tariff(web, "electricity", f"Tariff {n + 1}", [("0.2", "")])
    page = web.get("/system/bill/electricity")
    assert "/system/bill/electricity/tariffs/new" not in page.text
    refused = add_tariff(web, "electricity", "Sixth", [("0.2", "")], status=400)
    assert "at most 5 electricity tariffs" in refused.text
    for t in tariffs.tariffs(box.db, "electricity")[1:]:   # leave one for the next test
        tariffs.delete_tariff(box.db, t.id)


def test_the_page_is_translated(client):
    web = client("installer")
    page = web.get("/system/bill")
    web.post("/language", {"csrf": csrf_of(page), "lang": "fr", "next": "/system/bill"}, status=303)
    try:
        french = web.get("/system/bill/gas")
        assert "Facteur de conversion" in french.text and "Règles de coût" in french.text
    finally:
        web.post("/language", {"csrf": csrf_of(french), "lang": "en", "next": "/"}, status=303)


# -- the daemon prices its next slots -----------------------------------------------------------------------
def test_after_a_tariff_is_configured_the_next_slots_get_costs(client, box):
    web = client("installer")
    if not tariffs.tariffs(box.db, "electricity"):
        add_tariff(web, "electricity", "Base", [("0.2", "")])
    tariff = tariffs.tariffs(box.db, "electricity")[0]
    form = form_of(web.get("/system/bill/electricity/rules/default"), "/system/bill/electricity/rules/default")
    form["tariff"] = str(tariff.id)
    form.submit(status=303)   # saved, and the daemon reloaded: it prices from the next slot on
    since = int(time.time()) + 1
    store = Store(box.daemon.data_dir, settings.get(box.db, "time.zone"), readonly=True)
    try:
        deadline = time.monotonic() + 30
        priced = []
        while time.monotonic() < deadline and not priced:
            time.sleep(0.5)
            priced = [r for r in store.slot_records(since, since + 3600, costs=True)
                      if tariff.quantity in r.counters]
        assert priced, "no cost rows after the tariff was configured"
        price = tariff.prices[-1].price   # one undated price: valid always
        for r in priced:
            assert r.counters[tariff.quantity].delta == tariffs.cost_micro(r.counters["Ea+"].delta, price)
            assert r.counters[tariff.quantity].index == 0
        # the CSV side never sees them; the sums do
        assert not any(tariff.quantity in r.counters for r in store.slot_records(since, since + 3600))
        devices = {r.device_id for r in priced}
        got = store.sums(SLOT, since, since + 3600, {tariff.quantity: devices})
        assert sum(got.values()) >= sum(r.counters[tariff.quantity].delta for r in priced) >= 0
    finally:
        store.close()
