"""The simulated RS485 bus: twins answering real Modbus RTU on a pseudo-terminal.

The daemon opens the pty's slave side as if it were the RS485 port; this end reads the master
side, frames requests (length from the function code, CRC checked), and lets the addressed twin
answer: registers, exception replies for bad functions or addresses, silence for an absent
address or a broadcast. Faults per twin: "silent", "garbled" (bad CRC), "slow".

With `paced=True` the bus behaves like the wire at the configured baud rate: a reply leaves
only after the request's own transmission time and a 3.5-character silence, and its bytes are
released at the rate of the line, in chunks of a few milliseconds.

reply_frame() is what the twins answer, whatever carries the bytes: simsocket.py uses it on
the QEMU test image's RS485 socket.
"""

from __future__ import annotations

import asyncio
import logging
import os
import struct
import termios
import time
import tty

from .rtu import adu, char_time, crc_ok, frame_size

log = logging.getLogger(__name__)

CHUNK_S = 0.004  # paced output granularity: what asyncio timers can honour


class SimBus:
    def __init__(self, twins=(), baudrate: int = 19200, parity: str = "E", stopbits: int = 1, paced: bool = False):
        self.twins = {t.unit: t for t in twins}
        self.char = char_time(baudrate, parity, stopbits)
        self.paced = paced
        self.master_fd, self.slave_fd = os.openpty()
        tty.setraw(self.slave_fd, termios.TCSANOW)
        os.set_blocking(self.master_fd, False)
        self.port = os.ttyname(self.slave_fd)
        self._buf = bytearray()
        self._handler: asyncio.Task | None = None
        self._frame_timer: asyncio.TimerHandle | None = None
        self.requests = 0
        self.trace: list | None = None  # set to a list to record (monotonic time, "rx"/"tx", frame)
        self.loop: asyncio.AbstractEventLoop | None = None

    def add(self, twin) -> None:
        self.twins[twin.unit] = twin

    def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.loop.add_reader(self.master_fd, self._readable)

    def close(self) -> None:
        if self.loop:
            self.loop.remove_reader(self.master_fd)
        if self._handler:
            self._handler.cancel()
        for fd in (self.master_fd, self.slave_fd):
            try:
                os.close(fd)
            except OSError:
                pass

    # -- framing ------------------------------------------------------------------------------
    def _readable(self) -> None:
        try:
            self._buf += os.read(self.master_fd, 4096)
        except (BlockingIOError, OSError):
            return
        arrived = time.monotonic()
        if self._frame_timer:
            self._frame_timer.cancel()
            self._frame_timer = None
        while True:  # a read may hold several frames (a broadcast and the next request)
            size = frame_size(bytes(self._buf), request=True) if len(self._buf) >= 2 else 0
            if not (size and len(self._buf) >= size):
                break
            frame, self._buf = bytes(self._buf[:size]), self._buf[size:]
            self._dispatch(frame, arrived)
        if size is None or self._buf:
            # unknown function or an incomplete frame: it ends with a silence
            self._frame_timer = self.loop.call_later(max(3.5 * self.char, 0.005), self._silence, arrived)

    def _silence(self, arrived: float) -> None:
        frame, self._buf = bytes(self._buf), bytearray()
        self._frame_timer = None
        if frame:
            self._dispatch(frame, arrived)

    def _dispatch(self, frame: bytes, arrived: float) -> None:
        if not crc_ok(frame):
            log.debug("sim: dropped frame with bad CRC %s", frame.hex(" "))
            return
        self.requests += 1
        if self.trace is not None:
            self.trace.append((arrived, "rx", frame))
        reply = reply_frame(self.twins, frame)
        if reply is None:
            return
        twin = self.twins[frame[0]]
        delay = twin.slow_s if twin.fault == "slow" else 0.0
        if self.paced:
            delay += (len(frame) + 3.5) * self.char - (time.monotonic() - arrived)
        if self._handler and not self._handler.done():
            self._handler.cancel()  # a new request: the master gave up on the previous one
        self._handler = self.loop.create_task(self._send(reply, delay))

    async def _send(self, reply: bytes, delay: float) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        if not self.paced:
            os.write(self.master_fd, reply)
        else:
            await self._send_paced(reply)
        if self.trace is not None:
            self.trace.append((time.monotonic(), "tx", reply))

    async def _send_paced(self, reply: bytes) -> None:
        per_chunk = max(1, int(CHUNK_S / self.char))
        start = time.monotonic()
        for i in range(0, len(reply), per_chunk):
            due = start + min(i + per_chunk, len(reply)) * self.char  # its last byte is on the wire
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            os.write(self.master_fd, reply[i:i + per_chunk])


def reply_frame(twins: dict, frame: bytes) -> bytes | None:
    """What the twins (unit -> twin) send back for a request frame whose CRC is good: the reply
    frame of the addressed twin, its faults "silent" and "garbled" applied, or None (silence:
    an absent address, a broadcast, whose writes every twin applies). "slow" is the caller's."""
    unit = frame[0]
    if unit == 0:  # broadcast: apply writes everywhere, never answer
        for t in twins.values():
            answer(t, frame[1:-2])
        return None
    twin = twins.get(unit)
    if twin is None or twin.fault == "silent":
        return None
    reply = adu(unit, answer(twin, frame[1:-2]))
    if twin.fault == "garbled":
        reply = reply[:-1] + bytes([reply[-1] ^ 0x5A])
    return reply


def answer(twin, pdu: bytes) -> bytes:
    """The PDU a device answers to a request PDU (exception replies included)."""
    fn = pdu[0]
    try:
        if fn in (3, 4):
            address, count = struct.unpack(">HH", pdu[1:5])
            result = twin.read(fn, address, count)
            if isinstance(result, int):
                return bytes([fn | 0x80, result])
            return struct.pack(f">BB{len(result)}H", fn, 2 * len(result), *result)
        if fn == 6:
            address, value = struct.unpack(">HH", pdu[1:5])
            err = twin.write(address, [value])
            return bytes([fn | 0x80, err]) if err else pdu[:5]
        if fn == 16:
            address, count, nbytes = struct.unpack(">HHB", pdu[1:6])
            if nbytes != 2 * count or len(pdu) < 6 + nbytes:
                return bytes([fn | 0x80, 3])
            err = twin.write(address, list(struct.unpack(f">{count}H", pdu[6:6 + nbytes])))
            return bytes([fn | 0x80, err]) if err else pdu[:5]
        if fn == 8 and pdu[1:3] == b"\x00\x00":  # diagnostics: return query data
            return pdu
    except struct.error:
        return bytes([fn | 0x80, 3])
    return bytes([(fn | 0x80) & 0xFF, 1])
