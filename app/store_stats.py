"""Statistics and states in data.db: packed rows, downsampling, and the budget they live in.

One row per device, kind and bucket: the values of every quantity of that kind packed in a blob,
in the order of a `layout` (the list of names, stored once). A stat value is avg, min, max
(float32: seven digits, more than any meter gives) and the count of readings behind it (uint32,
so that a year of one-second readings still fits); a state value is last, min, max (int32: the
max of a breaker's hour says "tripped in that hour" even when it was closed again at the end).

Downsampling merges rows into the bucket above: avg weighted by count, min of mins, max of maxes,
count summed; for states the last of the latest row, min of mins, max of maxes.

Budget (datasheet: "storage time limited according to total number of registered devices, number
of EQ devices, type of devices"): one total in bytes is shared by every series (device, kind) in
proportion to the size of one of its rows, so every series gets the same number of rows and so
the same time depth; that depth shortens when devices are added, and more so for the heavy ones
(harmonics: 90 values a row). The rows of a series are split between levels by STAT_SHARES; when
a level is over its quota its oldest buckets are folded into the level above, whole buckets, until
it is back under FOLD_TO of its quota (so a fold runs about once a day per series, not hourly).
"""

from __future__ import annotations

import functools
import math
import operator
import struct
from dataclasses import dataclass
from typing import Iterable, NamedTuple

from .records import HARMONICS, STAT, STATE, THD, Stat, file_kind
from .store_time import DAY, HOUR, MONTH, SLOT, YEAR

KINDS = (STAT, THD, HARMONICS, STATE)   # kind code = index (stored as a small integer)
STATE_KIND = KINDS.index(STATE)
STAT_VALUE = struct.Struct("<fffI")     # avg, min, max, count
STATE_VALUE = struct.Struct("<iii")     # last, min, max

DEFAULT_BUDGET_BYTES = 24 * 1024 * 1024
ROW_OVERHEAD = 48   # bytes a stat row costs beyond its values: key columns, index entry, cells

FOLD_TO = 0.9       # a level over its quota is folded down to 90% of it: folds come in batches

# How the rows of a series are shared between levels (years are kept: one row a series a year).
#   level  share  at least   why
STAT_SHARES = (
    (SLOT,  0.40,  6,  "the recent past at sample-rate resolution: the Details charts"),
    (HOUR,  0.45,  48, "weeks of hourly profiles"),
    (DAY,   0.12,  62, "daily min/max/avg for a year or more: filled within about the first year, so"
                       " that the file stops growing early"),
    (MONTH, 0.03,  24, "monthly min/max/avg over the life of the box"),
)


class StateSpan(NamedTuple):
    """A state over a bucket: its value at the end, and the lowest and highest it took."""

    last: int
    min: int
    max: int


@functools.lru_cache(maxsize=1024)
def kind_code(name: str) -> int:
    """Which packed row a quantity goes to; counters given as stats fall back to plain stats."""
    kind = file_kind(name)
    return KINDS.index(kind) if kind in KINDS else KINDS.index(STAT)


@functools.lru_cache(maxsize=256)
def _plan(stat_names: tuple[str, ...], state_names: tuple[str, ...]) -> tuple[tuple[int, tuple[str, ...]], ...]:
    """(kind, names) rows for a record's keys: the same few key sets come back every slot."""
    kinds: dict[int, list[str]] = {}
    for name in stat_names:
        kinds.setdefault(kind_code(name), []).append(name)
    if state_names:
        kinds[STATE_KIND] = list(state_names)
    return tuple((kind, tuple(names)) for kind, names in kinds.items())


_STAT_FIELDS = operator.attrgetter("avg", "min", "max", "count")


@functools.lru_cache(maxsize=64)
def _struct(kind: int, n: int) -> struct.Struct:
    return struct.Struct("<" + ("iii" if kind == STATE_KIND else "fffI") * n)


def encode(stats: dict[str, Stat], states: dict[str, int]) -> list[tuple[int, tuple[str, ...], bytes]]:
    """A record's stats and states as packed rows: [(kind, layout names, blob)]."""
    out = []
    for kind, names in _plan(tuple(stats), tuple(states)):
        if kind == STATE_KIND:
            flat = [v for n in names for v in (states[n],) * 3]          # last = min = max in a slot
        else:
            flat = [v for n in names for v in _STAT_FIELDS(stats[n])]
        out.append((kind, names, _struct(kind, len(names)).pack(*flat)))
    return out


def pack(kind: int, values: dict[str, tuple]) -> tuple[tuple[str, ...], bytes]:
    """(layout names, blob) for {name: value tuple} of one kind."""
    names = tuple(values)
    return names, _struct(kind, len(names)).pack(*[v for n in names for v in values[n]])


def decode(kind: int, names: tuple[str, ...], blob: bytes) -> dict[str, tuple]:
    """{name: (avg, min, max, count)} or, for states, {name: (last, min, max)}."""
    row = STATE_VALUE if kind == STATE_KIND else STAT_VALUE
    return dict(zip(names, row.iter_unpack(blob)))


def values(kind: int, decoded: dict[str, tuple]) -> dict:
    """Decoded tuples as Stat / StateSpan, for readers."""
    make = StateSpan._make if kind == STATE_KIND else (lambda v: Stat(*v))
    return {n: make(v) for n, v in decoded.items()}


def merge(kind: int, rows: list[dict[str, tuple]]) -> dict[str, tuple]:
    """Decoded rows of one series, oldest first, merged into one (every name of every row kept)."""
    names = dict.fromkeys(n for r in rows for n in r)
    out = {}
    for n in names:
        vs = [r[n] for r in rows if n in r]
        if kind == STATE_KIND:
            out[n] = (vs[-1][0], min(v[1] for v in vs), max(v[2] for v in vs))
            continue
        counted = [v for v in vs if v[3] > 0 and not math.isnan(v[0])] or vs[-1:]
        count = sum(v[3] for v in counted)
        avg = sum(v[0] * v[3] for v in counted) / count if count else counted[0][0]
        out[n] = (avg, min(v[1] for v in counted), max(v[2] for v in counted), count)
    return out


def merge_packed(kind: int, layouts: list[tuple[str, ...]], blobs: list[bytes]) -> tuple[tuple[str, ...], bytes]:
    """merge() on packed rows, column by column when they share a layout (the usual case: a fold
    runs for every series every day, and this is where its time goes)."""
    names = layouts[0]
    if kind == STATE_KIND or any(lay != names for lay in layouts):
        return pack(kind, merge(kind, [decode(kind, lay, b) for lay, b in zip(layouts, blobs)]))
    row = _struct(kind, len(names))
    cols = list(zip(*map(row.unpack, blobs)))     # 4 columns a quantity, one value a row in each
    flat = []
    for j in range(0, len(cols), 4):
        avgs, mins, maxs, counts = cols[j:j + 4]
        count, total = sum(counts), sum(map(operator.mul, avgs, counts))
        if 0 in counts or total != total:          # empty or NaN readings: let merge() sort them out
            v = merge(kind, [{0: t} for t in zip(avgs, mins, maxs, counts)])[0]
        else:
            v = (total / count, min(mins), max(maxs), count)
        flat += v
    return names, row.pack(*flat)


@dataclass(frozen=True)
class Budget:
    """Rows each series may keep per level, from the total budget and the series' row sizes."""

    rows_per_series: int
    quotas: dict[int, int]

    @classmethod
    def share(cls, budget_bytes: int, row_sizes: Iterable[int]) -> "Budget":
        total = sum(size + ROW_OVERHEAD for size in row_sizes)
        rows = budget_bytes // total if total else budget_bytes // ROW_OVERHEAD
        return cls(rows, {level: max(least, int(rows * share)) for level, share, least, _ in STAT_SHARES})

    def depth_s(self, slot_s: int) -> dict[int, int]:
        """About how far back each level reaches, in seconds, for a given sample rate (pages, docs)."""
        spans = {SLOT: slot_s, HOUR: 3600, DAY: 86400, MONTH: 30 * 86400}
        reach, out = 0, {}
        for level in (SLOT, HOUR, DAY, MONTH):
            reach += self.quotas[level] * spans[level]
            out[level] = reach
        out[YEAR] = -1   # kept
        return out
