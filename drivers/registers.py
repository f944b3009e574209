"""Register types, register map rows and read planning.

A register map is a tuple of `Reg` rows, one per quantity, aligned so that it reads like the
manufacturer's table. Decoding and encoding (for the simulated twins) are both derived from the
same row, so a twin cannot disagree with its driver.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Iterable, NamedTuple

MAX_READ = 125  # Modbus limit for one read of holding/input registers


@dataclass(frozen=True)
class Fmt:
    """How a value is laid out in consecutive 16-bit words (big-endian inside each word)."""

    name: str
    words: int
    code: str  # struct code for the value as a whole, big-endian
    na: int | None = None  # raw pattern the device sends for "not available"

    def decode(self, words: list[int], low_word_first: bool = False) -> int | float | None:
        if low_word_first:
            words = list(reversed(words))
        raw = b"".join(w.to_bytes(2, "big") for w in words)
        if self.na is not None and int.from_bytes(raw, "big") == self.na:
            return None
        (value,) = struct.unpack(">" + self.code, raw)
        if isinstance(value, float) and value != value:  # NaN: not available
            return None
        return value

    def encode(self, value: int | float | None, low_word_first: bool = False) -> list[int]:
        if value is None:
            raw = (self.na if self.na is not None else 0).to_bytes(2 * self.words, "big")
        else:
            if self.code not in "fd":
                value = int(round(value))
                lo, hi = self.limits()
                value = min(max(value, lo), hi)
            raw = struct.pack(">" + self.code, value)
        words = [int.from_bytes(raw[i:i + 2], "big") for i in range(0, len(raw), 2)]
        return list(reversed(words)) if low_word_first else words

    def limits(self) -> tuple[int, int]:
        bits = 16 * self.words
        if self.code.islower():  # h, i, q: signed
            return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        return 0, (1 << bits) - 1


U16 = Fmt("U16", 1, "H", 0xFFFF)
S16 = Fmt("S16", 1, "h", 0x7FFF)
U32 = Fmt("U32", 2, "I", 0xFFFFFFFF)
S32 = Fmt("S32", 2, "i", 0x7FFFFFFF)
U64 = Fmt("U64", 4, "Q", 0xFFFFFFFFFFFFFFFF)
S64 = Fmt("S64", 4, "q", 0x7FFFFFFFFFFFFFFF)
F32 = Fmt("F32", 2, "f")
F64 = Fmt("F64", 4, "d")
# Generic meters: any of these, raw counters with no "not available" pattern.
ENCODINGS = {f.name: Fmt(f.name, f.words, f.code) for f in (U16, S16, U32, S32, U64, S64, F32, F64)}


class Reg(NamedTuple):
    """One row of a register map: wire address, quantity, layout and scale to the quantity's unit."""

    address: int
    name: str
    fmt: Fmt
    scale: float = 1
    fn: int = 3
    low_word_first: bool = False

    @property
    def end(self) -> int:
        return self.address + self.fmt.words

    def decode(self, words: list[int]) -> int | float | None:
        raw = self.fmt.decode(words, self.low_word_first)
        if raw is None:
            return None
        if isinstance(raw, int) and float(self.scale).is_integer():
            return raw * int(self.scale)  # counters stay exact integers (Wh, dm3)
        return round(raw * self.scale, 6)  # no binary noise (0.939000001)

    def encode(self, value: int | float | None) -> list[int]:
        return self.fmt.encode(None if value is None else value / self.scale, self.low_word_first)


class Read(NamedTuple):
    """One request on the wire: function code, first address, word count."""

    fn: int
    address: int
    count: int


def plan_reads(regs: Iterable[Reg], max_gap: int = 0, max_count: int = MAX_READ) -> list[Read]:
    """Merge rows into as few reads as the device allows.

    Neighbours are merged when the words between them are at most `max_gap` (a device that
    refuses reads over holes in its table declares 0) and the read stays within `max_count`.
    """
    reads: list[Read] = []
    for fn, addr, end in sorted((r.fn, r.address, r.end) for r in regs):
        if reads:
            last = reads[-1]
            last_end = last.address + last.count
            if last.fn == fn and addr - last_end <= max_gap and max(end, last_end) - last.address <= max_count:
                reads[-1] = Read(fn, last.address, max(end, last_end) - last.address)
                continue
        reads.append(Read(fn, addr, end - addr))
    return reads


def decode_rows(regs: Iterable[Reg], words: dict[tuple[int, int], int]) -> dict[str, int | float | None]:
    """Decode every row whose words were all read; rows not read are left out, never invented."""
    values = {}
    for reg in regs:
        try:
            raw = [words[reg.fn, a] for a in range(reg.address, reg.end)]
        except KeyError:
            continue
        values[reg.name] = reg.decode(raw)
    return values
