"""Slave mode (manual 7.16.6): Modbus unit 247 gives a master box this box's energies.

Codes and layout are the ones the master's WSMEASURE virtual devices read (see
drivers/wsmeasure_virtual.py): function 3, register address = the code (1XXXX device, 2YYYY
load, 3ZZZZ measure group, 29999 all electrical loads), 4 words, U64 Wh, high word first.
The value is the positive active energy recorded since the history began: the sum of the
yearly rollups, which retention never shrinks, so it only grows. It moves at each slot end
(what is recorded), not between them.
"""

from __future__ import annotations

import struct
from typing import Callable

from wsmeasure.drivers.wsmeasure_virtual import ALL, DEVICE, GROUP, LOAD, SLAVE_UNIT, split

from .aggregates import Members
from .store import Store
from .store_time import YEAR

ILLEGAL_FUNCTION, ILLEGAL_ADDRESS, ILLEGAL_VALUE = 1, 2, 3
FOREVER = (0, 1 << 40)
# "Sync frame interval to gateways" (release notes): a master writes, with function 6, the frame
# interval this box must keep on its RS485 port (ms); reading it (fn 3, 1 word) gives the current one.
FRAME_INTERVAL_REGISTER = 50000

__all__ = ["SLAVE_UNIT", "SlaveEnergies"]


class SlaveEnergies:
    """Answers unit 247's request PDUs from data.db; `members` gives today's installation."""

    def __init__(self, store: Store, members: Callable[[], Members],
                 frame_interval: Callable[[int | None], int] | None = None):
        self.store = store
        self.members = members
        self.frame_interval = frame_interval  # (ms or None to read) -> ms in force

    def energy(self, code: int) -> int | None:
        """Wh of a code, or None for a code this box does not have."""
        try:
            kind, ident = split(code)
        except ValueError:
            return None
        m = self.members()
        if code == ALL:
            selection = m.total("Ea+")
        elif kind == DEVICE:
            if m.counters.get(ident) != "Ea+":
                return None
            selection = m.device(ident, "Ea+")
        elif kind == LOAD:
            if ident not in m.loads:
                return None
            selection = m.load(ident)
        else:
            assert kind == GROUP
            if ident not in m.groups:
                return None
            selection = m.group(ident)
        return sum(self.store.sums(YEAR, *FOREVER, selection).values())

    def answer(self, pdu: bytes) -> bytes:
        """The reply PDU to a request PDU for unit 247 (exception replies included)."""
        fn = pdu[0]
        if fn not in (3, 6):
            return bytes([(fn | 0x80) & 0xFF, ILLEGAL_FUNCTION])
        if len(pdu) != 5:
            return bytes([fn | 0x80, ILLEGAL_ADDRESS])
        address, count = struct.unpack(">HH", pdu[1:5])
        if address == FRAME_INTERVAL_REGISTER and self.frame_interval is not None:
            if fn == 6:
                if not 0 <= count <= 1000:   # for fn 6 the second word is the value
                    return bytes([0x86, ILLEGAL_VALUE])
                self.frame_interval(count)
                return pdu
            if count != 1:
                return bytes([0x83, ILLEGAL_ADDRESS])
            return struct.pack(">BBH", 3, 2, self.frame_interval(None))
        if fn == 6:
            return bytes([0x86, ILLEGAL_ADDRESS])
        wh = self.energy(address) if count == 4 else None
        if wh is None:
            return bytes([0x83, ILLEGAL_ADDRESS])
        return struct.pack(">BBQ", 3, 8, max(0, wh))
