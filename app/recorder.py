"""The recorder: readings in, one `SlotRecord` per device and sample-rate slot out.

The poller hands over each good read (`observe`); the recorder keeps, per open slot and device,
running statistics of the measures, the last value of the states and, for the counters, the
consumption counted reading by reading. It never writes: the daemon closes due slots, writes
their records and only then tells the recorder they are safe (`commit`), so that a failed write
can be retried without losing or counting a Wh twice. The rules are in docs/recorder.md
("Recorder rules"); each one has its test in tests/test_recorder.py.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Callable, Iterable

from wsmeasure.drivers.quantities import QUANTITIES
from wsmeasure.drivers.registers import Reg

from .records import Counter, SlotRecord, Stat

log = logging.getLogger(__name__)

# Most a counter can plausibly advance in an hour (Wh, varh, dm3). A bigger jump is a meter
# replaced or misread, not consumption: a 1 MW load is far beyond what one box meters, and
# 100 m3/h beyond any building's water or gas service.
PLAUSIBLE_PER_HOUR = {
    "Ea+": 1_000_000, "Ea-": 1_000_000, "Er+": 1_000_000, "Er-": 1_000_000,
    "water": 100_000, "gas": 100_000,
}
# Elapsed time is taken as at least this when judging plausibility: readings seconds apart,
# or a clock set back (negative elapsed time), must not turn real consumption into a "spike".
MIN_ELAPSED_S = 900


def register_modulus(reg: Reg) -> int | None:
    """Where a counter row rolls over, in its quantity's unit (Wh, dm3); None for float encodings."""
    if reg.fmt.code in "fd":
        return None
    return round((1 << (16 * reg.fmt.words)) * reg.scale)


def moduli_of(device_id: int, rows: Iterable[Reg]) -> dict[tuple[int, str], int]:
    """The `moduli` entries of one device from its driver rows (the daemon merges every device's)."""
    out = {}
    for reg in rows:
        q = QUANTITIES.get(reg.name)
        if q is not None and q.kind == "counter" and (m := register_modulus(reg)):
            out[device_id, reg.name] = m
    return out


_IGNORE = object()   # a reading a counter step skips (see `_step`)


# -- accumulators: a fixed handful of numbers per quantity, whatever the number of readings ------
@dataclass(slots=True)
class _Count:
    index: int            # last index read in the slot (the record shows it)
    t: float              # and its read time
    delta: int = 0        # consumption counted in the slot, reading by reading
    counted: bool = False # at least one step counted (else the counter is absent from the record)
    since: int | None = None
    chain: bool = True    # (index, t) is the device's current baseline (False after a rebase)


@dataclass(slots=True)
class _Device:
    stats: dict = field(default_factory=dict)      # name -> [count, sum, min, max]
    states: dict = field(default_factory=dict)     # name -> last value
    counters: dict = field(default_factory=dict)   # name -> _Count


@dataclass(slots=True)
class _Slot:
    start: int
    end: int
    prev_start: int       # start of the slot before: a baseline older than that means a gap
    opened: float         # clock when the slot got its first reading (see `due`)
    devices: dict = field(default_factory=dict)    # device id -> _Device


# -- the slot grid on the local clock -----------------------------------------------------------
def _offset(tz: tzinfo, t: int):
    return datetime.fromtimestamp(t, tz).utcoffset()


def _offset_change(tz: tzinfo, lo: int, hi: int) -> int:
    """The first second in (lo, hi] whose UTC offset differs from lo's (the caller knows one does)."""
    before = _offset(tz, lo)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _offset(tz, mid) == before:
            lo = mid
        else:
            hi = mid
    return hi


def local_slot(tz: tzinfo, slot_s: int, t: int) -> tuple[int, int]:
    """Slot of length `slot_s` holding epoch `t`, cut at local multiples of slot_s since midnight.

    A change of UTC offset always ends a slot, so the repeated autumn hour makes slots of its own
    and a 15- or 30-minute shift makes one short slot rather than a long or overlapping one.
    """
    local = datetime.fromtimestamp(t, tz)
    sod = local.hour * 3600 + local.minute * 60 + local.second
    start = t - sod % slot_s
    end = min(start + slot_s, t - sod + 86400)   # a length that does not divide the day restarts at midnight
    off = local.utcoffset()
    if _offset(tz, start) != off:
        start = _offset_change(tz, start, t)
    if _offset(tz, end - 1) != off:
        end = _offset_change(tz, t, end - 1)
    return start, end


class Recorder:
    def __init__(self, slot_s: int, tz: tzinfo | str, counter_state: dict | None = None,
                 clock: Callable[[], float] = time.time, moduli: dict | None = None,
                 limits: dict | None = None, stored_until: int | None = None):
        if isinstance(tz, str):
            import zoneinfo

            tz = zoneinfo.ZoneInfo(tz)
        self.tz = tz
        self.clock = clock
        self.moduli: dict[tuple[int, str], int] = dict(moduli or {})   # the daemon may update it
        self.limits = {**PLAUSIBLE_PER_HOUR, **(limits or {})}
        # (in force from, slot length); after a restart, the first slot starts where the store ends
        self._rates: list[tuple[int | None, int]] = [(stored_until, self._check(slot_s))]
        self._open: dict[int, _Slot] = {}
        self._closed_until = stored_until           # end of the last slot closed (or stored, at start)
        # Counter chain, per device and counter: (index, time) of...
        self._last: dict[int, dict] = {}            # ...the latest reading (baseline of the next step)
        self._closed: dict[int, dict] = {}          # ...the end of the last closed slot
        self._committed: dict[int, dict] = {}       # ...the end of the last slot the store holds
        self._committed_seq: dict[int, int] = {}
        self._pending: dict[tuple[int, int], tuple[int, dict]] = {}  # (device, ts) -> (seq, state)
        self._seq = 0
        for dev, counters in (counter_state or {}).items():
            state = {name: (int(i), t) for name, (i, t) in counters.items()}
            dev = int(dev)   # JSON turns the keys into text
            self._committed[dev], self._closed[dev], self._last[dev] = state, dict(state), dict(state)

    @staticmethod
    def _check(slot_s: int) -> int:
        if not isinstance(slot_s, int) or not 0 < slot_s <= 86400:
            raise ValueError(f"slot length must be 1..86400 s, not {slot_s!r}")
        return slot_s

    # -- slots ----------------------------------------------------------------------------------
    @property
    def slot_s(self) -> int:
        """The slot length in force now (a pending change shows once its boundary is reached)."""
        return self._rate_at(math.floor(max(self.clock(), self._floor() or 0)))[0]

    def _rate_at(self, t: int) -> tuple[int, int | None, int | None]:
        """Length in force at t, the instant it took effect (None: always) and the next change."""
        i = 0
        for k, (since, _) in enumerate(self._rates):
            if since is None or since <= t:
                i = k
        since, slot_s = self._rates[i]
        until = self._rates[i + 1][0] if i + 1 < len(self._rates) else None
        return slot_s, (since if since is not None and since <= t else None), until

    def slot_bounds(self, t: float) -> tuple[int, int]:
        """(start, end) epochs of the slot holding t; a change of slot length also cuts a slot."""
        t = math.floor(t)
        slot_s, since, until = self._rate_at(t)
        start, end = local_slot(self.tz, slot_s, t)
        if since is not None:
            start = max(start, since)
        if until is not None:
            end = min(end, until)
        return start, end

    def set_slot_s(self, slot_s: int) -> None:
        """New sample rate from the end of the latest slot begun: slots already begun keep theirs."""
        self._check(slot_s)
        at = self.slot_bounds(max(self.clock(), self._floor() or 0))[1]
        self._rates = [r for r in self._rates if r[0] is None or r[0] < at]   # a change not yet in force goes
        if self._rate_at(at - 1)[0] != slot_s:
            self._rates.append((at, slot_s))

    def _floor(self) -> int | None:
        """Readings timed before this go to the slot starting here (the clock was set back)."""
        starts = [s for s in (self._closed_until, *self._open) if s is not None]
        return max(starts) if starts else None

    def due(self, now: float | None = None) -> list[int]:
        """Starts of the open slots to close now, oldest first.

        A slot is due at its end; a slot that readings were moved into because the clock was set
        back is due once it has been open for its length, so the history keeps moving.
        """
        now = self.clock() if now is None else now
        out = []
        for start in sorted(self._open):
            slot = self._open[start]
            if now < slot.opened:
                slot.opened = now   # set back again: measure its length from now
            if now >= slot.end or now - slot.opened >= slot.end - slot.start:
                out.append(start)
        return out

    # -- readings -------------------------------------------------------------------------------
    def observe(self, state) -> None:
        """One good read of a device (the poller's listener): state.id, state.values, state.read_at."""
        t = state.read_at
        if t is None:
            return
        floor = self._floor()
        if floor is not None and t < floor:
            t = floor   # clock set back: the reading counts as taken at the start of the current slot
        start, end = self.slot_bounds(t)
        slot = self._open.get(start)
        if slot is None:
            slot = self._open[start] = _Slot(start, end, self.slot_bounds(start - 1)[0], self.clock())
        dev = slot.devices.get(state.id)
        if dev is None:
            dev = slot.devices[state.id] = _Device()
        for name, value in state.values.items():
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                continue   # not read, or "not available": absent, never invented
            q = QUANTITIES.get(name)
            kind = q.kind if q is not None else "measure"
            if kind == "counter":
                self._count(state.id, name, int(round(value)), t, slot, dev)
            elif kind == "state":
                dev.states[name] = int(value)
            elif (s := dev.stats.get(name)) is None:
                dev.stats[name] = [1, value, value, value]
            else:
                s[0] += 1
                s[1] += value
                s[2] = min(s[2], value)
                s[3] = max(s[3], value)

    def _count(self, dev_id: int, name: str, index: int, t: float, slot: _Slot, dev: _Device) -> None:
        last = self._last.setdefault(dev_id, {})
        prev = last.get(name)
        delta = None if prev is None else self._step(dev_id, name, prev, index, t)
        if delta is _IGNORE:
            return   # a little below the baseline: keep the baseline, so the climb back is not counted twice
        last[name] = (index, t)
        acc = dev.counters.get(name)
        if acc is None:
            acc = dev.counters[name] = _Count(index, t)
        else:
            acc.index, acc.t, acc.chain = index, t, True
        if delta is None:
            return   # first reading, or a new meter: a baseline, no delta
        acc.delta += delta
        acc.counted = True
        if prev[1] < slot.prev_start:   # the device missed whole slots: say where the delta starts
            acc.since = int(prev[1]) if acc.since is None else min(acc.since, int(prev[1]))

    def _step(self, dev_id: int, name: str, prev: tuple[int, float], index: int, t: float):
        """Consumption from the previous reading to this one; None: a new baseline; _IGNORE: skip it."""
        old, old_t = prev
        limit = self.limits.get(name, 1_000_000) * max(t - old_t, MIN_ELAPSED_S) / 3600
        d = index - old
        if 0 <= d <= limit:
            return d
        if d < 0:
            m = self.moduli.get((dev_id, name))
            if m and 0 <= d + m < m // 2 and d + m <= limit:
                log.info("device %s %s rolled over at %s: %s -> %s", dev_id, name, m, old, index)
                return d + m
            if index <= limit and index < -d:
                log.warning("device %s %s went back from %s to %s: reset, counting from zero", dev_id, name, old, index)
                return index
            if -d <= limit:
                log.info("device %s %s read %s below its baseline %s: ignored", dev_id, name, -d, old)
                return _IGNORE
        log.warning("device %s %s jumped from %s to %s in %.0f s: meter replaced? new baseline, nothing counted",
                    dev_id, name, old, index, t - old_t)
        return None

    def rebase(self, device_id: int) -> None:
        """The device's configuration changed (new address or model): its next reading is a baseline."""
        for store in (self._last, self._closed, self._committed):
            store.pop(device_id, None)
        self._pending = {k: v for k, v in self._pending.items() if k[0] != device_id}
        for slot in self._open.values():
            if (dev := slot.devices.get(device_id)) is not None:
                for acc in dev.counters.values():
                    acc.chain = False   # what was counted stays; the old index is no baseline

    # -- closing and committing -----------------------------------------------------------------
    def close_slot(self, start: int) -> list[SlotRecord]:
        """Records of the slot starting at `start` (and of any older open slot, first), one per
        device read in it. Nothing is written: the caller writes them, then calls `commit`."""
        records = []
        for s in sorted(k for k in self._open if k <= start):
            slot = self._open.pop(s)
            if self._closed_until is None or slot.end > self._closed_until:
                self._closed_until = slot.end
            for dev_id, dev in slot.devices.items():
                records.append(self._record(slot, dev_id, dev))
        while len(self._rates) > 2 and self._rates[2][0] <= (self._closed_until or 0):
            self._rates.pop(0)   # older changes of length are history (one is kept for the slot before)
        return records

    def _record(self, slot: _Slot, dev_id: int, dev: _Device) -> SlotRecord:
        state = self._closed.setdefault(dev_id, {})
        state.update({n: (c.index, int(c.t)) for n, c in dev.counters.items() if c.chain})
        self._seq += 1
        self._pending[dev_id, slot.start] = (self._seq, dict(state))
        return SlotRecord(
            dev_id, slot.start, slot.end - slot.start,
            counters={n: Counter(c.delta, c.index, c.since) for n, c in dev.counters.items() if c.counted},
            stats={n: Stat(s[1] / s[0], s[2], s[3], s[0]) for n, s in dev.stats.items()},
            states=dict(dev.states),
        )

    def commit(self, records: Iterable[SlotRecord]) -> None:
        """These records are in the store: their counter state becomes the committed one."""
        for r in records:
            entry = self._pending.pop((r.device_id, r.ts), None)
            if entry is None or entry[0] <= self._committed_seq.get(r.device_id, 0):
                continue   # committed already, or older than what the store holds (or rebased since)
            self._committed[r.device_id], self._committed_seq[r.device_id] = dict(entry[1]), entry[0]
            self._pending = {k: v for k, v in self._pending.items()
                             if not (k[0] == r.device_id and v[0] < entry[0])}   # superseded

    def counter_state(self, after: Iterable[SlotRecord] = ()) -> dict:
        """{device id: {counter: [index, epoch]}}: the committed baseline of every counter, or the
        one there will be once `after` is committed (what the store writes with those records)."""
        state, seqs = dict(self._committed), dict(self._committed_seq)
        for r in after:
            entry = self._pending.get((r.device_id, r.ts))
            if entry is not None and entry[0] > seqs.get(r.device_id, 0):
                state[r.device_id], seqs[r.device_id] = entry[1], entry[0]
        return {dev: {n: [i, int(t)] for n, (i, t) in s.items()} for dev, s in state.items() if s}
