"""Consumption pages, data download and PDF reports on a year of history.

    .venv/bin/python bench/consumptions.py [--devices 32] [--days 400] [--repeat 20]

A data dir is filled first, as the daemon fills it: N EMDX3 meters on the Local gateway in
loads and a group, two electricity tariffs (off-peak rule 22:00-05:59), hourly slots for
--days days priced by the tariffs' pricer (Store.write_slot). A daemon then runs on it in a
thread of this process (virtual installation off: serial.port names a missing device), and
the pages are asked through the WSGI app, logged in as greenUp, as a browser would.
Baseline in the same run: aggregates.view on a read-only Store for the same selection and
period (the data the page shows, without the page). Printed: median and p95 per request and
the ratio to the baseline; the zip and PDF build times and sizes. No pass/fail.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from web import RunningBox, csrf_of, login  # noqa: E402  (tests/web.py: a daemon in a thread)

from wsmeasure import aggregates, groupings, installation, settings, tariffs  # noqa: E402
from wsmeasure.db import open_config  # noqa: E402
from wsmeasure.records import Counter, SlotRecord  # noqa: E402
from wsmeasure.store import Store  # noqa: E402
from wsmeasure.store_time import zone as load_zone  # noqa: E402


def seed(data_dir: Path, devices: int, days: int) -> None:
    db = open_config(data_dir)
    settings.set(db, "virtual.seeded", "on")
    settings.set(db, "serial.port", "/dev/wsmeasure-bench-none")   # no virtual installation
    local = installation.local_gateway(db)
    loads = [ld for ld in groupings.loads(db) if ld.kind == "predefined"]
    group = groupings.add_group(db, "Floor 1")
    for i in range(devices):
        d = installation.add_device(db, local.id, "emdx3_meter", "4 120 51", i + 1, name=f"Meter {i + 1}",
                                    load=loads[i % len(loads)].id)
        if i % 3 == 0:
            installation.set_device_groups(db, d.id, [group.id])
    day_t = tariffs.add_tariff(db, "electricity", "Day", "#e8590c", prices=[("0.2", None)])
    night = tariffs.add_tariff(db, "electricity", "Night", "#1971c2", prices=[("0.1", None)])
    tariffs.add_rule(db, "electricity", night.id, time_from="22:00", time_to="05:59")
    assert day_t
    members = aggregates.members_from_config(db)
    pricer = tariffs.pricer(db)
    tz = load_zone(settings.get(db, "time.zone"))
    db.close()
    today = datetime.now(tz).date()
    with Store(data_dir, "") as store:
        for n in range(days, 0, -1):
            day = today - timedelta(days=n)
            midnight = int(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp())
            records = [SlotRecord(dev, ts, 3600, {q: Counter(100 + (dev * 7 + ts // 3600) % 500, 0)})
                       for ts in range(midnight, midnight + 86400, 3600) for dev, q in sorted(members.counters.items())]
            store.write_slot(records, None, pricer)


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def row(name: str, times: list[float], base: float | None = None) -> None:
    p50 = statistics.median(times)
    p95 = sorted(times)[max(0, round(0.95 * len(times)) - 1)]
    ratio = f"{p50 / base:8.1f}" if base else " " * 8
    print(f"{name:46} {p50 * 1e3:9.1f} {p95 * 1e3:9.1f} {ratio}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", type=int, default=32)
    ap.add_argument("--days", type=int, default=400)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="wsm-bench-cons-"))
    t = time.perf_counter()
    seed(data_dir, args.devices, args.days)
    print(f"seeded {args.devices} meters x {args.days} days of hourly slots in {time.perf_counter() - t:.1f} s")
    box = RunningBox(data_dir, 41000).start()
    try:
        web = login(box.app, "greenUp")
        db = box.db
        members = aggregates.members_from_config(db)
        store = Store(data_dir, settings.get(db, "time.zone"), readonly=True)
        month_ago = (date.today() - timedelta(days=31)).isoformat()
        print(f"{'request':46} {'p50 ms':>9} {'p95 ms':>9} {'p50/base':>8}")
        for view_name in ("day", "month", "year", "10years"):
            base = timed(lambda: aggregates.view(store, view_name, date.fromisoformat(month_ago),
                                                 members.total("Ea+")), args.repeat)
            row(f"aggregates.view total Ea+ ({view_name}, baseline)", base)
            b = statistics.median(base)
            for page in ("total", "overall", "tariffs"):
                url = f"/api/consumptions/{page}?view={view_name}&date={month_ago}"
                row(f"GET {url.split('?')[0]} ({view_name})", timed(lambda: web.get(url), args.repeat), b)
        row("GET /consumptions/total (HTML, month)",
            timed(lambda: web.get(f"/consumptions/total?view=month&date={month_ago}"), args.repeat))
        row("GET .../total/datalogger.csv (month)",
            timed(lambda: web.get(f"/consumptions/total/datalogger.csv?view=month&date={month_ago}"), args.repeat))
        form = web.get("/reports/data?list=devices")
        ids = [d.id for d in installation.devices(db)]
        start = (date.today() - timedelta(days=30)).isoformat()
        end = (date.today() - timedelta(days=1)).isoformat()
        for res in ("1h", "1d"):   # the history is hourly: 15 min is refused, as it should
            fields = {"csrf": csrf_of(form), "list": "devices", "items": ids, "start": start, "end": end,
                      "resolution": res, "costs": "on"}
            answer = {}
            times = timed(lambda: answer.setdefault("r", web.post("/reports/data", fields)), 3)
            size = len(answer["r"].body)
            row(f"reportdata.zip 30 days, {args.devices} devices, {res} ({size // 1024} KiB)", times)
        form = web.get("/reports/pdf")
        last = date.today().replace(day=1) - timedelta(days=1)
        for kind in ("summary", "detailed"):
            fields = {"csrf": csrf_of(form), "filter": "all", "items": ids, "type": kind, "period": "monthly",
                      "month": str(last.month), "year": str(last.year)}
            answer = {}
            times = timed(lambda: answer.setdefault("r", web.post("/reports/pdf", fields)), 3)
            row(f"PDF {kind} month ({len(answer['r'].body) // 1024} KiB)", times)
        store.close()
    finally:
        box.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
