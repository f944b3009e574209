"""EMS CX3, breakers, power supervision, Green'Up stations and WSMEASURE virtual devices:
each driver against its twin, over a real pty where the bus matters."""

import struct
import time

import pytest
from conftest import read_device, rtu_bus

from wsmeasure.drivers import breakers, ems_cx3, greenup, supervision, wsmeasure_virtual
from wsmeasure.drivers.base import DeviceSpec, expand
from wsmeasure.drivers.quantities import QUANTITIES
from wsmeasure.drivers.registers import MAX_READ, plan_reads
from wsmeasure.drivers.state_twins import SharedUnit
from wsmeasure.rtu import DeviceException

T0 = 1_700_000_000.0  # a Tuesday, early afternoon in Europe: a frozen clock keeps values put
FAMILIES = {f.key: f for m in (ems_cx3, breakers, supervision, greenup, wsmeasure_virtual)
            for f in getattr(m, "FAMILIES", (m.FAMILY,))}


def driver(key, model, address=5, **kw):
    fam = FAMILIES[key]
    params = kw.pop("params", {})
    if fam.key == "wsmeasure_virtual":
        params.setdefault("remote_id", 10001)
    return fam.driver_for(DeviceSpec(1, key, model, address, params=params, **kw))


def twin(drv, seed=1, now=T0, **kw):
    return drv.family.twin(drv, seed=seed, clock=lambda: now, **kw)


def all_rows(drv):
    return drv.measure_rows() + drv.status_rows()


def expected(drv, tw, rows, now=T0):
    """What the driver must decode: the twin's truth through the rows' own encoding."""
    truth = tw.values(now)
    return {r.name: r.decode(r.encode(truth[r.name])) for r in rows if r.name in truth}


async def write(bus, unit, address, *values):
    """Function 6 for one word, 16 for several: what the web pages and the DLM will send."""
    if len(values) == 1:
        return await bus.request(unit, struct.pack(">BHH", 6, address, values[0]))
    return await bus.request(unit, struct.pack(f">BHHB{len(values)}H", 16, address, len(values),
                                               2 * len(values), *values))


# -- catalogue ------------------------------------------------------------------------------------
ALL_MODELS = [(k, m) for k, f in FAMILIES.items() for m in f.models]


@pytest.mark.parametrize("key, model", ALL_MODELS)
def test_every_model_reads_within_limits_and_its_twin_answers(key, model):
    drv = driver(key, model, side="A" if FAMILIES[key].addressing == "side" else None)
    tw = twin(drv)
    rows = all_rows(drv)
    assert rows, "a model with nothing to read"
    assert {r.name for r in rows} <= set(FAMILIES[key].quantities)
    words = {}
    for r in drv.reads(rows):
        assert 1 <= r.count <= MAX_READ and r.fn in (3, 4)
        answer = tw.read(r.fn, r.address, r.count)
        assert isinstance(answer, list) and len(answer) == r.count, (r, answer)
        words.update(((r.fn, r.address + i), w) for i, w in enumerate(answer))
    assert set(drv.decode(rows, words)) >= {r.name for r in rows} - {"I1"}  # single-phase: I1..I3


@pytest.mark.parametrize("key", FAMILIES)
def test_quantities_are_known(key):
    assert set(FAMILIES[key].quantities) <= set(QUANTITIES)


def test_flags_follow_the_manual():
    f = FAMILIES
    assert all(f[k].alerts for k in ("ems_cx3", "ems_cx3_state", "dpx3", "dmx3"))  # 7.16.1.4
    assert not f["supervision"].alerts and f["supervision"].counter is None
    assert all(f[k].fields == ("supply",) for k in ("ems_cx3", "dpx3", "dmx3", "dx3"))
    assert all(f[k].greenup and f[k].fields == ("phase",) for k in ("greenup", "greenup_legacy"))
    assert (f["ems_cx3"].addressing, f["greenup"].addressing, f["greenup_legacy"].addressing,
            f["wsmeasure_virtual"].addressing) == ("ems", "modbus", "side", "virtual")
    assert not any(fam.verified for fam in f.values())


# The manual's own lines (section 5 and the two-sides procedure), expanded as it writes them.
MANUAL_MODELS = {
    "ems_cx3": "4 149 18/19 4 149 20/21 4 149 23 4 149 22/24/25/27",
    "ems_cx3_state": "4 149 29 4 149 30 4 149 31 4 149 32",
    "dx3": "4 106 57/58 4 106 59",
    "supervision": "0 261 36 0 288 12",
    "greenup": "0 590 00/01/05/06 0 580 00/01 0 590 03/04/08/09/10/11/12/13/30/35/41/42/43/44/70/71 "
               "0 580 03/04/10/11/12/13/30/35/41/42/43/44 0 590 02/07 0 580 02 0 590 14/15/48/49 "
               "0 580 14/15/48/49",
    "greenup_legacy": "0 590 31/33/37/76/91/93 0 590 32/34/38/77/78 0 590 61/63 0 590 40/57/58 "
                      "0 590 45/94/95 0 590 96/97 0 590 46/64/65 0 590 47/66/67",
}


def _manual(numbers):
    words = numbers.split()
    return {n for i in range(0, len(words), 3) for n in expand(" ".join(words[i:i + 3]))}


@pytest.mark.parametrize("key, numbers", MANUAL_MODELS.items())
def test_model_tables_are_the_manuals_lists(key, numbers):
    assert set(FAMILIES[key].models) == _manual(numbers)


def test_two_sides_and_energy_tags_follow_the_manual():
    legacy = FAMILIES["greenup_legacy"].models
    assert {k for k, m in legacy.items() if "two_sides" in m.tags} == _manual(
        "0 590 32/34/38/40/47/57/58/66/67/77/78/96/97")  # 7.16.1, two-sides procedure
    premium = FAMILIES["greenup"].models
    assert {k for k, m in premium.items() if "double" in m.tags} == _manual("0 590 11/13/15/42/44/49")
    assert all("energy" in m.tags for m in premium.values())          # all on the release list
    assert not any("energy" in m.tags for m in legacy.values())
    assert {k.replace(" ", "") for k in premium} == greenup.ENERGY_SUPPORT


# -- decoding over the wire -----------------------------------------------------------------------
REPRESENTATIVES = [
    ("ems_cx3", "4 149 20"), ("ems_cx3", "4 149 18"), ("ems_cx3_state", "4 149 30"),
    ("dpx3", "4 23 890"), ("dpx3", "DPX3 630 electronic"), ("dmx3", "MP4.10"), ("dx3", "4 106 59"),
    ("supervision", "0 261 36"), ("greenup", "0 590 48"), ("greenup_legacy", "0 590 45"),
    ("wsmeasure_virtual", "WSMEASURE"),
]


@pytest.mark.parametrize("key, model", REPRESENTATIVES)
def test_driver_decodes_its_twin_over_a_pty(run, key, model):
    drv = driver(key, model)
    tw = twin(drv, seed=3)
    rows = all_rows(drv)

    async def go():
        async with rtu_bus([tw]) as (bus, sim):
            return await read_device(bus, drv, rows), bus.stats.transactions

    values, transactions = run(go())
    assert transactions == len(drv.reads(rows))
    truth = expected(drv, tw, rows)
    assert set(values) == {r.name for r in rows}
    assert {k: values[k] for k in truth} == truth  # rows the twin leaves out read as 0 (alarm)
    assert all(isinstance(values[k], int) for k in ("Ea+", "Ea-") if k in values)  # exact counters


def test_ems_cx3_meter_values_are_plausible(run):
    drv = driver("ems_cx3", "4 149 21")
    tw = twin(drv, seed=4, peak_w=12000)

    async def go():
        async with rtu_bus([tw]) as (bus, sim):
            return await read_device(bus, drv)

    v = run(go())
    assert 220 < v["V1"] < 240 and 49.9 < v["F"] < 50.1 and 380 < v["U12"] < 420
    assert v["P"] == pytest.approx(v["P1"] + v["P2"] + v["P3"], abs=3)
    assert 0 < v["P"] <= 12000 * 1.1 and 0.85 < v["PF"] <= 1
    assert v["Ea+"] == int(tw.energy["Ea+"]) and v["Ea-"] == 0


# -- supply direction -----------------------------------------------------------------------------
SUPPLY_CASES = [("ems_cx3", "4 149 20"), ("ems_cx3", "4 149 19"), ("dpx3", "DPX3 1600 electronic with measurement"),
                ("dmx3", "0 288 04"), ("dx3", "4 106 59"), ("dx3", "4 106 58")]


@pytest.mark.parametrize("key, model", SUPPLY_CASES)
def test_downstream_inverts_powers_and_swaps_energies(run, key, model):
    up = driver(key, model)
    down = driver(key, model, params={"supply": "downstream"})
    tw = twin(up, seed=5)        # mounted the normal way
    tw.energy["Ea-"] = 1234.0    # some export, so that the swap shows

    async def go():
        async with rtu_bus([tw]) as (bus, sim):
            return await read_device(bus, up), await read_device(bus, down)

    a, b = run(go())
    assert set(a) == set(b)
    for name in a:
        if name in ems_cx3.SIGNED:
            assert b[name] == -a[name]
        elif name in ("Ea+", "Ea-", "Er+", "Er-"):
            twin_name = {"Ea+": "Ea-", "Ea-": "Ea+", "Er+": "Er-", "Er-": "Er+"}[name]
            assert b[name] == a[twin_name]
        else:
            assert b[name] == a[name], name  # currents, voltages, PF, S: no direction
    assert b["Ea+"] > 0 and b["Ea-"] > b["Ea+"]  # what it counted as export is now its consumption
    if "P" in a:
        assert b["P"] < 0 < a["P"]


def test_downstream_device_mounted_reversed_reads_as_a_consumer(run):
    down = driver("ems_cx3", "4 149 23", params={"supply": "downstream"})
    tw = twin(down, seed=6)  # the twin of a downstream device is mounted against its sensor
    assert tw.reversed_mount and tw.values(T0)["P"] < 0  # what the module itself sees

    async def go():
        async with rtu_bus([tw]) as (bus, sim):
            return await read_device(bus, down)

    v = run(go())
    assert v["P"] > 0 and v["Ea+"] == int(tw.energy["Ea+"]) and v["Ea-"] == 0


def test_supply_must_be_upstream_or_downstream():
    with pytest.raises(ValueError, match="supply"):
        driver("dpx3", "4 23 890", params={"supply": "sideways"})


# -- breaker states -------------------------------------------------------------------------------
BREAKER_MODELS = [("dpx3", "DPX3 250 electronic with measurement"), ("dpx3", "DPX3 250 thermal-magnetic with RCD"),
                  ("dmx3", "0 288 03"), ("dmx3", "0 288 01"), ("dx3", "4 106 57"), ("ems_cx3_state", "4 149 29")]


@pytest.mark.parametrize("state", [0, 1, 2], ids=["open", "closed", "tripped"])
@pytest.mark.parametrize("key, model", BREAKER_MODELS)
def test_breaker_states_decode(run, key, model, state):
    drv = driver(key, model)
    tw = twin(drv, seed=7)
    tw.forced["breaker"] = state

    async def go():
        async with rtu_bus([tw]) as (bus, sim):
            return await read_device(bus, drv, drv.status_rows()), await read_device(bus, drv)

    status, measures = run(go())
    assert status["breaker"] == state
    assert "breaker" not in measures  # states wait for the status poll time
    if "P" in measures:
        assert (measures["P"] > 0) == (state == 1)  # no current through an open breaker


def test_breaker_twin_is_mostly_closed_and_sometimes_not():
    tw = twin(driver("dpx3", "DPX3 630 electronic"), seed=8)
    seen = [tw.position(T0 + 900 * k) for k in range(2000)]
    assert seen.count(1) > 0.9 * len(seen)
    assert seen.count(0) and seen.count(2)


# -- commands -------------------------------------------------------------------------------------
def test_supervision_output_write_is_reflected_and_checked(run):
    drv = driver("supervision", "0 261 36", address=9)
    tw = twin(drv, seed=9)
    out2 = next(r for r in drv.status_rows() if r.name == "out2")
    in1 = next(r for r in drv.status_rows() if r.name == "in1")

    async def go():
        async with rtu_bus([tw]) as (bus, sim):
            before = await read_device(bus, drv, drv.status_rows())
            await write(bus, 9, out2.address, 1)
            after = await read_device(bus, drv, drv.status_rows())
            with pytest.raises(DeviceException) as bad_value:
                await write(bus, 9, out2.address, 7)
            with pytest.raises(DeviceException) as input_write:
                await write(bus, 9, in1.address, 1)  # an input register is not writable
            with pytest.raises(DeviceException) as absent:
                await write(bus, 9, supervision.OUTPUT_ROWS[5].address, 1)  # the device has 4 outputs
            return before, after, bad_value.value.code, input_write.value.code, absent.value.code

    before, after, *codes = run(go())
    assert before["out2"] == 0 and after["out2"] == 1
    assert {k: v for k, v in after.items() if k != "out2"} == {k: v for k, v in before.items() if k != "out2"}
    assert codes == [3, 2, 2]


@pytest.mark.parametrize("mode, on_time, times, states", [
    ("impulsive", 0, (1, 100, 10_000), (1, 1, 1)),        # ON time 0: maintained
    ("impulsive", 5, (1, 4.9, 5, 60), (1, 1, 0, 0)),
    ("blinking", 2, (0.5, 2.5, 4.5, 6.5), (1, 0, 1, 0)),
])
def test_supervision_output_modes(run, mode, on_time, times, states):
    drv = driver("supervision", "0 288 12", address=4)
    now = [T0]
    tw = supervision.SupervisionTwin(drv, seed=1, clock=lambda: now[0])
    config = [r for r in drv.command_rows() if r.name.startswith("out3.")]
    mode_code = {v: k for k, v in supervision.MODES.items()}[mode]

    async def go():
        async with rtu_bus([tw]) as (bus, sim):
            await write(bus, 4, config[0].address, 1, mode_code, on_time)  # NC, mode, ON time
            await write(bus, 4, supervision.OUTPUT_ROWS[2].address, 1)
            seen = []
            for t in times:
                now[0] = T0 + t
                seen.append((await read_device(bus, drv, drv.status_rows()))["out3"])
            return seen

    assert tuple(run(go())) == states


def test_ems_contactor_module_follows_its_command(run):
    drv = driver("ems_cx3_state", "4 149 31", address=23)
    tw = twin(drv)
    out1 = next(r for r in drv.command_rows() if r.name == "out1")

    async def go():
        async with rtu_bus([tw]) as (bus, sim):
            before = await read_device(bus, drv, drv.status_rows())
            await write(bus, 23, out1.address, 1)
            return before, await read_device(bus, drv, drv.status_rows())

    before, after = run(go())
    assert (before["out1"], before["in1"]) == (0, 0)
    assert (after["out1"], after["in1"]) == (1, 1)


# -- EMS CX3 addressing ---------------------------------------------------------------------------
def test_ems_addresses_parse_and_map():
    assert ems_cx3.parse_address("15") == (15, None)
    assert ems_cx3.parse_address("2-1") == (2, 1)
    local = driver("ems_cx3", "4 149 20", address=15)
    remote = driver("ems_cx3", "4 149 20", address=2, interface=1)
    assert (local.unit, ems_cx3.interface_unit(local.spec), ems_cx3.format_address(local.spec)) == (15, 10, "15")
    assert (remote.unit, ems_cx3.interface_unit(remote.spec), ems_cx3.format_address(remote.spec)) == (1, 1, "2-1")
    assert [r.address - 2 * ems_cx3.BLOCK for r in remote.measure_rows()] == [r.address for r in local.measure_rows()]
    with pytest.raises(ValueError):
        driver("ems_cx3", "4 149 20", address=31, interface=1)


def test_ems_remote_modules_share_their_interfaces_address(run):
    now = T0
    mods = [driver("ems_cx3", "4 149 21", address=m, interface=1) for m in (2, 3)]
    mods.append(driver("ems_cx3_state", "4 149 29", address=4, interface=1))
    twins = [twin(d, seed=10 + i) for i, d in enumerate(mods)]
    clock = ems_cx3.EmsInterfaceTwin(mods[0], clock=lambda: now, drift_s=-900)  # 15 min late
    twins[2].forced["breaker"] = 2
    bus_twin = SharedUnit(twins + [clock])

    async def go():
        async with rtu_bus([bus_twin]) as (bus, sim):
            values = [await read_device(bus, d, all_rows(d)) for d in mods]
            late = await bus.read_registers(1, 3, ems_cx3.CLOCK_ROWS[0].address, 6)
            await write(bus, 1, ems_cx3.CLOCK_ROWS[0].address, *time.localtime(now)[:6])
            with pytest.raises(DeviceException) as torn:
                await write(bus, 1, ems_cx3.CLOCK_ROWS[3].address, 12)  # one field alone
            return values, late, await bus.read_registers(1, 3, ems_cx3.CLOCK_ROWS[0].address, 6), torn.value.code

    (v2, v3, v4), late, set_clock, torn = run(go())
    assert v2 == expected(mods[0], twins[0], all_rows(mods[0])) | {"alarm": 0}
    assert v3 == expected(mods[1], twins[1], all_rows(mods[1])) | {"alarm": 0}
    assert v2["Ea+"] != v3["Ea+"]  # each module its own block
    assert v4["breaker"] == 2
    assert time.mktime((*late, 0, 0, -1)) == pytest.approx(now - 900, abs=1)
    assert list(set_clock) == list(time.localtime(now)[:6]) and torn == 3


# -- Green'Up -------------------------------------------------------------------------------------
def test_station_cycles_and_obeys_the_current_limit(run):
    drv = driver("greenup", "0 590 44", address=12, params={"phase": "L1"})
    now = [T0]
    tw = greenup.StationTwin(drv, seed=11, clock=lambda: now[0])
    arrive, leave, car = tw.session(T0)
    limit = next(r for r in drv.command_rows() if r.name == "current_limit")
    rows = all_rows(drv)

    async def at(bus, t):
        now[0] = t
        return await read_device(bus, drv, rows)

    async def go():
        async with rtu_bus([tw]) as (bus, sim):
            seen = [await at(bus, arrive - 300), await at(bus, arrive + 10), await at(bus, arrive + 120)]
            await write(bus, 12, limit.address, 10)
            seen.append(await at(bus, arrive + 180))
            await write(bus, 12, limit.address, 0)
            seen.append(await at(bus, arrive + 240))
            with pytest.raises(DeviceException) as refused:
                await write(bus, 12, limit.address, 3)  # below the 6 A a pilot signal can offer
            seen.append(await at(bus, leave + 1))
            return seen, refused.value.code

    (idle, plugged, charging, limited, suspended, gone), refused = run(go())
    assert [s["station"] for s in (idle, plugged, charging, limited, suspended, gone)] == [0, 1, 2, 2, 1, 0]
    assert idle["I1"] == 0 and plugged["I1"] == 0
    assert charging["I1"] == min(car, 32) and charging["P"] == 230 * charging["I1"]
    assert limited["current_limit"] == 10 and limited["I1"] == min(car, 10)
    assert suspended["I1"] == 0 and suspended["current_limit"] == 0
    assert charging["Ea+"] < limited["Ea+"] and refused == 3


def test_station_under_a_master_waits_for_its_grant(run):
    drv = driver("greenup", "0 590 14", address=13)
    now = [T0]
    tw = greenup.StationTwin(drv, seed=12, clock=lambda: now[0])
    arrive, leave, car = tw.session(T0)
    authorize = next(r for r in drv.command_rows() if r.name == "authorize")

    async def go():
        async with rtu_bus([tw]) as (bus, sim):
            now[0] = arrive + 10
            await write(bus, 13, authorize.address, 0)   # "Wait"
            now[0] = arrive + 600
            held = await read_device(bus, drv)
            state = await read_device(bus, drv, drv.status_rows())
            await write(bus, 13, authorize.address, 1)   # "Start"
            return held, state, await read_device(bus, drv), await read_device(bus, drv, drv.status_rows())

    held, state, granted, granted_state = run(go())
    assert state["station"] == 1 and held["I1"] == held["I2"] == held["I3"] == 0
    assert granted_state["station"] == 2 and granted_state["authorize"] == 1
    assert granted["I1"] == granted["I2"] == granted["I3"] == min(car, 32) and granted["P"] == 3 * 230 * granted["I1"]


@pytest.mark.parametrize("phase, name", [("L1", "I1"), ("L2", "I2"), ("L3", "I3")])
def test_single_phase_station_reports_the_phase_it_loads(phase, name):
    drv = driver("greenup", "0 590 00", params={"phase": phase})
    tw = twin(drv)
    words = {}
    for r in drv.reads(drv.measure_rows()):
        words.update(((r.fn, r.address + i), w) for i, w in enumerate(tw.read(r.fn, r.address, r.count)))
    values = drv.decode(drv.measure_rows(), words)
    assert name in values and not {"I1", "I2", "I3"} - {name} & set(values)


def test_two_sided_station_sides_read_their_own_blocks(run):
    a = driver("greenup_legacy", "0 590 47", address=7, side="A")
    b = driver("greenup_legacy", "0 590 47", address=7, side="B")
    ta, tb = twin(a, seed=21), twin(b, seed=22)
    ta.forced["station"], tb.forced["station"] = 2, 3
    limit_b = next(r for r in b.command_rows() if r.name == "current_limit")
    assert limit_b.address == greenup.SIDE_BLOCK["B"] + greenup.COMMAND_ROWS[0].address

    async def go():
        async with rtu_bus([SharedUnit([ta, tb])]) as (bus, sim):
            await write(bus, 7, limit_b.address, 8)
            return ([await read_device(bus, d, all_rows(d)) for d in (a, b)])

    va, vb = run(go())
    assert (va["station"], vb["station"]) == (2, 3)
    assert (va["current_limit"], vb["current_limit"]) == (32, 8)
    assert va == expected(a, ta, all_rows(a)) and vb == expected(b, tb, all_rows(b))
    assert "Ea+" not in va  # the old range measures no energy


@pytest.mark.parametrize("key, model, kw", [
    ("greenup_legacy", "0 590 45", {"side": "B"}),      # a one-side station has no side B
    ("greenup_legacy", "0 590 96", {"side": "C"}),
    ("greenup", "0 590 01", {"params": {"phase": "L4"}}),
])
def test_station_configuration_is_checked(key, model, kw):
    with pytest.raises(ValueError):
        driver(key, model, **kw)


# -- WSMEASURE virtual devices --------------------------------------------------------------------
def test_virtual_device_reads_a_64_bit_energy_exactly(run):
    big = 2**32 + 12345
    drv = driver("wsmeasure_virtual", "WSMEASURE", params={"remote_id": 10005})
    every = driver("wsmeasure_virtual", "WSMEASURE", params={"remote_id": wsmeasure_virtual.ALL})
    group = driver("wsmeasure_virtual", "WSMEASURE", params={"remote_id": 30001})
    box = twin(drv)
    box.devices[5] = float(big)
    box.loads[4] = (5,)

    async def go():
        async with rtu_bus([box]) as (bus, sim):
            values = [await read_device(bus, d) for d in (drv, every, group)]
            with pytest.raises(DeviceException) as unknown:
                await bus.read_registers(247, 3, 10077, 4)
            with pytest.raises(DeviceException) as short:
                await bus.read_registers(247, 3, 10005, 2)
            return values, unknown.value.code, short.value.code

    (device, total, grp), unknown, short = run(go())
    assert drv.unit == 247 and device == {"Ea+": big} and isinstance(device["Ea+"], int)
    assert total["Ea+"] == box.energy(29999) == sum(int(e) for e in box.devices.values())
    assert grp["Ea+"] == box.energy(30001) and (unknown, short) == (2, 2)


@pytest.mark.parametrize("remote_id", [0, 5, 10000, 40001, 20000])
def test_virtual_remote_id_is_checked(remote_id):
    with pytest.raises(ValueError):
        driver("wsmeasure_virtual", "WSMEASURE", params={"remote_id": remote_id})


def test_virtual_codes_are_never_merged_into_one_read():
    drivers = [driver("wsmeasure_virtual", "WSMEASURE", params={"remote_id": r}) for r in (10001, 10002, 10005)]
    rows = [r for d in drivers for r in d.measure_rows()]
    assert plan_reads(rows, 0, min(d.max_count for d in drivers)) == [(3, 10001, 4), (3, 10002, 4), (3, 10005, 4)]


def test_virtual_codes_round_trip():
    assert wsmeasure_virtual.code(wsmeasure_virtual.DEVICE, 5) == 10005
    assert wsmeasure_virtual.split(30012) == (wsmeasure_virtual.GROUP, 12)
    with pytest.raises(ValueError):
        wsmeasure_virtual.code(wsmeasure_virtual.LOAD, 9999)  # that code is "All"


# -- several devices on one address, as the virtual installation builds them ----------------------
@pytest.mark.parametrize("devices", [
    [("ems_cx3", "4 149 20", dict(address=1, interface=3)), ("ems_cx3_state", "4 149 32", dict(address=2, interface=3)),
     ("ems_cx3", "4 149 18", dict(address=30, interface=3))],
    [("greenup_legacy", "0 590 40", dict(address=3, side=side)) for side in "AB"],
    [("wsmeasure_virtual", "WSMEASURE", dict(params={"remote_id": r})) for r in (10001, 10042, 20003, 30007, 29999)],
], ids=["ems-remote", "two-sides", "slave-box"])
def test_for_drivers_builds_one_twin_per_address(run, devices):
    drivers = [driver(k, m, **kw) for k, m, kw in devices]
    tw = drivers[0].family.twin.for_drivers(drivers, seed=3, clock=lambda: T0)
    assert tw.unit == drivers[0].unit and all(d.unit == tw.unit for d in drivers)

    async def go():
        async with rtu_bus([tw]) as (bus, sim):
            return [await read_device(bus, d, all_rows(d)) for d in drivers]

    for d, values in zip(drivers, run(go())):
        assert set(values) >= {r.name for r in all_rows(d)} - {"I1"} and None not in values.values()
