"""Tariffs and cost rules (manual 7.16.3): the pricing as properties (hypothesis), against an
oracle written another way, and the configuration's refusals (app/tariffs.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from wsmeasure import settings as box_settings
from wsmeasure import tariffs as tf
from wsmeasure.db import open_config
from wsmeasure.records import Counter, SlotRecord
from wsmeasure.settings import ConfigError
from wsmeasure.tariffs import Price, Pricer, Rule, Tariff, holds, price_at, rule_for

PROPS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- an oracle: which local minutes a rule covers, built by enumeration rather than by comparison ------------
def period_days(rule: Rule) -> set | None:
    """The (month, day) pairs of a repeated period, or the dates of a plain one; None: always."""
    if rule.date_from is None:
        return None
    end = rule.date_to or rule.date_from
    dates, d = set(), rule.date_from
    while d <= end:
        dates.add(d)
        d += timedelta(days=1)
    if not rule.repeat:
        return dates
    days = {(d.month, d.day) for d in dates}
    # a yearly period written in a common year that goes from 28 February on to 1 March holds
    # 29 February in leap years ("1 July to 1 March, every year" includes it)
    if any(date(d.year, 3, 1) in dates for d in dates if (d.month, d.day) == (2, 28)):
        days.add((2, 29))
    return days


def frame_day_ok(rule: Rule, day: date) -> bool:
    if day.weekday() not in rule.weekdays:
        return False
    days = period_days(rule)
    return days is None or ((day.month, day.day) if rule.repeat else day) in days


def oracle(rule: Rule, when: datetime) -> bool:
    """Does a frame of `rule`, begun on some day D that the rule allows, cover `when`'s minute?"""
    if rule.default:
        return True
    minute = when.hour * 60 + when.minute
    if rule.time_from <= rule.time_to:
        covered = {(0, m) for m in range(rule.time_from, rule.time_to + 1)}
    else:   # crosses midnight: the evening of D, then the early hours of D + 1
        covered = {(0, m) for m in range(rule.time_from, 1440)} | {(1, m) for m in range(0, rule.time_to + 1)}
    for offset in (0, 1):
        if (offset, minute) in covered and frame_day_ok(rule, when.date() - timedelta(days=offset)):
            return True
    return False


# -- strategies ----------------------------------------------------------------------------------------------
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
minutes = st.integers(0, 1439)
moments = st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(2099, 12, 30))


@st.composite
def periods(draw, repeat: bool | None = None):
    """(date_from, date_to, repeat): none, one day, or a period (a year at most when repeated)."""
    every_year = draw(st.booleans()) if repeat is None else repeat
    shape = draw(st.sampled_from(["none", "day", "period"] if not every_year else ["day", "period"]))
    if shape == "none":
        return None, None, False
    start = draw(days)
    if shape == "day":
        return start, None, every_year
    if every_year:   # each day and month at most once
        length = draw(st.integers(1, 364))
    else:
        length = draw(st.integers(1, 800))
    end = start + timedelta(days=length)
    if every_year and end.year > start.year and (end.month, end.day) >= (start.month, start.day):
        end -= timedelta(days=1)   # 29 February: 365 days may reach the same day and month
    assume(end.year <= 2099)
    return start, end, every_year


@st.composite
def rules_(draw, tariff_id: int = 2, repeat: bool | None = None):
    start, end, every_year = draw(periods(repeat))
    return Rule(id=draw(st.integers(1, 10_000)), tariff_id=tariff_id, date_from=start, date_to=end,
                repeat=every_year, time_from=draw(minutes), time_to=draw(minutes),
                weekdays=frozenset(draw(st.sets(st.integers(0, 6), min_size=1))))


DEFAULT = Rule(id=99_999, tariff_id=1, default=True)


# -- properties ------------------------------------------------------------------------------------------------
@PROPS
@given(st.lists(rules_(), max_size=6), moments)
def test_every_slot_is_priced_by_exactly_one_rule_the_first_that_holds(rules, when):
    order = [*rules, DEFAULT]
    winner = rule_for(order, when)
    assert winner is not None
    first = next(i for i, r in enumerate(order) if oracle(r, when))
    assert winner is order[first]
    # and the pricer gives exactly one cost for the slot, under that rule's tariff
    tariffs = {r.tariff_id: Tariff(r.tariff_id, tf.ELECTRICITY, f"T{r.tariff_id}", "#000000",
                                   (Price(None, Decimal("0.1")),)) for r in order}
    record = SlotRecord(1, 0, 600, counters={"Ea+": Counter(1000, 5), "Er+": Counter(7, 7)})
    costs = Pricer({tf.ELECTRICITY: tuple(order)}, tariffs)(record, when)
    assert list(costs) == [tf.cost_quantity(winner.tariff_id)] and costs[tf.cost_quantity(winner.tariff_id)].delta == 100_000


@PROPS
@given(rules_(), moments)
def test_an_exception_above_the_default_wins_exactly_on_its_frame_days_and_period(rule, when):
    assert (rule_for([rule, DEFAULT], when) is rule) == oracle(rule, when) == holds(rule, when)


@PROPS
@given(rules_(repeat=True), moments, st.integers(-30, 30))
def test_repeat_every_year_holds_alike_in_every_year(rule, when, years):
    rule = replace(rule, weekdays=tf.EVERY_DAY)   # a weekday falls on another date each year
    try:
        other = when.replace(year=when.year + years)
    except ValueError:
        assume(False)   # 29 February in a year without one
    assume(2000 <= other.year <= 2099)
    # the day before matters for the early hours of a frame crossing midnight: it must exist alike
    assume(not (rule.crosses_midnight and (when.month, when.day) == (3, 1)))
    assert holds(rule, when) == holds(rule, other)


@PROPS
@given(st.lists(rules_(), min_size=2, max_size=6), moments, st.data())
def test_moving_a_rule_changes_the_winner_as_the_order_says(rules, when, data):
    i = data.draw(st.integers(0, len(rules) - 2))
    moved = list(rules)
    moved[i], moved[i + 1] = moved[i + 1], moved[i]   # rule i+1 moved up
    for order in (rules, moved):
        expected = next((r for r in order if oracle(r, when)), DEFAULT)
        assert rule_for([*order, DEFAULT], when) is expected
    if oracle(rules[i], when) and oracle(rules[i + 1], when) and all(not oracle(r, when) for r in rules[:i]):
        assert rule_for([*rules, DEFAULT], when) is rules[i]
        assert rule_for([*moved, DEFAULT], when) is rules[i + 1]


@PROPS
@given(st.lists(st.tuples(days, st.integers(0, 10_000_000)), min_size=1, max_size=5, unique_by=lambda p: p[0]),
       days)
def test_price_at_is_the_latest_validity_start_on_or_before_the_day(dated, day):
    prices = tuple(sorted((Price(d, Decimal(p).scaleb(-5)) for d, p in dated), key=lambda p: p.valid_from))
    tariff = Tariff(1, tf.GAS, "T", "#000000", prices)
    valid = [p for p in prices if p.valid_from <= day]
    assert price_at(tariff, day) == (max(valid, key=lambda p: p.valid_from).price if valid else None)


@PROPS
@given(st.integers(0, 10 ** 12), st.integers(0, 9_999_999_999))
def test_cost_is_delta_times_price_exactly_rounded(delta, price_e5):
    price = Decimal(price_e5).scaleb(-5)
    micro = tf.cost_micro(delta, price)
    exact = Decimal(delta) * price * 1000        # Wh x currency/kWh -> millionths
    assert abs(micro - exact) <= Decimal("0.5")
    assert tf.cost_value(micro) == Decimal(micro) / tf.COST_SCALE


# -- examples of the manual (7.16.3) ------------------------------------------------------------------------
def at(*args) -> datetime:
    return datetime(*args)


def test_the_manuals_four_rules_in_their_order():
    weekdays = frozenset(range(5))
    march_2020 = Rule(1, tariff_id=3, date_from=date(2020, 3, 1), date_to=date(2020, 3, 31))
    christmas = Rule(2, tariff_id=2, date_from=date(2019, 12, 25), repeat=True)
    day = Rule(3, tariff_id=1, time_from=0, time_to=18 * 60 + 59, weekdays=weekdays)
    evening = Rule(4, tariff_id=2, time_from=19 * 60, time_to=23 * 60 + 59, weekdays=weekdays)
    order = [march_2020, christmas, day, evening, Rule(5, tariff_id=None, default=True)]
    assert rule_for(order, at(2020, 3, 10, 12, 0)) is march_2020
    assert rule_for(order, at(2031, 12, 25, 9, 0)) is christmas      # a Thursday, every year
    assert rule_for(order, at(2024, 5, 6, 18, 59)) is day
    assert rule_for(order, at(2024, 5, 6, 19, 0)) is evening
    assert rule_for(order, at(2024, 5, 4, 12, 0)).default              # Saturday: nothing above holds


def test_29_february_and_periods_across_new_year():
    leap_day = Rule(1, date_from=date(2024, 2, 29), repeat=True)
    assert holds(leap_day, at(2028, 2, 29, 0, 0)) and not holds(leap_day, at(2027, 2, 28, 12, 0))
    assert not holds(leap_day, at(2027, 3, 1, 12, 0))
    holidays = Rule(2, date_from=date(2023, 12, 24), date_to=date(2024, 1, 2), repeat=True)
    for when in (at(2030, 12, 24, 0, 0), at(2030, 12, 31, 23, 59), at(2031, 1, 1, 0, 0), at(2031, 1, 2, 23, 59)):
        assert holds(holidays, when), when
    for when in (at(2030, 12, 23, 23, 59), at(2031, 1, 3, 0, 0), at(2031, 6, 1, 12, 0)):
        assert not holds(holidays, when), when
    once = Rule(3, date_from=date(2023, 12, 24), date_to=date(2024, 1, 2))
    assert holds(once, at(2024, 1, 1, 5, 0)) and not holds(once, at(2025, 1, 1, 5, 0))


def test_a_time_frame_crossing_midnight_belongs_to_the_day_it_began():
    friday_night = Rule(1, time_from=22 * 60, time_to=5 * 60 + 59, weekdays=frozenset({4}))
    assert holds(friday_night, at(2024, 5, 10, 22, 0))      # Friday evening
    assert holds(friday_night, at(2024, 5, 11, 5, 59))      # Saturday morning: Friday's night
    assert not holds(friday_night, at(2024, 5, 10, 3, 0))   # Friday morning: Thursday's night
    assert not holds(friday_night, at(2024, 5, 11, 6, 0)) and not holds(friday_night, at(2024, 5, 10, 21, 59))
    new_year = Rule(2, date_from=date(2024, 12, 31), time_from=20 * 60, time_to=3 * 60)
    assert holds(new_year, at(2025, 1, 1, 2, 30)) and not holds(new_year, at(2024, 12, 31, 2, 30))


# -- configuration: config.db ------------------------------------------------------------------------------------
@pytest.fixture
def db(tmp_path):
    db = open_config(tmp_path)
    yield db
    db.close()


def test_a_fresh_box_has_no_tariff_and_a_default_rule_without_cost(db):
    for kind in tf.KINDS:
        assert tf.tariffs(db, kind) == [] and tf.cost_quantities(db, kind) == {}
        (default,) = tf.rules(db, kind)
        assert default.default and default.tariff_id is None
    assert not tf.pricer(db)
    assert tf.currency(db) == "EUR" and tf.gas_kwh_per_m3(db) == Decimal("10.55")


def test_tariffs_rules_and_moves_in_config_db(db):
    peak = tf.add_tariff(db, "electricity", "Peak", "#FF0000", [("0,25", "")])
    off = tf.add_tariff(db, "electricity", "Off-peak", None, [{"price": "0.1", "from": "2024-01-01"},
                                                                {"price": "0.12", "from": date(2025, 1, 1)}])
    assert peak.colour == "#ff0000" and off.colour == tf.PALETTE[1]
    assert tf.rules(db, "electricity")[-1].tariff_id == peak.id
    night = tf.add_rule(db, "electricity", off.id, time_from="22:00", time_to="05:59")
    weekend = tf.add_rule(db, "electricity", off, weekdays=["sat", "sun"])
    assert [r.id for r in tf.rules(db, "electricity")][:2] == [night.id, weekend.id]
    moved = tf.move_rule(db, weekend.id, "up")
    assert [r.id for r in moved][:2] == [weekend.id, night.id]
    assert [r.id for r in tf.move_rule(db, weekend.id, "up")][:2] == [weekend.id, night.id]   # first stays
    pricer = tf.pricer(db)
    record = SlotRecord(1, 0, 600, counters={"Ea+": Counter(2000, 10, since=123)})
    assert pricer(record, at(2024, 6, 3, 12, 0)) == {peak.quantity: Counter(500_000, 0, 123)}
    assert pricer(record, at(2024, 6, 3, 23, 0)) == {off.quantity: Counter(200_000, 0, 123)}
    assert pricer(record, at(2025, 6, 8, 12, 0)) == {off.quantity: Counter(240_000, 0, 123)}   # Sunday, 2025 price
    assert pricer(record, at(2023, 6, 8, 23, 0)) == {}   # before the tariff's first price: no cost
    tf.delete_rule(db, weekend.id)
    assert [r.position for r in tf.rules(db, "electricity")[:-1]] == [1]
    updated = tf.update_rule(db, night.id, off.id, date_from="2024-07-14", repeat="on")
    assert updated.date_from == date(2024, 7, 14) and updated.repeat and updated.time_from == 0


def test_currency_and_gas_factor_together_or_not_at_all(db):
    tf.save_settings(db, "usd", "11.2")
    assert tf.currency(db) == "USD" and tf.gas_kwh_per_m3(db) == Decimal("11.2")
    with pytest.raises(ConfigError) as err:
        tf.save_settings(db, "GBP", "0")
    assert err.value.field == "bill.gas_kwh_per_m3" and "above 0" in str(err.value)
    assert tf.currency(db) == "USD"
    with pytest.raises(ConfigError) as err:
        tf.save_settings(db, "HRK")   # the kuna left ISO 4217 in 2023
    assert err.value.field == "bill.currency"
    assert box_settings.get(db, "bill.currency") == "USD"


def _full(db, kind):
    for n in range(tf.MAX_TARIFFS):
        tf.add_tariff(db, kind, f"T{n}", None, [("1", "")])


REFUSALS = [
    # call                                                                  field       says
    (lambda db: tf.add_tariff(db, "steam", "X", None, [("1", "")]),          "kind",     "not an energy kind"),
    (lambda db: tf.add_tariff(db, "gas", "", None, [("1", "")]),             "name",     "a name is required"),
    (lambda db: tf.add_tariff(db, "gas", "x" * 65, None, [("1", "")]),       "name",     "at most 64"),
    (lambda db: tf.add_tariff(db, "gas", "X", "red", [("1", "")]),           "colour",   "is not a colour"),
    (lambda db: tf.add_tariff(db, "gas", "X", None, []),                     "price1",   "at least one price"),
    (lambda db: tf.add_tariff(db, "gas", "X", None, [("1.000001", "")]),     "price1",   "per m3"),
    (lambda db: tf.add_tariff(db, "electricity", "X", None, [("-0.1", "")]), "price1",   "per kWh"),
    (lambda db: tf.add_tariff(db, "gas", "X", None, [("100000", "")]),       "price1",   "0 to 99999.99999"),
    (lambda db: tf.add_tariff(db, "gas", "X", None, [("1", "2024-02-30")]),  "from1",    "is not a date"),
    (lambda db: tf.add_tariff(db, "gas", "X", None, [("1", "1999-12-31")]),  "from1",    "years 2000 to 2099"),
    (lambda db: tf.add_tariff(db, "gas", "X", None, [("1", "2024-01-01"), ("", ""), ("2", "")]), "from3",
     "each needs the date"),
    (lambda db: tf.add_tariff(db, "gas", "X", None, [("1", f"202{i}-01-01") for i in range(6)]), "prices",
     "at most 5 prices"),
    (lambda db: (_full(db, "water"), tf.add_tariff(db, "water", "X", None, [("1", "")])), "_",
     "at most 5 water tariffs"),
    (lambda db: (tf.add_tariff(db, "gas", "Same", None, [("1", "")]),
                 tf.add_tariff(db, "gas", "same", None, [("2", "")])),       "name",     "already used by tariff"),
    (lambda db: tf.add_rule(db, "gas", ""),                                  "tariff",   "choose the tariff"),
    (lambda db: tf.add_rule(db, "gas", tf.add_tariff(db, "water", "W", None, [("1", "")]).id), "tariff",
     "is not a gas tariff"),
    (lambda db: tf.add_rule(db, "gas", 12345),                              "tariff",   "no tariff with ID"),
    (lambda db: tf.add_rule(db, "gas", _gas(db), time_to="24:00"),          "time_to",  "is not a time"),
    (lambda db: tf.add_rule(db, "gas", _gas(db), weekdays=[]),              "weekdays", "at least one day"),
    (lambda db: tf.add_rule(db, "gas", _gas(db), weekdays=["mon", "fun"]),  "weekdays", "not a day of the week"),
    (lambda db: tf.add_rule(db, "gas", _gas(db), date_to="2024-01-01"),     "date_from", "needs its first day"),
    (lambda db: tf.add_rule(db, "gas", _gas(db), date_from="2024-02-02", date_to="2024-02-01"), "date_to",
     "before it begins"),
    (lambda db: tf.add_rule(db, "gas", _gas(db), repeat=True),              "repeat",   "needs a date or a period"),
    (lambda db: tf.add_rule(db, "gas", _gas(db), date_from="2024-03-01", date_to="2025-03-01", repeat=True),
     "date_to", "one year at most"),
    (lambda db: tf.move_rule(db, tf.add_rule(db, "gas", _gas(db)).id, "sideways"), "direction", "up or down"),
    (lambda db: tf.move_rule(db, _default(db), "up"),                       "_",        "cannot be moved"),
    (lambda db: tf.delete_rule(db, _default(db)),                           "_",        "cannot be deleted"),
    (lambda db: tf.update_rule(db, _default(db), _gas(db)),                  "_",        "only its tariff"),
    (lambda db: tf.delete_rule(db, 4242),                                   "rule",     "no cost rule with ID"),
    (lambda db: tf.delete_tariff(db, tf.add_rule(db, "gas", _gas(db), weekdays=["sun"]).tariff_id), "_",
     "used by 1 cost rule(s)"),
    (lambda db: (_gas(db), tf.add_tariff(db, "gas", "Other", None, [("2", "")]),
                 tf.delete_tariff(db, tf.rules(db, "gas")[-1].tariff_id)),  "_",        "choose another tariff"),
    (lambda db: tf.set_default_tariff(db, "gas", (_gas(db), "")[1]),         "tariff",   "choose the tariff"),
]


def _gas(db) -> int:
    found = tf.tariffs(db, "gas")
    return found[0].id if found else tf.add_tariff(db, "gas", "G", None, [("1.5", "")]).id


def _default(db) -> int:
    _gas(db)
    return tf.rules(db, "gas")[-1].id


@pytest.mark.parametrize("call, field, says", REFUSALS, ids=[r[2] for r in REFUSALS])
def test_refusals_name_the_field_and_save_nothing(tmp_path, call, field, says):
    db = open_config(tmp_path)
    try:
        with pytest.raises(ConfigError) as err:
            call(db)
        assert err.value.field == field and says in str(err.value), (err.value.field, str(err.value))
        assert err.value.message.template   # a template with named values: the pages translate it
    finally:
        db.close()


def test_a_refused_write_changes_nothing(db):
    tariff = tf.add_tariff(db, "gas", "G", None, [("1", "2024-01-01"), ("2", "2025-01-01")])
    before = (tf.tariffs(db, "gas"), tf.rules(db, "gas"))
    with pytest.raises(ConfigError):
        tf.update_tariff(db, tariff.id, "Renamed", "#00ff00", [("1", "2024-01-01"), ("x", "2026-01-01")])
    with pytest.raises(ConfigError):
        tf.add_rule(db, "gas", tariff.id, time_from="7h")
    assert (tf.tariffs(db, "gas"), tf.rules(db, "gas")) == before


def test_a_deleted_tariff_keeps_its_costs_quantity(db):
    only = tf.add_tariff(db, "water", "Only", None, [("2", "")])
    tf.delete_tariff(db, only.id)   # the last one: the kind has no cost after it
    assert tf.tariffs(db, "water") == [] and tf.rules(db, "water")[-1].tariff_id is None
    assert tf.cost_quantities(db, "water") == {only.id: f"cost:{only.id}"}
    assert [t.deleted for t in tf.tariffs(db, "water", deleted=True)] == [True]
    again = tf.add_tariff(db, "water", "Only", None, [("3", "")])   # its name is free again; never its ID
    assert again.id != only.id and tf.rules(db, "water")[-1].tariff_id == again.id
    assert tf.cost_selection(db, "water", [3, 1, 3]) == {f"cost:{only.id}": (1, 3), f"cost:{again.id}": (1, 3)}
