"""The bus arbiter: one request on the wire, frame interval, interactive before polling."""

import asyncio

import pytest
from conftest import rtu_bus

from wsmeasure.bus import INTERACTIVE, POLL, BusOverloaded
from wsmeasure.drivers.base import DeviceSpec
from wsmeasure.drivers.catalogue import family
from wsmeasure.drivers.twins import ElectricTwin


def twins(*units):
    fam = family("emdx3_meter")
    return [ElectricTwin(fam.driver_for(DeviceSpec(u, fam.key, "0 146 68", u)), seed=u) for u in units]


def test_concurrent_requests_never_overlap_on_the_wire(run):
    """40 tasks at once: every reply matches its request, and the sim saw one frame at a time."""
    async def go():
        async with rtu_bus(twins(1, 2, 3, 4), frame_interval=0.002) as (bus, sim):
            sim.trace = []
            jobs = [bus.read_registers(1 + i % 4, 3, 0xC558 + 2 * (i % 3), 2, priority=i % 2 + 1) for i in range(40)]
            results = await asyncio.gather(*jobs)
            return results, sim.trace

    results, trace = run(go())
    assert all(len(r) == 2 for r in results)
    kinds = [k for _, k, _ in trace]
    assert kinds == ["rx", "tx"] * 40  # strictly alternating: never two requests outstanding
    for (_, _, req), (_, _, rep) in zip(trace[::2], trace[1::2]):
        assert req[0] == rep[0]


def test_frame_interval_is_the_quiet_time_after_each_reply(run):
    async def go():
        async with rtu_bus(twins(1), frame_interval=0.05) as (bus, sim):
            sim.trace = []
            await asyncio.gather(*(bus.read_registers(1, 3, 0xC558, 2) for _ in range(6)))
            return sim.trace

    trace = run(go())
    gaps = [trace[i + 1][0] - trace[i][0] for i in range(1, len(trace) - 1, 2)]  # reply -> next request
    assert len(gaps) == 5 and min(gaps) >= 0.05


def test_interactive_requests_overtake_queued_polling(run):
    async def go():
        async with rtu_bus(twins(1), frame_interval=0.01) as (bus, sim):
            order = []

            async def job(tag, prio):
                await bus.read_registers(1, 3, 0xC558, 2, priority=prio)
                order.append(tag)

            polls = [asyncio.create_task(job(f"poll{i}", POLL)) for i in range(6)]
            await asyncio.sleep(0)  # the polls are queued, the first one is on the wire
            test = asyncio.create_task(job("test", INTERACTIVE))
            await asyncio.gather(test, *polls)
            return order

    order = run(go())
    assert order.index("test") <= 1, order


def test_polling_is_not_starved_by_a_busy_interactive_client(run):
    async def go():
        async with rtu_bus(twins(1), frame_interval=0.0) as (bus, sim):
            bus.max_wait = 0.05
            stop = asyncio.Event()

            async def hog():
                while not stop.is_set():
                    await bus.read_registers(1, 3, 0xC558, 2, priority=INTERACTIVE)

            hogs = [asyncio.create_task(hog()) for _ in range(3)]
            await asyncio.sleep(0.01)
            await asyncio.wait_for(bus.read_registers(1, 3, 0xC558, 2, priority=POLL), 2)
            stop.set()
            await asyncio.gather(*hogs)

    run(go())


def test_a_full_queue_refuses_instead_of_growing(run):
    async def go():
        async with rtu_bus(twins(1)) as (bus, sim):
            bus.max_queue = 3
            jobs = [asyncio.create_task(bus.read_registers(1, 3, 0xC558, 2)) for _ in range(6)]
            results = await asyncio.gather(*jobs, return_exceptions=True)
            return results

    results = run(go())
    assert sum(isinstance(r, BusOverloaded) for r in results) == 3
    assert sum(isinstance(r, list) for r in results) == 3
