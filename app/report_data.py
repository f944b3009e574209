"""Reports & data download (manual 8.5): the numbers, read from data.db, for the CSV download and
the PDF reports. Pure: a read-only Store, the installation as plain data (`Item`s built from
aggregates.Members) and the user's choices in; file contents or plain data out. The pages
(web/pages_reports*.py) build the choices, translate the names and refusals, and send the files.

Data download (8.5.1): one CSV file per energy kind present in the selection, and per kind a
cost file when asked,

    report_energy_<devices|groups|loads>_<electricity|gas|water>[_cost].csv

columns `date`, `UTC offset` (as the CSV history: history_format.py), then one per selected
device, group or load with its unit; rows every 15 minutes, hour or day of the local clock.
The levels of data.db behind each resolution, and how long they are kept (store.HORIZONS):

    15 min  slot rows   40 days    slots summed into local quarter hours (`_quarters`, `_plan`)
    1 hour  hour rows   400 days
    1 day   day rows    3660 days
A slot across two quarter hours (10-minute slots: 00:10-00:20) is shared between them in
proportion to time, in whole Wh whose sum is the slot's; 1, 5 and 15-minute slots fall whole
into one. A period starting before what its level still holds is refused (with the first date
it can start on), as is a 15-minute download of a period recorded every 30 or 60 minutes.

A selection sums what aggregates.view sums: a device alone counts even when "excluded from
totals"; a group or a load leaves excluded devices out (Members._pick). Costs are the
counter-like quantities `cost:<tariff id>` (integer micro-units of the currency, COST_SCALE)
that app/tariffs.py stores per device, summed the same way; a cost file is written for each kind
with a tariff, its values exact (up to 6 decimals).

Refusals are ConfigError(field, template): the pages show them translated (core_text).
"""

from __future__ import annotations

import io
import zipfile
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Iterable, Mapping, Sequence

from . import tariffs
from .aggregates import MONTH_VIEW, YEAR_VIEW, Members, View, previous, view
from .history_format import BOM, DATE_HEADER, OFFSET_HEADER, CsvFormat, stamp
from .messages import Msg
from .settings import ConfigError
from .store import Store
from .store_time import DAY, HOUR, SLOT, bucket_start, midnight, next_start, starts

KINDS = tariffs.KINDS                                                # electricity, gas, water
COUNTER = tariffs.COUNTERS                                           # the billed counter of each kind
KIND_OF = {counter: kind for kind, counter in COUNTER.items()}
UNIT = {"electricity": "Wh", "gas": "dm3", "water": "dm3"}           # as data.db and the CSV history
LIST_TYPES = ("devices", "groups", "loads")
QUARTER_S = 900
RESOLUTIONS = ("15min", "1h", "1d")                                  # the form's order; 15 min first (8.5.1)
LEVEL_OF = {"15min": SLOT, "1h": HOUR, "1d": DAY}
ZIP_NAME = "reportdata.zip"
CSV_LABELS = {"date": DATE_HEADER, "offset": OFFSET_HEADER}          # the pages pass them translated


# -- what is selected -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Item:
    """One selected device, group or load: the name its column shows and the devices it sums, per
    energy kind (a group may hold electricity and gas meters: it is a column of both files)."""

    name: str
    devices: Mapping[str, tuple[int, ...]]


def _by_kind(members: Members, device_ids: Iterable[int], keep_excluded: bool) -> dict[str, tuple[int, ...]]:
    out: dict[str, list[int]] = {}
    for d in sorted(set(device_ids)):
        kind = KIND_OF.get(members.counters.get(d, ""))
        if kind and (keep_excluded or d not in members.excluded):
            out.setdefault(kind, []).append(d)
    return {k: tuple(out[k]) for k in KINDS if k in out}


def device_item(members: Members, device_id: int, name: str) -> Item | None:
    """A device on its own (shown even when excluded from totals); None without a counter."""
    devices = _by_kind(members, (device_id,), keep_excluded=True)
    return Item(name, devices) if devices else None


def group_item(members: Members, group_id: int, name: str) -> Item:
    """A measure group: its members of each kind, excluded devices left out; an empty group is an
    (empty) electricity column."""
    return Item(name, _by_kind(members, members.groups.get(group_id, ()), False) or {"electricity": ()})


def load_item(members: Members, load_id: int, name: str, kind: str = "electricity") -> Item:
    """A load: `kind` is its own (water and gas for the utility loads), kept when it has no device."""
    devices = _by_kind(members, members.loads.get(load_id, ()), False)
    return Item(name, devices or {kind: ()})


def selection(devices: Sequence[int], quantities: Iterable[str]) -> dict[str, tuple[int, ...]]:
    """{quantity: devices} for Store.sums / aggregates.view."""
    return {q: tuple(devices) for q in quantities}


def energy_of(item: Item, kind: str) -> dict[str, tuple[int, ...]]:
    return selection(item.devices.get(kind, ()), (COUNTER[kind],))


def cost_of(item: Item, kind: str, costs: Mapping[str, Sequence[str]]) -> dict[str, tuple[int, ...]]:
    return selection(item.devices.get(kind, ()), costs.get(kind, ()))


# -- the period -------------------------------------------------------------------------------------------
def parse_date(raw, field_name: str) -> date:
    text = str(raw or "").strip()
    if not text:
        raise ConfigError(field_name, "choose a date")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(field_name, '"{raw}" is not a date like 2026-10-31', raw=text[:40]) from None


def first_day(store: Store, level: int, now: float) -> date | None:
    """The first local date whose data of `level` the store still holds whole (None: kept forever).
    Retention cuts at a boundary of the level above, counted from the clock or the newest slot,
    whichever is earlier; the clock gives the later, safe, date."""
    days = store.horizons.get(level)
    if days is None:
        return None
    cut = bucket_start(store.tz, level + 1, int(now) - days * 86400)
    if level == SLOT:
        cut = max(cut, store.slot_floor())
    first = datetime.fromtimestamp(cut, store.tz).date()
    return first if midnight(store.tz, first) >= cut else first + timedelta(days=1)


# one whole sentence per level (messages.py); Msg marks them for the translators
HORIZON_REFUSALS = {
    SLOT: Msg("15-minute values are kept {days} days: choose a start date from {date} on, or the 1-hour or "
              "1-day resolution"),
    HOUR: Msg("hourly values are kept {days} days: choose a start date from {date} on, or the 1-day resolution"),
    DAY: Msg("daily values are kept {days} days: choose a start date from {date} on"),
}


@dataclass(frozen=True)
class Download:
    """The choices of the Data download page (manual 8.5.1)."""

    list_type: str                                   # devices | groups | loads
    items: Sequence[Item]
    start: date                                      # first local day
    end: date                                        # last local day, included
    resolution: str = "15min"
    costs: Mapping[str, Sequence[str]] | None = None   # kind -> cost quantities ("cost:3"); None: none
    currency: str = ""

    @property
    def kinds(self) -> list[str]:
        present = {k for item in self.items for k in item.devices}
        return [k for k in KINDS if k in present]


def check(store: Store, choice: Download, now: float) -> Download:
    """The choice as it can be served (an end after today is cut to today), or ConfigError."""
    if choice.list_type not in LIST_TYPES:
        raise ConfigError("list", 'unknown list "{raw}"', raw=str(choice.list_type)[:40])
    if choice.resolution not in RESOLUTIONS:
        raise ConfigError("resolution", 'unknown resolution "{raw}"', raw=str(choice.resolution)[:40])
    if not choice.items:
        raise ConfigError("items", "choose at least one device, group or load, or Select all")
    if choice.end < choice.start:
        raise ConfigError("end", "the end date is before the start date")
    today = datetime.fromtimestamp(now, store.tz).date()
    if choice.start > today:
        raise ConfigError("start", "the period starts in the future")
    end = min(choice.end, today)
    level = LEVEL_OF[choice.resolution]
    first = first_day(store, level, now)
    if first is not None and choice.start < first:
        raise ConfigError("start", HORIZON_REFUSALS[level], days=store.horizons[level], date=first.isoformat())
    if choice.resolution == "15min":
        lo, hi = midnight(store.tz, choice.start), midnight(store.tz, end + timedelta(days=1))
        longest = max(store.slot_lengths(lo, hi).values(), default=0)
        if longest > QUARTER_S:
            raise ConfigError("resolution", "this period was recorded every {minutes} minutes, more coarsely "
                                            "than 15 minutes: choose the 1-hour or 1-day resolution",
                              minutes=longest // 60)
    return Download(choice.list_type, list(choice.items), choice.start, end, choice.resolution,
                    choice.costs, choice.currency)


# -- rows ---------------------------------------------------------------------------------------------
def _quarters(store: Store, lo: int, hi: int) -> list[int]:
    """Local quarter-hour starts of [lo, hi): each hour bucket cut every 15 minutes from its start
    (a 23- or 25-hour day has 92 or 100, Lord Howe's 30-minute hour 2)."""
    out = []
    for h in starts(store.tz, HOUR, lo, hi):
        end = min(next_start(store.tz, HOUR, h), hi)
        out.extend(range(h, end, QUARTER_S))
    return out


def _plan(lengths: Mapping[int, int], edges: list[int]) -> dict[int, list[tuple[int, int]]]:
    """How each slot goes into the buckets starting at `edges` (the last edge ends the last bucket):
    {slot start: [(bucket, time of the slot up to this bucket's end), ...]}. A slot inside one
    bucket goes whole to it; a slot across two (10-minute slots: 00:10-00:20 into 00:00 and
    00:15) is shared in proportion to the time in each (`_spread`)."""
    plan = {}
    for ts, length in lengths.items():
        i = bisect_right(edges, ts) - 1
        if i < 0 or i >= len(edges) - 1:
            continue
        parts, t, end = [], ts, ts + max(1, length)
        while i < len(edges) - 1 and t < end:
            t = min(edges[i + 1], end)
            parts.append((edges[i], t - ts))
            i += 1
        plan[ts] = parts
    return plan


def _spread(values: Mapping[int, int], lengths: Mapping[int, int], plan: Mapping[int, list]) -> dict[int, int]:
    """Slot sums into buckets by `plan`, in whole units whose sum is the slot's own."""
    out: dict[int, int] = {}
    for ts, value in values.items():
        parts = plan.get(ts)
        if not parts:
            continue
        if len(parts) == 1:
            bucket = parts[0][0]
            out[bucket] = out.get(bucket, 0) + value
            continue
        length, given = max(1, lengths[ts]), 0
        for bucket, done in parts:
            share = value * done // length if done < length else value
            out[bucket] = out.get(bucket, 0) + share - given
            given = share
    return out


def sums_each(store: Store, level: int, lo: int, hi: int, selections: Sequence[Mapping[str, Sequence[int]]]
              ) -> list[dict[int, int]]:
    """What Store.sums gives for each selection (buckets where no member recorded anything are
    absent), read in one pass over the level's table instead of one per selection: a 40-day
    15-minute download of 32 devices scanned the slot rows 32 times (2.5 s here, far more on
    the box)."""
    wanted: dict[tuple[int, str], list[int]] = defaultdict(list)
    for i, sel in enumerate(selections):
        for name, devices in sel.items():
            for d in set(devices):
                wanted[d, name].append(i)
    out: list[dict[int, int]] = [{} for _ in selections]
    if not wanted:
        return out
    for ts, device, name, delta in store.deltas(level, lo, hi, {n for _, n in wanted}, {d for d, _ in wanted}):
        for i in wanted[device, name]:
            col = out[i]
            col[ts] = col.get(ts, 0) + delta
    return out


def _columns(store: Store, level_name: str, lo: int, hi: int, spread: tuple | None,
             selections: list[dict]) -> list[dict[int, int]]:
    """{bucket start: value} of each selection at the download's resolution; slots are spread
    over quarter hours by `spread` (their lengths and _plan, read once per download)."""
    columns = sums_each(store, LEVEL_OF[level_name], lo, hi, selections)
    if spread is None:
        return columns
    lengths, plan = spread
    return [_spread(col, lengths, plan) for col in columns]


def money(fmt: CsvFormat, micro: int | None) -> str:
    """A cost in the currency, exact: micro-units with up to 6 decimals, trailing zeros dropped, the
    decimal separator of the settings ("" for none)."""
    if micro is None:
        return ""
    text = format(tariffs.cost_value(micro), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text.replace(".", fmt.decimal_sep)


def build(store: Store, choice: Download, fmt: CsvFormat, labels: Mapping[str, str] = CSV_LABELS) -> dict[str, bytes]:
    """{file name: CSV bytes} of a checked choice (`check`)."""
    tz = store.tz
    lo, hi = midnight(tz, choice.start), midnight(tz, choice.end + timedelta(days=1))
    if choice.resolution == "15min":
        rows = _quarters(store, lo, hi)
        lengths = store.slot_lengths(lo, hi)
        spread = (lengths, _plan(lengths, rows + [hi]))
    else:
        rows, spread = starts(tz, LEVEL_OF[choice.resolution], lo, hi), None
    files: dict[str, bytes] = {}
    for kind in choice.kinds:
        items = [item for item in choice.items if kind in item.devices]
        parts = [("", [energy_of(i, kind) for i in items], UNIT[kind], fmt.integer)]
        if choice.costs and choice.costs.get(kind):   # a kind without a tariff has no cost file
            parts.append(("_cost", [cost_of(i, kind, choice.costs) for i in items], choice.currency,
                          lambda v: money(fmt, v)))
        for suffix, selections, unit, cell in parts:
            columns = _columns(store, choice.resolution, lo, hi, spread, selections)
            unit_text = f" ({unit})" if unit else ""
            lines = [fmt.header([labels["date"], labels["offset"], *(i.name + unit_text for i in items)])]
            for ts in rows:
                lines.append(fmt.line([*stamp(ts, tz), *(cell(col.get(ts)) for col in columns)]))
            files[f"report_energy_{choice.list_type}_{kind}{suffix}.csv"] = (BOM + "".join(lines)).encode("utf-8")
    return files


def zip_bytes(files: Mapping[str, bytes], when: datetime | None = None) -> bytes:
    """The files in one zip archive (reportdata.zip), made in memory: a 40-day 15-minute download of
    32 devices is about 1 MB of CSV before compression."""
    stamp_ = (when or datetime.now()).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=max(stamp_, (1980, 1, 1, 0, 0, 0)))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return out.getvalue()


# -- the PDF reports (8.5.2) -----------------------------------------------------------------------------
SUMMARY, DETAILED = "summary", "detailed"
REPORT_VIEWS = {"monthly": MONTH_VIEW, "yearly": YEAR_VIEW}


@dataclass(frozen=True)
class Line:
    """One line of a report: an energy kind's total, a load, a group or a device, over the period:
    energy in Wh / dm3 (aggregates.View: the buckets are days or months), cost in micro-units."""

    name: str
    kind: str
    energy: View
    cost: View | None = None
    previous: int | None = None        # total of the period before (summary lines)


@dataclass(frozen=True)
class Report:
    type: str                          # summary | detailed
    view: str                          # month | year
    day: date                          # first day of the period
    lines: list[Line]                  # summary: one per kind present; detailed: one per device
    loads: list[Line] = field(default_factory=list)     # summary: per load, every kind
    groups: list[Line] = field(default_factory=list)    # summary: per measure group and kind
    currency: str = ""                 # "" without costs

    @property
    def file_name(self) -> str:
        period = self.day.strftime("%Y-%m") if self.view == MONTH_VIEW else f"{self.day.year:04d}"
        return f"report_{self.type}_{period}.pdf"


def report_period(period: str, year, month, now: float, tz) -> tuple[str, date]:
    """(view, first day) of a monthly or yearly report; ConfigError for a period not begun yet."""
    if period not in REPORT_VIEWS:
        raise ConfigError("period", 'unknown period "{raw}"', raw=str(period)[:40])
    try:
        y = int(str(year).strip())
        m = int(str(month).strip() or 1) if period == "monthly" else 1
        day = date(y, m, 1)
    except (TypeError, ValueError):
        raise ConfigError("year" if period == "yearly" else "month", "choose a month and a year") from None
    if y < 2000:
        raise ConfigError("year", "choose a year from 2000 on")
    if day > datetime.fromtimestamp(now, tz).date():
        raise ConfigError("year" if period == "yearly" else "month", "this period has not begun yet")
    return REPORT_VIEWS[period], day


def _line(store: Store, view_name: str, day: date, item: Item, kind: str,
          costs: Mapping[str, Sequence[str]] | None, with_previous: bool = False) -> Line:
    energy = view(store, view_name, day, energy_of(item, kind))
    cost = view(store, view_name, day, cost_of(item, kind, costs)) if costs is not None else None
    before = view(store, view_name, previous(view_name, day), energy_of(item, kind)).total if with_previous else None
    return Line(item.name, kind, energy, cost, before)


def summary(store: Store, members: Members, view_name: str, day: date, totals: Mapping[str, str],
            loads: Sequence[Item], groups: Sequence[Item], costs: Mapping[str, Sequence[str]] | None = None,
            currency: str = "") -> Report:
    """Overall consumption per energy kind (manual 8.5.2: no device to choose), with the period
    before, and per load and per measure group. `totals`: kind -> the name of its line."""
    lines = []
    for kind in KINDS:
        sel = members.total(COUNTER[kind])
        if sel[COUNTER[kind]]:
            whole = Item(totals[kind], {kind: sel[COUNTER[kind]]})
            lines.append(_line(store, view_name, day, whole, kind, costs, with_previous=True))
    kinds = [line.kind for line in lines]
    per_load = [_line(store, view_name, day, item, k, costs) for item in loads for k in kinds if item.devices.get(k)]
    per_group = [_line(store, view_name, day, item, k, costs) for k in kinds for item in groups if item.devices.get(k)]
    return Report(SUMMARY, view_name, day, lines, per_load, per_group, currency if costs is not None else "")


def detailed(store: Store, view_name: str, day: date, devices: Sequence[Item],
             costs: Mapping[str, Sequence[str]] | None = None, currency: str = "") -> Report:
    """The chosen devices, each with its days or months."""
    lines = [_line(store, view_name, day, item, kind, costs) for item in devices for kind in item.devices]
    return Report(DETAILED, view_name, day, lines, currency=currency if costs is not None else "")

