"""Consumption views: local buckets across DST, month and year cut at local midnight, None vs 0,
selections honouring "Exclude from totals", totals that survive retention."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from wsmeasure.aggregates import (DAY_VIEW, DECADE_VIEW, MONTH_VIEW, YEAR_VIEW, Members, bounds, previous,
                                  view)
from wsmeasure.records import Counter, SlotRecord
from wsmeasure.store import Store
from wsmeasure.store_time import DAY, HOUR, MONTH, SLOT, YEAR

SLOT_S = 600


def epoch(zone: str, *args) -> int:
    return int(datetime(*args, tzinfo=ZoneInfo(zone)).timestamp())


def fill(store: Store, start: int, end: int, devices=(1,), delta=lambda ts, d: 1) -> list[tuple[int, int, int]]:
    """A slot every 10 minutes from start to end for each device; returns what was written."""
    written = []
    for ts in range(start, end, SLOT_S):
        recs = [SlotRecord(d, ts, SLOT_S, {"Ea+": Counter(delta(ts, d), ts)}) for d in devices]
        store.write_slot(recs)
        written += [(ts, d, delta(ts, d)) for d in devices]
    return written


def local_day_sums(written, zone: str) -> dict[date, int]:
    out = defaultdict(int)
    for ts, _, delta in written:
        out[datetime.fromtimestamp(ts, ZoneInfo(zone)).date()] += delta
    return out


ONE = {"Ea+": [1]}

#  zone                  day                 hour buckets  minutes in the day
DST_DAYS = [
    ("Europe/Paris",        date(2024, 3, 31),  23, 23 * 60),
    ("Europe/Paris",        date(2024, 10, 27), 25, 25 * 60),
    ("America/New_York",    date(2024, 3, 10),  23, 23 * 60),
    ("America/New_York",    date(2024, 11, 3),  25, 25 * 60),
    ("Australia/Lord_Howe", date(2024, 10, 6),  24, 23 * 60 + 30),   # 02:00 -> 02:30: a 30-minute 02 hour
    ("Australia/Lord_Howe", date(2024, 4, 7),   25, 24 * 60 + 30),   # 02:00 -> 01:30: a 30-minute extra hour
    ("Europe/Paris",        date(2024, 6, 12),  24, 24 * 60),
]


@pytest.mark.parametrize("zone, day, n_hours, minutes", DST_DAYS)
def test_day_view_has_the_real_hours_of_the_local_day(tmp_path, zone, day, n_hours, minutes):
    with Store(tmp_path, zone) as s:
        lo = epoch(zone, day.year, day.month, day.day) - 86400
        written = fill(s, lo, lo + 3 * 86400, delta=lambda ts, d: 1 + ts % 7)
        v = view(s, DAY_VIEW, day, ONE)
        assert len(v.buckets) == n_hours
        assert v.end.timestamp() - v.start.timestamp() == minutes * 60     # (same-zone datetimes subtract as wall time)
        assert v.total == local_day_sums(written, zone)[day]
        assert sum(b.value for b in v.buckets) == v.total
        assert all(b.start.date() == day for b in v.buckets)
        # each bucket holds exactly the slots whose local start falls in it
        edges = [b.start for b in v.buckets] + [v.end]
        for b, nxt in zip(v.buckets, edges[1:]):
            inside = [dl for ts, _, dl in written if b.start.timestamp() <= ts < nxt.timestamp()]
            assert b.value == sum(inside)
            assert len(inside) == (nxt.timestamp() - b.start.timestamp()) // SLOT_S


def test_autumn_day_labels_the_repeated_hour_twice_with_its_offsets(tmp_path):
    with Store(tmp_path, "Europe/Paris") as s:
        lo = epoch("Europe/Paris", 2024, 10, 27)
        fill(s, lo, lo + 25 * 3600)
        labels = [b.start.strftime("%H:%M%z") for b in view(s, DAY_VIEW, date(2024, 10, 27), ONE).buckets]
        assert labels[:5] == ["00:00+0200", "01:00+0200", "02:00+0200", "02:00+0100", "03:00+0100"]
        assert labels[-1] == "23:00+0100"


@pytest.mark.parametrize("zone, expected_day", [("Europe/Paris", date(2025, 1, 1)),
                                                ("America/New_York", date(2024, 12, 31))])
def test_month_and_year_are_cut_at_local_midnight(tmp_path, zone, expected_day):
    ts = int(datetime(2024, 12, 31, 23, 30, tzinfo=ZoneInfo("UTC")).timestamp())   # 00:30 in Paris
    with Store(tmp_path, zone) as s:
        s.write_slot([SlotRecord(1, ts, SLOT_S, {"Ea+": Counter(42, 1000)})])
        other = date(2024, 12, 31) if expected_day.year == 2025 else date(2025, 1, 1)
        month = view(s, MONTH_VIEW, expected_day, ONE)
        assert month.total == 42
        assert [b.value for b in month.buckets if b.value is not None] == [42]
        assert next(b for b in month.buckets if b.value).start.date() == expected_day
        assert view(s, MONTH_VIEW, other, ONE).total is None
        year = view(s, YEAR_VIEW, expected_day, ONE)
        assert (year.total, year.buckets[expected_day.month - 1].value) == (42, 42)
        assert view(s, YEAR_VIEW, other, ONE).total is None
        decade = view(s, DECADE_VIEW, date(2025, 6, 1), ONE)
        assert [b.value for b in decade.buckets][-2:] == ([None, 42] if expected_day.year == 2025 else [42, None])
        assert [b.start.year for b in decade.buckets] == list(range(2016, 2026))


def test_month_view_has_daily_buckets_from_the_first_to_the_last(tmp_path):
    with Store(tmp_path, "Europe/Paris") as s:
        for day, n in ((date(2024, 2, 1), 29), (date(2023, 2, 1), 28), (date(2024, 10, 1), 31)):
            v = view(s, MONTH_VIEW, day.replace(day=15), ONE)
            assert [b.start.day for b in v.buckets] == list(range(1, n + 1))
            assert all(b.start.hour == 0 for b in v.buckets)
            assert v.total is None and all(b.value is None for b in v.buckets)


def test_none_where_nothing_was_recorded_zero_where_zero_was(tmp_path):
    zone = "Europe/Paris"
    with Store(tmp_path, zone) as s:
        lo = epoch(zone, 2024, 5, 2)
        fill(s, lo, lo + 6 * 3600, delta=lambda ts, d: 0)                   # 00:00-06:00 recorded, all zero
        v = view(s, DAY_VIEW, date(2024, 5, 2), ONE)
        assert [b.value for b in v.buckets] == [0] * 6 + [None] * 18
        assert v.total == 0
        assert view(s, DAY_VIEW, date(2024, 5, 1), ONE).total is None
        m = view(s, MONTH_VIEW, date(2024, 5, 2), ONE)
        assert [b.value for b in m.buckets[:3]] == [None, 0, None]


def test_totals_survive_retention_of_the_buckets(tmp_path):
    zone = "Europe/Paris"
    with Store(tmp_path, zone) as s:
        lo = epoch(zone, 2022, 3, 27)                                       # a 23-hour day
        written = fill(s, lo, lo + 2 * 86400, delta=lambda ts, d: 3)
        before = view(s, DAY_VIEW, date(2022, 3, 27), ONE)
        s.write_slot([SlotRecord(1, epoch(zone, 2024, 6, 1), SLOT_S, {"Ea+": Counter(1, 1)})])
        s.retain(now=epoch(zone, 2024, 6, 1, 1))
        after = view(s, DAY_VIEW, date(2022, 3, 27), ONE)
        assert before.total == after.total == local_day_sums(written, zone)[date(2022, 3, 27)] == 23 * 6 * 3
        assert all(b.value is None for b in after.buckets) and len(after.buckets) == 23   # hours gone, total kept
        assert view(s, MONTH_VIEW, date(2022, 3, 27), ONE).buckets[26].value == 23 * 6 * 3   # days kept 10 years


# -- selections ------------------------------------------------------------------------------------------
MEMBERS = Members(
    counters={1: "Ea+", 2: "Ea+", 3: "Ea+", 4: "water", 5: "gas", 6: "Ea+"},
    excluded=frozenset({3}),                   # a sub-meter also measured by device 1
    loads={10: [1, 3], 11: [2, 6], 12: [4]},
    groups={20: [1, 2, 3, 4]},
)


def test_members_build_the_selections_and_honour_exclusion():
    assert MEMBERS.total() == {"Ea+": (1, 2, 6)}
    assert MEMBERS.total("water") == {"water": (4,)}
    assert MEMBERS.load(10) == {"Ea+": (1,)}
    assert MEMBERS.load(12, "water") == {"water": (4,)}
    assert MEMBERS.group(20) == {"Ea+": (1, 2)}
    assert MEMBERS.device(3) == {"Ea+": (3,)}                               # Details still shows it
    assert MEMBERS.device(1, "Ea-") == {"Ea-": (1,)}
    assert MEMBERS.overall() == {"electricity": {"Ea+": (1, 2, 6)}, "gas": {"gas": (5,)}, "water": {"water": (4,)}}


def test_views_sum_their_selection_only(tmp_path):
    zone = "Europe/Paris"
    with Store(tmp_path, zone) as s:
        lo = epoch(zone, 2024, 5, 1)
        fill(s, lo, lo + 86400, devices=range(1, 7), delta=lambda ts, d: d)   # device d: d per slot
        day = date(2024, 5, 1)
        assert view(s, DAY_VIEW, day, MEMBERS.total()).total == (1 + 2 + 6) * 144
        assert view(s, DAY_VIEW, day, MEMBERS.load(11)).total == (2 + 6) * 144
        assert view(s, DAY_VIEW, day, MEMBERS.group(20)).total == (1 + 2) * 144
        assert view(s, DAY_VIEW, day, MEMBERS.device(3)).total == 3 * 144
        assert view(s, DAY_VIEW, day, MEMBERS.load(10, "water")).total is None   # no water device in that load
        assert view(s, DAY_VIEW, day, {"Ea+": []}).total is None
        assert view(s, DAY_VIEW, day, {"nothing": [1]}).total is None


def test_previous_period_and_bounds(tmp_path):
    assert previous(DAY_VIEW, date(2024, 3, 1)) == date(2024, 2, 29)
    assert previous(MONTH_VIEW, date(2024, 3, 31)).replace(day=1) == date(2024, 2, 1)
    assert previous(YEAR_VIEW, date(2024, 3, 31)).year == 2023
    assert previous(DECADE_VIEW, date(2024, 3, 31)).year == 2014
    with Store(tmp_path, "America/New_York") as s:
        lo, hi = bounds(s, YEAR_VIEW, date(2024, 7, 4))
        assert (lo, hi) == (epoch("America/New_York", 2024, 1, 1), epoch("America/New_York", 2025, 1, 1))
        with pytest.raises(ValueError, match="views"):
            bounds(s, "week", date(2024, 7, 4))


def test_levels_are_numbered_as_the_store_names_its_tables():
    assert (SLOT, HOUR, DAY, MONTH, YEAR) == (0, 1, 2, 3, 4)
