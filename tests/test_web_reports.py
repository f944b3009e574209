"""Reports & data download (manual 8.5): reportdata.zip's files and sums against the consumption
views, 15-minute and hourly rows that agree, the CSV separators, periods refused with a reason,
the PDF reports read back with pdftotext (Debian poppler-utils), in English and in Greek, and who
may open the pages."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import sys
import zipfile
from collections import defaultdict
from datetime import date, datetime, timedelta

import pytest
from web import box, client, csrf_of, login  # noqa: F401

from decimal import Decimal

from wsmeasure import groupings, installation, settings, tariffs
from wsmeasure.aggregates import DAY_VIEW, MONTH_VIEW, members_from_config, view
from wsmeasure.history_format import parse_stamp
from wsmeasure.records import Counter, SlotRecord
from wsmeasure.store import Store
from wsmeasure.store_time import HOUR, bucket_start
from wsmeasure.web.pages_panel import number

SLOT_S = 600
DAYS = 36          # slots written for the DAYS days before today (the slot level keeps 40)


def delta(ts: int, device: int) -> int:
    return 1 + (ts // SLOT_S) % 13 * device


@pytest.fixture(scope="module")
def data(box):
    """Slots of the demo installation's counters for the DAYS days before today (the recorder only
    writes the present), written by the daemon's own writer; a day of 30-minute slots before."""
    db, daemon = box.db, box.daemon
    counters = members_from_config(db).counters
    elec = sorted(d for d, c in counters.items() if c == "Ea+")
    gas = sorted(d for d, c in counters.items() if c == "gas")
    building = groupings.add_group(db, "Building A").id
    wing = groupings.add_group(db, "Wing B").id
    for d in elec[:3] + gas[:1]:
        installation.set_device_groups(db, d, [building])
    installation.set_device_groups(db, elec[3], [building, wing])
    installation.update_device(db, elec[3], exclude_totals=True)   # in no total, no group, no load
    members = members_from_config(db)
    tariffs.add_tariff(db, "electricity", "Base", prices=[("0.2", "")])   # 0.2 a kWh: 200 micro-units a Wh
    pricer = tariffs.pricer(db)
    tz = daemon.store.tz
    today = datetime.now(tz).date()
    first = today - timedelta(days=DAYS)
    lo = int(datetime(first.year, first.month, first.day, tzinfo=tz).timestamp())
    hi = int(datetime(today.year, today.month, today.day, tzinfo=tz).timestamp())
    records = [SlotRecord(d, ts, SLOT_S, {counter: Counter(delta(ts, d), ts)})
               for ts in range(lo, hi, SLOT_S) for d, counter in members.counters.items()]
    coarse = [SlotRecord(d, ts, 1800, {counter: Counter(5, ts)})
              for ts in range(lo - 86400, lo, 1800) for d, counter in members.counters.items()]
    for chunk in (records, coarse):
        written = daemon.writer.submit(daemon.store.write_slot, chunk, None, pricer).result(120)
        assert written.stored == len(chunk), written
    return {"members": members, "today": today, "first": first, "tz": tz}


def reader(box) -> Store:
    return Store(box.daemon.data_dir, settings.get(box.db, "time.zone"), readonly=True)


def devices_of(members, counter: str) -> list[int]:
    return sorted(d for d, c in members.counters.items() if c == counter)


def download(web, status=200, **fields):
    page = web.get("/reports/data?list=" + fields.get("list", "devices"))
    form = {"csrf": csrf_of(page), "list": "devices", "resolution": "15min", **fields}
    return web.post("/reports/data", form, status=status)


def unzip(answer) -> dict[str, list[list[str]]]:
    assert answer.content_type == "application/zip"
    assert 'filename="reportdata.zip"' in answer.headers["Content-Disposition"]
    files = {}
    with zipfile.ZipFile(io.BytesIO(answer.body)) as z:
        for name in z.namelist():
            raw = z.read(name)
            assert raw.startswith("\ufeff".encode()) and b"\r\n" in raw, name
            sep = ";" if raw.count(b";") else ","
            files[name] = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=sep))
    return files


def column_sums(rows, tz, bucket=lambda ts: ts) -> dict[int, list[int]]:
    """{bucket(ts): [sum of each column]} of a downloaded file."""
    out: dict[int, list[int]] = defaultdict(lambda: [0] * (len(rows[0]) - 2))
    for row in rows[1:]:
        ts = parse_stamp(row[0], row[1])
        for i, cell in enumerate(row[2:]):
            out[bucket(ts)][i] += int(cell or 0)
    return out


# -- the core alone, on a Store of its own ------------------------------------------------------------
@pytest.mark.parametrize("day, quarters", [(date(2024, 10, 27), 100), (date(2024, 3, 31), 92), (date(2024, 6, 12), 96)])
def test_quarter_hours_of_a_dst_day_and_one_pass_sums(tmp_path, day, quarters):
    """Europe/Paris: the 25-hour day has 100 quarter hours (the repeated hour twice, told apart by
    its offset), the 23-hour day 92; quarter hours sum to the hours; sums_each is Store.sums."""
    from zoneinfo import ZoneInfo

    from wsmeasure.aggregates import Members
    from wsmeasure.history_format import CsvFormat
    from wsmeasure.report_data import Download, build, check, device_item, sums_each

    tz = ZoneInfo("Europe/Paris")
    lo = int(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp())
    hi = int(datetime.combine(day + timedelta(days=1), datetime.min.time(), tz).timestamp())
    with Store(tmp_path, "Europe/Paris") as store:
        store.write_slot([SlotRecord(d, ts, SLOT_S, {"Ea+": Counter(delta(ts, d), ts)})
                          for ts in range(lo - 3600, hi + 3600, SLOT_S) for d in (1, 2)])
        members = Members(counters={1: "Ea+", 2: "Ea+"}, groups={5: [1, 2]})
        items = [device_item(members, 1, "One [1]"), device_item(members, 2, "Two [2]")]
        files = {}
        for res in ("15min", "1h"):
            choice = check(store, Download("devices", items, day, day, res), hi + 7200)
            text = build(store, choice, CsvFormat(), {"date": "date", "offset": "UTC offset"})
            files[res] = list(csv.reader(io.StringIO(
                text["report_energy_devices_electricity.csv"].decode("utf-8-sig"), newline=""), delimiter=";"))
        assert len(files["15min"]) == 1 + quarters and len(files["1h"]) == 1 + quarters // 4
        by_hour = column_sums(files["15min"], tz, lambda ts: bucket_start(tz, HOUR, ts))
        assert by_hour == column_sums(files["1h"], tz)
        assert sum(v[0] for v in by_hour.values()) == sum(delta(ts, 1) for ts in range(lo, hi, SLOT_S))
        selections = [{"Ea+": (1,)}, {"Ea+": (1, 2)}, {"Ea+": ()}, {"gas": (1,)}, {"Ea+": (2,), "water": (1,)}]
        for level in range(4):
            assert sums_each(store, level, lo, hi, selections) == [store.sums(level, lo, hi, x) for x in selections]


def test_costs_need_a_tariff(box, client):
    """(First: the data below come with a tariff.)"""
    if any(tariffs.cost_quantities(box.db, kind) for kind in tariffs.KINDS):
        pytest.skip("a tariff is configured")
    web = client("administrator")
    day = date.today() - timedelta(days=1)
    page = download(web, status=400, all="on", start=day.isoformat(), end=day.isoformat(), costs="on")
    assert "No tariff is configured" in page.text
    assert "No tariff is configured" in report(web, 400, type="summary", costs="on", month="1", year="2026").text


def test_download_files_and_day_sums_agree_with_the_views(box, client, data):
    web = client("administrator")
    members, today = data["members"], data["today"]
    elec, gas, water = (devices_of(members, c) for c in ("Ea+", "gas", "water"))
    chosen = elec[:2] + gas[:1] + water[:1]
    start, end = today - timedelta(days=10), today - timedelta(days=1)
    files = unzip(download(web, items=[str(d) for d in chosen], start=start.isoformat(), end=end.isoformat(),
                           resolution="1d"))
    assert sorted(files) == ["report_energy_devices_electricity.csv", "report_energy_devices_gas.csv",
                             "report_energy_devices_water.csv"]
    rows = files["report_energy_devices_electricity.csv"]
    names = {d.id: d.name for d in installation.devices(box.db)}
    assert rows[0][:2] == ["date", "UTC offset"]
    assert rows[0][2:] == [f"{names[d]} [{d}] (Wh)" for d in elec[:2]]
    assert files["report_energy_devices_gas.csv"][0][2] == f"{names[gas[0]]} [{gas[0]}] (dm3)"
    assert len(rows) == 1 + 10
    with reader(box) as store:
        for row in rows[1:]:
            day = date.fromisoformat(row[0][:10])
            for d, cell in zip(elec[:2], row[2:]):
                assert int(cell) == view(store, DAY_VIEW, day, members.device(d)).total
    # a whole month of days sums to the month view's total
    month_start = today.replace(day=1) - timedelta(days=1)
    month_start = month_start.replace(day=1)
    month_end = today.replace(day=1) - timedelta(days=1)
    files = unzip(download(web, list="groups", all="on", start=month_start.isoformat(), end=month_end.isoformat(),
                           resolution="1d"))
    with reader(box) as store:
        for kind, counter in (("electricity", "Ea+"), ("gas", "gas"), ("water", "water")):
            name = f"report_energy_groups_{kind}.csv"
            if name not in files:
                assert not any(members.group(g.id, counter)[counter] for g in groupings.groups(box.db))
                continue
            header = files[name][0]
            sums = column_sums(files[name], data["tz"], lambda ts: 0)[0]
            for g in groupings.groups(box.db):
                column = f"{g.name} [{g.id}] ({'Wh' if kind == 'electricity' else 'dm3'})"
                if members.group(g.id, counter)[counter]:
                    total = view(store, MONTH_VIEW, month_end, members.group(g.id, counter)).total
                    assert sums[header.index(column) - 2] == total
    assert "report_energy_groups_gas.csv" in files
    wing = files["report_energy_groups_electricity.csv"][0].index("Wing B [2] (Wh)")
    assert not any(row[wing] for row in files["report_energy_groups_electricity.csv"][1:])   # excluded only


def test_loads_list_every_kind_and_hourly_rows_equal_their_quarter_hours(box, client, data):
    web = client("greenUp")
    today, tz = data["today"], data["tz"]
    period = dict(all="on", start=(today - timedelta(days=3)).isoformat(), end=(today - timedelta(days=1)).isoformat())
    quarters = unzip(download(web, list="loads", resolution="15min", **period))
    hours = unzip(download(web, list="loads", resolution="1h", **period))
    assert sorted(quarters) == sorted(hours)
    assert {"report_energy_loads_electricity.csv", "report_energy_loads_gas.csv",
            "report_energy_loads_water.csv"} <= set(quarters)
    for name in quarters:
        q, h = quarters[name], hours[name]
        assert q[0] == h[0]
        assert len(q) - 1 == 4 * (len(h) - 1)   # whole hours (a 30-minute DST shift would make one short)
        by_hour = column_sums(q, tz, lambda ts: bucket_start(tz, HOUR, ts))
        assert by_hour == column_sums(h, tz)
        assert any(any(v for v in sums) for sums in by_hour.values()), name


def test_quarter_hours_of_ten_minute_slots_share_the_straddling_slot(box, client, data):
    web = client("administrator")
    members, today, tz = data["members"], data["today"], data["tz"]
    d = devices_of(members, "Ea+")[0]
    day = today - timedelta(days=2)
    files = unzip(download(web, items=[str(d)], start=day.isoformat(), end=day.isoformat()))
    rows = files["report_energy_devices_electricity.csv"][1:]
    first = parse_stamp(rows[0][0], rows[0][1])
    # 00:00-00:15 holds the 00:00 slot and half of the 00:10 one, 00:15-00:30 the other half and 00:20
    a, b = delta(first, d), delta(first + 600, d)
    assert int(rows[0][2]) == a + b * 300 // 600
    assert int(rows[0][2]) + int(rows[1][2]) == a + b + delta(first + 1200, d)


def test_costs_are_exact_and_only_for_kinds_with_a_tariff(box, client, data):
    web = client("administrator")
    members, today, tz = data["members"], data["today"], data["tz"]
    elec = devices_of(members, "Ea+")[:2]
    chosen = elec + devices_of(members, "gas")[:1]
    day = today - timedelta(days=4)
    files = unzip(download(web, items=[str(d) for d in chosen], start=day.isoformat(),
                           end=(day + timedelta(days=1)).isoformat(), resolution="1d", costs="on"))
    assert sorted(files) == ["report_energy_devices_electricity.csv", "report_energy_devices_electricity_cost.csv",
                             "report_energy_devices_gas.csv"]
    rows = files["report_energy_devices_electricity_cost.csv"]
    assert rows[0][2].endswith(" (EUR)")
    with reader(box) as store:
        for row in rows[1:]:
            when = date.fromisoformat(row[0][:10])
            for d, cell in zip(elec, row[2:]):
                micro = view(store, DAY_VIEW, when, tariffs.cost_selection(box.db, "electricity", [d])).total
                energy = view(store, DAY_VIEW, when, members.device(d)).total
                assert micro == energy * 200 and Decimal(cell.replace(",", ".")) * 1_000_000 == micro
    quarters = unzip(download(web, items=[str(d) for d in elec], start=day.isoformat(), end=day.isoformat(),
                              costs="on"))["report_energy_devices_electricity_cost.csv"]
    hours = unzip(download(web, items=[str(d) for d in elec], start=day.isoformat(), end=day.isoformat(),
                           costs="on", resolution="1h"))["report_energy_devices_electricity_cost.csv"]

    def micro(rows, bucket):
        out = defaultdict(int)
        for row in rows[1:]:
            for i, cell in enumerate(row[2:]):
                out[bucket(parse_stamp(row[0], row[1])), i] += int(Decimal(cell.replace(",", ".") or 0) * 1_000_000)
        return out

    assert micro(quarters, lambda ts: bucket_start(tz, HOUR, ts)) == micro(hours, lambda ts: ts)


def test_separators_follow_the_csv_settings(box, client, data):
    web = client("administrator")
    day = data["today"] - timedelta(days=1)
    settings.set(box.db, "csv.decimal_separator", "point")
    settings.set(box.db, "csv.field_separator", "comma")
    try:
        answer = download(web, all="on", start=day.isoformat(), end=day.isoformat(), resolution="1h", costs="on")
    finally:
        settings.set(box.db, "csv.field_separator", "semicolon")
        settings.set(box.db, "csv.decimal_separator", "comma")
    with zipfile.ZipFile(io.BytesIO(answer.body)) as z:
        text = z.read("report_energy_devices_electricity.csv").decode("utf-8-sig")
    assert text.startswith("date,UTC offset,") and ";" not in text
    with zipfile.ZipFile(io.BytesIO(answer.body)) as z:
        cost = z.read("report_energy_devices_electricity_cost.csv").decode("utf-8-sig")
    assert re.search(r",\d+\.\d+\r\n", cost) and "," in cost.splitlines()[1]
    answer = download(web, all="on", start=day.isoformat(), end=day.isoformat(), resolution="1h", costs="on")
    with zipfile.ZipFile(io.BytesIO(answer.body)) as z:
        assert z.read("report_energy_devices_electricity.csv").decode("utf-8-sig").startswith("date;UTC offset;")
        assert re.search(r";\d+,\d+\r\n", z.read("report_energy_devices_electricity_cost.csv").decode("utf-8-sig"))


def test_bad_periods_and_choices_are_refused_with_a_reason(box, client, data):
    web = client("administrator")
    today, first = data["today"], data["first"]
    d = str(devices_of(data["members"], "Ea+")[0])
    cases = [
        (dict(items=[d], start=(today - timedelta(days=60)).isoformat(), end=today.isoformat()),
         "15-minute values are kept 40 days"),
        (dict(items=[d], start=(today - timedelta(days=500)).isoformat(), end=today.isoformat(), resolution="1h"),
         "hourly values are kept 400 days"),
        (dict(items=[d], start=today.isoformat(), end=(today - timedelta(days=2)).isoformat()),
         "the end date is before the start date"),
        (dict(items=[d], start=(today + timedelta(days=1)).isoformat(), end=(today + timedelta(days=2)).isoformat()),
         "the period starts in the future"),
        (dict(items=[d], start="31/10/2026", end=today.isoformat()), "is not a date"),
        (dict(start=today.isoformat(), end=today.isoformat()), "choose at least one device"),
        (dict(items=[d], start=(first - timedelta(days=1)).isoformat(), end=first.isoformat()),
         "recorded every 30 minutes"),
    ]
    for fields, message in cases:
        page = download(web, status=400, **fields)
        assert message in page.text, (fields, page.text[-3000:])
        assert page.content_type.startswith("text/html")
    # the hourly resolution takes the 30-minute day
    files = unzip(download(web, items=[d], start=(first - timedelta(days=1)).isoformat(),
                           end=(first - timedelta(days=1)).isoformat(), resolution="1h"))
    assert sum(int(r[2] or 0) for r in files["report_energy_devices_electricity.csv"][1:]) == 48 * 5


@pytest.mark.parametrize("role", ["installer", "user"])
def test_installer_and_user_may_not_open_the_reports(box, client, role):
    web = client(role)
    csrf = csrf_of(web.get("/"))
    assert "/reports" not in web.get("/").text
    for path in ("/reports", "/reports/data", "/reports/pdf"):
        assert web.get(path, expect_errors=True).status_int == 403
    for path in ("/reports/data", "/reports/pdf"):
        assert web.post(path, {"csrf": csrf}, expect_errors=True).status_int == 403


def test_menu_and_forms(box, client):
    web = client("administrator")
    assert 'href="/reports"' in web.get("/").text
    menu = web.get("/reports")
    assert 'href="/reports/data"' in menu.text and 'href="/reports/pdf"' in menu.text
    form = web.get("/reports/data?list=loads")
    assert 'name="all"' in form.text and 'value="1h"' in form.text and "reports.js" in form.text
    assert web.get("/reports/pdf").text.count('name="items"') >= 3


# -- PDF ----------------------------------------------------------------------------------------------
def pdf_text(answer) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext missing (Debian poppler-utils: tests/run.sh installs it)")
    assert answer.content_type == "application/pdf" and answer.body.startswith(b"%PDF")
    done = subprocess.run(["pdftotext", "-", "-"], input=answer.body, capture_output=True, check=True)
    return done.stdout.decode("utf-8")


def report(web, status=200, **fields):
    page = web.get("/reports/pdf")
    return web.post("/reports/pdf", {"csrf": csrf_of(page), "period": "monthly", **fields}, status=status)


def last_month(today: date) -> date:
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def test_detailed_monthly_report_shows_period_devices_and_totals(box, client, data):
    web = client("administrator")
    members = data["members"]
    month = last_month(data["today"])
    chosen = devices_of(members, "Ea+")[:3] + devices_of(members, "gas")[:1]
    answer = report(web, type="detailed", items=[str(d) for d in chosen], month=str(month.month),
                    year=str(month.year), costs="on")
    assert f'filename="report_detailed_{month:%Y-%m}.pdf"' in answer.headers["Content-Disposition"]
    text = pdf_text(answer)
    assert "Detailed report" in text and f"{month:%B} {month.year}" in text
    names = {d.id: d.name for d in installation.devices(box.db)}
    with reader(box) as store:
        for d in chosen:
            assert f"{names[d]} [{d}]" in text
            total = view(store, MONTH_VIEW, month, members.device(d)).total
            assert total and number(total / 1000, 3, "en") in text, (d, total)
            if members.counters[d] == "Ea+":
                cost = view(store, MONTH_VIEW, month, tariffs.cost_selection(box.db, "electricity", [d])).total
                assert number(cost / 1_000_000, 2, "en") in text
    assert "Cost (EUR)" in text


def test_summary_report_totals_equal_the_views(box, client, data):
    web = client("administrator")
    members = data["members"]
    month = last_month(data["today"])
    answer = report(web, type="summary", month=str(month.month), year=str(month.year))
    assert f'filename="report_summary_{month:%Y-%m}.pdf"' in answer.headers["Content-Disposition"]
    text = pdf_text(answer)
    assert "Summary report" in text and f"{month:%B} {month.year}" in text
    assert "Electricity" in text and "Gas" in text and "Water" in text and "Loads" in text
    with reader(box) as store:
        for counter in ("Ea+", "gas", "water"):
            total = view(store, MONTH_VIEW, month, members.total(counter)).total
            assert total and number(total / 1000, 3, "en") in text, counter


def test_yearly_report_name_and_refusals(box, client, data):
    web = client("greenUp")
    year = data["today"].year
    answer = report(web, type="detailed", all="on", period="yearly", year=str(year))
    assert f'filename="report_detailed_{year}.pdf"' in answer.headers["Content-Disposition"]
    assert "December" in pdf_text(answer)
    assert "Choose at least one device" in report(web, 400, type="detailed", month="1", year=str(year)).text
    assert "this period has not begun yet" in report(web, 400, type="summary", period="yearly",
                                                      year=str(year + 1)).text


def test_greek_report_is_in_greek(box, data):
    web = login(box.app, "greenUp")
    page = web.get("/")
    web.post("/language", {"csrf": csrf_of(page), "lang": "el", "next": "/"}, status=303)
    month = last_month(data["today"])
    text = pdf_text(report(web, type="summary", month=str(month.month), year=str(month.year)))
    greek = re.findall(r"[\u0370-\u03ff]{4,}", text)
    assert len(greek) > 10, text[:500]
    from wsmeasure.web.i18n import catalog

    _ = catalog("el").gettext
    assert _("Summary report") in text and _("Electricity") in text


def test_the_daemon_does_not_import_fpdf():
    code = ("import sys, wsmeasure.web.app, wsmeasure.report_pdf, wsmeasure.report_data; "
            "sys.exit(1 if 'fpdf' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


# -- in a browser (Debian's chromium): the script's "Select all", the month hidden for a yearly report
@pytest.mark.browser
def test_in_a_browser_select_all_and_download(box, page, data):
    from web import browser_login

    browser_login(page, box, "greenUp")
    page.click("a.tile-reports")
    page.click("a.tile-data")
    page.select_option("#f-list", "loads")
    page.wait_for_url(re.compile(r"list=loads"))
    page.check("input[data-select-all]")
    assert page.locator("input[data-item]:not(:checked)").count() == 0
    page.locator("input[data-item]").first.uncheck()
    assert not page.is_checked("input[data-select-all]")
    page.check("input[data-select-all]")
    day = (data["today"] - timedelta(days=1)).isoformat()
    page.fill("#f-start", day)
    page.fill("#f-end", day)
    page.select_option("#f-resolution", "1h")
    with page.expect_download() as got:
        page.click("button[type=submit].primary")
    assert got.value.suggested_filename == "reportdata.zip"
    with zipfile.ZipFile(got.value.path()) as z:
        assert "report_energy_loads_electricity.csv" in z.namelist()
    page.goto(box.https + "/reports/pdf")
    month = page.locator("#f-month").locator("xpath=..")
    assert month.is_visible()
    page.select_option("#f-period", "yearly")
    assert not month.is_visible()
    page.select_option("#f-type", "detailed")
    page.check("input[data-select-all]")
    with page.expect_download() as got:
        page.click("button[type=submit].primary")
    assert got.value.suggested_filename == f"report_detailed_{data['today'].year}.pdf"
    assert page.console_errors == []
