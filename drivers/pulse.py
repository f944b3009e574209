"""Meters with a pulse output, counted on an input ("position") of a pulse concentrator.

Three families share one driver: electricity meters (Ea+ in Wh), water meters and gas meters
(volumes in dm3, load assigned automatically). A device is the concentrator's Modbus address
(`spec.address`), the input it is wired to (`spec.position`, 1..inputs) and the catalogue number
of the concentrator (`spec.params["concentrator"]`): 0 046 87, 4 120 65, the EMS CX3 module
4 149 26, or an energy counter with a pulse input (4 120 81/91/41, position 1).

The concentrator turns pulses into an index with the pulse weight configured in it (manual
section 5: "must be properly programmed"), so each input is one 64-bit counter already in Wh or
dm3. Register addresses (`INDEX_MAPS`), verified: false --
  0 046 87: per-input groups from 0x9100, stride 0x80 (REGISTER-MAPS.md); the U64 index at the
            start of each group is our guess. A group is 128 words: two inputs never share a read.
  4 120 65, 4 149 26, 4 120 81/91/41: no public table; our own compact layouts, all indexes
            contiguous so that the inputs of one concentrator are one read.
The poller groups the devices of one address and plans one set of reads over the union of
their rows; the rows of different inputs never overlap, so that union is always valid.

`pulse_concentrator` is a fourth family listing the concentrators themselves so that
`find_model("0 046 87")` knows them and the UI can offer them in the "Concentrator" list. It has
no quantities: it is a host for pulse devices, never added as a device of its own.
"""

from __future__ import annotations

from typing import NamedTuple

from .base import MODBUS, PULSE, Driver, Family, Model, models
from .counter_twins import PulseTwin
from .emdx3_counter import FAMILY as COUNTER_FAMILY
from .registers import U64, Fmt, Reg

CONCENTRATORS = models(
    # catalogue no.  label                                    tags                 inputs
    ("0 046 87",     "EMDX3 pulse concentrator",              "concentrator",      7),  # REGISTER-MAPS.md
    ("4 120 65",     "EMDX3 pulse concentrator",              "concentrator",      7),  # verified: false
    ("4 149 26",     "EMS CX3 pulse concentrator module",     "concentrator ems",  5),  # verified: false
)

# Every model pulse devices can be wired to: concentrators and counters with a pulse input.
HOSTS: dict[str, Model] = {
    **CONCENTRATORS,
    **{cat_no: m for cat_no, m in COUNTER_FAMILY.models.items() if m.inputs},
}


class IndexMap(NamedTuple):
    fn: int
    first: int    # address of input 1's index
    stride: int   # words from one input's index to the next
    fmt: Fmt


INDEX_MAPS = {
    # host        fn  first   stride  fmt
    "0 046 87": IndexMap(3, 0x9100, 0x80, U64),   # group starts public, layout inside ours
    "4 120 65": IndexMap(3, 0x1000, 4,    U64),
    "4 149 26": IndexMap(4, 0x0100, 4,    U64),   # EMS CX3 modules answer input registers
    "4 120 81": IndexMap(3, 0x6010, 4,    U64),   # right after Er- in the counter's energy block
    "4 120 91": IndexMap(3, 0x6010, 4,    U64),
    "4 120 41": IndexMap(3, 0x6010, 4,    U64),
}


def host_model(cat_no: str | None) -> Model:
    """The concentrator (or counter) a pulse device is wired to; spaces in the number optional."""
    wanted = (cat_no or "").replace(" ", "")
    for key, model in HOSTS.items():
        if key.replace(" ", "") == wanted:
            return model
    raise ValueError(f"unknown pulse concentrator {cat_no!r}; known: {', '.join(HOSTS)}")


def index_row(cat_no: str, position: int | None, name: str) -> Reg:
    """The index register of one input, decoded as the quantity `name` (Ea+, water, gas)."""
    host = host_model(cat_no)
    if not isinstance(position, int) or not 1 <= position <= host.inputs:
        raise ValueError(f"{host.cat_no} {host.label} has inputs 1..{host.inputs}, not {position!r}")
    m = INDEX_MAPS[host.cat_no]
    return Reg(m.first + m.stride * (position - 1), name, m.fmt, 1, m.fn)


class PulseCounter(Driver):
    """One input of a concentrator; several of them share the concentrator's address."""

    max_gap = 8  # a concentrator answers every input's index: read through two idle inputs

    def __init__(self, spec, family):
        super().__init__(spec, family)
        self.host = host_model(spec.params.get("concentrator"))
        self.row = index_row(self.host.cat_no, spec.position, family.counter)

    def measure_rows(self):
        return [self.row]

    def input_rows(self) -> dict[int, Reg]:
        """The index row of every input of the host, wired or not (what its twin answers)."""
        return {p: index_row(self.host.cat_no, p, self.family.counter) for p in range(1, self.host.inputs + 1)}


class Concentrator(Driver):
    """The concentrator itself reads nothing: its inputs are read by the pulse devices."""


def _pulse_family(key, label, counter, load, model_table):
    return Family(key=key, label=label, addressing=PULSE, driver=PulseCounter, twin=PulseTwin,
                  quantities=(counter,), fields=("concentrator",), counter=counter, load=load,
                  verified=False, models=model_table)


PULSE_ELECTRICITY = _pulse_family(
    "pulse_electricity", "Energy counter with pulse output", "Ea+", None, models(
        # catalogue numbers  label                                               tags
        ("0 046 70/72/81",   "Single-phase energy counter, direct, pulse output",    "single_phase"),
        ("0 046 78",         "Single-phase energy counter, direct, pulse output, MID", "single_phase mid"),
        ("4 120 69",         "Single-phase energy counter, direct, pulse output, MID", "single_phase mid"),
        ("4 120 80",         "Single-phase energy counter, direct, pulse output",    "single_phase"),
        ("4 120 82",         "Single-phase energy counter, direct, pulse output, MID", "single_phase mid"),
        ("0 046 73",         "Three-phase energy counter, direct, pulse output",     "three_phase"),
        ("0 046 82",         "Three-phase energy counter, direct, pulse output, MID", "three_phase mid"),
        ("4 120 90",         "Three-phase energy counter, direct, pulse output",     "three_phase"),
        ("4 120 92",         "Three-phase energy counter, direct, pulse output, MID", "three_phase mid"),
        ("0 046 74",         "Three-phase energy counter, CT, pulse output",         "three_phase ct"),
        ("0 046 85",         "Three-phase energy counter, CT, pulse output, MID",    "three_phase ct mid"),
        ("4 120 40",         "Three-phase energy counter, CT, pulse output",         "three_phase ct"),
        ("4 120 42",         "Three-phase energy counter, CT, pulse output, MID",    "three_phase ct mid"),
    ))

PULSE_WATER = _pulse_family(
    "pulse_water", "Water counter with pulse output", "water", "water", models(
        ("WATER", "Any water meter with pulse output", ""),
    ))

PULSE_GAS = _pulse_family(
    "pulse_gas", "Gas counter with pulse output", "gas", "gas", models(
        ("GAS", "Any gas meter with pulse output", ""),
    ))

PULSE_CONCENTRATOR = Family(
    key="pulse_concentrator",
    label="Pulse concentrator (host of pulse counters, not a device)",
    addressing=MODBUS,
    driver=Concentrator,
    twin=PulseTwin,
    quantities=(),
    counter=None,
    verified=False,
    models=CONCENTRATORS,
    addable=False,
)

FAMILIES = (PULSE_ELECTRICITY, PULSE_WATER, PULSE_GAS, PULSE_CONCENTRATOR)
