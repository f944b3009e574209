"""Consumptions (manual 8.2.2): what every page shares -- data.db read from a web thread, the
period asked for, the labels of its buckets in the user's language, numbers and units. The chart
model and its outputs (tables, JSON, datalogger.csv): pages_consumptions_charts.py.

Values stay raw integers (Wh, dm3, micro-units of the currency) until shown; a bucket nobody
recorded is None (null in JSON, an empty CSV cell), never 0. Numbers are written with My panel
board's helpers (pages_panel.number / scaled / SCALES: decimal comma and grouping per language,
Wh -> kWh -> MWh, dm3 -> m3), CSV cells with the CSV history's (history_format.CsvFormat).
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import SimpleNamespace

from wsmeasure import aggregates, settings
from wsmeasure.aggregates import DAY_VIEW, DECADE_VIEW, MONTH_VIEW, VIEWS, YEAR_VIEW
from wsmeasure.drivers.quantities import QUANTITIES
from wsmeasure.history_format import offset_text
from wsmeasure.store import DATA_DB, Store
from wsmeasure.store_time import zone as load_zone

from .pages_consumptions_costs import COST_SCALE
from .pages_consumptions_costs import decimals as currency_decimals
from .pages_panel import NA, SCALES, number, scaled, shown


def _(message: str) -> str:
    """Marks a message for the catalogues; translated when shown."""
    return message


COST = "cost"               # the pseudo-quantity of currency charts (values in millionths, COST_SCALE)
FIRST_DAY, LAST_DAY = date(1971, 1, 1), date(2199, 12, 31)
ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

VIEW_NAMES = {DAY_VIEW: _("Day"), MONTH_VIEW: _("Month"), YEAR_VIEW: _("Year"), DECADE_VIEW: _("10 years")}
VIEW_HINTS = {DAY_VIEW: _("per hour"), MONTH_VIEW: _("per day"), YEAR_VIEW: _("per month"),
              DECADE_VIEW: _("per year")}
MONTHS = (_("January"), _("February"), _("March"), _("April"), _("May"), _("June"), _("July"),
          _("August"), _("September"), _("October"), _("November"), _("December"))
WEEKDAYS = (_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday"))
DATE_TEXT = _("{day:02d}/{month:02d}/{year}")      # a date in the user's language, numbers only
UNIT_NAMES = {"Wh": "Wh", "varh": "varh", "dm3": "dm³"}


class Refused(Exception):
    """A request the page cannot answer: status and a message for the user (already translated)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


# -- data.db: one read-only Store per web thread ------------------------------------------------------
_held = threading.local()


class NoData:
    """Stands for data.db before the daemon made it: every bucket None."""

    def __init__(self, tz):
        self.tz = tz

    def sums(self, *args) -> dict:
        return {}


def store_of(box):
    """This thread's read-only Store on box.data_dir in the time.zone setting (opened once per
    thread and kept: opening costs three queries; a changed zone or a new file opens it again)."""
    zone = settings.get(box.db, "time.zone")
    path = box.data_dir / DATA_DB
    try:
        key = (str(path), zone, os.stat(path).st_ino)
    except FileNotFoundError:
        return NoData(load_zone(zone))
    held = getattr(_held, "store", None)
    if held is not None and held[0] == key:
        return held[1]
    if held is not None:
        held[1].close()
    store = Store(box.data_dir, zone, readonly=True)
    _held.store = (key, store)
    return store


# -- the period asked for -----------------------------------------------------------------------------
def parse_view(raw: str | None, _) -> str:
    if not raw:
        return DAY_VIEW
    if raw not in VIEWS:
        raise Refused(400, _("Unknown view \"{view}\": choose day, month, year or 10years.").format(view=raw[:20]))
    return raw


def parse_day(raw: str | None, today: date, _) -> date:
    if not raw:
        return today
    try:
        if not ISO_DAY.match(raw):
            raise ValueError(raw)
        day = date.fromisoformat(raw)
    except ValueError:
        raise Refused(400, _("\"{date}\" is not a date like 2024-06-30.").format(date=raw[:20])) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise Refused(400, _("Dates from {first} to {last} only.").format(first=FIRST_DAY.isoformat(),
                                                                           last=LAST_DAY.isoformat()))
    return day


def date_text(d: date, _) -> str:
    return _(DATE_TEXT).format(day=d.day, month=d.month, year=d.year)


def period_title(view: str, day: date, _) -> str:
    if view == DAY_VIEW:
        return _("{weekday} {date}").format(weekday=_(WEEKDAYS[day.weekday()]), date=date_text(day, _))
    if view == MONTH_VIEW:
        return _("{month} {year}").format(month=_(MONTHS[day.month - 1]), year=day.year)
    if view == YEAR_VIEW:
        return str(day.year)
    return f"{day.year - 9}\u2013{day.year}"


@dataclass
class Period:
    """The view (day, month, year, 10years) of the local period holding `day`."""

    store: object
    view: str
    day: date
    today: date

    @property
    def tz(self):
        return self.store.tz

    @property
    def previous_day(self) -> date:
        return aggregates.previous(self.view, self.day)

    @property
    def next_day(self) -> date | None:
        """A day of the period after this one, or None when that one has not begun."""
        d = self.day
        if self.view == DAY_VIEW:
            nxt = d + timedelta(days=1)
        elif self.view == MONTH_VIEW:
            nxt = date(d.year + d.month // 12, d.month % 12 + 1, 1)
        elif self.view == YEAR_VIEW:
            nxt = date(d.year + 1, 1, 1)
        else:   # the ten years after, or up to this year
            nxt = date(min(d.year + 10, self.today.year), 1, 1) if d.year < self.today.year else None
        return nxt if nxt is not None and nxt <= self.today and nxt <= LAST_DAY else None

    def bounds(self) -> tuple[datetime, datetime]:
        start, end = aggregates.bounds(SimpleNamespace(tz=self.tz), self.view, self.day)
        return datetime.fromtimestamp(start, self.tz), datetime.fromtimestamp(end, self.tz)

    def starts(self) -> list[datetime]:
        """The local starts of the period's buckets (hours, days, months or years)."""
        return [b.start for b in aggregates.view(NoData(self.tz), self.view, self.day, {}).buckets]

    def read(self, selection) -> tuple[aggregates.View, int | None]:
        """The view of `selection` and the total of the previous period."""
        now = aggregates.view(self.store, self.view, self.day, selection)
        before = aggregates.view(self.store, self.view, self.previous_day, selection)
        return now, before.total


def bucket_labels(view: str, starts: list[datetime], _) -> tuple[list[str], list[str]]:
    """(labels, short labels) of the buckets: hours, days, months or years in the user's language."""
    labels, short = [], []
    if view == DAY_VIEW:
        hours = [s.strftime("%H:%M") for s in starts]
        for s, h in zip(starts, hours):
            repeated = hours.count(h) > 1          # the autumn hour: "02:00 UTC+02:00", "02:00 UTC+01:00"
            labels.append(f"{h} {offset_text(s)}" if repeated else h)
            short.append(h[:2] if h.endswith(":00") else h)
    elif view == MONTH_VIEW:
        for s in starts:
            labels.append(_("{weekday} {day}").format(weekday=_(WEEKDAYS[s.weekday()]), day=s.day))
            short.append(str(s.day))
    elif view == YEAR_VIEW:
        for s in starts:
            labels.append(_(MONTHS[s.month - 1]))
            short.append(str(s.month))
    else:
        labels = short = [str(s.year) for s in starts]
    return labels, list(short)


# -- numbers --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scale:
    """One unit for a whole chart (its axis and its table column)."""

    divisor: float
    unit: str
    decimals: int

    def text(self, value, lang: str) -> str:
        return NA if value is None else number(value / self.divisor, self.decimals, lang)


def raw_unit(quantity: str, currency: str) -> str:
    return currency if quantity == COST else UNIT_NAMES.get(QUANTITIES[quantity].unit, QUANTITIES[quantity].unit)


def scale_of(quantity: str, values, currency: str = "") -> Scale:
    """The readable unit for the largest of `values` (panel's SCALES), or the currency."""
    if quantity == COST:
        return Scale(COST_SCALE, currency, currency_decimals(currency))
    peak = max((abs(v) for v in values if v is not None), default=0)
    for limit, divisor, unit, decimals in SCALES[QUANTITIES[quantity].unit]:
        if limit is None or peak < limit:
            return Scale(divisor, unit, decimals)
    raise AssertionError("the last step has no limit")


def amount(quantity: str, value, lang: str, currency: str = "") -> str:
    """A value in its own readable unit: "12,345 kWh", "3,20 EUR", "—"."""
    if value is None:
        return NA
    if quantity == COST:
        return shown(number(value / COST_SCALE, currency_decimals(currency), lang), currency)
    return shown(*scaled(quantity, value, lang))


def difference(quantity: str, now, before, lang: str, currency: str = "") -> tuple[int | None, str, str]:
    """(difference, its text with a sign, percent text) of this period against the previous one."""
    if now is None or before is None:
        return None, NA, ""
    diff = now - before
    text = amount(quantity, diff, lang, currency)
    sign = "+" if diff > 0 else ""
    percent = f"{'+' if diff > 0 else ''}{number(100 * diff / before, 1, lang)}\u00a0%" if before else ""
    return diff, sign + text, percent


def number_format(lang: str) -> dict:
    """The separators of the user's language, for the chart axes drawn by the script."""
    grouped, decimal = number(1000, 0, lang), number(0.5, 1, lang)
    return {"group": grouped[1], "decimal": decimal[1]}


def add(values: list) -> int | None:
    """Sum that stays None when every value is None (nothing recorded is not 0)."""
    known = [v for v in values if v is not None]
    return sum(known) if known else None
