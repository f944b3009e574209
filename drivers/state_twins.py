"""Twins of devices that report states and obey commands, and several twins on one address.

`StateTwin` answers a driver's rows from `state(now)` and accepts writes only on the rows the
driver declares as commands (`driver.command_rows()`), checking each value as the device would
(exception 3 for a value it refuses); a command changes what the twin reports next.

`SharedUnit` puts several twins behind one Modbus address, each over its own register block:
the two sides of an old-range Green'Up station, or EMS CX3 modules read through their interface
in remote addressing. A read or write goes to the twin whose block holds it.

`shared_twin` builds either from the drivers of one address.

`slot_rng` gives randomness that depends only on a seed and a time slot, so a twin's slowly
changing states (a breaker that trips once in a while, an input that toggles) are the same
whenever they are read and do not depend on how often the master polls.
"""

from __future__ import annotations

import random
import time
from typing import Callable

from .registers import Reg
from .twins import ILLEGAL_ADDRESS, ILLEGAL_FUNCTION, ILLEGAL_VALUE, Twin


def slot_rng(seed: int, now: float, slot_s: float, salt: int = 0) -> random.Random:
    """The same random draw for every read within one time slot."""
    return random.Random((seed * 1_000_003 + salt) * 7919 + int(now // slot_s))


def breaker_position(seed: int, now: float, slot_s: float = 900) -> int:
    """Mostly closed (1); now and then open (0) for maintenance, rarely tripped (2)."""
    r = slot_rng(seed, now, slot_s, salt=29).random()
    return 0 if r < 0.03 else 2 if r < 0.04 else 1


def unique_rows(*groups: list[Reg]) -> list[Reg]:
    """Rows of several groups, each (fn, address) once: an output is both a state and a command."""
    seen, out = set(), []
    for group in groups:
        for r in group:
            if (r.fn, r.address) not in seen:
                seen.add((r.fn, r.address))
                out.append(r)
    return out


class StateTwin(Twin):
    """A slave of states and commands. Subclasses provide `state(now)`; `forced` pins values."""

    def __init__(self, driver, seed: int = 0, clock: Callable[[], float] = time.time):
        commands = list(driver.command_rows()) if hasattr(driver, "command_rows") else []
        rows = unique_rows(driver.measure_rows(), driver.status_rows(), commands)
        super().__init__(driver.unit, rows, driver.max_gap, seed, clock)
        self.driver = driver
        self.commands = {r.address: r for r in commands if r.fn == 3}
        self.written: dict[str, tuple[int | float, float]] = {}  # name -> (value, when)
        self.forced: dict[str, int | float] = {}                  # tests pin a state here

    def state(self, now: float) -> dict:
        return {}

    def values(self, now: float) -> dict:
        return {**self.state(now), **self.forced}

    def setting(self, name: str, default: int | float = 0) -> int | float:
        return self.written.get(name, (default, 0.0))[0]

    def accepts(self, name: str, value: int | float) -> bool:
        """Whether the device takes this value (default: an on/off command)."""
        return value in (0, 1)

    def command(self, name: str, value: int | float, now: float) -> None:
        self.written[name] = (value, now)

    def write(self, address: int, values: list[int]) -> int | None:
        """Whole command rows only, every value checked before any is applied (fn 6 and 16)."""
        changes, i = [], 0
        while i < len(values):
            reg = self.commands.get(address + i)
            if reg is None or i + reg.fmt.words > len(values):
                return ILLEGAL_ADDRESS
            value = reg.decode(values[i:i + reg.fmt.words])
            if value is None or not self.accepts(reg.name, value):
                return ILLEGAL_VALUE
            changes.append((reg.name, value))
            i += reg.fmt.words
        now = self.clock()
        self.advance(now)
        for name, value in changes:
            self.command(name, value, now)
        return None


def shared_twin(drivers, seed: int = 0, clock: Callable[[], float] = time.time, extra=()):
    """One twin for the devices of one address: each its own family's twin over its own block
    (`for_drivers` of the twin classes, used by the virtual installation)."""
    parts = [d.family.twin(d, seed=seed * 31 + i, clock=clock) for i, d in enumerate(drivers)]
    parts += list(extra)
    return parts[0] if len(parts) == 1 else SharedUnit(parts)


class SharedUnit:
    """Several twins answering on one Modbus address, each over its own register block."""

    def __init__(self, parts: list[Twin]):
        units = {p.unit for p in parts}
        if len(units) != 1:
            raise ValueError(f"twins on one address must share a unit, got {sorted(units)}")
        self.parts = list(parts)
        self.unit = units.pop()
        self.fault: str | None = None
        self.slow_s = 1.0

    def read(self, fn: int, address: int, count: int) -> list[int] | int:
        if fn not in (3, 4):
            return ILLEGAL_FUNCTION
        for part in self.parts:
            if any(s.fn == fn and s.address <= address and address + count <= s.address + s.count
                   for s in part.spans):
                return part.read(fn, address, count)
        return ILLEGAL_ADDRESS

    def write(self, address: int, values: list[int]) -> int | None:
        for part in self.parts:
            if any(r.fn == 3 and r.address <= address < r.end for r in part.rows):
                return part.write(address, values)
        return ILLEGAL_ADDRESS
