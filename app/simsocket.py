"""The virtual installation behind a socket: the far end of the QEMU test image's RS485 port.

QEMU gives the guest's second UART (/dev/ttyS1 in the guest, the box's RS485 port) as a unix
socket: `-chardev socket,id=rs485,path=SOCK,server=on,wait=off -serial chardev:rs485`. This
end connects to that socket and plays the devices wired to the port: the same twins as the
virtual installation (simbus.reply_frame answers), declared by the Local gateway of a config.db.

QEMU neither paces bytes nor keeps frame boundaries: a request may come in pieces, or glued to
the next one, and under software emulation a pause says nothing about the end of a frame. So
frames are split by length and CRC only: the function code gives the length (pymodbus, as in
rtu.py), a frame whose CRC fails is noise or a torn frame and the split resumes one byte later.
A function whose length is unknown ends where a CRC first matches, or is noise when a good
frame follows it; bytes left alone for STALE_S are dropped.

    python -m wsmeasure.simsocket SOCK --data-dir DIR   # twins of DIR/config.db's Local gateway
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import threading
import time
from pathlib import Path

from .rtu import crc_ok, frame_size
from .simbus import reply_frame

log = logging.getLogger(__name__)

STALE_S = 1.0      # an incomplete frame nobody completes for this long is garbage
MAX_FRAME = 256    # RTU frames are at most 256 bytes
RETRY_S = 0.1      # between attempts to reach QEMU's socket


def split_requests(buf: bytearray) -> list[bytes]:
    """Take the complete request frames (CRC good) off the front of `buf`; noise is dropped."""
    frames = []
    while len(buf) >= 4:
        size = frame_size(bytes(buf[:MAX_FRAME]), request=True)
        if size == 0:
            break                       # the header that gives the length is not all here
        if size is None:                # a function pymodbus cannot size: the first CRC match ends it
            end = next((n for n in range(4, min(len(buf), MAX_FRAME) + 1) if crc_ok(bytes(buf[:n]))), None)
            if end is None:
                later = _next_frame(buf)
                if later:                   # noise before a good frame
                    del buf[:later]
                    continue
                if len(buf) >= MAX_FRAME:
                    del buf[0]
                    continue
                break
            size = end
        if size > MAX_FRAME:
            del buf[0]
            continue
        if len(buf) < size:
            break
        frame = bytes(buf[:size])
        if crc_ok(frame):
            frames.append(frame)
            del buf[:size]
        else:
            del buf[0]                  # resynchronise one byte later
    return frames


def _next_frame(buf: bytearray) -> int | None:
    """The offset after 0 where a complete request of a known function with a good CRC starts."""
    for at in range(1, len(buf) - 3):
        size = frame_size(bytes(buf[at:at + MAX_FRAME]), request=True)
        if size and at + size <= len(buf) and crc_ok(bytes(buf[at:at + size])):
            return at
    return None


class SocketBus:
    """Twins answering Modbus RTU on a stream socket (QEMU's chardev server end)."""

    def __init__(self, path, twins=()):
        self.path = str(path)
        self.twins = {t.unit: t for t in twins}
        self.requests = 0       # frames with a good CRC
        self.replies = 0
        self._buf = bytearray()
        self._last_rx = 0.0
        self._stop = asyncio.Event()

    def feed(self, data: bytes, now: float | None = None) -> list[bytes]:
        """Bytes from the master; returns the replies to send, in order."""
        now = time.monotonic() if now is None else now
        if self._buf and now - self._last_rx > STALE_S:
            log.debug("simsocket: dropped stale bytes %s", bytes(self._buf).hex(" "))
            self._buf.clear()
        self._last_rx = now
        self._buf += data
        replies = []
        for frame in split_requests(self._buf):
            self.requests += 1
            reply = reply_frame(self.twins, frame)
            if reply is not None:
                replies.append(reply)
        self.replies += len(replies)
        return replies

    async def run(self) -> None:
        """Serve until stop(): connect (again) whenever QEMU's socket is there."""
        while not self._stop.is_set():
            try:
                reader, writer = await asyncio.open_unix_connection(self.path)
            except OSError:
                await self._pause(RETRY_S)
                continue
            log.info("simsocket: connected to %s (%d twins)", self.path, len(self.twins))
            try:
                await self._serve(reader, writer)
            finally:
                writer.close()

    async def _serve(self, reader, writer) -> None:
        stop = asyncio.ensure_future(self._stop.wait())
        try:
            while True:
                read = asyncio.ensure_future(reader.read(4096))
                await asyncio.wait({read, stop}, return_when=asyncio.FIRST_COMPLETED)
                if not read.done():
                    read.cancel()
                    return
                data = read.result()
                if not data:            # QEMU went away
                    return
                for reply in self.feed(data):
                    writer.write(reply)
                await writer.drain()
        except (ConnectionError, OSError) as exc:
            log.info("simsocket: connection lost: %s", exc)
        finally:
            stop.cancel()

    async def _pause(self, seconds: float) -> None:
        try:
            async with asyncio.timeout(seconds):
                await self._stop.wait()
        except TimeoutError:
            pass

    def stop(self) -> None:
        self._stop.set()


def twins_of(data_dir: Path, clock=None) -> list:
    """The twins of the devices declared on the Local gateway of DATA_DIR/config.db."""
    from .db import open_config
    from .installation import load_specs
    from .specs import LOCAL
    from .virtual import build_twins

    db = open_config(Path(data_dir))
    try:
        local = next(g for g in load_specs(db) if g.kind == LOCAL)
        return build_twins(local.devices, clock)
    finally:
        db.close()


class Background:
    """A SocketBus in its own thread and event loop (tests, benchmarks): start(), stop()."""

    def __init__(self, path, twins):
        self.bus = None
        self._args = (path, twins)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._main, name="simsocket", daemon=True)
        self._ready = threading.Event()

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        self.bus = SocketBus(*self._args)
        self._ready.set()
        self._loop.run_until_complete(self.bus.run())
        self._loop.close()

    def start(self) -> Background:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        if self.bus is not None:
            self._loop.call_soon_threadsafe(self.bus.stop)
        self._thread.join(10)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m wsmeasure.simsocket", description=__doc__.splitlines()[0])
    p.add_argument("socket", help="QEMU's chardev socket (server=on) of the guest's RS485 port")
    p.add_argument("--data-dir", type=Path, required=True,
                   help="a data dir whose config.db declares the devices (the image's data partition tree)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    twins = twins_of(args.data_dir)
    print(f"{len(twins)} simulated devices at addresses {sorted(t.unit for t in twins)} on {args.socket}")
    bus = SocketBus(args.socket, twins)
    try:
        asyncio.run(bus.run())
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

