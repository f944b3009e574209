"""Slave mode: unit 247 answers a master's WSMEASURE virtual devices from data.db."""

import struct

import pytest

from wsmeasure.aggregates import Members
from wsmeasure.drivers.base import DeviceSpec
from wsmeasure.drivers.catalogue import family
from wsmeasure.records import Counter, SlotRecord
from wsmeasure.slave import SlaveEnergies
from wsmeasure.store import Store

MEMBERS = Members(counters={1: "Ea+", 2: "Ea+", 3: "Ea+", 4: "water"}, excluded=frozenset({3}),
                  loads={7: [1, 3]}, groups={2: [2, 4]})


@pytest.fixture
def slave(tmp_path):
    store = Store(tmp_path, "Europe/Paris")
    big = 2 ** 32 + 5   # above 32 bits: the U64 must carry it exactly
    for i, ts in enumerate(range(1_700_000_000, 1_700_000_000 + 6 * 600, 600)):
        store.write_slot([SlotRecord(1, ts, 600, {"Ea+": Counter(big if i == 0 else 10, 0)}),
                          SlotRecord(2, ts, 600, {"Ea+": Counter(3, 0)}),
                          SlotRecord(3, ts, 600, {"Ea+": Counter(100, 0)}),
                          SlotRecord(4, ts, 600, {"water": Counter(50, 0)})])
    yield SlaveEnergies(store, lambda: MEMBERS), big
    store.close()


def read(slave, code, count=4, fn=3):
    reply = slave.answer(struct.pack(">BHH", fn, code, count))
    return struct.unpack(">Q", reply[2:])[0] if reply[0] == 3 else reply


@pytest.mark.parametrize("code, expected", [
    (10001, lambda big: big + 50),           # device 1
    (10002, lambda big: 18),                 # device 2
    (10003, lambda big: 600),                # excluded from totals, but its own energy still reads
    (20007, lambda big: big + 50),           # load 7: device 1 (device 3 is excluded)
    (30002, lambda big: 18),                 # group 2: device 2 (device 4 counts water, not Wh)
    (29999, lambda big: big + 50 + 18),      # all electrical loads, exclusions honoured
])
def test_codes_answer_their_energy(slave, code, expected):
    s, big = slave
    assert read(s, code) == expected(big)


@pytest.mark.parametrize("code, count, fn, reply", [
    (10004, 4, 3, bytes([0x83, 2])),   # a water meter has no active energy
    (10099, 4, 3, bytes([0x83, 2])),   # no such device
    (20008, 4, 3, bytes([0x83, 2])),   # no such load
    (10001, 2, 3, bytes([0x83, 2])),   # the value is 4 words
    (10001, 4, 4, bytes([0x84, 1])),   # holding registers only
    (9999, 4, 3, bytes([0x83, 2])),    # not a code
])
def test_refusals_are_modbus_exceptions(slave, code, count, fn, reply):
    s, _ = slave
    assert read(s, code, count, fn) == reply


def test_the_master_driver_decodes_what_the_slave_answers(slave):
    """Our own WSMEASURE virtual device reading our own slave answer: the two sides agree."""
    s, big = slave
    fam = family("wsmeasure_virtual")
    driver = fam.driver_for(DeviceSpec(9, fam.key, "WSMEASURE", 247, params={"remote_id": 10001}))
    rows = driver.measure_rows()
    (r,) = driver.reads(rows)
    reply = s.answer(struct.pack(">BHH", r.fn, r.address, r.count))
    words = struct.unpack(">4H", reply[2:])
    values = driver.decode(rows, {(r.fn, r.address + i): w for i, w in enumerate(words)})
    assert values["Ea+"] == big + 50


def test_a_master_sets_the_frame_interval_of_this_box(tmp_path):
    store = Store(tmp_path, "UTC")
    kept = {"ms": 50}

    def frame_interval(ms):
        if ms is not None:
            kept["ms"] = ms
        return kept["ms"]

    s = SlaveEnergies(store, lambda: MEMBERS, frame_interval)
    assert s.answer(struct.pack(">BHH", 6, 50000, 200)) == struct.pack(">BHH", 6, 50000, 200)
    assert kept["ms"] == 200
    assert s.answer(struct.pack(">BHH", 3, 50000, 1)) == bytes([3, 2, 0, 200])
    assert s.answer(struct.pack(">BHH", 6, 50000, 5000)) == bytes([0x86, 3]) and kept["ms"] == 200
    assert s.answer(struct.pack(">BHH", 6, 10001, 1)) == bytes([0x86, 2])   # energies are read-only
    store.close()
