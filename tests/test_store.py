"""data.db: slots, rollups, idempotency, retention and the statistics budget, on real SQLite files."""

from __future__ import annotations

import math
import random
import sqlite3
from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from wsmeasure import store_stats
from wsmeasure.records import Counter, SlotRecord, Stat
from wsmeasure.store import ENERGY_TABLES, Store
from wsmeasure.store_time import DAY, HOUR, MONTH, SLOT, YEAR

PARIS = "Europe/Paris"
SLOT_S = 600
ALL = {"Ea+": range(1, 100)}


def epoch(zone: str, *args) -> int:
    return int(datetime(*args, tzinfo=ZoneInfo(zone)).timestamp())


def rec(device: int, ts: int, delta: int = 1, index: int | None = None, **kw) -> SlotRecord:
    return SlotRecord(device, ts, SLOT_S, {"Ea+": Counter(delta, ts if index is None else index)}, **kw)


def dump(store: Store) -> dict:
    tables = ("slot", *ENERGY_TABLES, "counter_state", "stat")
    return {t: store.conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3").fetchall() for t in tables}


def level_totals(store: Store, level: int, device: int, key) -> dict:
    """{key(local start): delta} of one device at one level."""
    out = defaultdict(int)
    for ts, delta in store.sums(level, 0, 2 ** 40, {"Ea+": [device]}).items():
        out[key(datetime.fromtimestamp(ts, store.tz))] += delta
    return dict(out)


DAY_KEY = lambda d: d.date()                           # noqa: E731
MONTH_KEY = lambda d: (d.year, d.month)                # noqa: E731
YEAR_KEY = lambda d: d.year                            # noqa: E731
HOUR_KEY = lambda d: (d.date(), d.hour, d.utcoffset())  # noqa: E731  the repeated hour has its own offset


def oracle(written: list[tuple[int, int, int]], zone: str, device: int, key) -> dict:
    """Plain sums by local calendar of the slot starts, independent of the store's bucket code."""
    tz = ZoneInfo(zone)
    out = defaultdict(int)
    for ts, dev, delta in written:
        if dev == device:
            out[key(datetime.fromtimestamp(ts, tz))] += delta
    return dict(out)


# -- opening ---------------------------------------------------------------------------------------
def test_opens_wal_full_sync_and_separate_file(tmp_path):
    with Store(tmp_path, PARIS) as s:
        assert s.path == tmp_path / "data.db"
        assert s.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert s.conn.execute("PRAGMA synchronous").fetchone()[0] == 2   # FULL
        assert s.conn.execute("PRAGMA user_version").fetchone()[0] == 1


def test_empty_zone_is_the_systems_with_its_dst_rules(tmp_path, monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    with Store(tmp_path, "") as s:
        assert datetime(2024, 7, 1, tzinfo=s.tz).utcoffset() == timedelta(hours=-4)
        assert datetime(2024, 1, 1, tzinfo=s.tz).utcoffset() == timedelta(hours=-5)


def test_refuses_a_newer_schema(tmp_path):
    Store(tmp_path).close()
    con = sqlite3.connect(tmp_path / "data.db")
    con.execute("PRAGMA user_version = 99")
    con.close()
    with pytest.raises(RuntimeError, match="newer"):
        Store(tmp_path)


def test_reader_reads_and_cannot_write(tmp_path):
    ts = epoch(PARIS, 2024, 5, 1, 12)
    with Store(tmp_path, PARIS) as w:
        w.write_slot([rec(1, ts, 5)])
        with Store(tmp_path, PARIS, readonly=True) as r:
            assert r.sums(SLOT, ts, ts + 1, ALL) == {ts: 5}
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                r.write_slot([rec(2, ts, 5)])


# -- writing, idempotency ----------------------------------------------------------------------------
def test_write_and_read_back_a_slot(tmp_path):
    ts = epoch(PARIS, 2024, 5, 1, 12, 10)
    stats = {"P": Stat(1500.5, 1200.0, 1800.25, 60), "THD_I1": Stat(3.5, 2.0, 5.0, 60),
             "H3_V1": Stat(1.25, 1.0, 1.5, 60)}
    r = SlotRecord(7, ts, SLOT_S, {"Ea+": Counter(120, 4_000_120), "Ea-": Counter(0, 99, since=ts - 1800)},
                   stats, {"breaker": 2})
    with Store(tmp_path, PARIS) as s:
        assert s.write_slot([r]) == (1, 0, 0)
        assert s.slot_records(ts, ts + SLOT_S) == [r]
        kinds = {row.kind: row.level for row in s.stat_rows(7, ts, ts + 1)}
        assert kinds == {"stat": SLOT, "thd": SLOT, "harmonics": SLOT, "state": SLOT}
        assert s.counter_state() == {7: {"Ea+": (4_000_120, ts), "Ea-": (99, ts)}}


def test_rewriting_a_slot_never_counts_twice(tmp_path):
    ts = epoch(PARIS, 2024, 5, 1, 12)
    with Store(tmp_path, PARIS) as s:
        first = [rec(1, ts, 10, stats={"P": Stat(1.0, 1.0, 1.0, 1)}), rec(2, ts, 20, states={"in1": 1})]
        assert s.write_slot(first) == (2, 0, 0)
        before = dump(s)
        assert s.write_slot(first) == (0, 2, 0)                     # a retry after a failed-looking commit
        assert dump(s) == before
        # a retry carrying one more device: only that one is new
        assert s.write_slot([rec(1, ts, 999), rec(3, ts, 30)]) == (1, 1, 0)
        assert s.sums(DAY, 0, 2 ** 40, {"Ea+": [1, 2, 3]}) == {epoch(PARIS, 2024, 5, 1): 60}
        # the same device twice in one call counts once
        assert s.write_slot([rec(4, ts, 5), rec(4, ts, 5)]) == (1, 1, 0)
    with Store(tmp_path, PARIS) as s:                               # crash after commit, replay on restart
        assert s.write_slot(first) == (0, 2, 0)
        assert s.sums(YEAR, 0, 2 ** 40, {"Ea+": [1, 2, 3, 4]}) == {epoch(PARIS, 2024, 1, 1): 65}


def test_a_failed_slot_leaves_nothing_and_can_be_retried(tmp_path):
    ts = epoch(PARIS, 2024, 5, 1, 12)
    with Store(tmp_path, PARIS) as s:
        with pytest.raises(OverflowError):
            s.write_slot([rec(1, ts, 5), rec(2, ts, 2 ** 64)])      # no 64-bit integer holds it
        assert all(rows == [] for rows in dump(s).values())
        assert s.write_slot([rec(1, ts, 5), rec(2, ts, 7)]) == (2, 0, 0)
        assert s.sums(HOUR, 0, 2 ** 40, {"Ea+": [1, 2]}) == {ts: 12}


def test_many_slots_in_one_call_store_what_one_by_one_stores(tmp_path):
    """Catching up after downtime (or the bench's fast-forward) writes a day in one transaction."""
    start = epoch(PARIS, 2024, 10, 26)
    rng = random.Random(3)
    slots = [[SlotRecord(d, start + i * SLOT_S, SLOT_S, {"Ea+": Counter(rng.randrange(100), i)},
                         {"P": stat_at(i)}, {"in1": i % 2}) for d in (1, 2)] for i in range(3 * 144)]
    with Store(tmp_path / "a", PARIS, stats_budget=1) as one, Store(tmp_path / "b", PARIS, stats_budget=1) as many:
        for recs in slots:
            one.write_slot(recs)
        for day in range(3):
            assert many.write_slot([r for recs in slots[day * 144:(day + 1) * 144] for r in recs]).stored == 288
        a, b = dump(one), dump(many)
        assert {t: a[t] for t in a if t != "stat"} == {t: b[t] for t in b if t != "stat"}
        # stats may sit at other resolutions (folds ran at other moments) but hold the same readings
        for store in (one, many):
            rows = store.stat_rows(1, 0, 2 ** 40, kinds=["stat"])
            p = [r.values["P"] for r in rows]
            assert (sum(x.count for x in p), min(x.min for x in p), max(x.max for x in p)) == \
                (sum(stat_at(i).count for i in range(3 * 144)), -0.5, 96.25)
            assert rows[-1].level == SLOT


def test_the_recorders_counter_state_is_stored_with_its_slot_and_read_back(tmp_path):
    ts = epoch(PARIS, 2024, 5, 1, 12)
    with Store(tmp_path, PARIS) as s:
        assert s.counter_state() == {} and s.stored_until() is None
        s.write_slot([rec(1, ts, 5, index=105)], {1: {"Ea+": [105, ts + 590], "water": [7, ts + 12]},
                                                  2: {"gas": [3, ts + 30]}})
        s.write_slot([rec(1, ts + SLOT_S, 5, index=110)], {1: {"Ea+": [110, ts + 1190]}})   # 2 rebased
        assert s.stored_until() == ts + 2 * SLOT_S
    with Store(tmp_path, PARIS) as s:                                   # what a restart resumes from
        assert s.counter_state() == {1: {"Ea+": (110, ts + 1190)}}
        # a failed transaction leaves the state of the last good one
        with pytest.raises(OverflowError):
            s.write_slot([rec(1, ts + 2 * SLOT_S, 2 ** 64)], {1: {"Ea+": [999, ts + 1790]}})
        assert s.counter_state() == {1: {"Ea+": (110, ts + 1190)}}
        assert s.stored_until() == ts + 2 * SLOT_S


def test_records_since_walks_the_slots_in_order(tmp_path):
    start = epoch(PARIS, 2024, 5, 1)
    with Store(tmp_path, PARIS) as s:
        for i in range(3 * 144):
            s.write_slot([rec(d, start + i * SLOT_S, i) for d in (2, 1)])
        got = list(s.records_since(start + 100 * SLOT_S))
        assert [(r.ts, r.device_id) for r in got] == [(start + i * SLOT_S, d) for i in range(100, 3 * 144)
                                                      for d in (1, 2)]
        assert got[0].counters["Ea+"].delta == 100
        assert list(s.records_since(start + 3 * 86400)) == []


def test_counters_are_exact_64_bit_integers(tmp_path):
    ts = epoch(PARIS, 2024, 5, 1, 12)
    big = 2 ** 62 + 1          # a float would round this
    with Store(tmp_path, PARIS) as s:
        s.write_slot([rec(1, ts, 2 ** 40 + 3, index=big)])
        s.write_slot([rec(1, ts + SLOT_S, 2 ** 40 + 5, index=big + 2 ** 40)])
        assert s.counter_state()[1]["Ea+"] == (big + 2 ** 40, ts + SLOT_S)
        assert s.sums(YEAR, 0, 2 ** 40, ALL) == {epoch(PARIS, 2024, 1, 1): 2 ** 41 + 8}


def test_a_late_slot_does_not_move_the_latest_index_back(tmp_path):
    ts = epoch(PARIS, 2024, 5, 1, 12)
    with Store(tmp_path, PARIS) as s:
        s.write_slot([rec(1, ts + SLOT_S, 5, index=105)])
        s.write_slot([rec(1, ts, 5, index=100)])                    # the missing one, written afterwards
        assert s.counter_state() == {1: {"Ea+": (105, ts + SLOT_S)}}   # (index, slot) when the recorder gives none
        assert s.sums(HOUR, 0, 2 ** 40, ALL) == {ts: 10}


def test_rollups_equal_the_slots_at_every_level_across_dst(tmp_path):
    """Three weeks around the autumn change, random deltas and gaps, two devices."""
    rng = random.Random(5)
    start = epoch(PARIS, 2024, 10, 15)
    written = []
    with Store(tmp_path, PARIS) as s:
        for i in range(21 * 144):
            ts = start + i * SLOT_S
            recs = [rec(d, ts, rng.randrange(0, 10 ** 6)) for d in (1, 2) if rng.random() > 0.1]
            s.write_slot(recs)
            written += [(r.ts, r.device_id, r.counters["Ea+"].delta) for r in recs]
        for d in (1, 2):
            assert level_totals(s, SLOT, d, lambda x: x) == oracle(written, PARIS, d, lambda x: x)
            for level, key in ((HOUR, HOUR_KEY), (DAY, DAY_KEY), (MONTH, MONTH_KEY), (YEAR, YEAR_KEY)):
                assert level_totals(s, level, d, key) == oracle(written, PARIS, d, key), level
        hours = level_totals(s, HOUR, 1, HOUR_KEY)
        assert sum(1 for day, _, _ in hours if day == datetime(2024, 10, 27).date()) == 25


# -- retention ---------------------------------------------------------------------------------------
SHORT = ((SLOT, 2, ""), (HOUR, 5, ""), (DAY, 40, ""), (MONTH, None, ""), (YEAR, None, ""))


def test_retention_deletes_only_fine_rows_past_their_horizon(tmp_path):
    start = epoch(PARIS, 2024, 1, 1)
    with Store(tmp_path, PARIS, horizons=SHORT) as s:
        for i in range(100 * 24):                                   # 100 days, one slot an hour
            s.write_slot([rec(1, start + i * 3600, 1)])
        newest = start + (100 * 24 - 1) * 3600
        before = {t: len(s.sums(level, 0, 2 ** 40, ALL)) for level, t in enumerate(ENERGY_TABLES)}
        s.retain(now=newest + 3600)
        tz = s.tz
        cut_slot = int(datetime.fromtimestamp(newest - 2 * 86400, tz).replace(minute=0, second=0).timestamp())
        cut_hour = int(datetime.fromtimestamp(newest - 5 * 86400, tz).replace(hour=0, minute=0, second=0).timestamp())
        cut_day = epoch(PARIS, 2024, 2, 1)                           # the month of (newest - 40 days) starts there
        for level, cut in ((SLOT, cut_slot), (HOUR, cut_hour), (DAY, cut_day)):
            kept = sorted(s.sums(level, 0, 2 ** 40, ALL))
            assert kept[0] == cut, level                            # the first bucket at the cut is kept...
            assert len(kept) < before[ENERGY_TABLES[level]]         # ...and those before it are gone
        assert len(s.sums(MONTH, 0, 2 ** 40, ALL)) == 4 and len(s.sums(YEAR, 0, 2 ** 40, ALL)) == 1
        assert s.sums(YEAR, 0, 2 ** 40, ALL) == {start: 2400}       # not one Wh lost
        assert s.slot_floor() == cut_slot
        assert s.write_slot([rec(2, cut_slot - SLOT_S, 1)]) == (0, 0, 1)   # cannot be checked any more
        assert s.write_slot([rec(2, cut_slot, 1)]) == (1, 0, 0)


def test_retention_counts_from_the_newest_slot_when_the_clock_runs_ahead(tmp_path):
    start = epoch(PARIS, 2024, 1, 1)
    with Store(tmp_path, PARIS, horizons=SHORT) as s:
        for i in range(3 * 24):
            s.write_slot([rec(1, start + i * 3600, 1)])
        s.retain(now=start + 10 * 365 * 86400)                      # RTC battery dead, clock wrong
        assert len(s.sums(SLOT, 0, 2 ** 40, ALL)) > 24              # the last two days are still there


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(zone=hs.sampled_from([PARIS, "America/New_York", "Australia/Lord_Howe"]),
       slots=hs.lists(hs.tuples(hs.integers(0, 4 * 52560), hs.integers(1, 3), hs.integers(0, 10 ** 9)),
                      min_size=20, max_size=200, unique_by=lambda t: (t[0], t[1])),
       retain_after=hs.lists(hs.integers(0, 149), max_size=10),
       retain_lag_days=hs.integers(0, 800))
def test_retention_never_changes_a_day_month_or_year_total(tmp_path_factory, zone, slots, retain_after,
                                                           retain_lag_days):
    start = epoch(zone, 2021, 12, 31, 22)
    horizons = ((SLOT, 1, ""), (HOUR, 10, ""), (DAY, 100, ""), (MONTH, None, ""), (YEAR, None, ""))
    written = []
    with Store(tmp_path_factory.mktemp("p"), zone, horizons=horizons) as s:
        for n, (i, device, delta) in enumerate(sorted(slots)):
            ts = start + i * SLOT_S
            assert s.write_slot([rec(device, ts, delta)]) == (1, 0, 0)
            written.append((ts, device, delta))
            if n in retain_after:
                s.retain(now=ts + retain_lag_days * 86400)
        s.retain(now=written[-1][0] + retain_lag_days * 86400)
        for d in (1, 2, 3):
            assert level_totals(s, YEAR, d, YEAR_KEY) == oracle(written, zone, d, YEAR_KEY)
            assert level_totals(s, MONTH, d, MONTH_KEY) == oracle(written, zone, d, MONTH_KEY)
            days = level_totals(s, DAY, d, DAY_KEY)
            expected = oracle(written, zone, d, DAY_KEY)
            assert all(expected[k] == v for k, v in days.items())           # what is kept is right...
            newest = datetime.fromtimestamp(written[-1][0], ZoneInfo(zone)).date()
            recent = {k: v for k, v in expected.items() if k >= newest - timedelta(days=60)}
            assert recent.items() <= days.items()                          # ...and recent days are all kept


# -- statistics budget ----------------------------------------------------------------------------------
def test_budget_is_shared_so_every_series_gets_the_same_rows():
    b = store_stats.Budget.share(100_000, [10 * 16, 90 * 16])   # stats device, harmonics device
    assert b.rows_per_series == 100_000 // (10 * 16 + 90 * 16 + 2 * store_stats.ROW_OVERHEAD)
    heavier = store_stats.Budget.share(100_000, [10 * 16, 90 * 16, 90 * 16])   # one more EQ device
    assert heavier.rows_per_series < b.rows_per_series


def stat_at(i: int) -> Stat:
    """Values exact in float32, counts that differ so that an unweighted average would show."""
    return Stat(float(i % 97), float(i % 97) - 0.5, float(i % 97) + 0.25, 1 + i % 7)


def test_statistics_stay_in_budget_newest_kept_oldest_downsampled(tmp_path):
    start = epoch(PARIS, 2024, 3, 1)
    n = 20 * 144                                                          # 20 days at 10 minutes
    with Store(tmp_path, PARIS, stats_budget=100 * (2 * 16 + store_stats.ROW_OVERHEAD)) as s:
        for i in range(n):
            s.write_slot([SlotRecord(1, start + i * SLOT_S, SLOT_S, stats={"P": stat_at(i), "V1": stat_at(i + 1)},
                                     states={"breaker": i % 3})])
            rows = s.conn.execute("SELECT level, max(ts) FROM stat WHERE kind = 0 GROUP BY level").fetchall()
            assert dict(rows)[SLOT] == start + i * SLOT_S                # never the newest
        budget = s.budget()
        counts = dict(s.conn.execute("SELECT level, count(*) FROM stat WHERE kind = 0 GROUP BY level"))
        assert all(counts[level] <= budget.quotas[level] for level in (SLOT, HOUR, DAY))
        assert sum(counts.values()) < n / 20                               # bounded, far below the slots written
        assert counts[DAY] > 0                                            # it went down two levels
        rows = s.stat_rows(1, 0, 2 ** 40, kinds=["stat"])
        # the newest slots at full resolution, exactly as written
        newest = [r for r in rows if r.level == SLOT][-counts[SLOT]:]
        for r in newest:
            i = (r.ts - start) // SLOT_S
            assert r.values == {"P": stat_at(i), "V1": stat_at(i + 1)}
        # every coarser row is the merge of exactly the slots of its bucket
        by_bucket = defaultdict(list)
        tz = s.tz
        for r in rows:
            if r.level > SLOT:
                by_bucket[r.level, r.ts] = r
        for (level, ts), r in by_bucket.items():
            end = int((datetime.fromtimestamp(ts, tz) + (timedelta(hours=1) if level == HOUR else timedelta(days=1)))
                      .timestamp())
            inputs = [stat_at((t - start) // SLOT_S) for t in range(ts, end, SLOT_S) if t >= start]
            count = sum(x.count for x in inputs)
            p = r.values["P"]
            assert p.count == count and p.min == min(x.min for x in inputs) and p.max == max(x.max for x in inputs)
            assert math.isclose(p.avg, sum(x.avg * x.count for x in inputs) / count, rel_tol=1e-6)
        # states: last value of the bucket, lowest and highest it took
        for r in s.stat_rows(1, 0, 2 ** 40, kinds=["state"]):
            if r.level == HOUR:
                last = (r.ts + 3000 - start) // SLOT_S
                assert r.values["breaker"] == (last % 3, 0, 2)


def test_budget_folds_back_when_devices_are_added_and_after_reopening(tmp_path):
    start = epoch(PARIS, 2024, 3, 1)
    budget = 60 * (90 * 16 + 10 * 16 + 2 * store_stats.ROW_OVERHEAD)
    harmonics = {f"H{h}_V1": Stat(1.0, 0.5, 2.0, 1) for h in range(3, 33, 2)} | \
                {f"H{h}_I1": Stat(1.0, 0.5, 2.0, 1) for h in range(3, 33, 2)}
    stats = {q: Stat(1.0, 0.5, 2.0, 1) for q in ("P", "Q", "S", "PF", "V1", "V2", "V3", "I1", "I2", "I3")}
    with Store(tmp_path, PARIS, stats_budget=budget) as s:
        for i in range(3 * 144):
            s.write_slot([SlotRecord(1, start + i * SLOT_S, SLOT_S, stats=stats)])
        alone = s.budget().rows_per_series
    with Store(tmp_path, PARIS, stats_budget=budget) as s:                  # counts rebuilt from the file
        for i in range(3 * 144, 6 * 144):
            ts = start + i * SLOT_S
            s.write_slot([SlotRecord(1, ts, SLOT_S, stats=stats), SlotRecord(2, ts, SLOT_S, stats=harmonics)])
        s.retain(now=ts)
        shared = s.budget()
        assert shared.rows_per_series < alone                               # the EQ device shortens everyone's depth
        for kind in (0, 2):                                                 # stat, harmonics
            counts = dict(s.conn.execute("SELECT level, count(*) FROM stat WHERE kind = ? GROUP BY level", (kind,)))
            assert all(counts.get(level, 0) <= shared.quotas[level] for level in (SLOT, HOUR, DAY)), kind
        used = s.conn.execute("SELECT sum(length(data)) + count(*) * ? FROM stat", (store_stats.ROW_OVERHEAD,))
        assert used.fetchone()[0] <= budget * 1.05
        # the EQ device is deleted: its share comes back to the others, its energies would stay
        assert s.forget_stats(2) > 0
        assert s.budget().rows_per_series == alone
        assert s.stat_rows(2, 0, 2 ** 40) == [] and s.stat_rows(1, 0, 2 ** 40) != []


def test_stats_of_a_changed_layout_merge_by_name(tmp_path):
    start = epoch(PARIS, 2024, 3, 1)
    with Store(tmp_path, PARIS, stats_budget=1) as s:                        # every level at its minimum
        for i in range(8 * 24 * 6):
            stats = {"P": Stat(10.0, 9.0, 11.0, 2)} | ({"V1": Stat(230.0, 229.0, 231.0, 2)} if i % 2 else {})
            s.write_slot([SlotRecord(1, start + i * SLOT_S, SLOT_S, stats=stats)])
        day = next(r for r in s.stat_rows(1, 0, 2 ** 40) if r.level == DAY)
        assert day.values == {"P": Stat(10.0, 9.0, 11.0, 2 * 144), "V1": Stat(230.0, 229.0, 231.0, 2 * 72)}


def test_never_the_newest_even_when_a_quota_is_smaller_than_an_hour_of_slots(tmp_path):
    start = epoch(PARIS, 2024, 3, 1)
    with Store(tmp_path, PARIS, stats_budget=1) as s:                        # quotas at their minimums
        for i in range(3 * 60):                                            # 1-minute sample rate
            ts = start + i * 60
            s.write_slot([SlotRecord(1, ts, 60, stats={"P": Stat(float(i), float(i), float(i), 1)})])
            newest = s.conn.execute("SELECT level FROM stat ORDER BY ts DESC, level LIMIT 1").fetchone()[0]
            assert newest == SLOT, i
        assert s.budget().quotas[SLOT] < 60
        assert [r.level for r in s.stat_rows(1, 0, 2 ** 40)][:2] == [HOUR, HOUR]   # older hours were folded


def test_a_late_slot_merges_into_the_bucket_already_folded(tmp_path):
    start = epoch(PARIS, 2024, 3, 1)
    with Store(tmp_path, PARIS, stats_budget=1) as s:
        for i in range(1, 144 + 30):                                       # the 00:00 slot is missing
            s.write_slot([SlotRecord(1, start + i * SLOT_S, SLOT_S, stats={"P": Stat(1.0, 1.0, 1.0, 1)})])
        first = s.stat_rows(1, start, start + 1)[0]
        assert (first.level, first.values["P"].count) == (HOUR, 5)
        s.write_slot([SlotRecord(1, start, SLOT_S, stats={"P": Stat(7.0, 0.0, 9.0, 1)})])   # arrives late
        for i in range(144 + 30, 144 + 42):                                # the next fold takes it in
            s.write_slot([SlotRecord(1, start + i * SLOT_S, SLOT_S, stats={"P": Stat(1.0, 1.0, 1.0, 1)})])
        rows = [r for r in s.stat_rows(1, start, start + 3600)]
        assert [(r.level, r.values["P"]) for r in rows] == [(HOUR, Stat(2.0, 0.0, 9.0, 6))]
