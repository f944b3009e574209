"""Byte-level RTU framing and CRC, over a real pseudo-terminal."""

import asyncio
import os
import time

import pytest
from conftest import read_device, rtu_bus

from wsmeasure import rtu
from wsmeasure.drivers.base import DeviceSpec
from wsmeasure.drivers.catalogue import family
from wsmeasure.drivers.twins import ElectricTwin
from wsmeasure.simbus import SimBus, answer


def meter(unit=5, model="0 146 68"):
    return family("emdx3_meter").driver_for(DeviceSpec(1, "emdx3_meter", model, unit))


@pytest.mark.parametrize("frame, crc", [
    (bytes.fromhex("010300000001"), "840a"),          # the classic example of the Modbus spec
    (bytes.fromhex("1103006b0003"), "7687"),          # Modbus over serial line guide, fig. 'read 3 registers'
])
def test_crc_matches_the_specification(frame, crc):
    assert rtu.crc(frame).hex() == crc
    assert rtu.crc_ok(frame + bytes.fromhex(crc))
    assert not rtu.crc_ok(frame + bytes.fromhex(crc)[::-1])


def test_frame_sizes_come_from_the_function_code():
    assert rtu.frame_size(bytes.fromhex("0103"), request=True) == 8
    assert rtu.frame_size(bytes.fromhex("010304"), request=False) == 9
    assert rtu.frame_size(bytes.fromhex("018302"), request=False) == 5
    assert rtu.frame_size(bytes.fromhex("0141"), request=False) is None  # unknown: ends by silence


def test_char_time_counts_start_parity_and_stop_bits():
    assert rtu.char_time(19200, "E", 1) == pytest.approx(11 / 19200)
    assert rtu.char_time(9600, "N", 2) == pytest.approx(11 / 9600)
    assert rtu.char_time(9600, "N", 1) == pytest.approx(10 / 9600)


def test_bytes_on_the_wire_are_a_real_rtu_exchange(run):
    """Write a request by hand on the pty and check the reply byte for byte."""
    twin = ElectricTwin(meter(), seed=1)

    async def go():
        sim = SimBus([twin])
        sim.start()
        fd = os.open(sim.port, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        try:
            os.write(fd, rtu.adu(5, rtu.read_pdu(3, 0xC558, 2)))   # V1, U32 0.01 V
            await asyncio.sleep(0.05)
            reply = os.read(fd, 256)
            os.write(fd, bytes.fromhex("050300000001") + b"\x00\x00")  # bad CRC: ignored
            os.write(fd, rtu.adu(9, rtu.read_pdu(3, 0xC558, 2)))        # absent unit: silence
            await asyncio.sleep(0.05)
            with pytest.raises(BlockingIOError):
                os.read(fd, 256)
        finally:
            os.close(fd)
            sim.close()
        return reply

    reply = run(go())
    assert reply[:3] == bytes([5, 3, 4]) and rtu.crc_ok(reply) and len(reply) == 9
    volts = int.from_bytes(reply[3:7], "big") / 100
    assert 220 < volts < 240


def test_exception_replies_for_bad_function_and_address():
    twin = ElectricTwin(meter(), seed=1)
    assert answer(twin, bytes([3]) + (0).to_bytes(2, "big") + (2).to_bytes(2, "big")) == bytes([0x83, 2])
    assert answer(twin, bytes([0x41, 0, 0])) == bytes([0xC1, 1])
    assert answer(twin, rtu.read_pdu(4, 0xC558, 2)) == bytes([0x84, 2])  # holding-only device
    assert answer(twin, rtu.read_pdu(3, 0xC558, 126)) == bytes([0x83, 2])


def test_master_decodes_the_public_emdx3_table(run):
    driver = meter(model="0 146 69")
    now = time.time()
    twin = ElectricTwin(driver, seed=3, clock=lambda: now)  # a frozen clock: values stay put

    async def go():
        async with rtu_bus([twin]) as (bus, sim):
            values = await read_device(bus, driver)
            return values, twin.values(now), bus.stats.transactions

    values, truth, transactions = run(go())
    assert transactions == len(driver.reads(driver.measure_rows()))
    assert transactions <= 6  # 151 rows, merged
    assert abs(values["Ea+"] - truth["Ea+"]) <= 500 and values["Ea+"] % 1000 == 0   # kWh on the wire
    assert isinstance(values["Ea+"], int)
    for name in ("V1", "I1", "F", "THD_V1", "H5_I2"):
        assert values[name] == pytest.approx(truth[name], abs=0.051)  # THD: 0.1 % steps


@pytest.mark.parametrize("fault, error", [("silent", rtu.NoResponse), ("garbled", rtu.BadFrame)])
def test_faulty_device_raises_a_clear_error(run, fault, error):
    driver = meter()
    twin = ElectricTwin(driver)
    twin.fault = fault

    async def go():
        async with rtu_bus([twin], timeout=0.1) as (bus, sim):
            with pytest.raises(error):
                await bus.read_registers(5, 3, 0xC558, 2)

    run(go())


def test_paced_line_takes_the_wire_time(run):
    """A paced reply of 125 registers at 9600 8N1 cannot arrive before its bytes could cross."""
    driver = meter(model="0 146 69")
    twin = ElectricTwin(driver)

    async def go():
        async with rtu_bus([twin], paced=True, baudrate=9600, parity="N", timeout=1) as (bus, sim):
            t = time.monotonic()
            await bus.read_registers(5, 3, 0xCA00, 90)
            return time.monotonic() - t

    elapsed = run(go())
    wire = (8 + 3.5 + 5 + 180) * 10 / 9600
    assert elapsed >= wire * 0.98
