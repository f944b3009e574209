"""A line to a remote Modbus TCP gateway: another box in gateway mode, a third-party RTU-to-TCP
gateway, or a slave box's unit 247.

It speaks RTU frames to the bus arbiter, like `RtuLine`, so the same arbiter, poller and drivers
serve both: each frame becomes one MBAP request on one TCP connection per gateway, and the
reply comes back as an RTU frame. The gateway's 0x0B (its device did not answer) is a
`NoResponse`, its 0x0A a path failure; a lost connection is reopened at the next request, at
most every `retry_s`.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import time

from .messages import Msg
from .rtu import BusError, NoResponse, crc

log = logging.getLogger(__name__)

MBAP = struct.Struct(">HHHB")  # transaction id, protocol 0, length, unit id


class ConnectionFailed(BusError):
    kind = Msg("connection")


class TcpSettings:
    def __init__(self, host: str, port: int = 502, timeout: float = 1.0):
        self.host, self.port, self.timeout = host, port, timeout

    def __repr__(self):
        return f"modbus-tcp://{self.host}:{self.port} timeout {self.timeout * 1000:.0f} ms"


class TcpLine:
    rs485 = False

    def __init__(self, settings: TcpSettings, retry_s: float = 5.0):
        self.settings = settings
        self.retry_s = retry_s
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._tid = 0
        self._next_try = 0.0
        self.last_error: str | None = None

    async def open(self) -> None:
        s = self.settings
        if time.monotonic() < self._next_try:
            raise ConnectionFailed(Msg("{address} unreachable ({error}); retrying later", address=f"{s.host}:{s.port}",
                                       error=self.last_error))
        try:
            async with asyncio.timeout(s.timeout * 3):
                self._reader, self._writer = await asyncio.open_connection(s.host, s.port)
        except (OSError, TimeoutError) as exc:
            self._next_try = time.monotonic() + self.retry_s
            self.last_error = str(exc) or type(exc).__name__
            raise ConnectionFailed(Msg("cannot connect to {address}: {error}", address=f"{s.host}:{s.port}",
                                       error=self.last_error)) from None
        self.last_error = None
        log.info("connected to gateway %s:%s", s.host, s.port)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None

    async def transact(self, request: bytes, expect_reply: bool = True, timeout: float | None = None) -> bytes | None:
        if self._writer is None:
            await self.open()
        unit, pdu = request[0], request[1:-2]
        self._tid = (self._tid + 1) & 0xFFFF
        try:
            self._writer.write(MBAP.pack(self._tid, 0, len(pdu) + 1, unit) + pdu)
            await self._writer.drain()
            if not expect_reply:
                return None
            async with asyncio.timeout(self.settings.timeout if timeout is None else timeout):
                while True:  # skip a late reply to an earlier, timed-out request
                    tid, protocol, length, r_unit = MBAP.unpack(await self._reader.readexactly(MBAP.size))
                    body = await self._reader.readexactly(length - 1)
                    if tid == self._tid and protocol == 0:
                        break
        except TimeoutError:
            raise NoResponse(f"no reply from {self.settings.host} for unit {unit}") from None
        except (OSError, asyncio.IncompleteReadError, struct.error) as exc:
            self.close()
            raise ConnectionFailed(f"connection to {self.settings.host}:{self.settings.port} lost: {exc}") from None
        if body[0] & 0x80 and len(body) >= 2 and body[1] in (0x0A, 0x0B):
            if body[1] == 0x0B:
                raise NoResponse(f"unit {unit} behind {self.settings.host} does not answer (0x0B)")
            raise BusError(f"gateway {self.settings.host}: path to unit {unit} unavailable (0x0A)")
        frame = bytes([r_unit]) + body
        return frame + crc(frame)
