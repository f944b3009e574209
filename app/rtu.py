"""Modbus RTU at frame level: CRC, frame boundaries, and the serial line itself.

We keep frames as bytes end to end (pymodbus supplies the CRC and the length of each known
PDU) so that the same line serves the poller, the "Test" button and, later, the Modbus TCP
gateway, which must forward any function code unchanged. The line owns a pyserial port: this
lets us switch the kernel RS485 mode on where the UART supports it, and time the frame
interval ourselves.
"""

from __future__ import annotations

import asyncio
import logging
import os
import struct
import time

from pymodbus.framer import FramerRTU
from pymodbus.pdu import DecodePDU

from .messages import Msg

log = logging.getLogger(__name__)

_responses = DecodePDU(is_server=False)
_requests = DecodePDU(is_server=True)

PARITIES = {"none": "N", "even": "E", "odd": "O"}
BAUDRATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)


class BusError(Exception):
    """A transaction that got no usable reply; `kind` names the failure (a Msg: the Test verdict
    shows it in the user's language)."""

    kind = Msg("error")


class NoResponse(BusError):
    kind = Msg("timeout")


class BadFrame(BusError):
    kind = Msg("bad frame")


class DeviceException(BusError):
    """The device answered with a Modbus exception."""

    kind = Msg("exception")

    def __init__(self, code: int, frame: bytes):
        super().__init__(f"Modbus exception {code:#04x}")
        self.code = code
        self.frame = frame


def crc(data: bytes) -> bytes:
    return FramerRTU.compute_CRC(data).to_bytes(2, "big")


def adu(unit: int, pdu: bytes) -> bytes:
    frame = bytes([unit]) + pdu
    return frame + crc(frame)


def crc_ok(frame: bytes) -> bool:
    return len(frame) >= 4 and crc(frame[:-2]) == frame[-2:]


def frame_size(buf: bytes, request: bool) -> int | None:
    """Length of the frame starting buf, 0 if more bytes are needed, None if the function is unknown."""
    if len(buf) < 2:
        return 0
    pdu_class = (_requests if request else _responses).lookupPduClass(buf)
    if pdu_class is None:
        return None
    return pdu_class.calculateRtuFrameSize(buf)


def char_time(baudrate: int, parity: str = "E", stopbits: int = 1) -> float:
    """Seconds per character on the wire: start + 8 data + parity + stop bits."""
    return (1 + 8 + (parity != "N") + stopbits) / baudrate


def read_pdu(fn: int, address: int, count: int) -> bytes:
    return struct.pack(">BHH", fn, address, count)


def registers_from(pdu: bytes) -> list[int]:
    n = pdu[1] // 2
    return list(struct.unpack(f">{n}H", pdu[2:2 + 2 * n]))


class SerialSettings:
    """Serial parameters of section 7.8 (defaults 19200 8E1, timeout 300 ms)."""

    def __init__(self, port: str, baudrate: int = 19200, parity: str = "E", stopbits: int = 1,
                 timeout: float = 0.3):
        self.port, self.baudrate, self.parity, self.stopbits, self.timeout = port, baudrate, parity, stopbits, timeout

    @property
    def char(self) -> float:
        return char_time(self.baudrate, self.parity, self.stopbits)

    def __repr__(self):
        return f"{self.port} {self.baudrate} 8{self.parity}{self.stopbits} timeout {self.timeout * 1000:.0f} ms"


class RtuLine:
    """The RS485 port: one transaction at a time (the bus arbiter guarantees it)."""

    def __init__(self, settings: SerialSettings):
        self.settings = settings
        self.serial = None
        self.rs485 = False
        self._buf = bytearray()
        self._data = asyncio.Event()
        self.last_rx = 0.0  # when the last byte of the last reply arrived

    async def open(self) -> None:
        import serial  # pyserial

        s = self.settings
        self.serial = serial.Serial(s.port, s.baudrate, bytesize=8, parity=s.parity, stopbits=s.stopbits,
                                    timeout=0, write_timeout=2, exclusive=True)
        self.rs485 = self._kernel_rs485()
        asyncio.get_running_loop().add_reader(self.serial.fileno(), self._readable)
        log.info("RS485 port %s open%s", s, " (kernel RS485 mode)" if self.rs485 else "")

    def _kernel_rs485(self) -> bool:
        """Let the UART drive the transceiver's direction pin, where it can (TIOCSRS485)."""
        import termios

        import serial.rs485

        try:
            self.serial.rs485_mode = serial.rs485.RS485Settings(delay_before_tx=0, delay_before_rx=0)
            return True
        except (OSError, ValueError, NotImplementedError, termios.error):  # ptys, USB adapters, emulated UARTs
            self.serial._rs485_mode = None  # forget it, or every reconfiguration would fail again
            return False

    def close(self) -> None:
        if self.serial is not None:
            try:
                asyncio.get_running_loop().remove_reader(self.serial.fileno())
            except (RuntimeError, ValueError):
                pass
            self.serial.close()
            self.serial = None

    def _readable(self) -> None:
        try:
            data = os.read(self.serial.fileno(), 4096)
        except BlockingIOError:
            return
        except OSError as exc:  # the far end of a pty went away: keep the loop alive
            log.warning("RS485 read failed: %s", exc)
            data = b""
        if data:
            self._buf += data
            self.last_rx = time.monotonic()
            self._data.set()

    async def _wait_data(self, deadline: float) -> bool:
        self._data.clear()
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        try:  # asyncio.timeout, not wait_for: on 3.11 wait_for may swallow a cancellation
            async with asyncio.timeout(remaining):
                await self._data.wait()
            return True
        except TimeoutError:
            return False

    async def transact(self, request: bytes, expect_reply: bool = True, timeout: float | None = None) -> bytes | None:
        """Send one frame, return the reply frame (CRC checked) or raise a BusError."""
        s = self.settings
        self._buf.clear()
        self.serial.reset_input_buffer()  # late replies to an earlier, timed-out request
        self.serial.write(request)
        sent = time.monotonic() + len(request) * s.char  # the last byte leaves the UART
        if not expect_reply:
            return None
        unit = request[0]
        deadline = sent + (s.timeout if timeout is None else timeout)
        silence = max(3.5 * s.char, 0.02)
        while True:
            while self._buf and self._buf[0] != unit:  # noise before the frame
                del self._buf[0]
            size = frame_size(bytes(self._buf), request=False) if len(self._buf) >= 3 else 0
            if size and len(self._buf) >= size:
                frame = bytes(self._buf[:size])
                if not crc_ok(frame):
                    raise BadFrame(f"CRC error from unit {unit}: {frame.hex(' ')}")
                return frame
            if self._buf:  # a frame is under way: it may take its wire time, then a silence
                missing = (size - len(self._buf)) if size else 0
                deadline = max(deadline, self.last_rx + missing * s.char * 1.5 + silence)
            if not await self._wait_data(deadline):
                if not self._buf:
                    raise NoResponse(f"no reply from unit {unit}")
                if size is None and crc_ok(bytes(self._buf)):  # unknown function: ended by silence
                    return bytes(self._buf)
                raise BadFrame(f"incomplete or garbled reply from unit {unit}: {bytes(self._buf).hex(' ')}")
