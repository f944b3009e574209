"""Consumptions (manual 8.2.2): the pages, their JSON and datalogger.csv on a box whose data.db
holds two years and more of history of the demo installation, with tariffs.

The history is written before the daemon starts, as the daemon writes it (Store.write_slot with
the tariffs' pricer): hourly slots for the last weeks, one slot a day before that, a day with no
slot at all. The live recorder only adds to the current hour, so every check is on past periods.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zlib
from datetime import date, datetime, timedelta
from html import unescape

import pytest
from web import RunningBox, client, login, port_offset  # noqa: F401

from wsmeasure import aggregates, groupings, installation, settings, tariffs, users
from wsmeasure.db import open_config
from wsmeasure.records import Counter, SlotRecord
from wsmeasure.store import Store
from wsmeasure.store_time import zone as load_zone
from wsmeasure.virtual import DEMO

HOURLY_DAYS = 45          # hourly slots for these last days, one slot a day before
BASE = {"Ea+": 300, "water": 40, "gas": 90}
PAGES = ("total", "overall", "partials", "compare", "details", "tariffs", "tariffs/details")


def delta(device: int, quantity: str, ts: int, slot_s: int) -> int:
    """Deterministic consumption of a slot; the Kitchen's night hours are a recorded 0."""
    hour = ts // 3600
    if device == 5 and hour % 24 < 6 and slot_s == 3600:
        return 0
    return BASE[quantity] * (1 + (device * 7 + hour) % 5) * slot_s // 3600


def seed_history(data_dir) -> dict:
    """config.db with the demo installation and tariffs, data.db with its past; returns facts."""
    db = open_config(data_dir)
    try:
        local = installation.local_gateway(db)
        for row in DEMO:
            installation.add_device(db, local.id, **row)
        settings.set(db, "virtual.seeded", "on")
        group = groupings.add_group(db, "Ground floor")
        for device in installation.devices(db):
            if device.name in ("Lighting", "Kitchen", "Hot water"):
                installation.set_device_groups(db, device.id, [group.id])
        full = tariffs.add_tariff(db, "electricity", "Full hours", "#e8590c", prices=[("0.2", None)])
        night = tariffs.add_tariff(db, "electricity", "Off-peak hours", "#1971c2", prices=[("0.1", None)])
        tariffs.add_rule(db, "electricity", night.id, time_from="22:00", time_to="05:59")
        tariffs.add_tariff(db, "water", "Water", "#15aabf", prices=[("3.5", None)])
        tariffs.add_tariff(db, "gas", "Gas", "#2f9e44", prices=[("1.1", None)])
        members = aggregates.members_from_config(db)
        pricer = tariffs.pricer(db)
        tz = load_zone(settings.get(db, "time.zone"))
    finally:
        db.close()
    now = datetime.now(tz)
    today = now.date()
    hourly_from = today - timedelta(days=HOURLY_DAYS)
    gap = today - timedelta(days=20)
    first = date(today.year - 2, 1, 1)
    end = int(now.replace(minute=0, second=0, microsecond=0).timestamp())
    with Store(data_dir, "") as store:
        day = first
        while day < today or day == today:
            midnight = int(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp())
            if day < hourly_from:
                slots = [(midnight, 86400)]
            else:
                nxt = datetime.combine(day + timedelta(days=1), datetime.min.time(), tz)
                slots = [(t, 3600) for t in range(midnight, min(int(nxt.timestamp()), end), 3600)]
            if day != gap:
                records = [SlotRecord(dev, ts, slot_s, {q: Counter(delta(dev, q, ts, slot_s), 0)})
                           for ts, slot_s in slots for dev, q in sorted(members.counters.items())]
                store.write_slot(records, None, pricer)
            day += timedelta(days=1)
        store.write_slot([], {})          # no counter baselines: the recorder starts afresh
        store.retain(end)                 # as the daemon would: slots kept 40 days (the CSV repair)
    return {"today": today, "gap": gap, "hourly_from": hourly_from, "members": members, "tz": tz}


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("box")
    facts = seed_history(data_dir)
    facts["data_dir"] = data_dir
    return facts


@pytest.fixture(scope="module")
def box(history, request):
    salt = zlib.crc32(request.module.__name__.encode()) % 97
    running = RunningBox(history["data_dir"], port_offset(salt)).start()
    try:
        yield running
    finally:
        running.stop()


def api(web, page: str, **query):
    return web.get(f"/api/consumptions/{page}", params=query).json


def bar(data: dict, chart: str = None) -> dict:
    return next(c for c in data["charts"] if chart is None or c["id"] == chart)


# -- the sums agree across views and with datalogger.csv --------------------------------------------
def test_day_month_year_and_ten_years_agree(client, history):
    web = client("user")
    day = history["today"] - timedelta(days=30)
    d = api(web, "total", view="day", date=day.isoformat())
    m = api(web, "total", view="month", date=day.isoformat())
    chart_d, chart_m = bar(d), bar(m)
    hours = chart_d["buckets"]
    assert len(hours) == len(d["labels"]) in (23, 24, 25)
    assert chart_d["total"] == sum(hours) > 0
    assert m["labels"][day.day - 1] and chart_m["buckets"][day.day - 1] == chart_d["total"]
    # each load's day is its hours
    for s in chart_d["series"]:
        assert s["total"] == sum(v for v in s["buckets"] if v is not None)
    # a past month: its days add up to the month, which is the year's bar of that month
    last_year = history["today"].year - 1
    for month in (2, 7):
        mm = bar(api(web, "total", view="month", date=f"{last_year}-{month:02d}-15"))
        assert mm["total"] == sum(v for v in mm["buckets"] if v is not None) > 0
        yy = bar(api(web, "total", view="year", date=f"{last_year}-06-01"))
        assert yy["buckets"][month - 1] == mm["total"]
    yy = api(web, "total", view="year", date=f"{last_year}-06-01")
    assert bar(yy)["total"] == sum(bar(yy)["buckets"])
    assert len(yy["labels"]) == 12 and yy["labels"][0] == "January"
    decade = api(web, "total", view="10years", date=f"{last_year}-06-01")
    assert decade["labels"] == [str(y) for y in range(last_year - 9, last_year + 1)]
    assert bar(decade)["buckets"][-1] == bar(yy)["total"]
    assert bar(decade)["buckets"][0] is None          # nothing recorded then: null, not 0
    assert bar(decade)["previous_total"] is None


def test_the_grand_total_is_the_sum_of_the_loads_and_of_the_devices(client, history):
    web = client("user")
    day = (history["today"] - timedelta(days=10)).isoformat()
    chart = bar(api(web, "total", view="day", date=day))
    members = history["members"]
    assert chart["stacked"] and len(chart["series"]) >= 3
    assert chart["total"] == sum(s["total"] for s in chart["series"] if s["total"] is not None)
    names = {s["name"] for s in chart["series"]}
    assert {"Heating", "Lighting", "Others"} <= names
    # the devices billed on Ea+, one by one on the Details page
    each = 0
    for dev, q in members.counters.items():
        if q == "Ea+" and dev not in members.excluded:
            each += bar(api(web, "details", device=dev, view="day", date=day))["total"] or 0
    assert each == chart["total"]
    # overall: the same electricity, and gas and water of their own
    overall = api(web, "overall", view="day", date=day)
    assert bar(overall, "electricity")["total"] == chart["total"]
    assert bar(overall, "gas")["raw_unit"] == "dm³" and bar(overall, "water")["total"] > 0
    shares = bar(overall, "shares")
    assert shares["type"] == "pie" and shares["quantity"] == "cost"
    assert abs(sum(s["percent"] for s in shares["series"]) - 100) < 1e-6


def test_a_day_without_data_is_null_and_a_recorded_zero_is_zero(client, history):
    web = client("user")
    gap = history["gap"]
    d = bar(api(web, "total", view="day", date=gap.isoformat()))
    assert d["total"] is None and set(d["buckets"]) == {None}
    m = bar(api(web, "total", view="month", date=gap.isoformat()))
    assert m["buckets"][gap.day - 1] is None
    kitchen = bar(api(web, "details", device=5, view="day", date=(gap - timedelta(days=1)).isoformat()))
    assert kitchen["series"][0]["buckets"][2] == 0
    page = web.get("/consumptions/total", params={"view": "day", "date": gap.isoformat()})
    assert "\u2014" in page.text


def test_datalogger_csv_has_the_buckets_of_the_period(client, box, history):
    web = client("user")
    day = (history["today"] - timedelta(days=3)).isoformat()
    data = api(web, "total", view="day", date=day)
    answer = web.get("/consumptions/total/datalogger.csv", params={"view": "day", "date": day})
    assert answer.content_type == "text/csv"
    assert 'filename="datalogger.csv"' in answer.headers["Content-Disposition"]
    assert answer.body.startswith("\ufeff".encode()) and b"\r\n" in answer.body
    rows = list(csv.reader(io.StringIO(answer.body.decode("utf-8-sig")), delimiter=";"))
    header, lines = rows[0], rows[1:]
    chart = bar(data)
    assert header[:2] == ["date", "UTC offset"]
    assert header[2:] == [f"{s['name']} (Wh)" for s in chart["series"]] + [f"{chart['title']} (Wh)"]
    assert len(lines) == len(data["labels"])
    assert [int(r[-1]) for r in lines] == chart["buckets"]
    assert sum(int(r[-1]) for r in lines) == chart["total"]
    assert lines[0][0] == f"{day} 00:00:00" and lines[0][1].startswith("UTC")
    # costs in the currency with the decimal separator of the CSV settings
    settings.set(box.db, "csv.decimal_separator", "point")
    settings.set(box.db, "csv.field_separator", "comma")
    try:
        costs = web.get("/consumptions/tariffs/datalogger.csv", params={"view": "month", "date": day}).body
        rows = list(csv.reader(io.StringIO(costs.decode("utf-8-sig"))))
        assert rows[0][2:4] == ["Full hours (EUR)", "Off-peak hours (EUR)"]
        total = bar(api(web, "tariffs", view="month", date=day), "tariff-bars")["total"]
        assert round(sum(float(r[-1] or 0) for r in rows[1:]) * 1e6) == total
        assert any("." in r[-1] for r in rows[1:])
    finally:
        settings.set(box.db, "csv.field_separator", "semicolon")
        settings.set(box.db, "csv.decimal_separator", "comma")


def test_previous_and_next(client, history):
    web = client("user")
    today = history["today"]
    day = today - timedelta(days=12)
    d = api(web, "total", view="day", date=day.isoformat())
    assert d["prev"] == (day - timedelta(days=1)).isoformat()
    assert d["next"] == (day + timedelta(days=1)).isoformat()
    before = bar(api(web, "total", view="day", date=d["prev"]))
    chart = bar(d)
    assert chart["previous_total"] == before["total"]
    assert chart["difference"] == chart["total"] - before["total"]
    assert api(web, "total", view="day")["next"] is None           # today: no next day yet
    m = api(web, "total", view="month", date="2024-03-31")
    assert (m["prev"], m["next"]) == ("2024-02-29", "2024-04-01")
    y = api(web, "total", view="year", date="2024-03-31")
    assert (y["prev"], y["next"]) == ("2023-01-01", "2025-01-01")
    page = web.get("/consumptions/total", params={"view": "day", "date": day.isoformat()})
    assert f"date={d['prev']}" in page.text and f"date={d['next']}" in page.text
    assert 'type="date"' in page.text and f'value="{day.isoformat()}"' in page.text


def test_bad_dates_and_views_are_refused_with_a_message(client):
    web = client("user")
    for query in ({"view": "week"}, {"date": "2024-02-30"}, {"date": "yesterday"}, {"date": "1900-01-01"},
                  {"view": "day", "date": "20240101"}):
        page = web.get("/consumptions/total", params=query, status=400)
        assert "<h1>" in page.text and ("view" in page.text or "date" in page.text.lower())
        answer = web.get("/api/consumptions/total", params=query, status=400)
        assert answer.json["ok"] is False and answer.json["error"]
        web.get("/consumptions/total/datalogger.csv", params=query, status=400)
    assert "2024-02-30" in web.get("/api/consumptions/total", params={"date": "2024-02-30"}, status=400).json["error"]
    web.get("/consumptions/details", params={"device": "9999"}, status=404)
    web.get("/consumptions/details", params={"device": "x"}, status=400)
    web.get("/consumptions/partials", params={"load": "abc"}, status=400)
    web.get("/consumptions/compare", params={"mode": "sideways"}, status=400)
    web.get("/consumptions/tariffs", params={"kind": "steam"}, status=400)


def test_who_may_open_the_pages(box, client):
    for name in ("user", "installer", "administrator", "greenUp"):
        web = client(name)
        assert 'href="/consumptions"' in web.get("/").text
        assert web.get("/consumptions").status_int == 200
    users.add_user(box.db, "visitor", "24680", "12345678901234", pages=["alarms"])
    visitor = login(box.app, "visitor", "24680", "12345678901234")
    assert 'href="/consumptions"' not in visitor.get("/").text
    for path in ("/consumptions", "/consumptions/total", "/consumptions/details/datalogger.csv"):
        visitor.get(path, status=403)
    assert visitor.get("/api/consumptions/overall", status=403).json["ok"] is False


def test_every_page_shows_its_numbers_without_script(client, history):
    web = client("user")
    day = (history["today"] - timedelta(days=7)).isoformat()
    for page in PAGES:
        html = web.get(f"/consumptions/{page}", params={"view": "month", "date": day}).text
        data = api(web, page, view="month", date=day)
        assert data["charts"], page
        assert "<table" in html
        embedded = re.search(r'data-json="([^"]*)"', html)   # what the script draws: the API's answer
        assert embedded and json.loads(unescape(embedded.group(1))) == data, page
        for chart in data["charts"]:
            assert f'data-chart="{chart["id"]}"' in html
            for item in [chart] if chart["combined"] else chart["series"]:
                text = item["total_text"] if chart["combined"] or not chart.get("categories") else item["texts"][0]
                assert text in html, (page, text)
        assert "datalogger.csv" in html and "large=1" in html


def test_partials_compare_details_and_tariffs(client, box, history):
    web = client("user")
    day = (history["today"] - timedelta(days=5)).isoformat()
    members = history["members"]
    # partials: a load, a group, the water load in dm3
    heating = next(l for l in groupings.loads(box.db) if l.key == "heating")
    part = bar(api(web, "partials", load=heating.id, view="day", date=day))
    heating_devices = [d for d in members.loads[heating.id] if members.counters.get(d) == "Ea+"]
    assert part["total"] == sum(bar(api(web, "details", device=d, view="day", date=day))["total"]
                                for d in heating_devices)
    group = groupings.groups(box.db)[0]
    floor = bar(api(web, "partials", group=group.id, view="day", date=day))
    in_group = [d for d in members.groups[group.id] if members.counters.get(d) == "Ea+"]
    assert len(in_group) == 2 and floor["stacked"]
    assert floor["total"] == sum(bar(api(web, "details", device=d, view="day", date=day))["total"] for d in in_group)
    listed = web.get("/consumptions/details", params={"list": f"group-{group.id}"}).text
    assert listed.count("<li data-dev=") == 3
    water = next(l for l in groupings.loads(box.db) if l.key == "water")
    assert bar(api(web, "partials", load=water.id, view="day", date=day))["quantity"] == "water"
    # compare two meters in Wh, a meter and a water counter in currency
    meters = [d for d, q in sorted(members.counters.items()) if q == "Ea+"]
    waters = [d for d, q in sorted(members.counters.items()) if q == "water"]
    same = bar(api(web, "compare", a=meters[0], b=meters[1], view="day", date=day))
    assert same["quantity"] == "Ea+" and [s["total"] for s in same["series"]] == [
        bar(api(web, "details", device=d, view="day", date=day))["total"] for d in meters[:2]]
    mixed = bar(api(web, "compare", a=meters[0], b=waters[0], view="day", date=day, mode="total"))
    assert mixed["quantity"] == "cost" and mixed["categories"] and mixed["series"][0]["buckets"][0] > 0
    # details: another counter of a meter
    assert bar(api(web, "details", device=meters[0], q="Ea+", view="day", date=day))["raw_unit"] == "Wh"
    web.get("/consumptions/details", params={"device": waters[0], "q": "Ea+"}, status=400)
    # tariffs: the costs per tariff add up to the cost of the Grand total's devices
    t = api(web, "tariffs", view="month", date=day)
    pie, bars = bar(t, "tariffs"), bar(t, "tariff-bars")
    assert [s["name"] for s in pie["series"]] == ["Full hours", "Off-peak hours"]
    assert pie["total"] == bars["total"] > 0
    only = api(web, "tariffs", view="month", date=day, t=pie["series"][1]["key"].split("-")[1])
    assert [s["name"] for s in bar(only, "tariffs")["series"]] == ["Off-peak hours"]
    td = api(web, "tariffs/details", device=meters[0], view="month", date=day)
    assert bar(td)["stacked"] and bar(td)["quantity"] == "cost"
    html = web.get("/consumptions/tariffs/details", params={"device": meters[0]}).text
    assert 'class="devs"' in html and "Main incomer" in html


def test_numbers_and_labels_in_the_users_language(box, history):
    web = login(box.app, "user")
    page = web.get("/")
    from web import csrf_of

    web.post("/language", {"csrf": csrf_of(page), "lang": "fr", "next": "/"}, status=303)
    day = (history["today"] - timedelta(days=30)).isoformat()
    data = api(web, "total", view="year", date=day)
    assert data["labels"][0] == "janvier" or data["labels"][0].lower() == "janvier"
    assert data["format"] == {"group": "\u202f", "decimal": ","}
    total = bar(data)["total_text"]
    assert re.search(r"\d,\d{3}\u00a0MWh|\d,\d{3}\u00a0kWh", total), total
