"""The columns of the CSV files: what each file of a slot holds, as tables.

Every file starts with the columns `date` and `UTC offset` (history_format); then:
  devices/<ID>/<ID>_<kind>_...: the quantities the device's driver reads of that kind,
      energy/water/gas: "<q> (unit)" consumption in the slot, "<q> index (unit)" the counter at
      the slot's end, then "gap since": when the consumption covers a gap, the start of the gap;
      stat/thd/harmonics: STAT_FIELDS of each measure; state: the last value in the slot.
  energy|gas|water/devices: one column per device of that utility, then "all devices"
      (devices "excluded from totals" left out of it); .../groups: one per measure group that
      has devices of that utility; energy/loads: one per load that has electrical devices
      (a device without a load is in "Others"), then "all loads" (as "all devices").
  overallTotal/values: electricity, gas, water of all devices not excluded from totals.
A cell is empty when no device of the column gave a value in the slot.
"""

from __future__ import annotations

from dataclasses import dataclass

from wsmeasure.drivers.quantities import QUANTITIES

from .history_format import DATE_HEADER, DEVICES, ENERGY, GAS, OFFSET_HEADER, OVERALL, OVERALL_VALUES, WATER, \
    CsvFormat, local_date, series_key
from .history_installation import HistDevice, Installation
from .records import HARMONICS, STAT, STATE, THD, SlotRecord, file_kind

COUNTER_KINDS = (ENERGY, WATER, GAS)
STAT_FIELDS = {STAT: ("avg", "min", "max"), THD: ("avg", "min", "max"), HARMONICS: ("avg",)}
DEVICE_KINDS = (*COUNTER_KINDS, STAT, THD, HARMONICS, STATE)
GAP_HEADER = "gap since"
ORDER = {name: i for i, name in enumerate(QUANTITIES)}
UTILITY_UNITS = {ENERGY: "Wh", GAS: "dm3", WATER: "dm3"}
OVERALL_HEADERS = {ENERGY: "electricity (Wh)", GAS: "gas (dm3)", WATER: "water (dm3)"}


def _unit(name: str) -> str:
    q = QUANTITIES.get(name)
    return f" ({q.unit})" if q and q.unit else ""


def _present(rec: SlotRecord, kind: str) -> list[str]:
    names = [*rec.counters, *rec.stats, *rec.states]
    return sorted((n for n in names if file_kind(n) == kind), key=lambda n: (ORDER.get(n, len(ORDER)), n))


def _quantities(rec: SlotRecord, device: HistDevice | None, kind: str) -> list[str]:
    """The device's own quantities of `kind` (stable columns), else those the record carries."""
    installed = [q for q in device.quantities if file_kind(q) == kind] if device else []
    return installed or _present(rec, kind)


@dataclass(frozen=True)
class Line:
    """One line to write: the series, the column names after date and offset, the cells."""

    key: str
    names: tuple[str, ...]
    cells: tuple[str, ...]

    @property
    def header(self) -> tuple[str, ...]:
        return (DATE_HEADER, OFFSET_HEADER, *self.names)


def device_lines(rec: SlotRecord, device: HistDevice | None, fmt: CsvFormat, tz) -> list[Line]:
    """The lines of one device's own files for one slot: one per kind it has values of."""
    out = []
    for kind in DEVICE_KINDS:
        if not any(file_kind(n) == kind for n in (*rec.counters, *rec.stats, *rec.states)):
            continue
        names, cells = [], []
        quantities = _quantities(rec, device, kind)
        if kind in COUNTER_KINDS:
            for q in quantities:
                c = rec.counters.get(q)
                names += [f"{q}{_unit(q)}", f"{q} index{_unit(q)}"]
                cells += [fmt.integer(c and c.delta), fmt.integer(c and c.index)]
            since = [c.since for q, c in rec.counters.items() if q in quantities and c.since is not None]
            names.append(GAP_HEADER)
            cells.append(local_date(min(since), tz) if since else "")
        elif kind == STATE:
            names += quantities
            cells += [fmt.integer(rec.states.get(q)) for q in quantities]
        else:
            for q in quantities:
                s = rec.stats.get(q)
                for field in STAT_FIELDS[kind]:
                    names.append(f"{q} {field}{_unit(q)}")
                    cells.append(fmt.number(getattr(s, field) if s else None))
        if any(cells):
            out.append(Line(series_key(DEVICES, kind, rec.device_id), tuple(names), tuple(cells)))
    return out


# -- aggregated files: each column sums the consumption of some devices ----------------------------------
@dataclass(frozen=True)
class Sum:
    name: str
    devices: tuple[int, ...]


def _label(name: str, ident: int, unit: str) -> str:
    return f"{name} [{ident}] ({unit})"


def aggregated_columns(inst: Installation) -> dict[str, tuple[Sum, ...]]:
    """Series key -> its columns, for the installation as it is now (a change gives new versions)."""
    out = {}
    counted = {d.id for d in inst.devices if not d.exclude_totals}
    for utility in COUNTER_KINDS:
        unit = UTILITY_UNITS[utility]
        mine = inst.of_utility(utility)
        ids = tuple(d.id for d in mine)
        total = tuple(i for i in ids if i in counted)
        out[series_key(utility, "devices")] = (
            *(Sum(_label(d.name, d.id, unit), (d.id,)) for d in mine), Sum(f"all devices ({unit})", total))
        out[series_key(utility, "groups")] = tuple(
            Sum(_label(g.name, g.id, unit), members) for g in inst.groups
            if (members := tuple(d.id for d in mine if g.id in d.groups)))
        if utility == ENERGY:
            out[series_key(utility, "loads")] = (
                *(Sum(_label(n.name, n.id, unit), members) for n in inst.loads
                  if (members := tuple(d.id for d in mine if inst.load_of(d) == n.id))),
                Sum(f"all loads ({unit})", total))
    out[series_key(OVERALL, OVERALL_VALUES)] = tuple(
        Sum(OVERALL_HEADERS[u], tuple(d.id for d in inst.of_utility(u) if d.id in counted)) for u in OVERALL_HEADERS)
    return out


def consumptions(slot: dict[int, SlotRecord], inst: Installation) -> dict[int, int]:
    """Device ID -> its consumption in the slot, on the counter it is billed on."""
    out = {}
    for d in inst.devices:
        rec = slot.get(d.id)
        counter = rec.counters.get(d.counter) if rec and d.counter else None
        if counter is not None:
            out[d.id] = counter.delta
    return out


def sum_cells(columns: tuple[Sum, ...], values: dict[int, int], fmt: CsvFormat) -> tuple[str, ...]:
    cells = []
    for col in columns:
        got = [values[i] for i in col.devices if i in values]
        cells.append(fmt.integer(sum(got)) if got else "")
    return tuple(cells)


def is_journal(key: str) -> bool:
    """overallTotal/values gets a line for every slot written, even an empty one: its last line
    tells `repair` where the files stop."""
    return key == series_key(OVERALL, OVERALL_VALUES)
