"""The Modbus TCP server in gateway mode: MBAP requests forwarded to the RS485 slaves.

Frame level, like the line: a request for unit N (1..247) goes on the bus as the RTU frame
`adu(N, pdu)` at the interactive priority, and the reply's PDU comes back to the client with
the same transaction id and unit id, whatever the function code (device exception replies
included, passed back unchanged). The pymodbus server cannot do this (it answers failures with
0x04 and never with 0x0A), hence our own small server on asyncio streams.

Answers the gateway makes itself, as exception replies for the request's function code:
- 0x0B (gateway target device failed to respond): no reply within the line timeout, a garbled
  reply (bad CRC, incomplete), or a reply for another function code;
- 0x0A (gateway path unavailable): the Local gateway is switched off (`local_enabled()` is
  False), the bus queue is full (`BusOverloaded`), the line itself failed, or unit > 247.
Unit 0 is a broadcast: forwarded without waiting for a reply, and the client gets no reply
(not even when it could not be forwarded: a broadcast client does not read one).

Robustness: a malformed MBAP header (protocol id not 0, length < 2 or > 254) closes that
connection (replies already owed are sent first); a connection that sends nothing for
`idle_timeout` seconds while it has no request pending, or does not read its replies for that
long, is dropped; beyond `max_clients` connections a new one is closed at once. Each
connection is its own task; its requests may be pipelined (at most `max_pending` in flight,
then we stop reading it) and are answered in order, each with its own transaction id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
from typing import Callable

from .bus import INTERACTIVE, BusOverloaded
from .rtu import BadFrame, BusError, NoResponse, adu

log = logging.getLogger("wsmeasure.mbtcp")

PATH_UNAVAILABLE = 0x0A
TARGET_FAILED = 0x0B
MAX_UNIT = 247
MBAP = struct.Struct(">HHHB")  # transaction id, protocol id, length (unit id + PDU), unit id
MAX_LENGTH = 254  # unit id + the longest PDU (253 bytes)


def exception_pdu(fn: int, code: int) -> bytes:
    return bytes([(fn | 0x80) & 0xFF, code])


class GatewayServer:
    def __init__(self, bus, host: str, port: int, *, max_clients: int = 16, idle_timeout: float = 60.0,
                 local_enabled: Callable[[], bool] = lambda: True, max_pending: int = 16,
                 timeout: float | None = None, local_units: dict[int, Callable[[bytes], bytes]] | None = None):
        self.bus = bus
        self.host = host
        self.port = port
        self.max_clients = max_clients
        self.idle_timeout = idle_timeout
        self.local_enabled = local_enabled
        self.max_pending = max_pending
        self.timeout = timeout  # RS485 reply timeout; None: the line's own (300 ms)
        self.local_units = local_units or {}  # units this box answers itself (247: slave mode)
        self._server: asyncio.base_events.Server | None = None
        self._clients: set[asyncio.Task] = set()
        self.refused = 0  # connections closed at once because max_clients were connected

    @property
    def clients(self) -> int:
        return len(self._clients)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("Modbus TCP gateway listening on %s:%d", self.host, self.port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        tasks = list(self._clients)
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    # -- connections ----------------------------------------------------------------------------
    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        if len(self._clients) >= self.max_clients:
            self.refused += 1
            log.warning("Modbus TCP client %s refused: %d clients already connected", peer, self.max_clients)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            return
        task = asyncio.current_task()
        self._clients.add(task)
        log.info("Modbus TCP client %s connected", peer)
        try:
            await Connection(self, reader, writer, peer).run()
        except asyncio.CancelledError:
            pass  # close(): end normally (asyncio 3.11 logs an error for a cancelled client task)
        except Exception:  # never let one connection take the server down
            log.exception("Modbus TCP client %s: unexpected error", peer)
        finally:
            self._clients.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            log.info("Modbus TCP client %s disconnected", peer)

    # -- one request ----------------------------------------------------------------------------
    def _local_on(self) -> bool:
        try:
            return bool(self.local_enabled())
        except Exception:  # a broken setting reads as "off": 0x0A, never a crash
            log.exception("local_enabled() failed")
            return False

    async def forward(self, unit: int, pdu: bytes) -> bytes | None:
        """The reply PDU for one request (None: no reply at all, for a broadcast)."""
        fn = pdu[0]
        if unit == 0:
            if not self._local_on():
                log.info("broadcast fn %d dropped: Local gateway is off", fn)
                return None
            try:
                await self.bus.transact(adu(0, pdu), priority=INTERACTIVE, expect_reply=False)
            except Exception as exc:
                log.warning("broadcast fn %d not sent: %s", fn, exc)
            return None
        if unit in self.local_units:
            try:
                return self.local_units[unit](pdu)
            except Exception:
                log.exception("unit %d fn %d: local answer failed", unit, fn)
                return exception_pdu(fn, PATH_UNAVAILABLE)
        if unit > MAX_UNIT or self.bus is None or not self._local_on():
            return exception_pdu(fn, PATH_UNAVAILABLE)
        try:
            reply = await self.bus.transact(adu(unit, pdu), priority=INTERACTIVE, timeout=self.timeout)
        except (NoResponse, BadFrame) as exc:
            log.debug("unit %d fn %d: %s", unit, fn, exc)
            return exception_pdu(fn, TARGET_FAILED)
        except BusOverloaded as exc:
            log.warning("unit %d fn %d refused: %s", unit, fn, exc)
            return exception_pdu(fn, PATH_UNAVAILABLE)
        except BusError as exc:  # the line itself failed
            log.warning("unit %d fn %d: %s", unit, fn, exc)
            return exception_pdu(fn, PATH_UNAVAILABLE)
        except Exception:  # a bug must cost one request, never the server
            log.exception("unit %d fn %d: forwarding failed", unit, fn)
            return exception_pdu(fn, PATH_UNAVAILABLE)
        if not reply or len(reply) < 4 or reply[0] != unit or (reply[1] & 0x7F) != (fn & 0x7F):
            log.warning("unit %d fn %d: unexpected reply %s", unit, fn, (reply or b"").hex(" "))
            return exception_pdu(fn, TARGET_FAILED)
        return reply[1:-2]


class Connection:
    """One client: a reader queueing requests in order, a writer sending their replies in order."""

    def __init__(self, server: GatewayServer, reader, writer, peer):
        self.server = server
        self.reader = reader
        self.writer = writer
        self.peer = peer
        self.replies: asyncio.Queue = asyncio.Queue(maxsize=server.max_pending)
        self.pending = 0  # requests read whose reply is not written yet

    async def run(self) -> None:
        sender = asyncio.create_task(self._send_replies(), name=f"mbtcp-send {self.peer}")
        reading = asyncio.create_task(self._read_requests(), name=f"mbtcp-read {self.peer}")
        try:
            done, _ = await asyncio.wait({reading, sender}, return_when=asyncio.FIRST_COMPLETED)
            if reading in done:
                reading.result()  # errors are logged by the server
                await self.replies.put(None)  # end of requests: send what is owed, then close
                await sender
            else:  # the writer gave up (client gone or not reading): stop reading too
                sender.result()
        finally:
            for task in (reading, sender):
                task.cancel()
            for task in (reading, sender):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            while not self.replies.empty():  # requests still queued for the bus: nobody to answer
                job = self.replies.get_nowait()
                if job is not None:
                    job[1].cancel()

    async def _read_requests(self) -> None:
        timeout = self.server.idle_timeout
        while True:
            try:
                header = await self._read(MBAP.size, timeout)
            except asyncio.IncompleteReadError:
                return  # the client closed its side
            if header is None:
                log.info("Modbus TCP client %s idle for %.0f s: dropped", self.peer, timeout)
                return
            tid, protocol, length, unit = MBAP.unpack(header)
            if protocol != 0 or not 2 <= length <= MAX_LENGTH:
                log.warning("Modbus TCP client %s: malformed MBAP header %s: connection closed",
                            self.peer, header.hex(" "))
                return
            try:
                async with asyncio.timeout(timeout):
                    pdu = await self.reader.readexactly(length - 1)
            except asyncio.IncompleteReadError:
                return
            except asyncio.TimeoutError:
                log.info("Modbus TCP client %s: frame left incomplete for %.0f s: dropped", self.peer, timeout)
                return
            job = asyncio.create_task(self.server.forward(unit, pdu))
            self.pending += 1
            await self.replies.put((tid, job, unit))  # waits while max_pending replies are owed

    async def _read(self, n: int, timeout: float) -> bytes | None:
        """n bytes; None once the client has been silent for `timeout` with nothing pending.

        asyncio.timeout, not wait_for: on Python 3.11 wait_for may swallow a cancellation that
        coincides with the read completing, and the reader would outlive its connection.
        """
        while True:
            try:
                async with asyncio.timeout(timeout):
                    return await self.reader.readexactly(n)
            except asyncio.TimeoutError:
                # a cancelled readexactly leaves the bytes already received in the buffer
                if not self.pending:
                    return None

    async def _send_replies(self) -> None:
        while True:
            item = await self.replies.get()
            if item is None:
                return
            tid, job, unit = item
            try:
                pdu = await job
            except Exception:
                log.exception("Modbus TCP client %s: request failed", self.peer)
                pdu = None
            if pdu is not None:
                self.writer.write(MBAP.pack(tid, 0, len(pdu) + 1, unit) + pdu)
                try:
                    async with asyncio.timeout(self.server.idle_timeout):
                        await self.writer.drain()
                except asyncio.TimeoutError:
                    log.info("Modbus TCP client %s does not read its replies: dropped", self.peer)
                    return
                except ConnectionError:  # the client went away
                    return
            self.pending -= 1
