"""EMDX3 energy counters, pulse counters on concentrators and generic meters, each read over a
real pseudo-terminal from its simulated twin."""

import math
import struct
import time

import pytest
from conftest import read_device, rtu_bus

from wsmeasure.drivers import emdx3_counter, generic, pulse
from wsmeasure.drivers.base import PULSE, DeviceSpec
from wsmeasure.drivers.catalogue import find_model
from wsmeasure.drivers.counter_twins import GenericTwin, PulseTwin
from wsmeasure.drivers.registers import MAX_READ, U64, plan_reads
from wsmeasure.drivers.twins import ElectricTwin
from wsmeasure.rtu import DeviceException

T0 = time.mktime((2024, 1, 17, 14, 0, 0, 0, 0, -1))  # a Wednesday, 14:00 local: peak load
COUNTER = emdx3_counter.FAMILY
PULSE_FAMILIES = {f.key: f for f in pulse.FAMILIES}
WATER, GAS, ELEC = PULSE_FAMILIES["pulse_water"], PULSE_FAMILIES["pulse_gas"], PULSE_FAMILIES["pulse_electricity"]


def frozen():
    return lambda: T0  # a frozen clock: values stay put between the read and the truth


def counter(model, unit=5):
    return COUNTER.driver_for(DeviceSpec(1, COUNTER.key, model, unit))


def pulse_device(fam, position, concentrator, unit=9, model=None):
    model = model or next(iter(fam.models))
    return fam.driver_for(DeviceSpec(position, fam.key, model, unit, position, params={"concentrator": concentrator}))


def generic_meter(unit=3, **params):
    return generic.FAMILY.driver_for(DeviceSpec(1, "generic", generic.MODEL, unit, params=params))


async def read_group(bus, drivers):
    """Devices sharing one address, read as the poller does: one plan over the union of rows."""
    rows = [r for d in drivers for r in d.measure_rows()]
    plan = plan_reads(rows, min(d.max_gap for d in drivers))
    words = {}
    for r in plan:
        for i, w in enumerate(await bus.read_registers(drivers[0].unit, r.fn, r.address, r.count)):
            words[r.fn, r.address + i] = w
    return plan, [d.decode(d.measure_rows(), words) for d in drivers]


def assert_reads_valid(driver, twin, most):
    reads = driver.reads(driver.measure_rows())
    assert 1 <= len(reads) <= most
    for r in reads:
        assert r.count <= MAX_READ
        answer = twin.read(r.fn, r.address, r.count)
        assert isinstance(answer, list) and len(answer) == r.count, (r, answer)


# -- EMDX3 energy counters --------------------------------------------------------------------

PULSE_INPUT_COUNTERS = {"4 120 81", "4 120 91", "4 120 41"}


def test_counter_table_follows_the_manual():
    models = COUNTER.models
    assert len(models) == 17 and COUNTER.verified is False and COUNTER.addressing == "modbus"
    for cat_no, m in models.items():
        assert len(m.tags & {"single_phase", "three_phase"}) == 1, cat_no
        assert ("mid" in m.tags) == ("MID" in m.label), cat_no
    assert {c for c, m in models.items() if m.inputs} == PULSE_INPUT_COUNTERS
    assert all(models[c].inputs == 1 and "pulse_input" in models[c].tags for c in PULSE_INPUT_COUNTERS)
    assert {c for c, m in models.items() if "single_phase" in m.tags} == {
        "0 046 77", "4 120 68", "0 046 79", "4 120 81", "4 120 83"}


@pytest.mark.parametrize("model", list(COUNTER.models))
def test_every_counter_model_reads_its_twin_over_rtu(run, model):
    driver = counter(model)
    twin = ElectricTwin(driver, seed=7, clock=frozen())
    assert_reads_valid(driver, twin, most=2)  # measures, energies

    async def go():
        async with rtu_bus([twin]) as (bus, sim):
            return await read_device(bus, driver), bus.stats.transactions

    values, transactions = run(go())
    truth = twin.values(T0)
    assert transactions == 2
    for name in ("Ea+", "Ea-", "Er+", "Er-"):
        assert values[name] == int(truth[name]) and isinstance(values[name], int)
    for name in ("V1", "I1", "F", "PF1"):
        assert values[name] == pytest.approx(truth[name], abs=0.01)
    assert values["P"] == pytest.approx(truth["P"], abs=1)
    single = "single_phase" in COUNTER.models[model].tags
    phase23 = {"V2", "V3", "I2", "I3", "P2", "P3", "U12", "In"}
    if single:  # only phase 1 exists on a single-phase counter
        assert not phase23 & set(values)
        assert values["P"] == pytest.approx(values["P1"], abs=1)
    else:
        assert phase23 <= set(values)
        assert values["U12"] == pytest.approx(truth["U12"], abs=0.01)


@pytest.mark.parametrize("wh", [2**24 + 1, 2**32 + 12_345, 10**15 + 7])
def test_counter_energy_stays_exact_far_above_float32(run, wh):
    driver = counter("4 120 74")
    twin = ElectricTwin(driver, seed=1, clock=frozen())
    twin.energy["Ea+"] = float(wh)

    async def go():
        async with rtu_bus([twin]) as (bus, sim):
            return await read_device(bus, driver, [r for r in driver.measure_rows() if r.name == "Ea+"])

    assert run(go()) == {"Ea+": wh}
    assert struct.unpack(">f", struct.pack(">f", wh))[0] != wh  # what a float32 counter would lose


# -- pulse counters ---------------------------------------------------------------------------

def test_pulse_families_follow_the_manual():
    assert [f.key for f in pulse.FAMILIES] == ["pulse_electricity", "pulse_water", "pulse_gas", "pulse_concentrator"]
    for fam in (ELEC, WATER, GAS):
        assert fam.addressing == PULSE and fam.fields == ("concentrator",) and fam.quantities == (fam.counter,)
    assert (ELEC.counter, WATER.counter, GAS.counter) == ("Ea+", "water", "gas")
    assert (ELEC.load, WATER.load, GAS.load) == (None, "water", "gas")
    assert (len(ELEC.models), len(WATER.models), len(GAS.models)) == (15, 1, 1)
    assert {"0 046 70", "0 046 72", "0 046 81", "4 120 42"} <= set(ELEC.models)
    conc = PULSE_FAMILIES["pulse_concentrator"]
    assert conc.quantities == () and conc.counter is None and "not a device" in conc.label
    assert {c: m.inputs for c, m in conc.models.items()} == {"0 046 87": 7, "4 120 65": 7, "4 149 26": 5}


def test_every_host_has_an_index_map():
    assert set(pulse.INDEX_MAPS) == set(pulse.HOSTS)
    assert {c for c in pulse.HOSTS if c in COUNTER.models} == PULSE_INPUT_COUNTERS


@pytest.mark.parametrize("host, position, fn, address", [
    ("0 046 87", 1, 3, 0x9100),
    ("0 046 87", 7, 3, 0x9100 + 6 * 0x80),
    ("004687",   2, 3, 0x9180),          # the number as typed, without spaces
    ("4 120 65", 3, 3, 0x1008),
    ("4 149 26", 5, 4, 0x0110),          # EMS CX3: input registers
    ("4 120 91", 1, 3, 0x6010),          # just after Er- of the counter itself
])
def test_index_row_of_each_position(host, position, fn, address):
    (row,) = pulse_device(WATER, position, host).measure_rows()
    assert (row.fn, row.address, row.fmt, row.name) == (fn, address, U64, "water")


@pytest.mark.parametrize("fam", [ELEC, WATER, GAS], ids=lambda f: f.key)
def test_every_pulse_model_host_and_position_reads_validly(fam):
    for model in fam.models:
        for host, hm in pulse.HOSTS.items():
            for position in range(1, hm.inputs + 1):
                driver = pulse_device(fam, position, host, model=model)
                assert_reads_valid(driver, PulseTwin([driver], clock=frozen()), most=1)


@pytest.mark.parametrize("host, position", [
    ("0 046 99", 1),      # not a concentrator
    ("0 146 68", 1),      # a meter without pulse input
    ("0 046 87", 0),
    ("0 046 87", 8),      # 7 inputs
    ("4 120 81", 2),      # a counter has one input
    ("4 149 26", None),
    (None, 1),
])
def test_bad_wiring_is_refused_when_the_driver_is_built(host, position):
    with pytest.raises(ValueError):
        pulse_device(GAS, position, host)


@pytest.mark.parametrize("host, positions, reads", [
    ("4 149 26", (1, 2, 3), 1),
    ("4 149 26", (1, 3, 5), 1),     # idle inputs between are read through
    ("4 120 65", (2, 3, 4), 1),
    ("4 120 65", (1, 7), 2),        # too far apart: two short reads beat reading five idle inputs
    ("0 046 87", (1, 2, 3), 3),     # 128-word groups: never two inputs in one read
])
def test_inputs_of_one_concentrator_read_together(run, host, positions, reads):
    kinds = [ELEC, WATER, GAS]
    drivers = [pulse_device(kinds[i % 3], p, host) for i, p in enumerate(positions)]
    twin = PulseTwin(drivers, seed=4, clock=frozen())

    async def go():
        async with rtu_bus([twin]) as (bus, sim):
            plan, values = await read_group(bus, drivers)
            return plan, values, bus.stats.transactions

    plan, values, transactions = run(go())
    assert len(plan) == transactions == reads
    for driver, got in zip(drivers, values):
        expected = twin.inputs[driver.spec.position].index()
        assert got == {driver.family.counter: expected}
        assert isinstance(expected, int) and expected > 0
    gas = [v["gas"] for v in values if "gas" in v]
    assert all(g % 10 == 0 for g in gas)  # whole pulses of 10 dm3


def test_counter_with_pulse_input_is_one_address(run):
    """4 120 91 at address 12 with a water meter on its input: one twin, two reads in all."""
    meter = counter("4 120 91", unit=12)
    water = pulse_device(WATER, 1, "4 120 91", unit=12)
    twin = PulseTwin([water], seed=5, clock=frozen(), host=ElectricTwin(meter, seed=5, clock=frozen()))

    async def go():
        async with rtu_bus([twin]) as (bus, sim):
            return await read_group(bus, [meter, water])

    plan, (mv, wv) = run(go())
    assert len(plan) == 2  # energies and the pulse index in one read
    truth = twin.values(T0)
    assert mv["Ea+"] == int(truth["Ea+"]) and mv["V3"] == pytest.approx(truth["V3"], abs=0.01)
    assert wv == {"water": twin.inputs[1].index()}


@pytest.mark.parametrize("counter_first", [True, False])
def test_one_twin_per_address_whatever_the_order(counter_first):
    """The virtual installation asks the first device's family for the address's twin."""
    meter = counter("4 120 41", unit=3)
    gas = pulse_device(GAS, 1, "4 120 41", unit=3)
    drivers = [meter, gas] if counter_first else [gas, meter]
    twin = drivers[0].family.twin.for_drivers(drivers, seed=3, clock=frozen())
    assert isinstance(twin, PulseTwin) and twin.unit == 3
    assert set(twin.inputs) == {1} and twin.inputs[1].kind == "gas"
    assert "Ea+" in twin.values(T0)
    lone = COUNTER.twin.for_drivers([counter("4 120 74", unit=4)], seed=4, clock=frozen())
    assert isinstance(lone, ElectricTwin) and not isinstance(lone, PulseTwin)
    with pytest.raises(ValueError):
        COUNTER.twin.for_drivers([counter("4 120 74", unit=4), counter("4 120 75", unit=4)])


@pytest.mark.parametrize("total", [2**24 + 3, 2**32 + 7])
def test_pulse_index_exact_above_32_bits(run, total):
    driver = pulse_device(WATER, 4, "0 046 87")
    twin = PulseTwin([driver], clock=frozen())
    twin.inputs[4].total = float(total)

    async def go():
        async with rtu_bus([twin]) as (bus, sim):
            return await read_device(bus, driver)

    assert run(go()) == {"water": total}


def test_pulse_twin_refuses_a_mixed_address():
    a = pulse_device(WATER, 1, "0 046 87", unit=9)
    with pytest.raises(ValueError):
        PulseTwin([a, pulse_device(GAS, 1, "0 046 87", unit=9)])    # same input twice
    with pytest.raises(ValueError):
        PulseTwin([a, pulse_device(GAS, 2, "0 046 87", unit=10)])   # two addresses
    with pytest.raises(ValueError):
        PulseTwin([a, pulse_device(GAS, 2, "4 120 65", unit=9)])    # two concentrators


def test_pulse_flows_follow_the_day_and_the_season():
    drivers = [pulse_device(f, p, "4 120 65") for f, p in ((ELEC, 1), (WATER, 2), (GAS, 3))]
    twin = PulseTwin(drivers, seed=2, clock=frozen())
    night = time.mktime((2024, 1, 17, 3, 0, 0, 0, 0, -1))
    summer = time.mktime((2024, 7, 17, 14, 0, 0, 0, 0, -1))
    for p in (1, 2, 3):
        assert twin.rate(p, night) < twin.rate(p, T0)
    assert twin.rate(3, summer) < twin.rate(3, T0) / 3  # no heating in July
    assert 20 <= twin.rate(2, night) and twin.rate(2, T0) <= 1_500     # dm3/h: a building, not a city
    assert 100 <= twin.rate(3, night) and twin.rate(3, T0) <= 7_000     # dm3/h: 1..70 kW of gas
    # a day integrates to plausible daily volumes (whole pulses only)
    start = {p: twin.inputs[p].index() for p in (1, 2, 3)}
    for minute in range(24 * 60):
        twin.integrate(night + 60 * minute, 60)
    used = {p: twin.inputs[p].index() - start[p] for p in (1, 2, 3)}
    assert 500 <= used[2] <= 20_000 and 2_000 <= used[3] <= 120_000 and used[3] % 10 == 0


def test_catalogue_knows_every_pulse_family_and_concentrator():
    for cat_no, key in (("0 046 87", "pulse_concentrator"), ("4 149 26", "pulse_concentrator"),
                        ("WATER", "pulse_water"), ("GAS", "pulse_gas"), ("0 046 81", "pulse_electricity"),
                        ("4 120 81", "emdx3_counter"), ("GENERIC", "generic")):
        fam, model = find_model(cat_no)
        assert fam.key == key and model.cat_no == cat_no


# -- generic Modbus meters --------------------------------------------------------------------

THIRD_PARTY = [
    # meter                  fn  register  words  encoding  word order     multiplier (to Wh)
    ("Eastron SDM630",       4,  0x0048,   2,     "F32",    "high_first",  1000),    # kWh
    ("Carlo Gavazzi EM24",   3,  0x0034,   2,     "S32",    "low_first",   100),     # 0.1 kWh
    ("Socomec Countis E3x",  3,  0xC652,   2,     "U32",    "high_first",  1000),    # kWh
    ("a U64 Wh counter",     3,  0x1000,   4,     "U64",    "high_first",  1),
]
ENERGIES = [1_234_567.8, 2**24 + 0.5, 2**32 + 9.25]


def params(fn, register, words, encoding, order, multiplier):
    return dict(fn=fn, register=register, words=words, encoding=encoding, word_order=order, multiplier=multiplier)


def expected_wh(wh, encoding, multiplier):
    """What the meter shows, independently of the driver: a float32 of kWh, or whole units."""
    if encoding == "F32":
        return round(struct.unpack(">f", struct.pack(">f", wh / multiplier))[0] * multiplier)
    return math.floor(wh / multiplier) * multiplier


@pytest.mark.parametrize("wh", ENERGIES)
@pytest.mark.parametrize("meter, fn, register, words, encoding, order, multiplier", THIRD_PARTY,
                         ids=[row[0] for row in THIRD_PARTY])
def test_generic_meter_reads_third_party_energy(run, meter, fn, register, words, encoding, order, multiplier, wh):
    driver = generic_meter(**params(fn, register, words, encoding, order, multiplier))
    twin = GenericTwin(driver, seed=1, clock=frozen())
    twin.energy["Ea+"] = wh
    assert_reads_valid(driver, twin, most=1)

    async def go():
        async with rtu_bus([twin]) as (bus, sim):
            return await read_device(bus, driver)

    values = run(go())
    assert values == {"Ea+": expected_wh(wh, encoding, multiplier)}
    assert isinstance(values["Ea+"], int)
    if encoding == "U64":
        assert values["Ea+"] == int(wh)  # Wh exact far above 32 bits


def test_word_order_matters(run):
    """An EM24 (low word first) read as high word first gives another, wrong value."""
    em24 = params(3, 0x0034, 2, "S32", "low_first", 100)
    right, wrong = generic_meter(**em24), generic_meter(**{**em24, "word_order": "high_first"})
    twin = GenericTwin(right, seed=1, clock=frozen())
    twin.energy["Ea+"] = 123_456_789.0  # 1 234 567 units of 0.1 kWh = 0x0012D687

    async def go():
        async with rtu_bus([twin]) as (bus, sim):
            return await read_device(bus, right), await read_device(bus, wrong)

    good, bad = run(go())
    assert good == {"Ea+": 123_456_700}
    assert bad == {"Ea+": (0xD6870012 - 2**32) * 100}  # words swapped: a large negative INT32
    assert bad != good


def test_a_bad_register_answers_exception_2(run):
    sdm630 = params(4, 0x0048, 2, "F32", "high_first", 1000)
    twin = GenericTwin(generic_meter(**sdm630), seed=1, clock=frozen())
    misconfigured = [generic_meter(**{**sdm630, "register": 0x0050}),   # wrong register
                     generic_meter(**{**sdm630, "fn": 3})]               # holding instead of input

    async def go():
        codes = []
        async with rtu_bus([twin]) as (bus, sim):
            for driver in misconfigured:
                with pytest.raises(DeviceException) as exc:
                    await read_device(bus, driver)
                codes.append(exc.value.code)
        return codes

    assert run(go()) == [2, 2]


@pytest.mark.parametrize("given, fn, address, encoding, scale, low_first", [
    (dict(register=0xC652, words=2, multiplier=1000), 3, 0xC652, "U32", 1000, False),   # the manual's 4 fields
    (dict(fn=4, register="0048", words=2, multiplier=1000, encoding="F32"), 4, 0x48, "F32", 1000, False),
    (dict(register="0xC652", words=4, multiplier="1"), 3, 0xC652, "U64", 1, False),
    (dict(register=0x34, words=1, multiplier=0.1, word_order="low_first"), 3, 0x34, "U16", 0.1, True),
])
def test_generic_parameters(given, fn, address, encoding, scale, low_first):
    (row,) = generic_meter(**given).measure_rows()
    got = (row.fn, row.address, row.fmt.name, row.scale, row.low_word_first)
    assert got == (fn, address, encoding, scale, low_first)


@pytest.mark.parametrize("bad", [
    dict(fn=6, register=0x48, words=2),
    dict(register="zz", words=2),
    dict(register=0x10000, words=2),
    dict(register=0xFFFF, words=2),                  # runs past the last register
    dict(register=0x48, words=3),                    # no default encoding for 3 words
    dict(register=0x48, words=1, encoding="F32"),    # F32 is 2 words
    dict(register=0x48, words=2, encoding="BCD"),
    dict(register=0x48, words=2, multiplier=0),
    dict(register=0x48, words=2, word_order="middle"),
    dict(words=2),
])
def test_generic_parameters_refused(bad):
    with pytest.raises(ValueError):
        generic_meter(**bad)


def test_generic_16_bit_counter_wraps_like_the_real_one():
    driver = generic_meter(register=0x10, words=1, multiplier=1)
    twin = GenericTwin(driver, clock=frozen())
    twin.energy["Ea+"] = 70_000.0
    assert driver.decode(driver.measure_rows(), {(3, 0x10): twin.read(3, 0x10, 1)[0]}) == {"Ea+": 70_000 - 65_536}


def test_generic_family_is_other_devices():
    fam = generic.FAMILY
    assert (fam.key, fam.label, fam.fields, fam.quantities, fam.counter) == (
        "generic", "Other devices", ("generic",), ("Ea+",), "Ea+")
    assert [m.label for m in fam.models.values()] == ["Generic Modbus meter"]
