"""Simulated twins: the register space of one physical slave, fed by a plausible load.

A twin is built from its family's own driver rows, so it answers exactly the registers the
driver reads, encoded the way the driver decodes them. Physics: a load that follows the time of
day and the day of the week, with a little noise, integrated into counters that only grow.
"""

from __future__ import annotations

import math
import random
import time
from array import array
from typing import Callable

from .registers import Reg, plan_reads

ILLEGAL_FUNCTION, ILLEGAL_ADDRESS, ILLEGAL_VALUE = 1, 2, 3


def load_factor(t: float) -> float:
    """Share of the peak load at local time t: low at night, high on working days' daytime."""
    lt = time.localtime(t)
    hour = lt.tm_hour + lt.tm_min / 60
    weekend = lt.tm_wday >= 5
    day = 0.5 - 0.5 * math.cos(2 * math.pi * (hour - 2) / 24)  # 0 at 02:00, 1 at 14:00
    working = 8 <= hour < 18 and not weekend
    return 0.15 + (0.35 if weekend else 0.55) * day + (0.3 if working else 0.0)


# Virtual counters are a pure function of wall time: they keep counting while the daemon is down
# and come back where a real meter would be, so restarts and crashes cannot make them go back.
_T0 = 1735689600.0      # 2025-01-01 00:00 UTC: where the integral starts
_STEP = 900.0           # the load is taken as constant over a quarter of an hour
_prefix = array("d", [0.0])  # _prefix[i]: full-load hours from _T0 to _T0 + i * _STEP


def cumulative_load(t: float) -> float:
    """Hours at full load from _T0 to t: the integral of `load_factor`."""
    x = max(0.0, (t - _T0) / _STEP)
    i = int(x)
    while len(_prefix) <= i:
        k = len(_prefix) - 1
        _prefix.append(_prefix[k] + load_factor(_T0 + (k + 0.5) * _STEP) * _STEP / 3600)
    return _prefix[i] + (x - i) * load_factor(_T0 + (i + 0.5) * _STEP) * _STEP / 3600


def load_between(t0: float, t1: float) -> float:
    """Full-load hours over [t0, t1] (before _T0, e.g. in tests of old dates: summed step by step)."""
    if t0 >= _T0:
        return cumulative_load(t1) - cumulative_load(t0)
    total, t = 0.0, t0
    while t < min(t1, _T0):
        step = min(_STEP, t1 - t, _T0 - t)
        total += load_factor(t + step / 2) * step / 3600
        t += step
    return total + (cumulative_load(t1) if t1 > _T0 else 0.0)


class Twin:
    """One simulated Modbus slave. Subclasses provide `values(now)` for their rows."""

    def __init__(self, unit: int, rows: list[Reg], max_gap: int = 0, seed: int = 0,
                 clock: Callable[[], float] = time.time):
        self.unit = unit
        self.rows = list(rows)
        self.spans = plan_reads(self.rows, max_gap)  # what a read may cover (holes read as 0)
        self.seed = seed or unit
        self.rng = random.Random(self.seed)
        self.clock = clock
        self.last = clock()
        self.fault: str | None = None   # None, "silent", "garbled", "slow"
        self.slow_s = 1.0
        self.holding: dict[int, int] = {}  # words written by a master (fn 6/16)

    # -- physics ------------------------------------------------------------------------------
    def advance(self, now: float) -> None:
        dt = max(0.0, now - self.last)
        self.last = now
        self.integrate(now, dt)

    def integrate(self, now: float, dt: float) -> None:
        """Grow counters over dt seconds (subclasses)."""

    def values(self, now: float) -> dict:
        raise NotImplementedError

    # -- Modbus -------------------------------------------------------------------------------
    def words(self, now: float) -> dict[tuple[int, int], int]:
        values = self.values(now)
        out = {}
        for reg in self.rows:
            if reg.name in values:
                for i, w in enumerate(reg.encode(values[reg.name])):
                    out[reg.fn, reg.address + i] = w
        return out

    def read(self, fn: int, address: int, count: int) -> list[int] | int:
        """Registers, or an exception code as a real device would answer."""
        if fn not in (3, 4):
            return ILLEGAL_FUNCTION
        if not 1 <= count <= 125 or not any(
            s.fn == fn and s.address <= address and address + count <= s.address + s.count for s in self.spans
        ):
            return ILLEGAL_ADDRESS
        now = self.clock()
        self.advance(now)
        words = self.words(now)
        held = self.holding if fn == 3 else {}  # writes land in holding registers only
        return [held.get(a, words.get((fn, a), 0)) for a in range(address, address + count)]

    def write(self, address: int, values: list[int]) -> int | None:
        """Accept writes only on holding registers the map declares."""
        if not all(any(r.fn == 3 and r.address <= a < r.end for r in self.rows)
                   for a in range(address, address + len(values))):
            return ILLEGAL_ADDRESS
        for i, v in enumerate(values):
            self.holding[address + i] = v
        return None


class ElectricTwin(Twin):
    """A three-phase (or single-phase) meter on a load following `load_factor`."""

    def __init__(self, driver, seed: int = 0, clock=time.time, peak_w: float | None = None):
        rows = driver.measure_rows() + driver.status_rows()
        super().__init__(driver.unit, rows, driver.max_gap, seed, clock)
        self.single = driver.has("single_phase")
        self.peak_w = peak_w or self.rng.choice((3000, 6000, 12000, 24000))
        full = cumulative_load(self.last)
        self.energy = {"Ea+": self.rng.randint(10_000, 5_000_000) + self.peak_w * full, "Ea-": 0.0,
                       "Er+": self.rng.randint(1_000, 500_000) + 0.3 * self.peak_w * full, "Er-": 0.0}
        self.hours = self.rng.randint(100, 20000) + (self.last - _T0) / 3600

    def noise(self, now: float) -> random.Random:
        """Noise that is the same for every read within one second (a meter's refresh)."""
        return random.Random(self.seed * 1_000_003 + int(now))

    def power(self, now: float) -> float:
        return self.peak_w * load_factor(now) * (1 + 0.05 * self.noise(now).uniform(-1, 1))

    def integrate(self, now, dt):
        full = load_between(now - dt, now)  # the mean load, not the noisy instant power
        self.energy["Ea+"] += self.peak_w * full
        self.energy["Er+"] += 0.3 * self.peak_w * full
        self.hours += dt / 3600

    def values(self, now):
        rng = self.noise(now)
        phases = (1,) if self.single else (1, 2, 3)
        p_total = self.power(now)
        v = {"F": round(50 + rng.uniform(-0.05, 0.05), 2), "hours": self.hours}
        for k, e in self.energy.items():
            v[k] = int(e)
        pf = 0.93 + rng.uniform(-0.03, 0.03)
        for i in (1, 2, 3):
            share = (1 / len(phases)) if i in phases else 0.0
            p = p_total * share * (1 + 0.04 * rng.uniform(-1, 1))
            volts = 230 + rng.uniform(-3, 3)
            s = p / pf
            v[f"V{i}"] = volts
            v[f"P{i}"], v[f"S{i}"], v[f"Q{i}"] = p, s, math.sqrt(max(s * s - p * p, 0))
            v[f"PF{i}"] = pf if p else 1.0
            v[f"I{i}"] = s / volts
            v[f"THD_V{i}"] = 2 + rng.uniform(0, 1.5)
            v[f"THD_I{i}"] = 8 + rng.uniform(0, 12)
            for h in range(3, 33, 2):
                v[f"H{h}_V{i}"] = 3.0 / h
                v[f"H{h}_I{i}"] = 20.0 / h
        for a, b in ((1, 2), (2, 3), (3, 1)):
            v[f"U{a}{b}"] = (v[f"V{a}"] + v[f"V{b}"]) / 2 * math.sqrt(3)
            v[f"THD_U{a}{b}"] = (v[f"THD_V{a}"] + v[f"THD_V{b}"]) / 2
        v["P"] = sum(v[f"P{i}"] for i in (1, 2, 3))
        v["Q"] = sum(v[f"Q{i}"] for i in (1, 2, 3))
        v["S"] = sum(v[f"S{i}"] for i in (1, 2, 3))
        v["PF"] = pf
        v["In"] = abs(v["I1"] - v["I2"]) * 0.3
        v["THD_In"] = 30 + rng.uniform(0, 10)
        v["P:avg"], v["P:max"] = self.peak_w * 0.5, self.peak_w
        for i in (1, 2, 3):
            v[f"I{i}:max"] = self.peak_w / 3 / 230
        return v
