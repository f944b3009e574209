"""The poller: status, faults that do not stall the others, back-off, the Test action."""

import asyncio
import time

import pytest
from conftest import rtu_bus

from wsmeasure.drivers.base import DeviceSpec
from wsmeasure.drivers.catalogue import family
from wsmeasure.drivers.twins import ElectricTwin
from wsmeasure.poller import ERROR, ON, Poller
from wsmeasure.specs import LOCAL, GatewaySpec

TIMEOUT = 0.15


def installation(units=(1, 2, 3)):
    fam = family("emdx3_meter")
    specs = [DeviceSpec(u, fam.key, "0 146 68", u, name=f"meter {u}") for u in units]
    twins = {s.address: ElectricTwin(fam.driver_for(s), seed=s.address) for s in specs}
    return GatewaySpec(1, "Local", LOCAL, devices=specs), twins


async def cycle_time(poller):
    start = time.monotonic()
    await poller.cycle()
    return time.monotonic() - start


def test_all_devices_on_with_live_values(run):
    gateway, twins = installation()

    async def go():
        async with rtu_bus(twins.values(), timeout=TIMEOUT) as (bus, sim):
            poller = Poller(bus, gateway, interval=0)
            await poller.cycle()
            return poller.snapshot()

    snap = run(go())
    assert snap["status"] == ON
    assert [d["status"] for d in snap["devices"]] == [ON, ON, ON]
    for d in snap["devices"]:
        assert d["values"]["Ea+"] > 0 and 220 < d["values"]["V1"] < 240 and d["read_at"]


@pytest.mark.parametrize("fault", ["silent", "garbled", "slow"])
def test_a_faulty_device_costs_the_others_at_most_one_timeout(run, fault):
    gateway, twins = installation()

    async def go():
        async with rtu_bus(twins.values(), timeout=TIMEOUT) as (bus, sim):
            poller = Poller(bus, gateway, interval=0)
            healthy = await cycle_time(poller)
            twins[2].fault = fault
            twins[2].slow_s = 2 * TIMEOUT
            first = await cycle_time(poller)
            states_after_one = {i: s.status for i, s in poller.states.items()}
            second = await cycle_time(poller)
            states = {i: s.status for i, s in poller.states.items()}
            twins[2].fault = None
            await asyncio.sleep(2 * TIMEOUT)  # let a slow reply finish before it confuses the next request
            await poller.cycle()
            recovered = poller.states[2].status
            return healthy, first, second, states_after_one, states, recovered, poller.states[2]

    healthy, first, second, after_one, states, recovered, st2 = run(go())
    assert after_one == {1: ON, 2: ON, 3: ON}        # one failure is not yet an error
    assert states == {1: ON, 2: ERROR, 3: ON}
    assert second < healthy + TIMEOUT + 0.1          # at most the timeout (and some scheduling)
    assert recovered == ON and st2.error is None


def test_a_dead_device_backs_off(run):
    gateway, twins = installation()

    async def go():
        async with rtu_bus(twins.values(), timeout=0.05) as (bus, sim):
            poller = Poller(bus, gateway, interval=1.0)
            twins[3].fault = "silent"
            sim.trace = []
            for _ in range(8):
                await poller.cycle()
            return [f[0] for _, k, f in sim.trace if k == "rx"]

    units = run(go())
    assert units.count(1) == 8 * len(poller_reads())
    # a failed first read ends the slave's turn; tried in 3 cycles, then backed off for the rest
    assert units.count(3) == 3


def poller_reads():
    fam = family("emdx3_meter")
    d = fam.driver_for(DeviceSpec(1, fam.key, "0 146 68", 1))
    return d.reads(d.measure_rows())


def test_values_are_never_invented_for_a_device_that_never_answered(run):
    gateway, twins = installation()
    twins[2].fault = "silent"

    async def go():
        async with rtu_bus(twins.values(), timeout=0.05) as (bus, sim):
            poller = Poller(bus, gateway, interval=0)
            await poller.cycle()
            await poller.cycle()
            return poller.states[2]

    st = run(go())
    assert st.values == {} and st.read_at is None and st.status == ERROR


def test_test_action_gives_a_clear_verdict(run):
    gateway, twins = installation()
    twins[3].fault = "silent"
    fam = family("emdx3_meter")

    async def go():
        async with rtu_bus(twins.values(), timeout=0.05) as (bus, sim):
            poller = Poller(bus, gateway, interval=0)
            good = await poller.test_device(poller.drivers[1])
            dead = await poller.test_device(poller.drivers[3])
            wrong_model = await poller.test_device(fam.driver_for(DeviceSpec(9, fam.key, "0 146 69", 2)))
            gw = await poller.test_gateway()
            return good, dead, wrong_model, gw

    good, dead, wrong_model, gw = run(go())
    assert good["ok"] and good["values"]["F"] > 49
    assert not dead["ok"] and "no valid answer from address 3" in dead["message"]
    assert not wrong_model["ok"] and "exception 0x02" in wrong_model["message"]
    assert not gw["ok"] and gw["message"] == "2 of 3 addresses answer"
