"""Simulated twins for counters: pulse concentrators hosting several inputs, generic meters.

A pulse concentrator is one Modbus slave whatever the number of meters wired to it, so its twin
is built from the drivers of the pulse devices configured on that address (one input each) and
answers the index of every input of the concentrator (an idle one reads 0). A counter with a
pulse input (4 120 81/91/41) also answers its own electric rows, given as a `host` twin. Each
input has its own meter: electricity in Wh, water and gas in dm3, following `load_factor` (gas
also follows the heating season), counted in whole pulses as a real concentrator does.

The virtual installation builds one twin per address with `Family.twin.for_drivers(drivers,
seed, clock)`: both `PulseTwin` and `CounterTwin` (the EMDX3 counters' twin) lead to
`address_twin`, so the order in which devices of one address are listed does not matter.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass

from .registers import Read, plan_reads
from .twins import ElectricTwin, Twin, cumulative_load, load_between, load_factor

KIND_OF = {"Ea+": "electricity", "water": "water", "gas": "gas"}  # counter quantity -> meter kind

PROFILES = {
    # kind          peak per hour (W = Wh/h, dm3/h)  weight (per pulse)  index at installation
    "electricity": ((1_000, 3_000, 6_000, 12_000),   1,                  (10_000, 5_000_000)),    # Wh
    "water":       ((200, 500, 1_200),               1,                  (50_000, 2_000_000)),    # dm3
    "gas":         ((1_500, 3_000, 6_000),           10,                 (100_000, 5_000_000)),   # 15-60 kW boilers
}


@dataclass
class PulseInput:
    """The meter wired to one input: its kind, consumption at peak, pulse weight and total."""

    kind: str
    peak: float     # per hour at load_factor 1: W for electricity, dm3/h for water and gas
    weight: int     # Wh or dm3 per pulse, as configured in the concentrator
    total: float    # Wh or dm3 since installation

    def index(self) -> int:
        """What the concentrator shows: whole pulses times their weight."""
        return int(self.total // self.weight) * self.weight


def heating_season(t: float) -> float:
    """Share of the winter gas use at time t: 1 in mid-January, 0.1 in mid-July."""
    day = time.localtime(t).tm_yday
    return 0.55 + 0.45 * math.cos(2 * math.pi * (day - 15) / 365)


class PulseTwin(Twin):
    """One concentrator address: every input answers its index, the wired ones count."""

    def __init__(self, drivers, seed: int = 0, clock=time.time, host: ElectricTwin | None = None):
        drivers = list(drivers)
        units = {d.unit for d in drivers} | ({host.unit} if host else set())
        if len(units) != 1:
            raise ValueError(f"a pulse twin is one Modbus address, got units {sorted(units)}")
        positions = [d.spec.position for d in drivers]
        if len(set(positions)) != len(positions):
            raise ValueError(f"two devices on the same input: positions {positions}")
        hosts = {d.host.cat_no for d in drivers}
        if len(hosts) > 1:
            raise ValueError(f"one address, one concentrator: got {sorted(hosts)}")
        # every input of the concentrator answers (an idle one reads 0), as on the real device
        inputs = drivers[0].input_rows() if drivers else {}
        pulse_rows = [r._replace(name=self.row_name(p)) for p, r in inputs.items()]
        max_gap = max((d.max_gap for d in drivers), default=0)
        super().__init__(units.pop(), (host.rows if host else []) + pulse_rows, max_gap, seed, clock)
        self.host = host
        if host:  # the counter's own spans, joined with the pulse rows that touch them
            self.spans = union(host.spans + plan_reads(pulse_rows, max_gap))
        self.inputs: dict[int, PulseInput] = {}
        for d in drivers:
            kind = KIND_OF[d.family.counter]
            peaks, weight, (low, high) = PROFILES[kind]
            peak = self.rng.choice(peaks)
            self.inputs[d.spec.position] = PulseInput(
                kind, peak, weight, self.rng.randint(low, high) + peak * self.mean(kind) * cumulative_load(self.last))

    @classmethod
    def for_drivers(cls, drivers, seed: int = 0, clock=time.time):
        """The twin of one address from all its configured devices (see `address_twin`)."""
        return address_twin(drivers, seed, clock)

    @staticmethod
    def row_name(position: int) -> str:
        return f"pulse:{position}"  # rows of several inputs must not share a name inside the twin

    def rate(self, position: int, now: float) -> float:
        """Consumption per hour on one input (W, or dm3/h)."""
        inp = self.inputs[position]
        noise = random.Random(self.seed * 1_000_003 + position * 7_919 + int(now)).uniform(-1, 1)
        season = heating_season(now) if inp.kind == "gas" else 1.0
        return inp.peak * load_factor(now) * season * (1 + 0.1 * noise)

    @staticmethod
    def mean(kind: str) -> float:
        """Mean of the seasonal factor over a year: totals follow wall time, see twins.cumulative_load."""
        return 0.55 if kind == "gas" else 1.0

    def integrate(self, now, dt):
        if self.host:
            self.host.integrate(now, dt)
        full = load_between(now - dt, now)
        for inp in self.inputs.values():
            inp.total += inp.peak * self.mean(inp.kind) * full

    def values(self, now):
        values = self.host.values(now) if self.host else {}
        values.update({self.row_name(p): inp.index() for p, inp in self.inputs.items()})
        return values


class CounterTwin(ElectricTwin):
    """An energy counter; with a pulse input, the meter wired to it answers on its address too."""

    @classmethod
    def for_drivers(cls, drivers, seed: int = 0, clock=time.time):
        return address_twin(drivers, seed, clock)


def address_twin(drivers, seed: int = 0, clock=time.time) -> Twin:
    """The twin of one Modbus address, whichever of its devices comes first in the list.

    Pulse devices (they have `input_rows`) share a concentrator twin; at most one other device
    may share the address: the counter whose pulse input they are wired to.
    """
    pulses = [d for d in drivers if hasattr(d, "input_rows")]
    others = [d for d in drivers if not hasattr(d, "input_rows")]
    if len(others) > 1:
        raise ValueError(f"{len(others)} devices that are not pulse inputs share address {others[0].unit}")
    host = ElectricTwin(others[0], seed=seed, clock=clock) if others else None
    if not pulses:
        return host
    return PulseTwin(pulses, seed=seed, clock=clock, host=host)


def union(spans: list[Read]) -> list[Read]:
    """Join spans that overlap or touch (same function code)."""
    out: list[Read] = []
    for s in sorted(spans):
        if out and out[-1].fn == s.fn and s.address <= out[-1].address + out[-1].count:
            last = out[-1]
            out[-1] = Read(s.fn, last.address, max(last.address + last.count, s.address + s.count) - last.address)
        else:
            out.append(s)
    return out


class GenericTwin(ElectricTwin):
    """A third-party meter that exposes its positive active energy in its own unit and layout.

    Integer counters show whole units of the meter (floor, as a register does) and wrap around
    at their width as real ones do; float counters show the energy as the float can hold it.
    """

    def values(self, now):
        (row,) = self.rows
        wh = self.energy["Ea+"]
        if row.fmt.code in "fd":
            return {"Ea+": wh}
        lo, hi = row.fmt.limits()
        raw = (math.floor(wh / row.scale) - lo) % (hi - lo + 1) + lo
        return {"Ea+": raw * row.scale}
