"""data.db over years: ingest rate, file size per year, latency of the consumption views.

    .venv/bin/python bench/store.py [--devices 32] [--years 3] [--stats 10] [--counters 1]
                                    [--slot-min 10] [--sample 3000] [--zone Europe/Paris]

32 devices, each with energy counters and ~10 statistics, fast-forwarded through simulated years
by writing SlotRecords straight into a Store (synchronous=FULL, as on the box), with retention run
once a simulated day as the daemon does. The first `--sample` slots of each year are written as
the recorder does, one write_slot (one transaction, one fsync) per slot: they give the ingest
rate, in year 1 (tables filling) and in later years (every horizon and quota reached, folds
running). The rest of each year is fast-forwarded: one write_slot per simulated day, the same
code with 144 slots in one transaction (rollups summed before their upserts), so that years pass
in minutes; the file holds the same rows. Sizes are data.db + WAL after a checkpoint.
Targets: growth after the first year <= 5 MB/year, total <= 100 MB, view p95 <= 20 ms.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from wsmeasure.aggregates import DAY_VIEW, DECADE_VIEW, MONTH_VIEW, YEAR_VIEW, Members, view
from wsmeasure.records import Counter, SlotRecord, Stat
from wsmeasure.store import DATA_DB, Store

STATS = ("P", "Q", "S", "PF", "V1", "V2", "V3", "I1", "I2", "I3", "F", "U12", "U23", "U31", "In")
COUNTERS = ("Ea+", "Ea-", "Er+", "Er-")
MB = 1e6


def size(data_dir: Path) -> int:
    return sum(os.path.getsize(data_dir / f"{DATA_DB}{ext}") for ext in ("", "-wal")
               if (data_dir / f"{DATA_DB}{ext}").exists())


class Panel:
    """Records of a panel whose load follows the time of day."""

    def __init__(self, devices: int, n_stats: int, n_counters: int, slot_s: int, seed: int = 1):
        self.rng = random.Random(seed)
        self.devices = range(1, devices + 1)
        self.stats = STATS[:n_stats]
        self.counters = COUNTERS[:n_counters]
        self.slot_s = slot_s
        self.index = {(d, q): 10_000_000 * d for d in self.devices for q in self.counters}
        self.readings = max(1, slot_s // 10)
        self._stats: dict[int, dict] = {}

    def slot(self, ts: int) -> list[SlotRecord]:
        hour = (ts // 3600) % 24
        shape = 0.4 + 0.6 * math.sin(math.pi * max(0, hour - 6) / 14) ** 2
        if hour not in self._stats:   # statistics follow the hour of day (their values do not matter here)
            self._stats[hour] = {d: {name: Stat(shape * 1000 * d * (1 + i / 10), shape * 800 * d, shape * 1300 * d,
                                                self.readings) for i, name in enumerate(self.stats)}
                                 for d in self.devices}
        out = []
        for d in self.devices:
            counters = {}
            for q in self.counters:
                delta = int(shape * (200 + 10 * d) * self.slot_s / 600) if q == "Ea+" else self.rng.randrange(0, 40)
                self.index[d, q] += delta
                counters[q] = Counter(delta, self.index[d, q])
            out.append(SlotRecord(d, ts, self.slot_s, counters, self._stats[hour][d]))
        return out


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", type=int, default=32)
    ap.add_argument("--years", type=int, default=3)
    ap.add_argument("--stats", type=int, default=10, help=f"statistics per device (at most {len(STATS)})")
    ap.add_argument("--counters", type=int, default=1, help="energy counters per device (Ea+, Ea-, Er+, Er-)")
    ap.add_argument("--slot-min", type=int, default=10)
    ap.add_argument("--sample", type=int, default=3000, help="slots a year written one transaction each")
    ap.add_argument("--zone", default="Europe/Paris")
    ap.add_argument("--queries", type=int, default=200, help="queries per view")
    ap.add_argument("--dir", help="data directory (default: a fresh temporary one)")
    args = ap.parse_args()

    data_dir = Path(args.dir or tempfile.mkdtemp(prefix="wsmeasure-bench-store-"))
    store = Store(data_dir, args.zone)
    slot_s = args.slot_min * 60
    panel = Panel(args.devices, args.stats, args.counters, slot_s)
    t0 = int(datetime(2023, 1, 1, tzinfo=store.tz).timestamp())
    per_year = 365 * 86400 // slot_s
    per_day = 86400 // slot_s
    print(f"{args.devices} devices x ({args.counters} counter(s) + {args.stats} stats), {args.slot_min}-min slots, "
          f"{args.years} year(s) = {per_year * args.years:,} slots; zone {args.zone}; {data_dir}")

    ts, n, sizes = t0, 0, []
    timing = {"year 1": [0, 0.0], "later years": [0, 0.0], "fast-forward (a day a call)": [0, 0.0]}
    retain_s = 0.0
    for year in range(1, args.years + 1):
        end = n + per_year
        while n < end:
            if n < end - per_year + args.sample:          # as the recorder: one slot a transaction
                batch, label = [panel.slot(ts)], "year 1" if year == 1 else "later years"
            else:                                          # to the end of the simulated day
                batch = [panel.slot(ts + i * slot_s) for i in range(min(per_day - n % per_day, end - n))]
                label = "fast-forward (a day a call)"
            started = time.perf_counter()
            store.write_slot([r for recs in batch for r in recs])
            timing[label][0] += len(batch)
            timing[label][1] += time.perf_counter() - started
            n += len(batch)
            ts += len(batch) * slot_s
            if n % per_day == 0:
                started = time.perf_counter()
                store.retain(now=ts)
                retain_s += time.perf_counter() - started
        store.checkpoint()
        sizes.append(size(data_dir))
        grow = "" if year == 1 else f", +{(sizes[-1] - sizes[-2]) / MB:.2f} MB in the year"
        print(f"year {year}: data.db+WAL {sizes[-1] / MB:.1f} MB{grow}; rows {store.sizes()}", flush=True)

    recs = args.devices
    for label, (slots, spent) in timing.items():
        if slots:
            print(f"ingest, {label}: {slots:,} slots, {slots / spent:,.0f} slots/s, "
                  f"{slots * recs / spent:,.0f} records/s, {spent / slots * 1000:.2f} ms a slot")
    print(f"retention: {n // per_day:,} daily runs, {retain_s / max(1, n // per_day) * 1000:.2f} ms each")
    b = store.budget()
    print(f"stats budget: {store.stats_budget / MB:.1f} MB -> {b.rows_per_series} rows a series, "
          f"quotas {b.quotas}; reach (days) { {k: round(v / 86400) for k, v in b.depth_s(slot_s).items() if v > 0} }")
    growth = [(sizes[i] - sizes[i - 1]) / MB for i in range(1, len(sizes))]
    if growth:
        print(f"size: total {sizes[-1] / MB:.1f} MB (target <= 100: ratio {sizes[-1] / MB / 100:.2f}); "
              f"growth after year 1 max {max(growth):.2f} MB/year (target <= 5: ratio {max(growth) / 5:.2f})")
    store.close()

    reader = Store(data_dir, args.zone, readonly=True)
    members = Members({d: "Ea+" for d in panel.devices})
    selection = members.total("Ea+")
    first = date(2023, 1, 1)
    days = (datetime.fromtimestamp(ts, reader.tz).date() - first).days
    rng = random.Random(2)
    for name in (DAY_VIEW, MONTH_VIEW, YEAR_VIEW, DECADE_VIEW):
        times = []
        for _ in range(args.queries):
            day = first + timedelta(days=rng.randrange(days))
            started = time.perf_counter()
            view(reader, name, day, selection)
            times.append((time.perf_counter() - started) * 1000)
        p95 = percentile(times, 95)
        print(f"view {name:8} over {len(selection['Ea+'])} devices: p50 {statistics.median(times):.2f} ms, "
              f"p95 {p95:.2f} ms (target <= 20: ratio {p95 / 20:.2f})")
    reader.close()


if __name__ == "__main__":
    sys.exit(main())
