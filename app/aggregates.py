"""Consumption views for the pages and reports: Day (hours), Month (days), Year (months), 10 years.

A view sums the counters of a *selection*, {quantity: device ids}, over the local buckets of
one period. Who is in a load, a group or the totals is plain data (`Members`) that the caller
builds from the installation, so this module reads data.db only. The daemon or a page does:

    from wsmeasure import installation
    from wsmeasure.drivers.catalogue import family

    devs = installation.devices(db)          # ON and OFF: a device switched off keeps its past
    others = next(l.id for l in installation.loads(db) if l.key == "others")
    groups = {}
    for d in devs:
        for g in installation.device_groups(db, d.id):
            groups.setdefault(g.id, []).append(d.id)
    members = Members(
        counters={d.id: family(d.family).counter for d in devs if family(d.family).counter},
        excluded=frozenset(d.id for d in devs if d.exclude_totals),
        loads={l.id: [d.id for d in devs if (d.load_id or others) == l.id] for l in installation.loads(db)},
        groups=groups,
    )
    view(store, DAY_VIEW, date.today(), members.total("Ea+"))          # Grand total
    view(store, MONTH_VIEW, day, members.load(load_id, "water"))       # a water load

("Others" holds the devices without a load; the read functions may move to groupings.py, the
shape stays.) Membership is today's: a device moved to another load takes its past with it.

Values are int Wh (dm3 for water and gas). A bucket where no member recorded anything is None,
never an invented 0; a recorded zero is 0. `total` comes from the level above the buckets, so
it stays exact when the buckets themselves are past their horizon (a day view two years back
has 24 None hours and its true total). The previous period, for comparison, is the same call
with `previous(view, day)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Collection, Mapping

from .store import Store
from .store_time import DAY, HOUR, MONTH, YEAR, local, midnight, next_start, starts

DAY_VIEW, MONTH_VIEW, YEAR_VIEW, DECADE_VIEW = "day", "month", "year", "10years"
#        view          bucket level  total level
VIEWS = {DAY_VIEW:    (HOUR,         DAY),
         MONTH_VIEW:  (DAY,          MONTH),
         YEAR_VIEW:   (MONTH,        YEAR),
         DECADE_VIEW: (YEAR,         None)}   # 10 yearly bars ending with the chosen year

Selection = Mapping[str, Collection[int]]   # {"Ea+": [1, 2, 3]}: one unit per selection


@dataclass(frozen=True)
class Members:
    """The installation as the views need it: plain data, built by the caller."""

    counters: Mapping[int, str]                                  # device -> counter it is billed on
    excluded: frozenset[int] = frozenset()                       # "Exclude from totals"
    loads: Mapping[int, Collection[int]] = field(default_factory=dict)    # load id -> device ids
    groups: Mapping[int, Collection[int]] = field(default_factory=dict)   # measure group id -> device ids

    def _pick(self, devices: Collection[int], quantity: str) -> dict[str, tuple[int, ...]]:
        """Devices billed on `quantity`, excluded ones left out (manual 7.16.1: Grand total and
        Partials leave them out; only the device's own Details page shows them)."""
        return {quantity: tuple(sorted(d for d in devices
                                       if self.counters.get(d) == quantity and d not in self.excluded))}

    def device(self, device_id: int, quantity: str | None = None) -> dict[str, tuple[int, ...]]:
        """One device (Details, Compare): its billed counter, or another one it has ("Ea-")."""
        return {quantity or self.counters[device_id]: (device_id,)}

    def load(self, load_id: int, quantity: str = "Ea+") -> dict[str, tuple[int, ...]]:
        return self._pick(self.loads.get(load_id, ()), quantity)

    def group(self, group_id: int, quantity: str = "Ea+") -> dict[str, tuple[int, ...]]:
        return self._pick(self.groups.get(group_id, ()), quantity)

    def total(self, quantity: str = "Ea+") -> dict[str, tuple[int, ...]]:
        """"All devices" (Ea+: the Grand total, "All electricity loads"), or all water, all gas."""
        return self._pick(self.counters.keys(), quantity)

    def overall(self) -> dict[str, dict[str, tuple[int, ...]]]:
        """The Overall page: electricity, gas and water, each its own selection."""
        return {"electricity": self.total("Ea+"), "gas": self.total("gas"), "water": self.total("water")}


def members_from_config(db) -> Members:
    """Members of today's installation (config.db), as the module docstring shows."""
    from wsmeasure.drivers.catalogue import families

    from . import groupings, installation

    fams = families()
    devs = installation.devices(db)
    loads = groupings.loads(db)
    others = next((l.id for l in loads if l.key == "others"), None)
    groups: dict[int, list[int]] = {}
    for d in devs:
        for g in groupings.device_groups(db, d.id):
            groups.setdefault(g.id, []).append(d.id)
    return Members(
        counters={d.id: fams[d.family].counter for d in devs if d.family in fams and fams[d.family].counter},
        excluded=frozenset(d.id for d in devs if d.exclude_totals),
        loads={l.id: [d.id for d in devs if (d.load_id or others) == l.id] for l in loads},
        groups=groups,
    )


@dataclass(frozen=True)
class Bucket:
    start: datetime        # local, aware: the label ("02:00+01:00" and "02:00+02:00" are two hours)
    value: int | None      # None: nothing recorded by any member


@dataclass(frozen=True)
class View:
    view: str
    start: datetime
    end: datetime
    buckets: list[Bucket]
    total: int | None


def bounds(store: Store, view: str, day: date) -> tuple[int, int]:
    """[start, end) epochs of the local period of `view` holding `day`."""
    tz = store.tz
    if view == DAY_VIEW:
        first, level = day, DAY
    elif view == MONTH_VIEW:
        first, level = day.replace(day=1), MONTH
    elif view == YEAR_VIEW:
        first, level = day.replace(month=1, day=1), YEAR
    elif view == DECADE_VIEW:
        first = date(day.year - 9, 1, 1)
        start = midnight(tz, first)
        return start, midnight(tz, date(day.year + 1, 1, 1))
    else:
        raise ValueError(f"unknown view {view!r}; views: {', '.join(VIEWS)}")
    start = midnight(tz, first)
    return start, next_start(tz, level, start)


def view(store: Store, view_name: str, day: date, selection: Selection) -> View:
    """The buckets of `view_name` for the period holding `day`, summed over `selection`."""
    level, total_level = VIEWS[view_name]
    start, end = bounds(store, view_name, day)
    values = store.sums(level, start, end, selection)
    buckets = [Bucket(local(store.tz, t), values.get(t)) for t in starts(store.tz, level, start, end)]
    if total_level is None:
        total = sum(values.values()) if values else None
    else:
        totals = store.sums(total_level, start, end, selection)
        total = sum(totals.values()) if totals else None
    return View(view_name, local(store.tz, start), local(store.tz, end), buckets, total)


def previous(view_name: str, day: date) -> date:
    """A day in the period before the one holding `day` (for the comparison bars)."""
    if view_name == DAY_VIEW:
        return day - timedelta(days=1)
    if view_name == MONTH_VIEW:
        return day.replace(day=1) - timedelta(days=1)
    if view_name == YEAR_VIEW:
        return date(day.year - 1, 1, 1)
    if view_name == DECADE_VIEW:
        return date(day.year - 10, 1, 1)
    raise ValueError(f"unknown view {view_name!r}; views: {', '.join(VIEWS)}")
