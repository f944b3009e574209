"""What every driver and family is made of.

A `Family` is catalogue data: its models (catalogue numbers), how its devices are addressed,
which configuration fields apply, the quantities it provides and the `Driver` that reads it.
A `Driver` turns one configured device into register rows to read and decodes the words read.
Drivers know nothing of the database: the poller hands them a `DeviceSpec`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from .registers import Reg, Read, decode_rows, plan_reads

# How a device is found on its bus.
MODBUS = "modbus"      # one Modbus address
PULSE = "pulse"        # address of a concentrator (or counter with pulse input) + position
SIDE = "side"          # address + side A/B (Green'Up two-sided stations, old range)
EMS = "ems"            # EMS CX3: local address, or "module-interface" in remote addressing
VIRTUAL = "virtual"    # a value read from another wsmeasure box (master/slave function)

SUPPLY = ("upstream", "downstream")
PHASES = ("L1", "L2", "L3")
SIDES = ("A", "B")


@dataclass(frozen=True)
class Model:
    cat_no: str            # as printed by the manufacturer: "0 146 68"
    label: str
    tags: frozenset = frozenset()   # variant features: thd, harmonics, mid, single_phase, two_sides...
    inputs: int = 0        # pulse inputs (concentrators, counters with a pulse input)


def models(*rows: tuple) -> dict[str, Model]:
    """Build a model table from (catalogue numbers, label, tags[, inputs]) rows.

    "0 046 70/72/81" expands to three catalogue numbers, as the manual writes them.
    """
    table = {}
    for row in rows:
        numbers, label, tags, *inputs = row
        for cat_no in expand(numbers):
            table[cat_no] = Model(cat_no, label, frozenset(tags.split()), *inputs)
    return table


def expand(numbers: str) -> list[str]:
    """ "0 590 00/01/05" -> ["0 590 00", "0 590 01", "0 590 05"] """
    first, *more = numbers.split("/")
    stem = first[:-2]
    return [first] + [stem + tail for tail in more]


@dataclass
class DeviceSpec:
    """A configured device as drivers see it (built by the poller from the configuration)."""

    id: int
    family: str
    model: str | None
    address: int
    position: int | None = None      # pulse input of a concentrator
    side: str | None = None          # A/B
    interface: int | None = None     # EMS CX3 remote addressing: interface address
    params: dict = field(default_factory=dict)   # family-specific: generic meter, supply, phase...
    name: str = ""


class Driver:
    """Reads one configured device. Subclasses declare rows; most need no code."""

    rows: ClassVar[tuple[Reg, ...]] = ()         # measures and counters, polled each cycle
    state_rows: ClassVar[tuple[Reg, ...]] = ()   # states polled at the status poll time
    max_gap: ClassVar[int] = 0                   # words a read may skip over (0: device refuses holes)
    max_count: ClassVar[int] = 125
    keyed: ClassVar[bool] = False  # registers are keys (one code per value), not memory: read alone

    def __init__(self, spec: DeviceSpec, family: "Family"):
        self.spec = spec
        self.family = family
        self.model = family.models.get(spec.model) if spec.model else None

    @property
    def unit(self) -> int:
        """Modbus unit (slave) id on the bus."""
        return self.spec.address

    def has(self, *tags: str) -> bool:
        return self.model is not None and any(t in self.model.tags for t in tags)

    def measure_rows(self) -> list[Reg]:
        return list(self.rows)

    def status_rows(self) -> list[Reg]:
        return list(self.state_rows)

    def command_rows(self) -> list[Reg]:
        """Rows a master may write (outputs, current limits); none by default."""
        return []

    def reads(self, rows: list[Reg]) -> list[Read]:
        return plan_reads(rows, self.max_gap, self.max_count)

    def decode(self, rows: list[Reg], words: dict[tuple[int, int], int]) -> dict:
        return decode_rows(rows, words)


@dataclass(frozen=True)
class Family:
    key: str
    label: str
    addressing: str
    models: dict[str, Model]
    driver: type[Driver]
    quantities: tuple[str, ...]
    fields: tuple[str, ...] = ()       # extra configuration fields: supply, phase, generic, concentrator
    counter: str | None = "Ea+"        # the consumption this family is billed on
    load: str | None = None            # load assigned automatically (water, gas)
    twin: type | None = None           # simulated twin class for the virtual installation
    verified: bool = False             # register map checked against the manufacturer's table
    alerts: bool = False               # "Exclude alerts" applies (EMS CX3, DPX3, DMX3)
    greenup: bool = False              # a charging station (frame interval 200 ms on its gateway)
    addable: bool = True               # False: catalogue only (pulse concentrators host devices)

    def driver_for(self, spec: DeviceSpec) -> Driver:
        return self.driver(spec, self)
