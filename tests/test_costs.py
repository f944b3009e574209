"""Costs stored in data.db (docs/costs.md): each slot's counters priced when the slot is written,
as "cost:<tariff id>" quantities summed like energies into hours, days, months and years; never
twice for a replayed slot; right across a DST change."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from wsmeasure import tariffs as tf
from wsmeasure.aggregates import DAY_VIEW, MONTH_VIEW, YEAR_VIEW, view
from wsmeasure.records import Counter, SlotRecord, Stat
from wsmeasure.store import Store
from wsmeasure.store_time import DAY, LEVELS, SLOT, YEAR, bucket_start
from wsmeasure.tariffs import Price, Pricer, Rule, Tariff

ZONE = "Europe/Paris"
TZ = ZoneInfo(ZONE)
PEAK, OFF, NIGHT, GAS_T, WATER_T = 1, 2, 3, 4, 5
TARIFFS = {
    PEAK: Tariff(PEAK, tf.ELECTRICITY, "Peak", "#ff0000", (Price(None, Decimal("0.2")),)),
    OFF: Tariff(OFF, tf.ELECTRICITY, "Off-peak", "#0000ff",
                (Price(date(2024, 1, 1), Decimal("0.1")), Price(date(2024, 10, 27), Decimal("0.15")))),
    NIGHT: Tariff(NIGHT, tf.ELECTRICITY, "2 am", "#00ff00", (Price(None, Decimal("0.05")),)),
    GAS_T: Tariff(GAS_T, tf.GAS, "Gas", "#999999", (Price(None, Decimal("1.23456")),)),
    WATER_T: Tariff(WATER_T, tf.WATER, "Water", "#0099ff", (Price(None, Decimal("3.5")),)),
}
RULES = {
    tf.ELECTRICITY: (
        Rule(10, tariff_id=NIGHT, time_from=120, time_to=179),                       # 02:00-02:59 every day
        Rule(11, tariff_id=PEAK, time_from=7 * 60, time_to=21 * 60 + 59, weekdays=frozenset(range(5))),
        Rule(12, tariff_id=OFF, default=True)),
    tf.GAS: (Rule(20, tariff_id=GAS_T, default=True),),
    tf.WATER: (Rule(30, tariff_id=WATER_T, default=True),),
}
PRICER = Pricer(RULES, TARIFFS)
DEVICES = {1: "Ea+", 2: "Ea+", 3: "gas", 4: "water", 5: None}   # 5: a device without counters


def expected_cost(counter: str, delta: int, ts: int) -> tuple[int, int]:
    """(tariff, cost in millionths), worked out by hand from the rules above."""
    local = datetime.fromtimestamp(ts, TZ)
    if counter == "gas":
        tariff = GAS_T
    elif counter == "water":
        tariff = WATER_T
    elif local.hour == 2:
        tariff = NIGHT
    elif 7 <= local.hour <= 21 and local.weekday() < 5:
        tariff = PEAK
    else:
        tariff = OFF
    price = {PEAK: Decimal("0.2"), NIGHT: Decimal("0.05"), GAS_T: Decimal("1.23456"), WATER_T: Decimal("3.5"),
             OFF: Decimal("0.15") if local.date() >= date(2024, 10, 27) else Decimal("0.1")}[tariff]
    exact = delta * price * 1000
    return tariff, int(exact.to_integral_value())   # ROUND_HALF_EVEN, as the store


def slots(start: datetime, end: datetime, step: int = 600) -> list[list[SlotRecord]]:
    """One list of records per 10-minute slot; deltas vary with the slot, some are 0, one covers a gap."""
    out, index = [], defaultdict(int)
    ts, lo, hi = int(start.timestamp()), int(start.timestamp()), int(end.timestamp())
    while ts < hi:
        recs = []
        for dev, counter in DEVICES.items():
            r = SlotRecord(dev, ts, step, stats={"P": Stat(1.0, 1.0, 1.0)})
            if counter:
                delta = (ts // step * 7919 + dev * 104729) % 1733 * (dev + 1) if (ts // step) % 11 else 0
                index[dev] += delta
                r.counters[counter] = Counter(delta, index[dev], ts - 7200 if ts == lo + 6 * step else None)
                if counter == "Ea+":
                    r.counters["Ea-"] = Counter(3, index[dev])   # not billed: never priced
            recs.append(r)
        out.append(recs)
        ts += step
    return out


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path, ZONE)
    yield s
    s.close()


def cost_rows(store: Store, lo: int, hi: int) -> dict:
    """(ts, device, quantity) -> cost, from the slot level."""
    out = {}
    for r in store.slot_records(lo, hi, costs=True):
        for name, c in r.counters.items():
            if tf.tariff_of_quantity(name) is not None:
                out[r.ts, r.device_id, name] = c.delta
    return out


def check_rollups(store: Store, rows: dict) -> None:
    """Each level's sums equal the slot costs summed per bucket, for every quantity and device."""
    for level in LEVELS[1:]:
        want: dict = defaultdict(int)
        for (ts, dev, name), cost in rows.items():
            want[bucket_start(store.tz, level, ts), dev, name] += cost
        for (bucket, dev, name), cost in want.items():
            got = store.sums(level, bucket, bucket + 1, {name: [dev]})
            assert got == {bucket: cost}, (level, bucket, dev, name)


def test_slots_written_with_a_pricer_store_costs_and_their_rollups(store):
    batches = slots(datetime(2024, 10, 24, 20, 0, tzinfo=TZ), datetime(2024, 11, 1, 4, 0, tzinfo=TZ))
    batches += slots(datetime(2024, 12, 31, 22, 0, tzinfo=TZ), datetime(2025, 1, 1, 2, 0, tzinfo=TZ))
    for i, recs in enumerate(batches):
        if i % 50 == 0:   # now and then several slots in one call, as when catching up
            store.write_slot([r for b in batches[i:i + 3] for r in b], pricer=PRICER)
        else:
            store.write_slot(recs, pricer=PRICER)
    lo, hi = int(datetime(2024, 10, 1, tzinfo=TZ).timestamp()), int(datetime(2025, 2, 1, tzinfo=TZ).timestamp())
    rows = cost_rows(store, lo, hi)
    expected = {}
    for recs in batches:
        for r in recs:
            for counter, c in r.counters.items():
                if counter != "Ea-":
                    tariff, cost = expected_cost(counter, c.delta, r.ts)
                    expected[r.ts, r.device_id, tf.cost_quantity(tariff)] = cost
    assert rows == expected   # exactly one cost per billed counter and slot, at the rule's tariff and price
    check_rollups(store, rows)
    # the year rows hold 2024 and 2025 apart; the CSV side and the counter state never see costs
    years = store.sums(YEAR, int(datetime(2024, 1, 1, tzinfo=TZ).timestamp()), hi, {tf.cost_quantity(PEAK): [1, 2], tf.cost_quantity(OFF): [1, 2],
                                          tf.cost_quantity(NIGHT): [1, 2]})
    assert sorted(years) == [int(datetime(2024, 1, 1, tzinfo=TZ).timestamp()),
                                 int(datetime(2025, 1, 1, tzinfo=TZ).timestamp())]
    assert not any(tf.tariff_of_quantity(n) for r in store.slot_records(lo, hi) for n in r.counters)
    assert all(tf.tariff_of_quantity(n) is None for s in store.counter_state().values() for n in s)
    # a gap's consumption is priced where it is recorded, and says so
    gap = [r for r in store.slot_records(lo, hi, costs=True) if r.counters.get("Ea+") and r.counters["Ea+"].since]
    assert gap and all(c.since == r.counters["Ea+"].since for r in gap for n, c in r.counters.items()
                       if tf.tariff_of_quantity(n))


def test_a_replayed_slot_does_not_double_its_cost(store):
    batches = slots(datetime(2024, 3, 4, 6, 0, tzinfo=TZ), datetime(2024, 3, 4, 9, 0, tzinfo=TZ))
    for recs in batches:
        store.write_slot(recs, pricer=PRICER)
    lo, hi = batches[0][0].ts, batches[-1][0].ts + 600
    before = cost_rows(store, lo, hi)
    day = {q: store.sums(DAY, lo - 86400, hi, {q: list(DEVICES)}) for q in map(tf.cost_quantity, TARIFFS)}
    replay = [r for recs in batches[-5:] for r in recs]
    written = store.write_slot(replay, pricer=PRICER)   # a retry after a crash between commit and ack
    assert written.stored == 0 and written.already == len(replay)
    mixed = batches[-1] + slots(datetime(2024, 3, 4, 9, 0, tzinfo=TZ), datetime(2024, 3, 4, 9, 10, tzinfo=TZ))[0]
    written = store.write_slot(mixed, pricer=PRICER)   # an old slot with a new one: only the new one counts
    assert (written.stored, written.already) == (len(DEVICES), len(DEVICES))
    after = cost_rows(store, lo, hi)
    assert after == before
    assert {q: store.sums(DAY, lo - 86400, hi, {q: list(DEVICES)}) for q in day} != day   # the new slot added
    check_rollups(store, cost_rows(store, lo, hi + 600))


def test_the_25_hour_day_prices_each_repeated_hour_and_sums_to_the_day(store):
    """27 October 2024 in Paris: 02:00-02:59 happens twice (CEST, then CET); both are 2 am."""
    batches = slots(datetime(2024, 10, 27, 0, 0, tzinfo=TZ), datetime(2024, 10, 28, 0, 0, tzinfo=TZ))
    assert len(batches) == 25 * 6
    for recs in batches:
        store.write_slot(recs, pricer=PRICER)
    electricity = {tf.cost_quantity(t): [1, 2] for t in (PEAK, OFF, NIGHT)}
    day = view(store, DAY_VIEW, date(2024, 10, 27), electricity)
    assert len(day.buckets) == 25 and day.total == sum(b.value for b in day.buckets)
    night = view(store, DAY_VIEW, date(2024, 10, 27), {tf.cost_quantity(NIGHT): [1, 2]})
    priced = [b for b in night.buckets if b.value is not None]
    assert [b.start.isoformat() for b in priced] == ["2024-10-27T02:00:00+02:00", "2024-10-27T02:00:00+01:00"]
    rows = cost_rows(store, batches[0][0].ts, batches[-1][0].ts + 600)
    assert night.total == sum(c for (_, _, q), c in rows.items() if q == tf.cost_quantity(NIGHT))
    assert not any(q == tf.cost_quantity(PEAK) for (_, _, q) in rows)   # a Sunday: no peak
    month = view(store, MONTH_VIEW, date(2024, 10, 27), electricity)
    year = view(store, YEAR_VIEW, date(2024, 10, 27), electricity)
    assert month.total == year.total == day.total
    check_rollups(store, rows)


def test_a_pricer_that_fails_costs_nothing_but_the_energies_are_written(store, caplog):
    def broken(record, start):
        raise ZeroDivisionError("bug")

    recs = slots(datetime(2024, 5, 1, 12, 0, tzinfo=TZ), datetime(2024, 5, 1, 12, 10, tzinfo=TZ))[0]
    written = store.write_slot(recs, pricer=broken)
    assert written.stored == len(recs)
    lo = recs[0].ts
    assert cost_rows(store, lo, lo + 600) == {}
    assert store.sums(SLOT, lo, lo + 600, {"Ea+": [1, 2]}) == {lo: sum(r.counters["Ea+"].delta for r in recs[:2])}
    assert "not priced" in caplog.text


def test_costs_in_a_view_with_a_selection_from_config(tmp_path, store):
    from wsmeasure.db import open_config

    db = open_config(tmp_path / "config")
    try:
        gas = tf.add_tariff(db, "gas", "Gas", None, [("1.1", "")])
        recs = slots(datetime(2024, 5, 1, 12, 0, tzinfo=TZ), datetime(2024, 5, 1, 13, 0, tzinfo=TZ))
        pricer = tf.pricer(db)
        for batch in recs:
            store.write_slot(batch, pricer=pricer)
        got = view(store, DAY_VIEW, date(2024, 5, 1), tf.cost_selection(db, "gas", [3]))
        gas_dm3 = sum(r.counters["gas"].delta for batch in recs for r in batch if "gas" in r.counters)
        assert abs(got.total - gas_dm3 * 1100) <= len(recs)   # dm3 x 1.1 /m3 = 1100 millionths per dm3
        assert tf.cost_value(got.total) == Decimal(got.total) / 1_000_000
        assert tf.cost_quantities(db, "gas") == {gas.id: f"cost:{gas.id}"}
    finally:
        db.close()
