"""The bill of consumptions (manual 7.16.3): tariffs, cost rules, and the pricing of each slot.

Configuration (config.db, models Tariff, TariffPrice, CostRule; settings bill.currency and
bill.gas_kwh_per_m3):
- per energy kind (electricity, gas, water), up to 5 tariffs, each with a name, a colour and up to
  5 prices, each valid from a date (a tariff's only price may go without one: valid always);
  a price is per kWh for electricity, per m3 for gas and water, from 0 with up to 5 decimals;
- per kind, an ordered list of cost rules, evaluated top-down: the first rule that holds at a
  slot's local start wins. A rule holds when its validity (none, a date, or a period; with
  "repeat every year" only the days and months count), its time frame (from HH:MM to HH:MM, both
  minutes included, crossing midnight when "from" is later than "to") and its weekdays all hold.
  The hours of a frame that crosses midnight belong to the day the frame began: "Fri 22:00-05:59"
  holds on Saturday 03:00, not on Friday 03:00 (weekday and validity are those of that day).
  The DEFAULT rule of each kind always exists, always holds and is always last: it cannot be
  moved or deleted, only its tariff changed. A kind without any tariff has no cost.

Pricing (pure, tested with hypothesis in tests/test_tariffs.py): `rule_for(rules, local_dt)` and
`price_at(tariff, local_date)`; `Pricer` prices a SlotRecord: the delta of the kind's billed
counter (Ea+ in Wh, gas and water in dm3, so 1/1000 of the priced unit either way) times the
price valid on the slot's local date, under the tariff of the rule holding at the slot's local
start, stored by Store.write_slot as the counter-like quantity `cost:<tariff id>` of the device,
in millionths of the currency (COST_SCALE). docs/costs.md says what is stored and when.

Read API for the pages and reports: `currency(db)`, `gas_kwh_per_m3(db)`, `tariffs(db, kind)`,
`tariff(db, id)`, `rules(db, kind)`, `cost_quantities(db, kind)`, `cost_selection(db, kind,
devices)`, `pricer(db)`; values: `cost_value(micro)`, `minor_units(code)`, `kwh_equivalent(dm3,
factor)`. Writes, each one transaction (transactions.py), raise ConfigError(field, template) and
save nothing when refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from typing import Any, Iterable, Mapping, Sequence

from . import settings
from .currencies import MINOR_UNITS
from .fields import NO_ID, by_id, flag, given, text
from .messages import Msg, reason
from .models import NAME_MAX, CostRule, Tariff as TariffRow, TariffPrice, bound
from .records import Counter, SlotRecord
from .settings import ConfigError
from .store import COST_PREFIX
from .transactions import reads, writes

ELECTRICITY, GAS, WATER = "electricity", "gas", "water"
KINDS = (ELECTRICITY, GAS, WATER)
COUNTERS = {ELECTRICITY: "Ea+", GAS: "gas", WATER: "water"}   # the counter each kind is billed on
UNITS = {ELECTRICITY: "kWh", GAS: "m3", WATER: "m3"}          # what a price is per
SUB_UNITS = 1000            # Wh per kWh, dm3 per m3: counters count 1/1000 of the priced unit

MAX_TARIFFS = 5             # per kind (manual 7.16.3, DESIGN.md)
MAX_PRICES = 5              # per tariff
MAX_RULES = 50              # per kind, the DEFAULT rule aside: a page of rules, evaluated each slot
PRICE_DECIMALS = 5
PRICE_MAX = Decimal("99999.99999")   # per kWh or m3: the costs of a year stay far inside 64 bits
PRICE_SCALE = 10 ** PRICE_DECIMALS   # prices are stored as integers of 1e-5 of the currency
COST_SCALE = 1_000_000      # stored costs are integers of 1e-6 of the currency
FIRST_MINUTE, LAST_MINUTE = 0, 1439
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")   # date.weekday() order
EVERY_DAY = frozenset(range(7))
YEARS = (2000, 2099)
# Colours given to a tariff added without one (the form always sends one): 5 that tell apart.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd")
_DECIMAL = Context(prec=40)

# Whole sentences per kind (messages.py: a kind's name put into one English sentence would not
# take the gender and case other languages give it).
TOO_MANY_TARIFFS = {
    ELECTRICITY: Msg("at most {max} electricity tariffs: delete one first"),
    GAS: Msg("at most {max} gas tariffs: delete one first"),
    WATER: Msg("at most {max} water tariffs: delete one first"),
}
NOT_OF_KIND = {
    ELECTRICITY: Msg('the tariff "{name}" is not an electricity tariff'),
    GAS: Msg('the tariff "{name}" is not a gas tariff'),
    WATER: Msg('the tariff "{name}" is not a water tariff'),
}
PRICE_REFUSED = {
    ELECTRICITY: Msg('"{raw}" is not a price per kWh; allowed: 0 to {max}, with up to {decimals} decimals'),
    GAS: Msg('"{raw}" is not a price per m3; allowed: 0 to {max}, with up to {decimals} decimals'),
    WATER: Msg('"{raw}" is not a price per m3; allowed: 0 to {max}, with up to {decimals} decimals'),
}

__all__ = [
    "KINDS", "COUNTERS", "UNITS", "COST_SCALE", "COST_PREFIX", "MAX_TARIFFS", "MAX_PRICES", "MAX_RULES",
    "Price", "Tariff", "Rule", "Pricer", "rule_for", "holds", "price_at", "cost_micro", "cost_quantity",
    "tariff_of_quantity", "cost_value", "minor_units", "kwh_equivalent",
    "currency", "gas_kwh_per_m3", "tariffs", "tariff", "rules", "cost_quantities", "cost_selection", "pricer",
    "save_settings", "add_tariff", "update_tariff", "delete_tariff",
    "add_rule", "update_rule", "set_default_tariff", "delete_rule", "move_rule",
]


# -- plain data: what the pages, the reports and the pricer work with ------------------------------------
@dataclass(frozen=True)
class Price:
    valid_from: date | None     # None: the tariff's only price, valid always
    price: Decimal              # currency per kWh (electricity) or per m3 (gas, water)


@dataclass(frozen=True)
class Tariff:
    id: int
    kind: str
    name: str
    colour: str                 # "#rrggbb"
    prices: tuple[Price, ...] = ()   # oldest first (an undated one first of all)
    deleted: bool = False

    @property
    def quantity(self) -> str:
        """Its costs in data.db: the counter-like quantity "cost:<id>"."""
        return cost_quantity(self.id)


@dataclass(frozen=True)
class Rule:
    id: int = 0
    kind: str = ELECTRICITY
    tariff_id: int | None = None          # None: no cost (only the DEFAULT rule of a kind without tariff)
    date_from: date | None = None         # None: always
    date_to: date | None = None           # None: the day date_from only
    repeat: bool = False                  # every year: the days and months of the period
    time_from: int = FIRST_MINUTE         # minutes after local midnight, included
    time_to: int = LAST_MINUTE            # included; time_from > time_to: crosses midnight
    weekdays: frozenset[int] = EVERY_DAY  # 0 Monday ... 6 Sunday
    default: bool = False                 # the DEFAULT rule: always holds, always last
    position: int = 0

    @property
    def crosses_midnight(self) -> bool:
        return self.time_from > self.time_to


# -- pricing: pure functions --------------------------------------------------------------------------
def _in_period(rule: Rule, day: date) -> bool:
    if rule.date_from is None:
        return True
    start, end = rule.date_from, rule.date_to or rule.date_from
    if not rule.repeat:
        return start <= day <= end
    # every year: days and months only (a period is a year long at most, so a later year in `end`
    # means the period crosses New Year); 29 February alone holds in leap years only
    lo, hi, here = (start.month, start.day), (end.month, end.day), (day.month, day.day)
    if end.year == start.year:
        return lo <= here <= hi
    return here >= lo or here <= hi


def holds(rule: Rule, when: datetime) -> bool:
    """Does `rule` hold at the local time `when` (a slot's local start)?"""
    if rule.default:
        return True
    minute = when.hour * 60 + when.minute
    day = when.date()
    if not rule.crosses_midnight:
        if not rule.time_from <= minute <= rule.time_to:
            return False
    elif minute < rule.time_from:
        if minute > rule.time_to:
            return False
        day -= timedelta(days=1)   # after midnight: the frame began the day before
    return day.weekday() in rule.weekdays and _in_period(rule, day)


def rule_for(rules: Sequence[Rule], when: datetime) -> Rule | None:
    """The first rule of `rules` (in their order, DEFAULT last) that holds at local time `when`;
    None only when no rule holds and no DEFAULT rule is among them."""
    for rule in rules:
        if holds(rule, when):
            return rule
    return None


def price_at(tariff: Tariff | None, day: date) -> Decimal | None:
    """The price of `tariff` valid on the local date `day`: the one with the latest validity start
    on or before it (an undated price is valid always); None before its first price."""
    found = None
    if tariff is None:
        return None
    for p in tariff.prices:   # oldest first
        if p.valid_from is None or p.valid_from <= day:
            found = p.price
    return found


def cost_micro(delta: int, price: Decimal) -> int:
    """Cost in millionths of the currency of `delta` Wh (or dm3) at `price` per kWh (or m3), rounded
    half to even (a price has 5 decimals, so the exact cost has at most 2 decimals of a millionth)."""
    exact = _DECIMAL.multiply(_DECIMAL.multiply(Decimal(delta), price), Decimal(COST_SCALE // SUB_UNITS))
    return int(exact.to_integral_value(rounding=ROUND_HALF_EVEN))


def cost_quantity(tariff_id: int) -> str:
    return f"{COST_PREFIX}{int(tariff_id)}"


def tariff_of_quantity(name: str) -> int | None:
    """The tariff ID of a "cost:<id>" quantity, None for any other quantity."""
    if name.startswith(COST_PREFIX) and name[len(COST_PREFIX):].isdigit():
        return int(name[len(COST_PREFIX):])
    return None


def cost_value(micro: int | None) -> Decimal | None:
    """A stored cost (millionths) in the currency: exact Decimal (None stays None)."""
    return None if micro is None else Decimal(int(micro)).scaleb(-6)


def minor_units(code: str) -> int:
    """Decimals the currency is shown with (ISO 4217: JPY 0, EUR 2, KWD 3)."""
    return MINOR_UNITS.get(code, 2)


def kwh_equivalent(dm3: int | None, factor: Decimal) -> Decimal | None:
    """Gas in equivalent kWh: dm3 / 1000 x the conversion factor (bill.gas_kwh_per_m3)."""
    return None if dm3 is None else _DECIMAL.multiply(Decimal(int(dm3)).scaleb(-3), factor)


@dataclass(frozen=True)
class Pricer:
    """The rules and tariffs of every kind at one moment: prices the records of a slot.

    Store.write_slot calls it for each record it stores (never for one already in the ledger)
    with the slot's local start: {"cost:<tariff id>": Counter(cost in millionths, 0, since)}, the
    `since` of the billed counter (a gap's consumption is priced where it is recorded)."""

    rules: Mapping[str, tuple[Rule, ...]] = field(default_factory=dict)   # kind -> evaluation order
    tariffs: Mapping[int, Tariff] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.tariffs)

    def __call__(self, record: SlotRecord, start: datetime) -> dict[str, Counter]:
        out: dict[str, Counter] = {}
        for kind, counter in COUNTERS.items():
            c = record.counters.get(counter)
            if c is None:
                continue
            rule = rule_for(self.rules.get(kind, ()), start)
            tariff = self.tariffs.get(rule.tariff_id) if rule is not None and rule.tariff_id is not None else None
            price = price_at(tariff, start.date())
            if price is not None:
                out[tariff.quantity] = Counter(cost_micro(c.delta, price), 0, c.since)
        return out


# -- field values in, clean values out (public: a page may check one field with the same words) -----------
def kind_of(raw: Any) -> str:
    value = str(raw or "").strip().lower()
    if value not in KINDS:
        raise ConfigError("kind", '"{raw}" is not an energy kind; kinds: {kinds}', raw=raw, kinds=", ".join(KINDS))
    return value


def parse_colour(raw: Any, field_name: str = "colour") -> str:
    value = str(raw or "").strip().lower()
    if not value.startswith("#"):
        value = "#" + value
    if not re.fullmatch(r"#[0-9a-f]{6}", value):
        raise ConfigError(field_name, '"{raw}" is not a colour like #1f77b4 (# and 6 hexadecimal digits)', raw=raw)
    return value


def parse_price(raw: Any, kind: str, field_name: str = "price") -> Decimal:
    """A price per kWh or m3: 0 to PRICE_MAX with up to 5 decimals (comma or point)."""
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip().replace(",", "."))
    except InvalidOperation:
        value = None
    if value is None or isinstance(raw, bool) or not value.is_finite() or not 0 <= value <= PRICE_MAX \
            or -value.normalize().as_tuple().exponent > PRICE_DECIMALS:
        raise ConfigError(field_name, PRICE_REFUSED[kind], raw=raw, max=f"{PRICE_MAX:f}", decimals=PRICE_DECIMALS)
    return value.quantize(Decimal(1).scaleb(-PRICE_DECIMALS))


def parse_date(raw: Any, field_name: str) -> date | None:
    """A date: a `date`, or "YYYY-MM-DD" as a date field sends it; None when not given."""
    if not given(raw):
        return None
    if isinstance(raw, datetime):
        raw = raw.date()
    if isinstance(raw, date):
        value = raw
    else:
        try:
            value = date.fromisoformat(str(raw).strip())
        except ValueError:
            value = None
    if value is None or not YEARS[0] <= value.year <= YEARS[1]:
        raise ConfigError(field_name, '"{raw}" is not a date like 2025-01-31 (YYYY-MM-DD, years {first} to {last})',
                          raw=raw, first=YEARS[0], last=YEARS[1])
    return value


def parse_time(raw: Any, field_name: str, default: int) -> int:
    """A time of day "HH:MM" (or minutes after midnight) -> minutes; `default` when not given."""
    if not given(raw):
        return default
    if isinstance(raw, int) and not isinstance(raw, bool) and FIRST_MINUTE <= raw <= LAST_MINUTE:
        return raw
    m = re.fullmatch(r"(\d{1,2}):(\d{2})(?::00)?", str(raw).strip())
    if m is None or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ConfigError(field_name, '"{raw}" is not a time like 18:59 (HH:MM, 00:00 to 23:59)', raw=raw)
    return int(m.group(1)) * 60 + int(m.group(2))


def parse_weekdays(raw: Any) -> frozenset[int]:
    """Days of the week: "mon".."sun" or 0 (Monday)..6; None: every day; none chosen is refused."""
    if raw is None:
        return EVERY_DAY
    items = raw.split() if isinstance(raw, str) else list(raw)
    days = set()
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool) and 0 <= item <= 6:
            days.add(item)
            continue
        word = str(item).strip().lower()[:3]
        if word not in WEEKDAYS:
            raise ConfigError("weekdays", '"{raw}" is not a day of the week; days: {days}', raw=item,
                              days=", ".join(WEEKDAYS))
        days.add(WEEKDAYS.index(word))
    if not days:
        raise ConfigError("weekdays", "choose at least one day of the week")
    return frozenset(days)


def format_time(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def format_price(price: Decimal) -> str:
    """A price as the pages show it: at least 2 decimals, at most 5 ("0.18", "0.18745")."""
    text_ = f"{price.normalize():f}"
    whole, _, decimals = text_.partition(".")
    return f"{whole}.{decimals.ljust(2, '0')}"


# -- reading config.db ---------------------------------------------------------------------------------
def _tariff(row: TariffRow) -> Tariff:
    prices = sorted(TariffPrice.select().where(TariffPrice.tariff == row.id),
                    key=lambda p: (p.valid_from is not None, p.valid_from or date.min))
    return Tariff(row.id, row.kind, row.name, row.colour,
                  tuple(Price(p.valid_from, Decimal(p.price).scaleb(-PRICE_DECIMALS)) for p in prices),
                  bool(row.deleted))


def _rule(row: CostRule) -> Rule:
    return Rule(id=row.id, kind=row.kind, tariff_id=row.tariff_id, date_from=row.date_from, date_to=row.date_to,
                repeat=bool(row.repeat), time_from=row.time_from, time_to=row.time_to,
                weekdays=frozenset(d for d in range(7) if row.weekdays >> d & 1), default=bool(row.is_default),
                position=row.position)


def _live(kind: str):
    return TariffRow.select().where(TariffRow.kind == kind, TariffRow.deleted == False)  # noqa: E712


def _rules(kind: str) -> list[Rule]:
    rows = list(CostRule.select().where(CostRule.kind == kind)
                .order_by(CostRule.is_default, CostRule.position, CostRule.id))
    out = [_rule(r) for r in rows]
    if not any(r.default for r in out):   # not written yet (a kind never given a tariff): none, no cost
        out.append(Rule(kind=kind, default=True))
    return out


def currency(db) -> str:
    """The ISO 4217 code costs are in (setting bill.currency, default EUR)."""
    return settings.get(db, "bill.currency")


def gas_kwh_per_m3(db) -> Decimal:
    """The gas conversion factor, kWh per m3 (setting bill.gas_kwh_per_m3)."""
    return settings.get(db, "bill.gas_kwh_per_m3")


@reads
def tariffs(db, kind: Any, deleted: bool = False) -> list[Tariff]:
    """The tariffs of a kind in the order they were added; with deleted=True also the deleted ones
    (their costs stay in data.db: a chart of the past names and colours them)."""
    query = TariffRow.select().where(TariffRow.kind == kind_of(kind))
    if not deleted:
        query = query.where(TariffRow.deleted == False)  # noqa: E712
    return [_tariff(row) for row in query.order_by(TariffRow.id)]


@reads
def tariff(db, tariff_id: Any) -> Tariff:
    return _tariff(_tariff_row(tariff_id, live=False))


@reads
def rules(db, kind: Any) -> list[Rule]:
    """The cost rules of a kind in evaluation order, the DEFAULT rule last."""
    return _rules(kind_of(kind))


@reads
def cost_quantities(db, kind: Any) -> dict[int, str]:
    """{tariff id: "cost:<id>"} of every tariff the kind ever had, deleted ones included: the
    quantities whose sum over a selection of devices is its cost (aggregates.view)."""
    rows = TariffRow.select(TariffRow.id).where(TariffRow.kind == kind_of(kind)).order_by(TariffRow.id)
    return {row.id: cost_quantity(row.id) for row in rows}


def cost_selection(db, kind: Any, devices: Iterable[int]) -> dict[str, tuple[int, ...]]:
    """The selection {"cost:<id>": devices, ...} whose view is the whole cost of `devices` for `kind`
    (aggregates.view(store, DAY_VIEW, day, cost_selection(db, "electricity", [1, 2])))."""
    devices = tuple(sorted(set(devices)))
    return {q: devices for q in cost_quantities(db, kind).values()}


@reads
def pricer(db) -> Pricer:
    """A snapshot of the rules and tariffs of every kind, for the daemon's writer."""
    live = {row.id: _tariff(row) for row in TariffRow.select().where(TariffRow.deleted == False)}  # noqa: E712
    return Pricer({kind: tuple(_rules(kind)) for kind in KINDS}, live)


# -- writing: settings -------------------------------------------------------------------------------------
def save_settings(db, currency: Any = None, gas_kwh_per_m3: Any = None) -> None:
    """The currency and (None: unchanged) the gas conversion factor, together or not at all."""
    values = {"bill.currency": currency, "bill.gas_kwh_per_m3": gas_kwh_per_m3}
    parsed = {}
    for key, raw in values.items():
        if raw is None:
            continue
        try:
            parsed[key] = settings.row(key).parse(raw)
        except ValueError as exc:   # by the field, without the key in front (the page names the field)
            raise ConfigError(key, reason(exc)) from None
    with bound(db), db.atomic():
        for key, value in parsed.items():
            settings.set(db, key, settings.format_value(value))


# -- writing: tariffs ----------------------------------------------------------------------------------------
def _tariff_row(ident: Any, live: bool = True) -> TariffRow:
    row = by_id(TariffRow, ident, "tariff", "tariff")
    if live and row.deleted:
        raise ConfigError("tariff", NO_ID["tariff"], ident=ident)
    return row


def _name(kind: str, raw: Any, exclude_id: int | None) -> str:
    name = text(raw, "name", NAME_MAX)
    if not name:
        raise ConfigError("name", "a name is required for the tariff")
    other = _live(kind).where(TariffRow.name == name)
    if exclude_id is not None:
        other = other.where(TariffRow.id != exclude_id)
    other = other.first()
    if other is not None:
        raise ConfigError("name", 'the name "{name}" is already used by tariff {id} ("{other}"); names must differ',
                          name=name, id=other.id, other=other.name)
    return name


def _prices(kind: str, raw: Iterable) -> list[tuple[date | None, int]]:
    """(valid from, price in 1e-5) of the rows given; a row is (price, valid from). Blank rows are
    skipped; fields are named after the row's place: price1, from1, price2..."""
    rows = []
    for i, row in enumerate(raw or (), 1):
        price_raw, from_raw = (row.get("price"), row.get("from")) if isinstance(row, Mapping) else tuple(row)
        if not given(price_raw) and not given(from_raw):
            continue
        valid_from = parse_date(from_raw, f"from{i}")
        if not given(price_raw):
            raise ConfigError(f"price{i}", "the price valid from {date} is missing", date=str(valid_from))
        rows.append((i, parse_price(price_raw, kind, f"price{i}"), valid_from))
    if not rows:
        raise ConfigError("price1", "a tariff needs at least one price")
    if len(rows) > MAX_PRICES:
        raise ConfigError("prices", "a tariff has at most {max} prices", max=MAX_PRICES)
    if len(rows) > 1:
        seen = {}
        for i, _price, valid_from in rows:
            if valid_from is None:
                raise ConfigError(f"from{i}", "with several prices, each needs the date from which it is valid")
            if valid_from in seen:
                raise ConfigError(f"from{i}", "two prices are valid from {date}: one price per date",
                                  date=str(valid_from))
            seen[valid_from] = i
    return [(valid_from, int(price.scaleb(PRICE_DECIMALS))) for _i, price, valid_from in rows]


def _default_row(kind: str) -> CostRule:
    row = CostRule.get_or_none(CostRule.kind == kind, CostRule.is_default == True)  # noqa: E712
    if row is None:
        first = _live(kind).order_by(TariffRow.id).first()
        row = CostRule.create(kind=kind, is_default=True, position=0, tariff=first)
    return row


def _store_prices(row: TariffRow, prices: list[tuple[date | None, int]]) -> None:
    TariffPrice.delete().where(TariffPrice.tariff == row.id).execute()
    TariffPrice.insert_many([{"tariff": row.id, "valid_from": d, "price": p} for d, p in prices]).execute()


@writes
def add_tariff(db, kind: Any, name: Any, colour: Any = None, prices: Iterable = ()) -> Tariff:
    """A new tariff of `kind` with its prices: a sequence of (price, valid from) pairs (or
    {"price", "from"} mappings). The first tariff of a kind becomes the DEFAULT rule's."""
    kind = kind_of(kind)
    count = _live(kind).count()
    if count >= MAX_TARIFFS:
        raise ConfigError("_", TOO_MANY_TARIFFS[kind], max=MAX_TARIFFS)
    clean_name = _name(kind, name, None)
    clean_colour = parse_colour(colour) if given(colour) else PALETTE[count % len(PALETTE)]
    clean_prices = _prices(kind, prices)
    row = TariffRow.create(kind=kind, name=clean_name, colour=clean_colour)
    _store_prices(row, clean_prices)
    default = _default_row(kind)
    if default.tariff_id is None:
        default.tariff = row.id
        default.save()
    return _tariff(row)


@writes
def update_tariff(db, tariff_id: Any, name: Any, colour: Any, prices: Iterable) -> Tariff:
    """Name, colour and the whole list of prices (replaced). Costs already stored keep the price
    they were billed at; new slots get the new ones."""
    row = _tariff_row(tariff_id)
    row.name = _name(row.kind, name, row.id)
    row.colour = parse_colour(colour)
    clean_prices = _prices(row.kind, prices)
    row.save()
    _store_prices(row, clean_prices)
    return _tariff(row)


@writes
def delete_tariff(db, tariff_id: Any) -> None:
    """A tariff no rule uses (the DEFAULT rule's only when it is the kind's last tariff: the kind
    has no cost after it). It is only marked deleted: its stored costs stay, under its ID."""
    row = _tariff_row(tariff_id)
    used = CostRule.select().where(CostRule.tariff == row.id, CostRule.is_default == False).count()  # noqa: E712
    if used:
        raise ConfigError("_", 'the tariff "{name}" is used by {count} cost rule(s): change or delete them first',
                          name=row.name, count=used)
    default = _default_row(row.kind)
    if default.tariff_id == row.id:
        if _live(row.kind).where(TariffRow.id != row.id).exists():
            raise ConfigError("_", 'the tariff "{name}" is the one of the DEFAULT rule: choose another tariff '
                                   "for the DEFAULT rule first", name=row.name)
        default.tariff = None
        default.save()
    row.deleted = True
    row.save()


# -- writing: cost rules -------------------------------------------------------------------------------------
def _rule_row(ident: Any) -> CostRule:
    return by_id(CostRule, ident, "rule", "cost rule")


def _rule_tariff(kind: str, raw: Any) -> int:
    if not given(raw):
        raise ConfigError("tariff", "choose the tariff of the rule")
    row = raw if isinstance(raw, TariffRow) else _tariff_row(raw.id if isinstance(raw, Tariff) else raw)
    if row.deleted:
        raise ConfigError("tariff", 'there is no tariff with ID "{ident}"', ident=row.id)
    if row.kind != kind:
        raise ConfigError("tariff", NOT_OF_KIND[kind], name=row.name)
    return row.id


def _rule_values(kind: str, tariff: Any, date_from: Any, date_to: Any, repeat: Any, time_from: Any,
                 time_to: Any, weekdays: Any) -> dict:
    values = {"tariff": _rule_tariff(kind, tariff)}
    start, end = parse_date(date_from, "date_from"), parse_date(date_to, "date_to")
    every_year = flag(repeat, "repeat")
    if end is not None and start is None:
        raise ConfigError("date_from", "a period needs its first day")
    if end is not None and end < start:
        raise ConfigError("date_to", "the period ends ({end}) before it begins ({start})", end=str(end),
                          start=str(start))
    if every_year and start is None:
        raise ConfigError("repeat", '"repeat every year" needs a date or a period')
    if every_year and end is not None and (end.year - start.year > 1 or end.year > start.year
                                           and (end.month, end.day) >= (start.month, start.day)):
        raise ConfigError("date_to", "a period repeated every year lasts one year at most")
    days = parse_weekdays(weekdays)
    values.update(date_from=start, date_to=None if end == start else end, repeat=every_year,
                  time_from=parse_time(time_from, "time_from", FIRST_MINUTE),
                  time_to=parse_time(time_to, "time_to", LAST_MINUTE),
                  weekdays=sum(1 << d for d in days))
    return values


def _ordered(kind: str):
    """The user's rules of `kind` (DEFAULT left out), in their order."""
    return (CostRule.select().where(CostRule.kind == kind, CostRule.is_default == False)  # noqa: E712
            .order_by(CostRule.position, CostRule.id))


def _renumber(kind: str, order: list[CostRule] | None = None) -> None:
    if order is None:
        order = list(_ordered(kind))
    for position, row in enumerate(order, 1):
        if row.position != position:
            row.position = position
            row.save()


@writes
def add_rule(db, kind: Any, tariff: Any, date_from: Any = None, date_to: Any = None, repeat: Any = False,
             time_from: Any = None, time_to: Any = None, weekdays: Any = None) -> Rule:
    """A new rule of `kind`, placed last above the DEFAULT rule. Validity: none (always), a date
    (date_from alone) or a period (date_from to date_to, both included); with `repeat`, every year.
    Time frame: from time_from to time_to ("HH:MM", both minutes included; empty: 00:00 / 23:59).
    Weekdays: "mon".."sun" (None: every day)."""
    kind = kind_of(kind)
    count = _ordered(kind).count()
    if count >= MAX_RULES:
        raise ConfigError("_", "at most {max} cost rules per energy kind, besides the DEFAULT rule", max=MAX_RULES)
    values = _rule_values(kind, tariff, date_from, date_to, repeat, time_from, time_to, weekdays)
    _default_row(kind)
    _renumber(kind)
    row = CostRule.create(kind=kind, position=count + 1, **values)
    return _rule(row)


@writes
def update_rule(db, rule_id: Any, tariff: Any, date_from: Any = None, date_to: Any = None, repeat: Any = False,
                time_from: Any = None, time_to: Any = None, weekdays: Any = None) -> Rule:
    """All the values of a rule (as add_rule); its place stays. The DEFAULT rule: set_default_tariff."""
    row = _rule_row(rule_id)
    if row.is_default:
        raise ConfigError("_", "the DEFAULT rule always holds: only its tariff can be changed")
    for key, value in _rule_values(row.kind, tariff, date_from, date_to, repeat, time_from, time_to,
                                   weekdays).items():
        setattr(row, key, value)
    row.save()
    return _rule(row)


@writes
def set_default_tariff(db, kind: Any, tariff: Any) -> Rule:
    """The tariff of the DEFAULT rule of `kind` (required while the kind has tariffs)."""
    kind = kind_of(kind)
    row = _default_row(kind)
    if not given(tariff) and not _live(kind).exists():
        return _rule(row)   # no tariff to choose: no cost
    row.tariff = _rule_tariff(kind, tariff)
    row.save()
    return _rule(row)


@writes
def delete_rule(db, rule_id: Any) -> None:
    row = _rule_row(rule_id)
    if row.is_default:
        raise ConfigError("_", "the DEFAULT rule cannot be deleted; only its tariff can be changed")
    row.delete_instance()
    _renumber(row.kind)


@writes
def move_rule(db, rule_id: Any, direction: Any) -> list[Rule]:
    """Move a rule one place "up" (evaluated earlier) or "down"; the first rule does not go up, and
    nothing goes below the DEFAULT rule. Returns the kind's rules in their new order."""
    row = _rule_row(rule_id)
    way = str(direction or "").strip().lower()
    if way not in ("up", "down"):
        raise ConfigError("direction", '"{raw}" is not a direction; up or down', raw=direction)
    if row.is_default:
        raise ConfigError("_", "the DEFAULT rule is always the last one: it cannot be moved")
    order = list(_ordered(row.kind))
    i = next(k for k, r in enumerate(order) if r.id == row.id)
    j = i - 1 if way == "up" else i + 1
    if 0 <= j < len(order):
        order[i], order[j] = order[j], order[i]
    _renumber(row.kind, order)
    return _rules(row.kind)
