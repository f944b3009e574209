"""Shared fixtures: a real pseudo-terminal bus with simulated devices on the far end."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
pytest_plugins = ["browser"]  # tests/browser.py: headless chromium fixtures


@contextlib.asynccontextmanager
async def rtu_bus(twins=(), paced=False, baudrate=19200, parity="E", stopbits=1, timeout=0.3, frame_interval=0.0):
    """Yield (bus, sim): a bus arbiter on an RtuLine opened on a SimBus pty."""
    from wsmeasure.bus import Bus
    from wsmeasure.rtu import RtuLine, SerialSettings
    from wsmeasure.simbus import SimBus

    sim = SimBus(twins, baudrate=baudrate, parity=parity, stopbits=stopbits, paced=paced)
    sim.start()
    line = RtuLine(SerialSettings(sim.port, baudrate, parity, stopbits, timeout))
    await line.open()
    bus = Bus(line, frame_interval)
    bus.start()
    try:
        yield bus, sim
    finally:
        await bus.stop()
        line.close()
        sim.close()


async def read_device(bus, driver, rows=None):
    """Read a driver's rows through the bus and decode them, as the poller does."""
    rows = driver.measure_rows() if rows is None else rows
    words = {}
    for r in driver.reads(rows):
        for i, w in enumerate(await bus.read_registers(driver.unit, r.fn, r.address, r.count)):
            words[r.fn, r.address + i] = w
    return driver.decode(rows, words)


@pytest.fixture
def run():
    """Run a coroutine to completion in a fresh event loop (no plugin needed)."""
    return lambda coro: asyncio.run(asyncio.wait_for(coro, 60))
