"""The installation rules of manual 7.16.1 / 7.16.2 on a real config.db.

Most tests use small test-only families registered in the catalogue (keys t_*, catalogue numbers
9 xxx xx) so that each rule is exercised through the Family attributes it reads; the last tests
run the real catalogue and its drivers.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import peewee
import pytest

from wsmeasure import groupings
from wsmeasure import installation as inst
from wsmeasure import settings
from wsmeasure.db import CONFIG_DB, open_config
from wsmeasure.drivers.base import EMS, MODBUS, PULSE, SIDE, VIRTUAL, DeviceSpec, Driver, Family, models
from wsmeasure.drivers.catalogue import families
from wsmeasure.installation import ConfigError
from wsmeasure.models import Device
from wsmeasure.specs import IP, LOCAL
from wsmeasure.specs import VIRTUAL as VIRTUAL_GATEWAY


def test_family(key, addressing, *rows, **kw) -> Family:
    return Family(key=key, label=key.replace("_", " "), addressing=addressing, models=models(*rows),
                  driver=Driver, quantities=("Ea+",), **kw)


test_family.__test__ = False   # a helper, not a test

TEST_FAMILIES = (
    test_family("t_meter", MODBUS, ("9 001 01", "Meter", "three_phase"),
                ("9 001 02", "Meter with THD", "three_phase thd"),
                ("9 001 03", "Meter with harmonics", "three_phase thd harmonics")),
    test_family("t_counter", MODBUS, ("9 002 01", "Counter with two pulse inputs", "pulse_input", 2)),
    test_family("t_host", MODBUS, ("9 003 01", "Concentrator, 4 inputs", "concentrator", 4), addable=False),
    test_family("t_pulse", PULSE, ("9 004 01", "Pulse counter", ""), fields=("concentrator",)),
    test_family("t_water", PULSE, ("9 005 01", "Water counter", ""), fields=("concentrator",), load="water"),
    test_family("t_station", SIDE, ("9 006 01", "Two sides, single-phase", "two_sides single_phase"),
                ("9 006 02", "Two sides, three-phase", "two_sides three_phase"),
                ("9 006 03", "One side, single-phase", "single_phase"),
                ("9 006 04", "One side, three-phase", "three_phase"), fields=("phase",), greenup=True),
    test_family("t_ems", EMS, ("9 007 01", "EMS module", ""), fields=("supply",), alerts=True),
    test_family("t_breaker", MODBUS, ("9 008 01", "Breaker", ""), fields=("supply",), alerts=True),
    test_family("t_generic", MODBUS, ("9 009 01", "Generic meter", ""), fields=("generic",)),
    test_family("t_remote", VIRTUAL, ("9 010 01", "Remote energy", "")),
)


@pytest.fixture(autouse=True)
def catalogue(monkeypatch):
    for fam in TEST_FAMILIES:
        monkeypatch.setitem(families(), fam.key, fam)


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


@pytest.fixture
def db(data_dir):
    db = open_config(data_dir)
    yield db
    db.close()


@pytest.fixture
def local(db):
    return inst.local_gateway(db).id


@pytest.fixture
def slave(db):
    """A virtual gateway: another wsmeasure box read through its unit 247."""
    return inst.add_gateway(db, "192.168.1.30", kind=VIRTUAL_GATEWAY).id


def on_gateway(db, which: str) -> int:
    if which == "local":
        return inst.local_gateway(db).id
    gw = next((g for g in inst.gateways(db) if g.kind == which), None)
    return gw.id if gw else inst.add_gateway(db, "192.168.1.30" if which == VIRTUAL_GATEWAY else "192.168.1.20",
                                             kind=which).id


def add(db, family, gateway="local", **kw):
    gw = gateway if isinstance(gateway, int) else on_gateway(db, VIRTUAL_GATEWAY if family == "t_remote" else gateway)
    return inst.add_device(db, gw, family, **kw)


def snapshot(db) -> list[str]:
    """Everything in config.db, the AUTOINCREMENT counters included."""
    return list(db.connection().iterdump())


def check_refused(call, field: str, fragment: str):
    with pytest.raises(ConfigError) as exc:
        call()
    assert exc.value.field == field, exc.value.message
    assert fragment in exc.value.message, exc.value.message
    return exc.value


# -- seeding ----------------------------------------------------------------------------------------
def test_a_new_box_has_the_local_gateway_and_the_builtin_loads(db):
    (gw,) = inst.gateways(db)
    assert (gw.kind, gw.name, gw.address, gw.enabled) == (LOCAL, "Local", "127.0.0.1", True)
    loads = groupings.loads(db)
    assert [(l.kind, l.key) for l in loads] == [
        ("predefined", "heating"), ("predefined", "air_conditioning"), ("predefined", "hot_water"),
        ("predefined", "lighting"), ("predefined", "ventilation"), ("predefined", "sockets"),
        ("others", "others"), ("utility", "water"), ("utility", "gas")]
    assert all(l.enabled for l in loads)
    assert db.execute_sql("PRAGMA user_version").fetchone()[0] >= 1


def test_seeding_is_idempotent_and_keeps_the_users_changes(data_dir):
    db = open_config(data_dir)
    inst.update_gateway(db, inst.local_gateway(db).id, name="Main board RS485")
    groupings.set_load_enabled(db, 1, False)
    before = snapshot(db)
    db.close()
    db = open_config(data_dir)
    assert snapshot(db) == before
    assert inst.local_gateway(db).name == "Main board RS485"
    db.close()


def test_processes_opening_a_new_config_at_once_seed_it_once(data_dir):
    code = f"from wsmeasure.db import open_config; open_config({str(data_dir)!r}).close()"
    procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(4)]
    assert [p.wait(60) for p in procs] == [0, 0, 0, 0]
    with sqlite3.connect(data_dir / CONFIG_DB) as conn:
        assert conn.execute("SELECT count(*) FROM gateway").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM load").fetchone() == (len(groupings.BUILTIN_LOADS),)


# -- gateways ---------------------------------------------------------------------------------------
def test_an_ip_gateway_defaults_its_name_to_its_address_and_port_to_502(db):
    gw = inst.add_gateway(db, " 192.168.1.20 ")
    assert (gw.kind, gw.name, gw.address, gw.port, gw.description) == (IP, "192.168.1.20", "192.168.1.20", 502, "")
    gw = inst.add_gateway(db, "192.168.1.21", name="Board 2", description="Basement", port="5020")
    assert (gw.name, gw.port, gw.description) == ("Board 2", 5020, "Basement")


def test_a_box_can_be_both_an_ip_gateway_and_a_slave(db):
    inst.add_gateway(db, "192.168.1.20", kind=IP)
    slave = inst.add_gateway(db, "192.168.1.20", kind=VIRTUAL_GATEWAY)
    assert slave.name == "192.168.1.20 (2)"   # the default name, kept unique


GATEWAY_REFUSALS = [
    # kwargs                                                   field           message names
    (dict(address=""),                                         "address",      "IP address of the gateway is required"),
    (dict(address="192.168.1"),                                "address",      "not an IPv4 address"),
    (dict(address="256.1.1.1"),                                "address",      "not an IPv4 address"),
    (dict(address="192.168.001.20"),                           "address",      "not an IPv4 address"),
    (dict(address="127.0.0.1"),                                "address",      '"Local" gateway'),
    (dict(address="0.0.0.0"),                                  "address",      "not the address of one host"),
    (dict(address="255.255.255.255"),                          "address",      "not the address of one host"),
    (dict(address="192.168.1.10"),                             "address",      'gateway "Board 1" already has'),
    (dict(address="192.168.1.20", name="board 1"),             "name",         'the name "board 1" is already used'),
    (dict(address="192.168.1.20", name="x" * 65),              "name",         "at most 64"),
    (dict(address="192.168.1.20", port=0),                     "port",         "from 1 to 65535"),
    (dict(address="192.168.1.20", port="70000"),               "port",         "from 1 to 65535"),
    (dict(address="192.168.1.20", port="http"),                "port",         "whole number"),
    (dict(address="192.168.1.20", kind="local"),               "kind",         "exists once"),
    (dict(address="192.168.1.20", kind="serial"),              "kind",         "choose ip, virtual"),
    (dict(address="192.168.1.20", panel_board=99),             "panel_board",  "no panel board"),
    (dict(address="192.168.1.20", panel_board="Old board"),    "panel_board",  '"Old board" is disabled'),
    (dict(address="192.168.1.20", description="a\nb"),         "description",  "one line"),
]


@pytest.mark.parametrize("kwargs, field, fragment", GATEWAY_REFUSALS)
def test_gateway_refusals(db, kwargs, field, fragment):
    inst.add_gateway(db, "192.168.1.10", name="Board 1")
    groupings.set_panel_board_enabled(db, groupings.add_panel_board(db, "Old board").id, False)
    before = snapshot(db)
    check_refused(lambda: inst.add_gateway(db, **kwargs), field, fragment)
    assert snapshot(db) == before


def test_the_local_gateway_is_renamed_and_switched_off_but_never_readdressed_or_deleted(db, local):
    assert inst.update_gateway(db, local, name="RS485", description="Panel A").name == "RS485"
    assert inst.update_gateway(db, local, address="127.0.0.1").address == "127.0.0.1"  # the same: fine
    check_refused(lambda: inst.update_gateway(db, local, address="192.168.1.5"), "address", "fixed (127.0.0.1)")
    check_refused(lambda: inst.update_gateway(db, local, port=5020), "port", "fixed (502)")
    check_refused(lambda: inst.delete_gateway(db, local), "gateway", "switch it OFF instead")
    assert inst.set_gateway_enabled(db, local, False).enabled is False
    assert inst.set_gateway_enabled(db, local, "on").enabled is True


def test_update_gateway_checks_like_add(db):
    a = inst.add_gateway(db, "192.168.1.20").id
    inst.add_gateway(db, "192.168.1.21", name="B")
    check_refused(lambda: inst.update_gateway(db, a, address="192.168.1.21"), "address", 'gateway "B" already')
    check_refused(lambda: inst.update_gateway(db, a, name="b"), "name", "already used")
    gw = inst.update_gateway(db, a, address="192.168.1.22", name="")
    assert (gw.address, gw.name) == ("192.168.1.22", "192.168.1.22")
    with pytest.raises(TypeError):
        inst.update_gateway(db, a, kind="virtual")


def test_a_gateway_is_deleted_only_without_devices(db):
    gw = inst.add_gateway(db, "192.168.1.20").id
    dev = add(db, "t_meter", gw, address=1).id
    check_refused(lambda: inst.delete_gateway(db, gw), "gateway", "still has 1 device(s)")
    inst.delete_device(db, dev)
    inst.delete_gateway(db, gw)
    assert [g.kind for g in inst.gateways(db)] == [LOCAL]


def test_a_gateway_is_in_at_most_one_panel_board(db, local):
    a, b = groupings.add_panel_board(db, "A").id, groupings.add_panel_board(db, "B").id
    assert inst.update_gateway(db, local, panel_board=a).panel_board_id == a
    assert inst.update_gateway(db, local, panel_board="B").panel_board_id == b   # by name; moved, not added
    groupings.set_panel_board_enabled(db, b, False)
    assert inst.update_gateway(db, local, description="kept in its disabled board").panel_board_id == b
    check_refused(lambda: inst.update_gateway(db, inst.add_gateway(db, "192.168.1.20").id, panel_board=b),
                  "panel_board", "disabled")
    groupings.erase_panel_board(db, b)
    assert inst.local_gateway(db).panel_board_id is None
    assert inst.update_gateway(db, local, panel_board="").panel_board_id is None


# -- EQ device ----------------------------------------------------------------------------------------
def test_one_eq_device_per_gateway_among_the_thd_models(db, local):
    plain = add(db, "t_meter", model="9 001 01", address=1).id
    thd = add(db, "t_meter", model="9 001 02", address=2).id
    harmonics = add(db, "t_meter", model="9 001 03", address=3).id
    other_gw = inst.add_gateway(db, "192.168.1.20").id
    elsewhere = add(db, "t_meter", other_gw, model="9 001 02", address=2).id

    check_refused(lambda: inst.set_eq_device(db, local, plain), "eq", "does not measure THD")
    check_refused(lambda: inst.set_eq_device(db, local, elsewhere), "eq", "is not on gateway")
    inst.set_eq_device(db, local, thd)
    inst.set_eq_device(db, other_gw, elsewhere)
    inst.set_eq_device(db, local, harmonics)   # moves: one per gateway
    assert [d.id for d in inst.devices(db) if d.eq] == [harmonics, elsewhere]
    inst.set_eq_device(db, local, None)
    assert [d.id for d in inst.devices(db) if d.eq] == [elsewhere]


def test_the_database_itself_refuses_two_eq_devices_on_one_gateway(db):
    add(db, "t_meter", model="9 001 02", address=1)
    add(db, "t_meter", model="9 001 02", address=2)
    with pytest.raises(peewee.IntegrityError):
        db.execute_sql("UPDATE device SET eq = 1")


def test_the_eq_device_keeps_its_thd_and_its_gateway(db, local):
    thd = add(db, "t_meter", model="9 001 02", address=1).id
    inst.set_eq_device(db, local, thd)
    check_refused(lambda: inst.update_device(db, thd, model="9 001 01"), "eq", "EQ device of its gateway")
    check_refused(lambda: inst.update_device(db, thd, gateway=inst.add_gateway(db, "192.168.1.20").id),
                  "eq", "EQ device of its gateway")
    assert inst.update_device(db, thd, model="9 001 03").eq   # harmonics: still THD


def test_the_eq_device_exists_only_in_the_32_edition(db, local):
    thd = add(db, "t_meter", model="9 001 02", address=1).id
    settings.set(db, "edition", "10")
    check_refused(lambda: inst.set_eq_device(db, local, thd), "eq", "32 edition")
    settings.set(db, "edition", "32")
    inst.set_eq_device(db, local, thd)
    check_refused(lambda: settings.set(db, "edition", "10"), "edition", "EQ device")
    assert settings.get(db, "edition") == 32


# -- devices: fields --------------------------------------------------------------------------------
DEVICE_REFUSALS = [
    # family       kwargs                                                  field             message names
    ("t_nothing",  dict(address=1),                                        "family",         "not a device family"),
    ("t_host",     dict(address=1),                                        "family",         "not a device family"),
    ("t_meter",    dict(model="9 999 99", address=1),                      "model",          "not a model of t meter; models: 9 001 01"),
    ("t_meter",    dict(),                                                 "address",        "(1 to 247) is required"),
    ("t_meter",    dict(address=0),                                        "address",        "from 1 to 247"),
    ("t_meter",    dict(address="248"),                                    "address",        "from 1 to 247"),
    ("t_meter",    dict(address="one"),                                    "address",        "whole number"),
    ("t_meter",    dict(address=1.5),                                      "address",        "whole number"),
    ("t_meter",    dict(address=1, position=2),                            "position",       "only to counters with pulse output"),
    ("t_meter",    dict(address=1, side="A"),                              "side",           "only to two-sided"),
    ("t_meter",    dict(address=1, supply="upstream"),                     "supply",         "does not apply"),
    ("t_meter",    dict(address=1, phase="L1"),                            "phase",          "single-phase charging stations"),
    ("t_meter",    dict(address=1, exclude_alerts=True),                   "exclude_alerts", "does not apply"),
    ("t_meter",    dict(address=1, exclude_totals="perhaps"),              "exclude_totals", "not on or off"),
    ("t_meter",    dict(address=1, register="C652"),                       "register",       "generic Modbus meter"),
    ("t_meter",    dict(address=1, remote_id=10001),                       "remote_id",      "only to virtual devices"),
    ("t_meter",    dict(address=1, interface=1),                           "interface",      "only to EMS CX3"),
    ("t_meter",    dict(address=1, name="n" * 65),                         "name",           "at most 64"),
    ("t_pulse",    dict(address=4, position=1),                            "concentrator",   "9 002 01, 9 003 01"),
    ("t_pulse",    dict(address=4, position=1, concentrator="9 001 02"),   "concentrator",   "has no pulse inputs"),
    ("t_pulse",    dict(address=4, concentrator="9 003 01"),               "position",       "input 1 to 4 of 9 003 01"),
    ("t_pulse",    dict(address=4, position=0, concentrator="9 003 01"),   "position",       "from 1 to 4"),
    ("t_pulse",    dict(address=4, position=5, concentrator="9 003 01"),   "position",       "from 1 to 4"),
    ("t_pulse",    dict(address=4, position=3, concentrator="9 002 01"),   "position",       "from 1 to 2"),
    ("t_station",  dict(model="9 006 01", address=5, phase="L1"),          "side",           "(A or B) is required"),
    ("t_station",  dict(model="9 006 01", address=5, side="C", phase="L1"), "side",          "choose A, B"),
    ("t_station",  dict(model="9 006 03", address=5, side="A", phase="L1"), "side",          "only to two-sided"),
    ("t_station",  dict(model="9 006 01", address=5, side="A"),            "phase",          "(L1, L2 or L3) is required"),
    ("t_station",  dict(model="9 006 03", address=5, phase="L4"),          "phase",          "choose L1, L2, L3"),
    ("t_station",  dict(model="9 006 04", address=5, phase="L1"),          "phase",          "single-phase"),
    ("t_ems",      dict(address="2-x"),                                    "address",        "interface address must be a whole number"),
    ("t_ems",      dict(address="0-1"),                                    "address",        "module address must be from 1 to 247"),
    ("t_ems",      dict(address=15, supply="sideways"),                    "supply",         "choose upstream, downstream"),
    ("t_breaker",  dict(address=1, supply="DOWNSTREAM"),                   None,             None),   # accepted
    ("t_generic",  dict(address=1),                                        "register",       "is required"),
    ("t_generic",  dict(address=1, register="XYZ"),                        "register",       "not hexadecimal"),
    ("t_generic",  dict(address=1, register="10000"),                      "register",       "out of range"),
    ("t_generic",  dict(address=1, register="FFFF"),                       "register",       "go past FFFF"),
    ("t_generic",  dict(address=1, register="C652", fn=6),                 "fn",             "choose 3, 4"),
    ("t_generic",  dict(address=1, register="C652", words=3),              "words",          "choose 1, 2, 4"),
    ("t_generic",  dict(address=1, register="C652", encoding="BCD"),       "encoding",       "choose U16, S16"),
    ("t_generic",  dict(address=1, register="C652", words=2, encoding="U16"), "encoding",    "with 2 word(s): U32, S32, F32"),
    ("t_generic",  dict(address=1, register="C652", multiplier=0),         "multiplier",     "other than 0"),
    ("t_generic",  dict(address=1, register="C652", multiplier="ten"),     "multiplier",     "not a number"),
    ("t_generic",  dict(address=1, register="C652", multiplier="inf"),     "multiplier",     "other than 0"),
    ("t_generic",  dict(address=1, register="C652", word_order="middle"),  "word_order",     "high_first, low_first"),
    ("t_remote",   dict(),                                                 "remote_id",      "Remote ID is required"),
    ("t_remote",   dict(remote_id=40001),                                  "remote_id",      "from 10001 to 39999"),
    ("t_remote",   dict(remote_id=20000),                                  "remote_id",      "names no object"),
    ("t_remote",   dict(remote_id=10001, address=12),                      "address",        "read at address 247"),
    ("t_meter",    dict(address=1, load="Sauna"),                          "load",           'no load "Sauna"'),
    ("t_meter",    dict(address=1, load="water"),                          "load",           "water counters only"),
    ("t_meter",    dict(address=1, load="Old load"),                       "load",           "disabled"),
    ("t_water",    dict(address=4, position=1, concentrator="9 003 01", load="heating"), "load", "assigned automatically"),
    ("t_meter",    dict(address=1, groups=["G1", "G2", "G3", "G4", "G5", "G6"]), "groups",   "at most 5"),
    ("t_meter",    dict(address=1, groups=["G1", "Nowhere"]),              "groups",         'no measure group "Nowhere"'),
    ("t_meter",    dict(address=1, groups=["Old group"]),                  "groups",         "disabled"),
]


@pytest.mark.parametrize("family, kwargs, field, fragment", DEVICE_REFUSALS)
def test_device_refusals_leave_the_database_as_it_was(db, family, kwargs, field, fragment):
    for n in range(1, 7):
        groupings.add_group(db, f"G{n}")
    groupings.set_group_enabled(db, groupings.add_group(db, "Old group").id, False)
    groupings.set_load_enabled(db, groupings.add_load(db, "Old load").id, False)
    on_gateway(db, VIRTUAL_GATEWAY)
    before = snapshot(db)
    if field is None:
        add(db, family, **kwargs)
        return
    check_refused(lambda: add(db, family, **kwargs), field, fragment)
    assert snapshot(db) == before


def test_virtual_devices_only_on_virtual_gateways_and_only_them_there(db, local, slave):
    check_refused(lambda: inst.add_device(db, local, "t_remote", remote_id=10001), "family", "virtual gateways")
    check_refused(lambda: inst.add_device(db, slave, "t_meter", address=1), "family", "virtual gateways")


ACCEPTED_DEVICES = [
    # family       kwargs                                              column values after parsing
    ("t_meter",    dict(model="900101", address=" 7 "),                dict(model="9 001 01", address=7)),
    ("t_meter",    dict(address=7),                                    dict(model=None, load_id=None)),
    ("t_meter",    dict(address=7, load="Lighting"),                   dict(load_id=4)),
    ("t_meter",    dict(address=7, load="lighting"),                   dict(load_id=4)),
    ("t_meter",    dict(address=7, load=4),                            dict(load_id=4)),
    ("t_meter",    dict(address=7, load="others"),                     dict(load_id=None)),
    ("t_meter",    dict(address=7, exclude_totals="on"),               dict(exclude_totals=True, exclude_alerts=False)),
    ("t_pulse",    dict(address=4, position="2", concentrator="900301"), dict(concentrator="9 003 01", position=2)),
    ("t_water",    dict(address=4, position=1, concentrator="9 003 01"), dict(load_id=8)),
    ("t_water",    dict(address=4, position=1, concentrator="9 003 01", load="Water"), dict(load_id=8)),
    ("t_station",  dict(model="9 006 01", address=5, side="b", phase="l2"), dict(side="B", phase="L2")),
    ("t_station",  dict(model="9 006 02", address=5, side="A"),        dict(side="A", phase=None)),
    ("t_station",  dict(model="9 006 03", address=5, phase="L3"),      dict(side=None, phase="L3")),
    ("t_ems",      dict(address=15),                                   dict(address=15, interface=None, supply="upstream")),
    ("t_ems",      dict(address="2-1", supply="downstream"),           dict(address=2, interface=1, supply="downstream")),
    ("t_ems",      dict(address=2, interface="1"),                     dict(address=2, interface=1)),
    ("t_ems",      dict(address=15, exclude_alerts="1"),               dict(exclude_alerts=True)),
    ("t_breaker",  dict(address=9),                                    dict(supply="upstream")),
    ("t_generic",  dict(address=1, register="C652"),
     dict(fn=3, register=0xC652, words=2, encoding="U32", multiplier=1.0, word_order="high_first")),
    ("t_generic",  dict(address=1, register="0x0048", fn="4", encoding="F32", multiplier="0,001"),
     dict(fn=4, register=0x48, words=2, encoding="F32", multiplier=0.001)),
    ("t_generic",  dict(address=1, register=0x34, words=2, encoding="s32", word_order="LOW_FIRST", multiplier=100),
     dict(register=0x34, encoding="S32", word_order="low_first", multiplier=100.0)),
    ("t_generic",  dict(address=1, register="c000h", words="4"),      dict(register=0xC000, words=4, encoding="U64")),
    ("t_generic",  dict(address=1, register="FFFF", words=1),          dict(register=0xFFFF, words=1, encoding="U16")),
    ("t_generic",  dict(address=1, params=dict(register=0x48, fn=4)),  dict(register=0x48, fn=4)),
    ("t_remote",   dict(remote_id="10005"),                            dict(address=247, remote_id=10005)),
    ("t_remote",   dict(remote_id="all", address=247),                 dict(address=247, remote_id=29999)),
]


@pytest.mark.parametrize("family, kwargs, expected", ACCEPTED_DEVICES)
def test_accepted_devices(db, family, kwargs, expected):
    device = add(db, family, **kwargs)
    stored = Device.get_by_id(device.id)
    assert {k: getattr(stored, k) for k in expected} == expected


DEFAULT_NAMES = [
    ("t_meter",   dict(address=5),                                       "5"),
    ("t_pulse",   dict(address=4, position=2, concentrator="9 003 01"),  "4-2"),
    ("t_station", dict(model="9 006 02", address=5, side="A"),           "5-A"),
    ("t_station", dict(model="9 006 04", address=5),                     "5"),
    ("t_ems",     dict(address="2-1"),                                   "2-1"),
    ("t_ems",     dict(address=15),                                      "15"),
    ("t_remote",  dict(remote_id=10003),                                 "247-10003"),
]


@pytest.mark.parametrize("family, kwargs, name", DEFAULT_NAMES)
def test_default_names_follow_the_manual(db, family, kwargs, name):
    assert add(db, family, **kwargs).name == name
    assert add(db, family, name="   ", **kwargs, gateway=inst.add_gateway(
        db, "192.168.1.40", kind=VIRTUAL_GATEWAY if family == "t_remote" else IP).id).name == f"{name} (2)"


def test_device_names_are_unique_across_the_installation(db):
    add(db, "t_meter", address=1, name="Boiler")
    other = inst.add_gateway(db, "192.168.1.20").id
    check_refused(lambda: add(db, "t_meter", other, address=2, name=" boiler "), "name", '"boiler" is already used')
    add(db, "t_meter", address=2, name="3")
    assert add(db, "t_meter", address=3).name == "3 (2)"   # the default dodges a user's name


# -- devices: one address per bus -------------------------------------------------------------------
CONC = dict(concentrator="9 003 01")
BUS_CASES = [
    # id, devices added in order on one gateway (the last one is checked), refused: (field, fragment) or None
    ("two meters, one address",
     [("t_meter", dict(address=5)), ("t_meter", dict(address=5))], ("address", "address 5 is already used")),
    ("positions of one concentrator",
     [("t_pulse", dict(address=4, position=1, **CONC)), ("t_water", dict(address=4, position=2, **CONC))], None),
    ("one position twice",
     [("t_pulse", dict(address=4, position=1, **CONC)), ("t_water", dict(address=4, position=1, **CONC))],
     ("position", "position 1 of 9 003 01 at address 4 is already used")),
    ("two concentrators on one address",
     [("t_pulse", dict(address=4, position=1, **CONC)),
      ("t_pulse", dict(address=4, position=2, concentrator="9 002 01"))], ("address", "address 4 is already used")),
    ("a meter on a concentrator's address",
     [("t_pulse", dict(address=4, position=1, **CONC)), ("t_meter", dict(address=4))],
     ("address", "address 4 is already used")),
    ("a counter with pulse input and its inputs",
     [("t_counter", dict(model="9 002 01", address=3)),
      ("t_pulse", dict(address=3, position=1, concentrator="9 002 01")),
      ("t_water", dict(address=3, position=2, concentrator="9 002 01"))], None),
    ("the counter with pulse input twice",
     [("t_pulse", dict(address=3, position=1, concentrator="9 002 01")),
      ("t_counter", dict(model="9 002 01", address=3)), ("t_counter", dict(model="9 002 01", address=3))],
     ("address", "9 002 01 at address 3 is already declared")),
    ("the two sides of one station",
     [("t_station", dict(model="9 006 01", address=5, side="A", phase="L1")),
      ("t_station", dict(model="9 006 01", address=5, side="B", phase="L2"))], None),
    ("one side twice",
     [("t_station", dict(model="9 006 02", address=5, side="A")),
      ("t_station", dict(model="9 006 02", address=5, side="A"))], ("side", "side A of the station at address 5")),
    ("sides of two different models",
     [("t_station", dict(model="9 006 02", address=5, side="A")),
      ("t_station", dict(model="9 006 01", address=5, side="B", phase="L1"))], ("address", "already used")),
    ("one-side stations on one address",
     [("t_station", dict(model="9 006 04", address=5)), ("t_station", dict(model="9 006 04", address=5))],
     ("address", "already used")),
    ("modules of one EMS interface",
     [("t_ems", dict(address="2-1")), ("t_ems", dict(address="3-1"))], None),
    ("one EMS module twice",
     [("t_ems", dict(address="2-1")), ("t_ems", dict(address="2-1"))], ("address", "module 2 of the interface")),
    ("an EMS interface's address taken by a meter",
     [("t_ems", dict(address="2-1")), ("t_meter", dict(address=1))], ("address", "address 1 is already used")),
    ("EMS local address and a meter",
     [("t_ems", dict(address=15)), ("t_meter", dict(address=15))], ("address", "address 15 is already used")),
    ("EMS local and remote addresses apart",
     [("t_ems", dict(address=15)), ("t_ems", dict(address="5-1"))], None),
    ("Remote IDs of one slave",
     [("t_remote", dict(remote_id=10001)), ("t_remote", dict(remote_id=20001))], None),
    ("one Remote ID twice",
     [("t_remote", dict(remote_id=10001)), ("t_remote", dict(remote_id=10001))], ("remote_id", "already read")),
]


@pytest.mark.parametrize("rows, refused", [pytest.param(r, x, id=i) for i, r, x in BUS_CASES])
def test_one_address_per_bus(db, rows, refused):
    *before, last = rows
    for family, kwargs in before:
        add(db, family, **kwargs)
    if refused is None:
        add(db, *last[:1], **last[1])
    else:
        check_refused(lambda: add(db, last[0], **last[1]), *refused)


def test_the_same_address_on_two_gateways(db):
    add(db, "t_meter", address=5)
    add(db, "t_meter", inst.add_gateway(db, "192.168.1.20").id, address=5)


# -- devices: IDs, edition, ON/OFF, groups, update --------------------------------------------------
def test_device_ids_are_never_reused(data_dir):
    db = open_config(data_dir)
    ids = [add(db, "t_meter", address=a).id for a in (1, 2, 3)]
    inst.delete_device(db, ids[-1])
    assert add(db, "t_meter", address=3).id == ids[-1] + 1
    inst.delete_device(db, ids[-1] + 1)
    db.close()
    db = open_config(data_dir)
    assert add(db, "t_meter", address=3).id == ids[-1] + 2
    db.close()


def test_load_and_group_ids_are_never_reused(db):
    load = groupings.add_load(db, "Sauna").id
    groupings.erase_load(db, load)
    assert groupings.add_load(db, "Pool").id == load + 1
    group = groupings.add_group(db, "A").id
    groupings.erase_group(db, group)
    assert groupings.add_group(db, "B").id == group + 1


def test_the_edition_limits_the_points_of_measure(db):
    settings.set(db, "edition", "10")
    for address in range(1, 11):
        add(db, "t_meter", address=address)
    check_refused(lambda: add(db, "t_meter", address=11), "edition", "manages 10 points of measure")
    settings.set(db, "edition", "32")
    add(db, "t_meter", address=11)
    check_refused(lambda: settings.set(db, "edition", "10"), "edition", "has 11 points of measure; delete 1")
    assert settings.get(db, "edition") == 32
    inst.delete_device(db, inst.devices(db)[0].id)
    settings.set(db, "edition", "10")


def test_a_full_edition_counts_every_device(db, slave):
    settings.set(db, "edition", "10")
    for position in (1, 2, 3, 4):
        add(db, "t_pulse", address=4, position=position, **CONC)
    for remote in range(10001, 10007):
        add(db, "t_remote", remote_id=remote)
    check_refused(lambda: add(db, "t_meter", address=1), "edition", "10 are declared")


def test_an_off_gateway_switches_its_devices_off_and_on_gives_each_its_own_state(db):
    gw = inst.add_gateway(db, "192.168.1.20", name="Board 2").id
    a, b = add(db, "t_meter", gw, address=1).id, add(db, "t_meter", gw, address=2).id
    inst.set_device_enabled(db, b, False)                      # switched off by the user

    inst.set_gateway_enabled(db, gw, False)
    spec = next(g for g in inst.load_specs(db) if g.id == gw)
    assert (spec.enabled, spec.devices) == (False, [])
    assert not any(inst.is_on(d) for d in inst.devices(db, gw))
    check_refused(lambda: inst.set_device_enabled(db, a, True), "enabled", 'gateway "Board 2" is OFF')
    assert [d.id for d in inst.all_devices(db, gw)] == [a, b]   # still listed, OFF
    assert inst.device_spec(db, b).id == b                      # the Test button still finds it

    inst.set_gateway_enabled(db, gw, True)
    spec = next(g for g in inst.load_specs(db) if g.id == gw)
    assert (spec.enabled, [d.id for d in spec.devices]) == (True, [a])
    inst.set_device_enabled(db, b, "on")
    assert [d.id for d in next(g for g in inst.load_specs(db) if g.id == gw).devices] == [a, b]


def test_a_device_is_in_up_to_five_measure_groups(db):
    ids = [groupings.add_group(db, f"G{n}").id for n in range(1, 7)]
    dev = add(db, "t_meter", address=1, groups=ids[:5] + [ids[0]]).id   # a repeated group counts once
    assert [g.id for g in groupings.device_groups(db, dev)] == ids[:5]
    check_refused(lambda: inst.set_device_groups(db, dev, ids), "groups", "at most 5")
    inst.set_device_groups(db, dev, [ids[5], "G1"])
    assert [g.id for g in groupings.device_groups(db, dev)] == [ids[0], ids[5]]
    groupings.set_group_enabled(db, ids[0], False)
    inst.set_device_groups(db, dev, ids[:1])               # already in it: kept although disabled
    check_refused(lambda: inst.set_device_groups(db, dev, ids[:1] + ["G2", "G3", "G4", "G5", "G6"]),
                  "groups", "at most 5")
    groupings.erase_group(db, ids[0])
    assert groupings.device_groups(db, dev) == []


def test_update_device_checks_every_rule_again(db):
    a = add(db, "t_meter", address=1, name="A", load="heating").id
    add(db, "t_meter", address=2, name="B")
    before = snapshot(db)
    check_refused(lambda: inst.update_device(db, a, address=2), "address", "address 2 is already used")
    check_refused(lambda: inst.update_device(db, a, name="b"), "name", "already used")
    check_refused(lambda: inst.update_device(db, a, supply="upstream"), "supply", "does not apply")
    assert snapshot(db) == before
    dev = inst.update_device(db, a, address=3, name="")
    assert (dev.address, dev.name, dev.load_id) == (3, "3", 1)   # the default name; the load kept


def test_a_new_model_keeps_only_the_fields_that_still_apply(db):
    dev = add(db, "t_station", model="9 006 01", address=5, side="A", phase="L1", name="EV 1").id
    dev = inst.update_device(db, dev, model="9 006 03")            # one side: the side goes
    assert (dev.side, dev.phase, dev.name, dev.address) == (None, "L1", "EV 1", 5)
    check_refused(lambda: inst.update_device(db, dev.id, model="9 006 04", phase="L2"), "phase", "single-phase")
    dev = inst.update_device(db, dev.id, model="9 006 04")         # three-phase: the phase goes
    assert (dev.side, dev.phase) == (None, None)
    check_refused(lambda: inst.update_device(db, dev.id, family="t_generic", model=None), "register", "required")
    dev = inst.update_device(db, dev.id, family="t_generic", model=None, register="C652")
    assert (dev.family, dev.register, dev.name, dev.address) == ("t_generic", 0xC652, "EV 1", 5)
    dev = inst.update_device(db, dev.id, family="t_breaker", model="9 008 01", exclude_alerts=True,
                             supply="downstream")
    assert (dev.register, dev.supply, dev.exclude_alerts) == (None, "downstream", True)
    dev = inst.update_device(db, dev.id, family="t_ems", model="9 007 01")      # alerts and supply apply
    assert (dev.supply, dev.exclude_alerts, dev.address, dev.interface) == ("downstream", True, 5, None)
    dev = inst.update_device(db, dev.id, family="t_meter", model=None)
    assert (dev.supply, dev.exclude_alerts) == (None, False)


def test_a_water_counter_turned_into_an_electricity_counter_leaves_the_water_load(db):
    dev = add(db, "t_water", address=4, position=1, **CONC)
    assert dev.load_id == groupings.loads(db)[7].id
    dev = inst.update_device(db, dev.id, family="t_pulse")
    assert (dev.family, dev.load_id, dev.position) == ("t_pulse", None, 1)


def test_a_family_whose_automatic_load_is_missing_is_refused(db, monkeypatch):
    fuel = test_family("t_fuel", PULSE, ("9 011 01", "Fuel counter", ""), fields=("concentrator",), load="fuel")
    monkeypatch.setitem(families(), fuel.key, fuel)
    check_refused(lambda: add(db, "t_fuel", address=4, position=1, **CONC), "load", '"fuel" load is missing')


def test_update_device_moves_a_device_to_another_gateway(db):
    gw = inst.add_gateway(db, "192.168.1.20").id
    add(db, "t_meter", gw, address=1)
    dev = add(db, "t_meter", address=1).id
    check_refused(lambda: inst.update_device(db, dev, gateway=gw), "address", "already used")
    assert inst.update_device(db, dev, gateway=gw, address=2).gateway_id == gw


def test_unknown_device_fields_are_programming_errors(db):
    with pytest.raises(TypeError):
        add(db, "t_meter", address=1, colour="red")
    with pytest.raises(TypeError):
        add(db, "t_meter", address=1, params={"colour": "red"})


# -- nothing half-saved -------------------------------------------------------------------------------
def no_preparation(db):
    pass


def last_load_id_taken(db):
    db.execute_sql("UPDATE sqlite_sequence SET seq = 9998 WHERE name = 'load'")


REFUSED_AFTER_WRITING = [
    # id, preparation (committed before the picture), operation that writes, then is refused
    ("add_device: the row inserted, then its groups refused", no_preparation,
     lambda db: add(db, "t_meter", address=9, groups=["G1", "G2", "G3", "G4", "G5", "G6"])),
    ("update_device: the row updated, then its groups refused", no_preparation,
     lambda db: inst.update_device(db, 1, address=9, name="X", groups=["G1", "Nowhere"])),
    ("add_load: the row inserted, then its ID refused", last_load_id_taken,
     lambda db: groupings.add_load(db, "Sauna")),
]


@pytest.mark.parametrize("prepare, operation", [pytest.param(p, o, id=i) for i, p, o in REFUSED_AFTER_WRITING])
def test_a_refused_operation_saves_nothing(db, data_dir, prepare, operation):
    for n in range(1, 7):
        groupings.add_group(db, f"G{n}")
    add(db, "t_meter", address=1, groups=["G1"])
    prepare(db)
    before = snapshot(db)
    with pytest.raises(ConfigError):
        operation(db)
    assert snapshot(db) == before
    other = sqlite3.connect(data_dir / CONFIG_DB)   # as another process sees it
    assert other.execute("SELECT id, address, name FROM device").fetchall() == [(1, 1, "1")]
    assert other.execute("SELECT count(*) FROM device_group").fetchone() == (1,)
    assert other.execute("SELECT count(*) FROM load WHERE kind = 'user'").fetchone() == (0,)
    other.close()


def test_the_last_device_id_is_9999(db):
    db.execute_sql("INSERT INTO sqlite_sequence (name, seq) VALUES ('device', 9998)")
    assert add(db, "t_meter", address=1).id == 9999
    before = snapshot(db)
    check_refused(lambda: add(db, "t_meter", address=2), "id", "no device IDs are left")
    assert snapshot(db) == before


# -- loads, groups, panel boards ----------------------------------------------------------------------
def test_up_to_8_user_loads_14_in_all(db):
    for n in range(1, 9):
        groupings.add_load(db, f"Load {n}")
    assert sum(1 for l in groupings.loads(db) if l.kind in ("predefined", "user")) == 14
    check_refused(lambda: groupings.add_load(db, "Load 9"), "load", "(14 in all)")
    groupings.erase_load(db, groupings.loads(db)[-1].id)
    groupings.add_load(db, "Load 9")


def test_builtin_loads_are_only_disabled(db):
    heating, others, water = (next(l for l in groupings.loads(db) if l.key == k) for k in ("heating", "others", "water"))
    check_refused(lambda: groupings.rename_load(db, heating.id, "Warmth"), "load", "cannot be renamed (only disabled)")
    check_refused(lambda: groupings.erase_load(db, heating.id), "load", "cannot be erased")
    check_refused(lambda: groupings.erase_load(db, water.id), "load", "cannot be erased")
    check_refused(lambda: groupings.set_load_enabled(db, others.id, False), "load", "cannot be disabled")
    dev = add(db, "t_meter", address=1, load="heating").id
    assert groupings.set_load_enabled(db, heating.id, "off").enabled is False
    assert inst.update_device(db, dev, name="Boiler").load_id == heating.id   # kept although disabled
    check_refused(lambda: add(db, "t_meter", address=2, load="heating"), "load", "disabled")
    groupings.set_load_enabled(db, heating.id, True)
    add(db, "t_meter", address=2, load="heating")


def test_user_loads_are_renamed_disabled_and_erased(db):
    load = groupings.add_load(db, "  Sauna ")
    assert load.name == "Sauna" and load.kind == "user"
    check_refused(lambda: groupings.add_load(db, "HEATING"), "name", "already used")
    check_refused(lambda: groupings.add_load(db, ""), "name", "a name is required")
    check_refused(lambda: groupings.rename_load(db, load.id, "lighting"), "name", "already used")
    assert groupings.rename_load(db, load.id, "Spa").name == "Spa"
    dev = add(db, "t_meter", address=1, load="Spa").id
    assert groupings.set_load_enabled(db, load.id, False).enabled is False
    groupings.erase_load(db, load.id)
    assert inst.devices(db)[0].load_id is None   # back to "Others"
    assert inst.device_spec(db, dev) is not None


@pytest.mark.parametrize("kind", ["group", "panel_board"])
def test_groups_and_panel_boards_are_added_renamed_disabled_and_erased(db, kind):
    add_, update, erase = (getattr(groupings, f"{verb}_{kind}") for verb in ("add", "update", "erase"))
    enable = getattr(groupings, f"set_{kind}_enabled")
    row = add_(db, "North", description="Ground floor")
    assert (row.name, row.description, row.enabled) == ("North", "Ground floor", True)
    check_refused(lambda: add_(db, "north"), "name", "already used")
    check_refused(lambda: add_(db, " "), "name", "a name is required")
    other = add_(db, "South")
    check_refused(lambda: update(db, other.id, name="NORTH"), "name", "already used")
    row = update(db, row.id, name="North wing")
    assert (row.name, row.description) == ("North wing", "Ground floor")
    assert update(db, row.id, description="").description == ""
    assert enable(db, row.id, False).enabled is False
    erase(db, row.id)
    check_refused(lambda: erase(db, row.id), kind if kind == "panel_board" else "measure_group", "no ")


# -- what the poller gets -----------------------------------------------------------------------------
SPECS = [
    # family       kwargs                                                   DeviceSpec fields
    ("t_meter",    dict(model="9 001 02", address=7, name="M", load="lighting", exclude_totals=True),
     dict(family="t_meter", model="9 001 02", address=7, position=None, side=None, interface=None,
          params={}, name="M")),
    ("t_pulse",    dict(address=4, position=2, **CONC),
     dict(address=4, position=2, params={"concentrator": "9 003 01"}, name="4-2")),
    ("t_station",  dict(model="9 006 01", address=5, side="B", phase="L3"),
     dict(address=5, side="B", params={"phase": "L3"})),
    ("t_ems",      dict(address="2-1", supply="downstream"),
     dict(address=2, interface=1, params={"supply": "downstream"})),
    ("t_generic",  dict(address=1, register="48", fn=4, encoding="F32", multiplier=1000),
     dict(params={"fn": 4, "register": 0x48, "words": 2, "multiplier": 1000.0, "encoding": "F32",
                  "word_order": "high_first"})),
    ("t_remote",   dict(remote_id=30002),
     dict(address=247, params={"remote_id": 30002}, name="247-30002")),
]


@pytest.mark.parametrize("family, kwargs, expected", SPECS)
def test_load_specs_gives_the_drivers_what_applies(db, family, kwargs, expected):
    device = add(db, family, **kwargs)
    (spec,) = [d for g in inst.load_specs(db) for d in g.devices]
    assert isinstance(spec, DeviceSpec) and spec.id == device.id
    assert {k: getattr(spec, k) for k in expected} == expected
    assert inst.device_spec(db, device.id) == spec


def test_load_specs_lists_every_gateway(db, local):
    inst.add_gateway(db, "192.168.1.20", name="B", port=503)
    inst.add_gateway(db, "192.168.1.30", name="S", kind=VIRTUAL_GATEWAY)
    inst.set_gateway_enabled(db, local, False)
    assert [(g.name, g.kind, g.address, g.port, g.enabled) for g in inst.load_specs(db)] == [
        ("Local", LOCAL, "127.0.0.1", 502, False), ("B", IP, "192.168.1.20", 503, True),
        ("S", VIRTUAL_GATEWAY, "192.168.1.30", 502, True)]


def test_a_second_connection_sees_the_changes(data_dir):
    daemon, web = open_config(data_dir), open_config(data_dir)
    assert [d for g in inst.load_specs(daemon) for d in g.devices] == []
    dev = add(web, "t_meter", address=1).id
    assert [d.id for g in inst.load_specs(daemon) for d in g.devices] == [dev]
    inst.set_device_enabled(daemon, dev, False)
    assert not inst.devices(web)[0].enabled
    with sqlite3.connect(data_dir / CONFIG_DB) as raw:
        assert raw.execute("SELECT enabled FROM device").fetchall() == [(0,)]
    daemon.close()
    web.close()


# -- the real catalogue --------------------------------------------------------------------------------
REAL = {k: f for k, f in families().items() if not k.startswith("t_")}


def minimal_fields(fam: Family, model) -> dict:
    """The required fields of a family's device, from its Family attributes only."""
    kw = {"model": model.cat_no if model else None, "address": 10}
    if fam.addressing == PULSE:
        host = next(m for f in REAL.values() for m in f.models.values() if m.inputs)
        kw.update(concentrator=host.cat_no, position=1)
    if fam.addressing == SIDE and model and "two_sides" in model.tags:
        kw["side"] = "A"
    if "phase" in fam.fields and model and "single_phase" in model.tags:
        kw["phase"] = "L1"
    if "generic" in fam.fields:
        kw["register"] = "C652"
    if fam.addressing == VIRTUAL:
        kw.update(address=None, remote_id=10001)
    return kw


@pytest.mark.parametrize("key", [k for k, f in REAL.items() if f.addable])
def test_every_real_model_is_declared_and_read_by_its_driver(db, key):
    fam = REAL[key]
    gateway = on_gateway(db, VIRTUAL_GATEWAY if fam.addressing == VIRTUAL else "local")
    for model in list(fam.models.values()) or [None]:
        device = inst.add_device(db, gateway, key, **minimal_fields(fam, model))
        (spec,) = [d for g in inst.load_specs(db) for d in g.devices]
        fam.driver_for(spec).measure_rows()   # the driver accepts what the configuration gives
        inst.delete_device(db, device.id)


def test_catalogue_only_families_cannot_be_declared(db, local):
    for key in [k for k, f in REAL.items() if not f.addable]:
        check_refused(lambda: inst.add_device(db, local, key, address=1), "family", "not a device family")


def test_the_daemons_demo_installation_is_valid(db, local):
    demo = pytest.importorskip("wsmeasure.virtual").DEMO
    rows = [row for row in demo if row["family"] in REAL]
    for row in rows:
        inst.add_device(db, local, **row)
    (local_spec, *_) = inst.load_specs(db)
    assert [d.name for d in local_spec.devices] == [row["name"] for row in rows]
