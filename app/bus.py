"""The bus arbiter: every frame for the RS485 port goes through here.

One request on the wire at a time, the frame interval (quiet time between a reply and the next
request) respected, and an order of service: commands first, then interactive requests (Test
buttons, Modbus TCP gateway clients), then routine polling. Within a class, first come first
served; a request that has waited longer than `max_wait` is served next whatever its class, so
polling cannot be starved by a busy gateway client.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time

from .aio import cancel
from .rtu import BusError, DeviceException, adu, read_pdu, registers_from

log = logging.getLogger(__name__)

COMMAND, INTERACTIVE, POLL = 0, 1, 2


class BusStats:
    def __init__(self):
        self.transactions = 0
        self.errors = collections.Counter()
        self.busy_s = 0.0


class Bus:
    def __init__(self, line, frame_interval: float = 0.05, max_wait: float = 5.0, max_queue: int = 256):
        self.line = line
        self.frame_interval = frame_interval
        self.max_wait = max_wait
        self.max_queue = max_queue
        self.queues = [collections.deque() for _ in (COMMAND, INTERACTIVE, POLL)]
        self._ready = asyncio.Event()
        self._worker: asyncio.Task | None = None
        self._quiet_until = 0.0
        self.stats = BusStats()

    def start(self) -> None:
        self._worker = asyncio.get_running_loop().create_task(self._serve(), name="bus")

    async def stop(self) -> None:
        await cancel(self._worker)
        for q in self.queues:
            while q:
                _, fut, *_ = q.popleft()
                if not fut.done():
                    fut.cancel()

    def pending(self) -> int:
        return sum(map(len, self.queues))

    async def transact(self, frame: bytes, priority: int = POLL, expect_reply: bool = True,
                       timeout: float | None = None) -> bytes | None:
        """Queue one RTU frame; return its reply frame or raise BusError."""
        if self.pending() >= self.max_queue:
            raise BusOverloaded(f"bus queue full ({self.max_queue} requests waiting)")
        fut = asyncio.get_running_loop().create_future()
        self.queues[priority].append((time.monotonic(), fut, frame, expect_reply, timeout))
        self._ready.set()
        return await fut

    async def request(self, unit: int, pdu: bytes, priority: int = POLL, timeout: float | None = None) -> bytes:
        """Send a PDU, return the reply PDU; a Modbus exception reply raises DeviceException."""
        reply = await self.transact(adu(unit, pdu), priority, timeout=timeout)
        if reply[1] & 0x80:
            raise DeviceException(reply[2], reply)
        return reply[1:-2]

    async def read_registers(self, unit: int, fn: int, address: int, count: int, priority: int = POLL,
                             timeout: float | None = None) -> list[int]:
        pdu = await self.request(unit, read_pdu(fn, address, count), priority, timeout)
        words = registers_from(pdu)
        if len(words) != count:
            raise BusError(f"unit {unit} returned {len(words)} registers instead of {count}")
        return words

    def _next(self):
        now = time.monotonic()
        oldest = min((q for q in self.queues if q), key=lambda q: q[0][0])
        if now - oldest[0][0] > self.max_wait:
            return oldest.popleft()
        for q in self.queues:
            if q:
                return q.popleft()

    async def _serve(self) -> None:
        while True:
            if not self.pending():
                self._ready.clear()
                await self._ready.wait()
            _, fut, frame, expect_reply, timeout = self._next()
            if fut.done():  # caller gave up (cancelled) while waiting
                continue
            quiet = self._quiet_until - time.monotonic()
            if quiet > 0:
                await asyncio.sleep(quiet)
            start = time.monotonic()
            try:
                reply = await self.line.transact(frame, expect_reply, timeout)
            except BusError as exc:
                self.stats.errors[exc.kind] += 1
                if not fut.done():
                    fut.set_exception(exc)
            except Exception as exc:  # a broken port must not kill the arbiter
                log.exception("RS485 line failure")
                self.stats.errors["line"] += 1
                if not fut.done():
                    fut.set_exception(BusError(f"line failure: {exc}"))
            else:
                if not fut.done():
                    fut.set_result(reply)
            finally:
                end = time.monotonic()
                self.stats.transactions += 1
                self.stats.busy_s += end - start
                self._quiet_until = end + self.frame_interval


class BusOverloaded(BusError):
    kind = "overloaded"
