"""What one sample-rate slot leaves behind for one device: the unit of the history.

The recorder builds these at each slot end; the store writes them in one transaction; the CSV
history appends them to its files and rebuilds files from them after a crash. Keeping the shape
here, in one small module, lets each side be read (and tested) on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wsmeasure.drivers.quantities import QUANTITIES

# Which CSV file of a device (devices/<ID>/<ID>_<kind>_YYYY-MM.csv) a quantity goes to.
ENERGY, WATER, GAS, STAT, THD, HARMONICS, STATE = "energy", "water", "gas", "stat", "thd", "harmonics", "state"


def file_kind(name: str) -> str:
    """energy / water / gas for counters, thd, harmonics, state, else stat."""
    if name in ("water", "gas"):
        return name
    q = QUANTITIES.get(name)
    if q is not None and q.kind == "counter":
        return ENERGY
    if name.startswith("THD_"):
        return THD
    if name[:1] == "H" and name[1:2].isdigit():
        return HARMONICS
    if q is not None and q.kind == "state":
        return STATE
    return STAT


@dataclass
class Counter:
    """A counter over one slot: consumption (64-bit int, Wh or dm3) and the index read at the end."""

    delta: int
    index: int
    since: int | None = None   # set when the delta covers a gap: epoch of the reading before it


@dataclass
class Stat:
    """A measure over one slot, from the readings taken in it (and the device's own min/max/avg)."""

    avg: float
    min: float
    max: float
    count: int = 1   # readings behind it, so that downsampling weighs averages right


@dataclass
class SlotRecord:
    device_id: int
    ts: int                                  # slot start, Unix epoch seconds (UTC)
    slot_s: int                              # slot length in seconds (the sample rate then)
    counters: dict[str, Counter] = field(default_factory=dict)   # "Ea+", "water", "gas"...
    stats: dict[str, Stat] = field(default_factory=dict)         # "P", "V1", "THD_I1", "H3_V1"...
    states: dict[str, int] = field(default_factory=dict)         # "breaker", "in1"... last value in the slot
