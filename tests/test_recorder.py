"""The recorder: slots on the local clock, statistics, and counters that never lose or double a Wh."""

from __future__ import annotations

import json
from dataclasses import fields, is_dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wsmeasure.drivers.emdx3_meter import ROWS as EMDX3_ROWS
from wsmeasure.drivers.generic import generic_row
from wsmeasure.poller import DeviceState
from wsmeasure.recorder import MIN_ELAPSED_S, Recorder, local_slot, moduli_of, register_modulus

PARIS, NEW_YORK, KATHMANDU, KOLKATA = (ZoneInfo(z) for z in
                                       ("Europe/Paris", "America/New_York", "Asia/Kathmandu", "Asia/Kolkata"))
UTC = ZoneInfo("UTC")


def epoch(*args, tz=UTC) -> int:
    return int(datetime(*args, tzinfo=tz).timestamp())


class Clock:
    """A wall clock the test moves by hand."""

    def __init__(self, t: float):
        self.t = t

    def __call__(self) -> float:
        return self.t


def reading(dev: int, t: float, **values) -> DeviceState:
    values = {k.replace("_plus", "+").replace("_minus", "-"): v for k, v in values.items()}
    return DeviceState(dev, f"dev{dev}", "test", None, str(dev), 1, values=values, read_at=t)


def recorder(slot_s=600, tz=UTC, t=epoch(2026, 3, 2, 10, 0), **kw) -> tuple[Recorder, Clock]:
    clock = Clock(t)
    return Recorder(slot_s, tz, clock=clock, **kw), clock


def observe(rec, clock, dev, t, **values):
    clock.t = t
    rec.observe(reading(dev, t, **values))


def close_all(rec) -> list:
    """Every open slot closed, as the daemon does once their ends have passed."""
    out = []
    for start in rec.due(float("inf")):
        out += rec.close_slot(start)
    return out


def by_dev(records, dev):
    return [r for r in records if r.device_id == dev]


# -- slots on the local clock --------------------------------------------------------------------
@pytest.mark.parametrize("tz, slot_s, minute_utc", [
    (UTC, 600, 0), (PARIS, 600, 0),
    (KATHMANDU, 600, 5),    # +05:45: local :00, :10... are :15, :25... UTC
    (KATHMANDU, 3600, 15),
    (KOLKATA, 3600, 30),    # +05:30
    (KOLKATA, 900, 0),
])
def test_slots_start_at_local_multiples(tz, slot_s, minute_utc):
    rec, _ = recorder(slot_s, tz)
    t = epoch(2026, 6, 1, 10, 33, 20)
    start, end = rec.slot_bounds(t)
    assert end - start == slot_s and start <= t < end
    assert datetime.fromtimestamp(start, UTC).minute % (slot_s // 60 if slot_s < 3600 else 60) == minute_utc
    local = datetime.fromtimestamp(start, tz)
    assert (local.hour * 3600 + local.minute * 60) % slot_s == 0


def test_paris_repeated_autumn_hour_is_two_slots():
    rec, clock = recorder(3600, PARIS, t=epoch(2026, 10, 24, 23, 0))
    idx = 1_000_000
    for k in range(0, 4 * 6):                    # every 10 min from 01:00 CEST to 04:00 CET
        t = epoch(2026, 10, 24, 23, 0) + 600 * k
        idx += 100
        observe(rec, clock, 1, t, Ea_plus=idx, P=1000.0)
    records = close_all(rec)
    local = [datetime.fromtimestamp(r.ts, PARIS).strftime("%H:%M%z") for r in records]
    assert local == ["01:00+0200", "02:00+0200", "02:00+0100", "03:00+0100"]
    assert [r.slot_s for r in records] == [3600] * 4
    assert len({r.ts for r in records}) == 4                       # nothing merged
    assert sum(r.counters["Ea+"].delta for r in records) == idx - 1_000_100   # nothing lost


def test_new_york_spring_forward_skips_the_missing_hour():
    rec, _ = recorder(3600, NEW_YORK)
    before = rec.slot_bounds(epoch(2026, 3, 8, 6, 30))           # 01:30 EST
    after = rec.slot_bounds(epoch(2026, 3, 8, 7, 30))            # 03:30 EDT
    assert before[1] == after[0] == epoch(2026, 3, 8, 7, 0)
    assert datetime.fromtimestamp(after[0], NEW_YORK).hour == 3


def test_kathmandu_1986_quarter_hour_shift_makes_one_short_slot():
    """1 January 1986: +05:30 became +05:45, local midnight jumped to 00:15."""
    rec, _ = recorder(600, KATHMANDU)
    shift = epoch(1985, 12, 31, 18, 30)
    assert rec.slot_bounds(shift - 1) == (shift - 600, shift)
    start, end = rec.slot_bounds(shift + 60)
    assert (start, end) == (shift, shift + 300)                   # 00:15 -> 00:20, then :20, :30...
    assert rec.slot_bounds(end) == (end, end + 600)


TRANSITIONS = [  # (zone, an instant near one of its offset changes)
    (PARIS, epoch(2026, 3, 29, 1)), (PARIS, epoch(2026, 10, 25, 1)),
    (NEW_YORK, epoch(2026, 3, 8, 7)), (NEW_YORK, epoch(2026, 11, 1, 6)),
    (KATHMANDU, epoch(1985, 12, 31, 18, 30)), (KATHMANDU, epoch(2026, 1, 1)),
    (ZoneInfo("Australia/Lord_Howe"), epoch(2026, 4, 4, 15)),   # a 30-minute DST
]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(TRANSITIONS), st.sampled_from([60, 300, 600, 900, 1800, 3600, 7]),
       st.integers(-2 * 86400, 2 * 86400))
def test_slots_tile_time_across_offset_changes(zone_t, slot_s, dt):
    tz, near = zone_t
    t = near + dt
    start, end = local_slot(tz, slot_s, t)
    assert start <= t < end and end - start <= slot_s
    assert local_slot(tz, slot_s, start) == (start, end) == local_slot(tz, slot_s, end - 1)
    assert local_slot(tz, slot_s, end)[0] == end                  # no hole, no overlap
    local = datetime.fromtimestamp(start, tz)
    aligned = (local.hour * 3600 + local.minute * 60 + local.second) % slot_s == 0
    shifted = datetime.fromtimestamp(start - 1, tz).utcoffset() != local.utcoffset()
    assert aligned or shifted


def test_slot_length_change_takes_effect_at_the_next_boundary():
    rec, clock = recorder(600, PARIS, t=epoch(2026, 6, 1, 10, 0, tz=PARIS))
    t0 = epoch(2026, 6, 1, 10, 0, tz=PARIS)
    observe(rec, clock, 1, t0 + 5, P=1.0)
    first = rec.close_slot(rec.due(t0 + 600)[0])                 # 10:00-10:10 stored
    observe(rec, clock, 1, t0 + 900, P=2.0)                       # 10:15, in slot 10:10-10:20
    rec.set_slot_s(3600)
    assert rec.slot_bounds(t0 + 900) == (t0 + 600, t0 + 1200)     # the slot begun keeps its length
    assert rec.slot_bounds(t0 + 1500) == (t0 + 1200, t0 + 3600)   # 10:20-11:00: then on the hour
    assert rec.slot_bounds(t0 + 4000) == (t0 + 3600, t0 + 7200)
    for t in (t0 + 1000, t0 + 1500, t0 + 4000):
        observe(rec, clock, 1, t, P=3.0)
    records = first + close_all(rec)
    assert [(r.ts - t0, r.slot_s) for r in records] == [(0, 600), (600, 600), (1200, 2400), (3600, 3600)]
    assert rec.slot_s == 3600


def test_slot_length_change_back_before_it_took_effect():
    rec, clock = recorder(600, UTC)
    t0 = clock.t
    rec.set_slot_s(3600)
    rec.set_slot_s(600)                                           # changed mind: nothing changes
    assert rec.slot_bounds(t0 + 1800) == (t0 + 1800, t0 + 2400)


# -- statistics and states -----------------------------------------------------------------------
def test_stats_states_and_absent_values():
    rec, clock = recorder(600)
    t0 = clock.t
    observe(rec, clock, 1, t0 + 10, P=100.0, V1=230.0, **{"P:max": 900.0}, breaker=1)
    observe(rec, clock, 1, t0 + 20, P=300.0, V1=None, breaker=2, THD_I1=float("nan"))
    observe(rec, clock, 1, t0 + 30, P=200, **{"P:max": 950.0})
    observe(rec, clock, 2, t0 + 700, P=5.0)                       # device 2: next slot only
    [r1] = rec.close_slot(t0)
    assert r1.device_id == 1 and r1.ts == t0 and r1.slot_s == 600
    p = r1.stats["P"]
    assert (p.avg, p.min, p.max, p.count) == (200.0, 100.0, 300, 3)
    assert r1.stats["V1"].count == 1                              # a missing reading is not a zero
    assert r1.stats["P:max"].max == 950.0 and r1.stats["P"].max == 300   # the device's peak kept apart
    assert "THD_I1" not in r1.stats and r1.counters == {}
    assert r1.states == {"breaker": 2}
    [r2] = close_all(rec)
    assert r2.device_id == 2                                      # device 1 not read: no record


def _leaves(obj, seen=None) -> int:
    """Containers and values reachable from obj: what the recorder keeps in memory."""
    seen = set() if seen is None else seen
    if isinstance(obj, (dict, list, tuple, set)) or is_dataclass(obj):
        if id(obj) in seen:
            return 0
        seen.add(id(obj))
    if isinstance(obj, dict):
        return 1 + sum(_leaves(k, seen) + _leaves(v, seen) for k, v in obj.items())
    if isinstance(obj, (list, tuple, set)):
        return 1 + sum(_leaves(v, seen) for v in obj)
    if is_dataclass(obj):
        return 1 + sum(_leaves(getattr(obj, f.name), seen) for f in fields(obj))
    return 1


def _footprint(rec) -> int:
    return sum(_leaves(getattr(rec, a)) for a in ("_open", "_last", "_closed", "_committed", "_pending", "_rates"))


@pytest.mark.parametrize("n", [10, 1000])
def test_memory_stays_flat(n):
    rec, clock = recorder(3600)
    t0 = clock.t
    sizes = []
    for k in range(n):
        observe(rec, clock, 1, t0 + 1 + k * 3599 / n, P=float(k), Ea_plus=1000 + k, breaker=k % 2)
        if k in (n // 2, n - 1):
            sizes.append(_footprint(rec))
    assert sizes[0] == sizes[1]
    rec.commit(close_all(rec))
    after_one = _footprint(rec)
    for day in range(1, 5):                                       # many slots later: still the same
        observe(rec, clock, 1, t0 + day * 3600 + 5, P=1.0, Ea_plus=5000 + day, breaker=0)
        rec.commit(close_all(rec))
    assert _footprint(rec) == after_one


# -- counters --------------------------------------------------------------------------------------
def test_first_reading_is_a_baseline_only():
    rec, clock = recorder(600)
    t0 = clock.t
    observe(rec, clock, 1, t0 + 590, Ea_plus=123_456_789)
    [r] = close_all(rec)
    assert r.counters == {}                                       # absent, not the whole index
    observe(rec, clock, 1, t0 + 610, Ea_plus=123_456_800)
    [r] = close_all(rec)
    assert (r.counters["Ea+"].delta, r.counters["Ea+"].index, r.counters["Ea+"].since) == (11, 123_456_800, None)


def test_delta_is_an_exact_64_bit_integer():
    rec, clock = recorder(600)
    big = 2**62 + 12345                                           # beyond a double's 53 bits
    observe(rec, clock, 1, clock.t + 1, Ea_plus=big)
    observe(rec, clock, 1, clock.t + 600, Ea_plus=big + 7)
    [_, r] = close_all(rec)
    assert r.counters["Ea+"].delta == 7 and type(r.counters["Ea+"].delta) is int
    assert r.counters["Ea+"].index == big + 7


def test_gap_goes_to_the_first_slot_read_again():
    rec, clock = recorder(600)
    t0 = clock.t
    observe(rec, clock, 1, t0 + 590, Ea_plus=1000, P=1.0)
    observe(rec, clock, 1, t0 + 595, Ea_plus=1010, P=1.0)
    # unreachable from 10:10 to 10:40
    observe(rec, clock, 1, t0 + 2405, Ea_plus=1500, P=1.0)
    observe(rec, clock, 1, t0 + 2600, Ea_plus=1520, P=1.0)
    records = close_all(rec)
    assert [r.ts - t0 for r in records] == [0, 2400]              # the gap's slots stay absent
    c = records[1].counters["Ea+"]
    assert (c.delta, c.index, c.since) == (510, 1520, t0 + 595)


def test_no_gap_since_when_the_baseline_is_in_the_slot_before():
    rec, clock = recorder(600)
    t0 = clock.t
    observe(rec, clock, 1, t0 + 5, Ea_plus=1000)
    observe(rec, clock, 1, t0 + 900, Ea_plus=1100)
    assert close_all(rec)[1].counters["Ea+"].since is None


def test_restart_counts_the_downtime_in_the_first_slot_after():
    rec, clock = recorder(600)
    t0 = clock.t
    observe(rec, clock, 1, t0 + 5, Ea_plus=1000)
    observe(rec, clock, 1, t0 + 595, Ea_plus=1050)
    written = close_all(rec)
    state = json.loads(json.dumps(rec.counter_state(after=written)))   # what the store keeps
    rec.commit(written)
    assert state == {"1": {"Ea+": [1050, t0 + 595]}}
    rec2 = Recorder(600, UTC, counter_state=state, clock=clock, stored_until=t0 + 600)
    observe(rec2, clock, 1, t0 + 3 * 3600, Ea_plus=1900)       # down for three hours
    [r] = close_all(rec2)
    assert (r.counters["Ea+"].delta, r.counters["Ea+"].since) == (850, t0 + 595)


def test_failed_write_retried_neither_loses_nor_doubles():
    rec, clock = recorder(600)
    t0 = clock.t
    observe(rec, clock, 1, t0 + 5, Ea_plus=1000)
    store, state = [], None
    rec.commit(rec.close_slot(t0))                                # the baseline is stored
    observe(rec, clock, 1, t0 + 605, Ea_plus=1100)
    pending = rec.close_slot(t0 + 600)                            # disk full: not written
    committed = rec.counter_state()
    observe(rec, clock, 1, t0 + 1205, Ea_plus=1250)
    pending += rec.close_slot(t0 + 1200)
    assert rec.counter_state() == committed                       # nothing advanced without a commit
    state = rec.counter_state(after=pending)
    store += pending                                              # the retry succeeds
    rec.commit(pending)
    assert [r.counters["Ea+"].delta for r in store] == [100, 150]
    assert rec.counter_state() == state == {1: {"Ea+": [1250, t0 + 1205]}}
    rec.commit(pending)                                           # committing twice changes nothing
    assert rec.counter_state() == state


@pytest.mark.parametrize("fmt_rows, device, modulus", [
    ([generic_row({"register": "0", "words": 1})], 7, 1 << 16),
    ([generic_row({"register": "0", "words": 2, "multiplier": 100})], 7, 100 << 32),   # U32 in 0.1 kWh
    ([generic_row({"register": "0", "words": 2, "encoding": "F32"})], 7, None),
])
def test_moduli_come_from_the_driver_rows(fmt_rows, device, modulus):
    assert moduli_of(device, fmt_rows) == ({} if modulus is None else {(device, "Ea+"): modulus})


def test_moduli_of_an_emdx3_meter():
    m = moduli_of(3, EMDX3_ROWS)
    assert m[3, "Ea+"] == 1000 << 32 and set(n for _, n in m) == {"Ea+", "Ea-", "Er+", "Er-"}
    assert register_modulus(EMDX3_ROWS[0]) is not None            # any integer row has one


@pytest.mark.parametrize("old, new, counted", [
    (65_000, 200, 736),          # a 16-bit wrap
    (30_000, 100, 100),          # a drop of more than half the range: a reset, counted from zero
    (65_535, 0, 1),
])
def test_wrap_or_reset_16_bit(old, new, counted):
    rec, clock = recorder(600, moduli={(1, "Ea+"): 1 << 16})
    observe(rec, clock, 1, clock.t + 1, Ea_plus=old)
    observe(rec, clock, 1, clock.t + 10, Ea_plus=new)
    [r] = close_all(rec)
    assert r.counters["Ea+"].delta == counted


@settings(max_examples=150, deadline=None)
@given(st.sampled_from([(1 << 16, 1, 16_000), (100 << 32, 100, 2_000)]), st.integers(0, 30),
       st.lists(st.tuples(st.integers(1, 1800), st.integers(0, 10**9)), min_size=1, max_size=60))
def test_roll_over_property(mod_scale_step, back, steps):
    """Raw register readings wrapping at 16 and 32 bits: every increment counted, once."""
    modulus, scale, max_raw_step = mod_scale_step
    raw_mod = modulus // scale
    rec, clock = recorder(600, moduli={(1, "Ea+"): modulus})
    raw = raw_mod - 1 - back                                      # start just below the wrap
    observe(rec, clock, 1, clock.t + 1, Ea_plus=raw * scale)
    total = 0
    records = []
    for dt, inc in steps:
        inc %= max_raw_step + 1
        raw = (raw + inc) % raw_mod
        total += inc * scale
        observe(rec, clock, 1, clock.t + dt, Ea_plus=raw * scale)
        for start in rec.due(clock.t):
            records += rec.close_slot(start)
    records += close_all(rec)
    deltas = [r.counters["Ea+"].delta for r in records if "Ea+" in r.counters]
    assert min(deltas, default=0) >= 0 and sum(deltas) == total


def test_reset_to_zero_counts_from_zero():
    rec, clock = recorder(600)
    observe(rec, clock, 1, clock.t + 1, Ea_plus=5_000_000)
    observe(rec, clock, 1, clock.t + 10, Ea_plus=5_000_040)
    observe(rec, clock, 1, clock.t + 10, Ea_plus=0)               # reset
    observe(rec, clock, 1, clock.t + 10, Ea_plus=30)
    [r] = close_all(rec)
    assert r.counters["Ea+"].delta == 70 and r.counters["Ea+"].index == 30


def test_a_reading_a_little_below_the_baseline_is_ignored():
    """A float-encoded meter's rounding or a misread: neither a reset nor counted twice."""
    rec, clock = recorder(600)
    for dt, index in ((1, 1000), (10, 1010), (10, 1004), (10, 1012)):
        observe(rec, clock, 1, clock.t + dt, Ea_plus=index)
    [r] = close_all(rec)
    assert (r.counters["Ea+"].delta, r.counters["Ea+"].index) == (12, 1012)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 500)), max_size=60))
def test_resets_to_zero_count_the_consumption_since(events):
    rec, clock = recorder(600)
    index = 10**7
    observe(rec, clock, 1, clock.t + 1, Ea_plus=index)
    used = 0
    records = []
    for reset, inc in events:
        if reset and index >= 10_000:
            index = inc                                           # reset, then `inc` Wh used since
        else:
            index += inc
        used += inc
        observe(rec, clock, 1, clock.t + 60, Ea_plus=index)
        for start in rec.due():
            records += rec.close_slot(start)
    records += close_all(rec)
    deltas = [r.counters["Ea+"].delta for r in records if "Ea+" in r.counters]
    assert min(deltas, default=0) >= 0 and sum(deltas) == used


@pytest.mark.parametrize("replacement", [9_000_000_000, 3_000_000])   # higher, lower (not near 0)
def test_replacement_rebases_and_counts_nothing(replacement, caplog):
    rec, clock = recorder(600)
    t0 = clock.t
    observe(rec, clock, 1, t0 + 1, Ea_plus=5_000_000)
    observe(rec, clock, 1, t0 + 11, Ea_plus=5_000_010)
    observe(rec, clock, 1, t0 + 605, Ea_plus=replacement)         # new meter, new index
    observe(rec, clock, 1, t0 + 1205, Ea_plus=replacement + 50)
    records = close_all(rec)
    assert [r.counters.get("Ea+") and r.counters["Ea+"].delta for r in records] == [10, None, 50]
    assert "replaced" in caplog.text


def test_plausibility_limits_are_data():
    rec, clock = recorder(600, limits={"water": 10})              # 10 dm3/h at most
    observe(rec, clock, 1, clock.t + 1, water=100)
    observe(rec, clock, 1, clock.t + 10, water=150)               # 50 dm3 > 10 * 900/3600
    [r] = close_all(rec)
    assert "water" not in r.counters
    assert rec.limits["Ea+"] == 1_000_000 and MIN_ELAPSED_S == 900


def test_rebase_on_configuration_change():
    rec, clock = recorder(600)
    t0 = clock.t
    observe(rec, clock, 1, t0 + 1, Ea_plus=1000, Er_plus=50)
    observe(rec, clock, 1, t0 + 300, Ea_plus=1020, Er_plus=60)
    rec.rebase(1)                                                 # new address/model
    observe(rec, clock, 1, t0 + 400, Ea_plus=7)                   # a different meter now
    observe(rec, clock, 1, t0 + 500, Ea_plus=9)
    [r] = close_all(rec)
    assert r.counters["Ea+"].delta == 22 and r.counters["Er+"].delta == 10   # old meter's, then 2
    assert rec.counter_state(after=[r]) == {1: {"Ea+": [9, t0 + 500]}}       # the old Er+ is gone
    rec.commit([r])
    observe(rec, clock, 1, t0 + 700, Ea_plus=19)
    assert close_all(rec)[0].counters["Ea+"].delta == 10


def test_rebase_drops_pending_state_of_the_old_device():
    rec, clock = recorder(600)
    observe(rec, clock, 1, clock.t + 1, Ea_plus=1000)
    pending = close_all(rec)
    rec.rebase(1)
    rec.commit(pending)                                           # written late: state not restored
    assert rec.counter_state() == {}


def test_clock_set_back_still_counts_in_the_current_slot():
    rec, clock = recorder(600)
    t0 = clock.t
    observe(rec, clock, 1, t0 + 5, Ea_plus=1000, P=1.0)
    observe(rec, clock, 1, t0 + 595, Ea_plus=1100, P=1.0)
    rec.commit(close_all(rec))                                    # 10:00 stored, baseline at 10:09:55
    back = t0 - 3600                                              # NTP/manual: one hour back
    observe(rec, clock, 1, back + 5, Ea_plus=1130, P=2.0)
    assert rec.due(back + 10) == []
    observe(rec, clock, 1, back + 300, Ea_plus=1160, P=2.0)
    [start] = rec.due(back + 605)                                 # open for a slot length: due
    [r] = rec.close_slot(start)
    assert r.ts == t0 + 600                                       # after the stored slot, never over it
    assert (r.counters["Ea+"].delta, r.counters["Ea+"].since) == (60, None)
    observe(rec, clock, 1, back + 700, Ea_plus=1170)
    assert close_all(rec)[0].ts == t0 + 1200                      # the history keeps moving


def test_clock_jump_forward_is_one_long_gap():
    rec, clock = recorder(600)
    t0 = clock.t
    observe(rec, clock, 1, t0 + 5, Ea_plus=1000)
    observe(rec, clock, 1, t0 + 15, Ea_plus=1001)
    clock.t = t0 + 2 * 86400                                      # two days ahead
    records = []
    for start in rec.due():
        records += rec.close_slot(start)
    observe(rec, clock, 1, clock.t + 5, Ea_plus=1011)
    records += close_all(rec)
    assert [r.ts for r in records] == [t0, t0 + 2 * 86400]
    c = records[1].counters["Ea+"]
    assert (c.delta, c.since) == (10, t0 + 15)


# -- the whole story: random readings, gaps, clock changes, failed writes and restarts ---------
class FakeStore:
    def __init__(self):
        self.records, self.state, self.until, self.full = [], None, None, False

    def write_slot(self, records, state):
        if self.full:
            raise OSError(28, "No space left on device")
        self.records += records
        self.state = json.loads(json.dumps(state))                # as persisted: keys become text
        self.until = max([self.until or 0, *(r.ts + r.slot_s for r in records)])


def daemon_tick(rec, store, pending, now):
    """What the daemon does each poll cycle (docs/recorder.md, "Recorder rules")."""
    for start in rec.due(now):
        pending += rec.close_slot(start)
    if pending:
        try:
            store.write_slot(pending, rec.counter_state(after=pending))
        except OSError:
            return                                                # keep them, retry next tick
        rec.commit(pending)
        pending.clear()


# One flat shape for every step (kind, a, b): kinds drawn with "read" the most likely.
KINDS = ["read"] * 6 + ["gap", "jump", "tick", "tick", "full", "restart", "rate"]
OPS = st.tuples(st.sampled_from(KINDS), st.integers(0, 10**6), st.integers(0, 10**6))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([UTC, PARIS, NEW_YORK, KATHMANDU]),
       st.integers(epoch(2026, 3, 28), epoch(2026, 11, 2)), st.lists(OPS, min_size=20, max_size=150))
def test_no_wh_lost_or_counted_twice(tz, t0, ops):
    clock = Clock(t0)
    slot_s = 600
    rec = Recorder(slot_s, tz, clock=clock)
    store, pending = FakeStore(), []
    first = {"Ea+": 10**12, "water": 5000}
    idx = dict(first)
    rec.observe(reading(1, clock.t, Ea_plus=idx["Ea+"], water=idx["water"], P=1.0))
    clock.t += 3600
    daemon_tick(rec, store, pending, clock.t)                    # the baselines are stored
    assert store.state == {"1": {"Ea+": [idx["Ea+"], t0], "water": [idx["water"], t0]}}
    for kind, a, b in ops:
        if kind == "read":
            clock.t += 1 + a % 900
            idx["Ea+"] += b % 151
            idx["water"] += (a + b) % 201
            rec.observe(reading(1, clock.t, Ea_plus=idx["Ea+"], water=idx["water"], P=float(b % 151)))
        elif kind == "gap":
            clock.t += 900 + a % (3 * 86400)                      # unreachable: no reading
        elif kind == "jump":
            clock.t = max(clock.t + a % (2 * 86400 + 7200) - 7200, t0 - 86400)
        elif kind == "tick":
            daemon_tick(rec, store, pending, clock.t)
        elif kind == "full":
            store.full = a % 2 == 1
        elif kind == "restart":                                   # pending records die with the process
            pending = []
            rec = Recorder(slot_s, tz, counter_state=store.state, clock=clock, stored_until=store.until)
        elif kind == "rate":
            slot_s = [60, 300, 600, 3600][a % 4]
            rec.set_slot_s(slot_s)
    store.full = False
    clock.t += 10
    rec.observe(reading(1, clock.t, Ea_plus=idx["Ea+"], water=idx["water"]))
    daemon_tick(rec, store, pending, float("inf"))
    assert not pending
    for name in ("Ea+", "water"):
        deltas = [r.counters[name].delta for r in store.records if name in r.counters]
        assert min(deltas, default=0) >= 0
        assert sum(deltas) == idx[name] - first[name]
    assert {n: i for n, (i, _) in store.state["1"].items()} == idx   # the restart point is the last index
    ts = [r.ts for r in store.records]
    assert ts == sorted(ts) and len(set(ts)) == len(ts)          # one record per slot, in order
    for r in store.records:
        for c in r.counters.values():
            assert c.since is None or c.since < r.ts
