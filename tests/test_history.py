"""CSV history: names and months in local time, the repeated DST hour, separators, versions,
idempotent appends, repair after a torn line / a kill -9 / a full disk, and LibreOffice reading
the files as numbers and dates."""

from __future__ import annotations

import csv
import errno
import os
import re
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from wsmeasure import groupings, installation as config
from wsmeasure.db import open_config
from wsmeasure.history import VERSIONS, History
from wsmeasure.history_format import CsvFormat
from wsmeasure.history_installation import HistDevice, HistGateway, Installation, Named, installation_from_config
from wsmeasure.records import Counter, SlotRecord, Stat

TZ = ZoneInfo("Europe/Paris")
SLOT = 600
FALL_BACK = int(datetime(2024, 10, 26, 23, 0, tzinfo=timezone.utc).timestamp())   # 01:00 local, +02:00
OFFSET = re.compile(r"^UTC[+-]\d\d:\d\d$")

INSTALLATION = Installation(
    devices=(
        HistDevice(1, "Main; meter", "emdx3_meter", "0 046 76", "Ea+",
                   ("Ea+", "Ea-", "V1", "PF", "THD_V1", "H3_V1"), None, (3,), False, 1, 5),
        HistDevice(2, "Éclairage", "pulse_electricity", None, "Ea+", ("Ea+",), 7, (3,), True, 1, 6, position=1),
        HistDevice(4, "=Gas", "pulse_gas", None, "gas", ("gas",), 9, (), False, 1, 6, position=2),
        HistDevice(5, "Breaker", "dx3", None, None, ("breaker",), None, (), False, 3, 8),
    ),
    gateways=(HistGateway(1, "Local", "local", "127.0.0.1", panel_board=2),
              HistGateway(3, "Remote", "ip", "192.168.1.20")),
    loads=(Named(7, "Lighting", "predefined"), Named(8, "Others", "others"), Named(9, "Gas", "utility")),
    groups=(Named(3, "Building A", description='the "old" one'),),
    panel_boards=(Named(2, "Main board"),),
)


def slot_records(ts: int, k: int) -> list[SlotRecord]:
    """The records of one slot, values a function of the slot number k."""
    return [
        SlotRecord(1, ts, SLOT, counters={"Ea+": Counter(100 + k, 10_000 + k), "Ea-": Counter(0, 7)},
                   stats={"V1": Stat(230 + k / 3, 229.25, 231.5), "PF": Stat(0.98765, 0.9, 1.0),
                          "THD_V1": Stat(1.5, 1.0, 2.0), "H3_V1": Stat(0.00001, 0.0, 0.1)}),
        SlotRecord(2, ts, SLOT, counters={"Ea+": Counter(10, 800 + 10 * k, since=ts - 3 * SLOT if k == 2 else None)}),
        SlotRecord(4, ts, SLOT, counters={"gas": Counter(3, 900 + 3 * k)}),
        SlotRecord(5, ts, SLOT, states={"breaker": k % 3}),
    ]


def run(start: int, count: int, step: int = SLOT) -> list[list[SlotRecord]]:
    return [slot_records(start + k * step, k) for k in range(count)]


def since(slots):
    """A store's records_since over these slots."""
    return lambda ts: [r for slot in slots for r in slot if r.ts >= ts]


def history(root: Path, field=";", decimal=",") -> History:
    return History(root, field, decimal, TZ)


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
            and p.name != VERSIONS}


def rows(path: Path, field=";") -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f, delimiter=field))


def check_file(path: Path, field=";", decimal=","):
    """Every file reads with the csv module: dates, offsets, numbers as numbers."""
    assert path.read_bytes().startswith(b"\xef\xbb\xbf") and path.read_bytes().endswith(b"\r\n")
    header, *lines = rows(path, field)
    assert all(len(line) == len(header) for line in lines), path
    if path.parent.name == "settings":
        return
    assert header[:2] == ["date", "UTC offset"]
    instants = []
    for line in lines:
        instants.append(datetime.fromisoformat(line[0] + line[1][3:]))
        assert OFFSET.match(line[1])
        for name, cell in zip(header[2:], line[2:]):
            if not cell:
                continue
            if name == "gap since":
                datetime.fromisoformat(cell)
            else:
                assert "e" not in cell.lower() and (decimal == "," or "," not in cell), (name, cell)
                float(cell.replace(decimal, "."))
    assert instants == sorted(set(instants)), f"{path}: lines repeated or out of order"


# -- names, months, DST ------------------------------------------------------------------------------------
def test_files_are_named_by_local_month_and_the_repeated_hour_has_two_rows(tmp_path):
    h = history(tmp_path)
    slots = run(FALL_BACK, 30)                                                    # 01:00 .. 05:50 local
    end = int(datetime(2024, 10, 31, 22, 50, tzinfo=timezone.utc).timestamp())  # 23:50 / 00:00 / 00:10 local
    slots += run(end, 3) + run(int(datetime(2025, 1, 15, tzinfo=TZ).timestamp()), 1)
    for slot in slots:
        h.append(slot, INSTALLATION)
    files = set(tree(tmp_path))
    for month, n in (("2024-10", 31), ("2024-11", 2), ("2025-01", 1)):
        for name in (f"devices/1/1_energy_{month}.csv", f"devices/1/1_stat_{month}.csv",
                     f"devices/1/1_thd_{month}.csv", f"devices/1/1_harmonics_{month}.csv",
                     f"devices/2/2_energy_{month}.csv", f"devices/4/4_gas_{month}.csv",
                     f"devices/5/5_state_{month}.csv", f"energy/devices_{month}_1.csv",
                     f"energy/groups_{month}_1.csv", f"energy/loads_{month}_1.csv",
                     f"gas/devices_{month}_1.csv", f"overallTotal/values_{month}.csv"):
            assert name in files
            assert len(rows(tmp_path / name)) == n + 1, name
    assert {"settings/gateways_devices.csv", "settings/loads_groups_panelboards.csv"} <= files
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == [
        "devices", "energy", "eqcheck", "gas", "overallTotal", "settings", "water"]
    assert not any(name.startswith("gas/groups") or name.startswith("water/") for name in files)

    dates = [r[:2] for r in rows(tmp_path / "devices/1/1_energy_2024-10.csv")[1:31]]
    assert dates[6:8] == [["2024-10-27 02:00:00", "UTC+02:00"], ["2024-10-27 02:10:00", "UTC+02:00"]]
    assert ["2024-10-27 02:00:00", "UTC+01:00"] in dates and len(dates) == len({tuple(d) for d in dates})
    assert rows(tmp_path / "devices/1/1_energy_2024-11.csv")[1][:2] == ["2024-11-01 00:00:00", "UTC+01:00"]
    for path in tmp_path.rglob("*.csv"):
        check_file(path)


def test_columns_units_sums_gaps_and_exclusions(tmp_path):
    h = history(tmp_path)
    for slot in run(FALL_BACK, 3):
        h.append(slot, INSTALLATION)
    energy = rows(tmp_path / "devices/1/1_energy_2024-10.csv")
    assert energy[0] == ["date", "UTC offset", "Ea+ (Wh)", "Ea+ index (Wh)", "Ea- (Wh)", "Ea- index (Wh)", "gap since"]
    assert energy[1][2:] == ["100", "10000", "0", "7", ""]
    assert rows(tmp_path / "devices/2/2_energy_2024-10.csv")[3][-1] == "2024-10-27 00:50:00"   # since = ts - 3 slots
    stat = rows(tmp_path / "devices/1/1_stat_2024-10.csv")
    assert stat[0][2:] == ["V1 avg (V)", "V1 min (V)", "V1 max (V)", "PF avg", "PF min", "PF max"]
    assert stat[2][2:] == ["230,3333", "229,25", "231,5", "0,9877", "0,9", "1"]
    assert rows(tmp_path / "devices/1/1_harmonics_2024-10.csv")[1][2:] == ["0"]     # never 1e-05
    assert rows(tmp_path / "devices/5/5_state_2024-10.csv")[1:] == [
        ["2024-10-27 01:00:00", "UTC+02:00", "0"], ["2024-10-27 01:10:00", "UTC+02:00", "1"],
        ["2024-10-27 01:20:00", "UTC+02:00", "2"]]
    # "Éclairage" is excluded from totals: in its load and group, not in "all devices"
    assert rows(tmp_path / "energy/devices_2024-10_1.csv")[:2] == [
        ["date", "UTC offset", "Main; meter [1] (Wh)", "Éclairage [2] (Wh)", "all devices (Wh)"],
        ["2024-10-27 01:00:00", "UTC+02:00", "100", "10", "100"]]
    assert rows(tmp_path / "energy/loads_2024-10_1.csv")[:2] == [
        ["date", "UTC offset", "Lighting [7] (Wh)", "Others [8] (Wh)", "all loads (Wh)"],
        ["2024-10-27 01:00:00", "UTC+02:00", "10", "100", "100"]]
    assert rows(tmp_path / "energy/groups_2024-10_1.csv")[1][2:] == ["110"]
    assert rows(tmp_path / "gas/devices_2024-10_1.csv")[:2] == [
        ["date", "UTC offset", "'=Gas [4] (dm3)", "all devices (dm3)"],        # no formula for Excel
        ["2024-10-27 01:00:00", "UTC+02:00", "3", "3"]]
    assert rows(tmp_path / "overallTotal/values_2024-10.csv")[:2] == [
        ["date", "UTC offset", "electricity (Wh)", "gas (dm3)", "water (dm3)"],
        ["2024-10-27 01:00:00", "UTC+02:00", "100", "3", ""]]


def test_settings_describe_the_installation_and_are_rewritten_only_on_change(tmp_path):
    h = history(tmp_path)
    h.write_settings(INSTALLATION)
    devices = rows(tmp_path / "settings/gateways_devices.csv")
    assert devices[0][:8] == ["gateway ID", "gateway", "gateway kind", "IP address", "TCP port", "panel board",
                              "gateway ON", "device ID"]
    assert devices[1][:9] == ["1", "Local", "local", "127.0.0.1", "502", "Main board [2]", "yes", "1", "Main; meter"]
    assert [r[7] for r in devices[1:]] == ["1", "2", "4", "5"]
    assert devices[4][:4] == ["3", "Remote", "ip", "192.168.1.20"] and devices[4][11] == "8"
    groupings_rows = rows(tmp_path / "settings/loads_groups_panelboards.csv")
    assert ["measure group", "3", "Building A", "", 'the "old" one', "yes", "Main; meter [1] | Éclairage [2]"] \
        in groupings_rows
    assert ["panel board", "2", "Main board", "", "", "yes", "Local [1]"] in groupings_rows
    inode = (tmp_path / "settings/gateways_devices.csv").stat().st_ino
    h.write_settings(INSTALLATION)
    assert (tmp_path / "settings/gateways_devices.csv").stat().st_ino == inode
    renamed = Installation(INSTALLATION.devices[:1], INSTALLATION.gateways, INSTALLATION.loads)
    h.append([], renamed)
    assert len(rows(tmp_path / "settings/gateways_devices.csv")) == 3   # device 1, gateway 3 without devices


@pytest.mark.parametrize("field, decimal", [(";", ","), (";", "."), (",", ".")])
def test_every_file_parses_with_the_configured_separators(tmp_path, field, decimal):
    h = history(tmp_path, field, decimal)
    for slot in run(FALL_BACK, 5):
        h.append(slot, INSTALLATION)
    for path in tmp_path.rglob("*.csv"):
        check_file(path, field, decimal)
    stat = rows(tmp_path / "devices/1/1_stat_2024-10.csv", field)
    assert stat[2][2] == f"230{decimal}3333"
    assert rows(tmp_path / "energy/devices_2024-10_1.csv", field)[0][2] == "Main; meter [1] (Wh)"


def test_separators_come_as_setting_words_and_never_both_comma():
    assert CsvFormat.from_settings("semicolon", "comma") == CsvFormat(";", ",")
    assert CsvFormat.from_settings("comma", "point") == CsvFormat(",", ".")
    with pytest.raises(ValueError):
        CsvFormat.from_settings("comma", "comma")


# -- versions ------------------------------------------------------------------------------------------------
def test_versions_go_up_when_columns_change_and_survive_a_restart(tmp_path):
    slots = run(FALL_BACK, 6)
    h = history(tmp_path)
    h.append(slots[0], INSTALLATION)
    added = Installation((*INSTALLATION.devices, HistDevice(6, "Heat pump", "emdx3_counter", None, "Ea+", ("Ea+",),
                                                            None, (), False, 1, 9)),
                         INSTALLATION.gateways, INSTALLATION.loads, INSTALLATION.groups, INSTALLATION.panel_boards)
    h.append(slots[1], added)
    assert (tmp_path / "energy/devices_2024-10_2.csv").exists()
    assert rows(tmp_path / "energy/devices_2024-10_2.csv")[0][4] == "Heat pump [6] (Wh)"
    assert len(rows(tmp_path / "energy/devices_2024-10_1.csv")) == 2
    assert not (tmp_path / "energy/groups_2024-10_2.csv").exists()    # its columns did not change
    assert not (tmp_path / "devices/1/1_energy_2024-10_2.csv").exists()

    h = history(tmp_path)                        # a restart: same columns, same files
    h.append(slots[2], added)
    assert len(rows(tmp_path / "energy/devices_2024-10_2.csv")) == 3
    renamed = Installation((HistDevice(1, "Main", "emdx3_meter", "0 046 76", "Ea+", INSTALLATION.devices[0].quantities,
                                       None, (3,), False, 1, 5), *added.devices[1:]),
                           *(getattr(added, f) for f in ("gateways", "loads", "groups", "panel_boards")))
    h.append(slots[3], renamed)
    assert len(rows(tmp_path / "energy/devices_2024-10_3.csv")) == 2
    assert len(rows(tmp_path / "energy/groups_2024-10_1.csv")) == 5      # a group's name is its column

    (tmp_path / VERSIONS).unlink()               # the manifest lost: found again from the files
    h = history(tmp_path)
    h.append(slots[4], renamed)
    assert len(rows(tmp_path / "energy/devices_2024-10_3.csv")) == 3
    assert not (tmp_path / "energy/devices_2024-10_4.csv").exists()
    h.append(run(int(datetime(2024, 11, 3, tzinfo=TZ).timestamp()), 1)[0], renamed)
    assert (tmp_path / "energy/devices_2024-11_3.csv").exists()       # the version carries over months


def test_a_separator_change_starts_new_files_and_never_mixes_formats(tmp_path):
    slots = run(FALL_BACK, 4)
    h = history(tmp_path, ";", ",")
    for slot in slots[:2]:
        h.append(slot, INSTALLATION)
    h = history(tmp_path, ";", ".")
    for slot in slots[2:]:
        h.append(slot, INSTALLATION)
    assert len(rows(tmp_path / "devices/1/1_stat_2024-10.csv")) == 3
    assert rows(tmp_path / "devices/1/1_stat_2024-10_2.csv")[1][2] == "230.6667"
    assert len(rows(tmp_path / "energy/devices_2024-10_2.csv")) == 3
    check_file(tmp_path / "devices/1/1_stat_2024-10.csv", ";", ",")
    check_file(tmp_path / "devices/1/1_stat_2024-10_2.csv", ";", ".")


# -- idempotence and repair ---------------------------------------------------------------------------------
def test_appending_a_slot_again_writes_nothing(tmp_path):
    slots = run(FALL_BACK, 3)
    h = history(tmp_path)
    assert h.append(slots[0], INSTALLATION) == 12
    assert h.append(slots[0], INSTALLATION) == 0
    h.append(slots[1] + slots[2], INSTALLATION)
    before = tree(tmp_path)
    assert history(tmp_path).append(slots[1] + slots[0], INSTALLATION) == 0     # a restart: nothing cached
    assert tree(tmp_path) == before


def reference(root: Path, slots) -> dict[str, bytes]:
    history(root).repair(since(slots), INSTALLATION)
    return tree(root)


def test_repair_cuts_torn_lines_and_appends_missing_slots(tmp_path):
    slots = run(FALL_BACK, 12)
    expected = reference(tmp_path / "ref", slots)
    root = tmp_path / "csv"
    h = history(root)
    for slot in slots[:5]:
        h.append(slot, INSTALLATION)
    # a power cut while slot 5 was written: some files have it, one lost it, the journal lacks
    # it; a line of slot 6 was torn, another left garbage
    h.append(slots[5], INSTALLATION)
    for name in ("overallTotal/values_2024-10.csv", "devices/4/4_gas_2024-10.csv"):
        path = root / name
        path.write_bytes(path.read_bytes().rsplit(b"\r\n", 2)[0] + b"\r\n")
    with open(root / "devices/1/1_stat_2024-10.csv", "ab") as f:
        f.write(b"2024-10-27 02:00:00;UTC+02:00;230,5;22")
    with open(root / "energy/loads_2024-10_1.csv", "ab") as f:
        f.write(b"\0\0\0\0\r\n")
    h = history(root)
    written = h.repair(since(slots), INSTALLATION)
    assert tree(root) == expected
    assert written == 6 * 12 + 2           # slots 6..11 everywhere, slot 5 where it was lost
    assert h.repair(since(slots), INSTALLATION) == 0


def test_repair_rebuilds_from_the_database_what_overall_total_does_not_cover(tmp_path):
    slots = run(FALL_BACK, 4)
    root = tmp_path / "csv"
    expected = reference(root, slots)
    shutil.rmtree(root / "devices")            # deleted by a user: not brought back (the journal
    history(root).repair(since(slots), INSTALLATION)   # says the files are complete)...
    assert len(rows(root / "devices/1/1_energy_2024-10.csv")) == 2     # ...but for the last slot, replayed
    shutil.rmtree(root / "devices")            # with overallTotal gone too: everything again
    shutil.rmtree(root / "overallTotal")
    history(root).repair(since(slots), INSTALLATION)
    assert tree(root) == expected


CHILD = textwrap.dedent("""
    import sys
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    from test_history import FALL_BACK, INSTALLATION, history, run
    h = history(Path({root!r}))
    for i, slot in enumerate(run(FALL_BACK, {count})):
        h.append(slot, INSTALLATION)
        if i == 3:
            print("started", flush=True)
""")


def test_kill_9_leaves_no_torn_line_and_repair_completes_the_files(tmp_path):
    count = 1500         # 2 to 40 ms a slot (fsyncs): far from done when killed
    root = tmp_path / "csv"
    child = subprocess.Popen([sys.executable, "-c", CHILD.format(tests=str(Path(__file__).parent), root=str(root),
                                                                  count=count)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "started\n"
        subprocess.run(["sleep", "0.3"])
        assert child.poll() is None, "the child finished before it could be killed"
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
    for path in root.rglob("*.csv"):
        assert path.read_bytes().endswith(b"\r\n"), path
        check_file(path)
    slots = run(FALL_BACK, count)
    history(root).repair(since(slots), INSTALLATION)
    assert tree(root) == reference(tmp_path / "ref", slots)


@pytest.fixture
def tiny_fs(tmp_path):
    """A 1 MiB tmpfs (root only; skipped where mounting is not permitted)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode:
        pytest.skip(f"mount not permitted here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)])


def test_a_full_disk_raises_without_a_partial_line_and_repair_catches_up(tmp_path, tiny_fs):
    slots = run(FALL_BACK, 400)
    root = tiny_fs / "csv"
    h = history(root)
    h.append(slots[0], INSTALLATION)
    with open(tiny_fs / "filler", "wb", buffering=0) as f:       # take every free block
        with pytest.raises(OSError) as full:
            while True:
                f.write(b"x" * 4096)
        assert full.value.errno == errno.ENOSPC
    failed = None
    for k, slot in enumerate(slots[1:], 1):
        try:
            h.append(slot, INSTALLATION)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
            failed = k
            break
    assert failed is not None, "the disk never filled"
    assert h.dirty
    for path in root.rglob("*.csv"):
        check_file(path)
    last = rows(root / "overallTotal/values_2024-10.csv")[-1]
    assert datetime.fromisoformat(last[0] + last[1][3:]).timestamp() < slots[failed][0].ts   # the journal lags
    (tiny_fs / "filler").unlink()
    h.repair(since(slots[:failed + 1]), INSTALLATION)
    assert not h.dirty
    assert tree(root) == reference(tmp_path / "ref", slots[:failed + 1])


# -- from config.db ---------------------------------------------------------------------------------------------
def test_installation_from_config_reads_the_configuration(tmp_path):
    db = open_config(tmp_path / "data")
    try:
        local = config.local_gateway(db).id
        group = groupings.add_group(db, "Building A")
        board = groupings.add_panel_board(db, "Main board")
        remote = config.add_gateway(db, "192.168.1.20", name="Remote", panel_board=board.id)
        meter = config.add_device(db, local, "emdx3_meter", "0 046 76", 5, "Main", groups=[group.id])
        lights = config.add_device(db, local, "emdx3_counter", "0 046 77", 6, "Lights", load="lighting",
                                   groups=[group.id], exclude_totals=True)
        gas = config.add_device(db, local, "pulse_gas", None, 7, "Gas", position=2, concentrator="0 046 87")
        breaker = config.add_device(db, remote.id, "dx3", "4 106 57", 8, "Breaker")
        inst = installation_from_config(db)
        assert inst == installation_from_config(db)   # comparable: an unchanged configuration is equal
    finally:
        db.close()
    by_id = {d.id: d for d in inst.devices}
    assert by_id[meter.id].utility == "energy" and by_id[meter.id].groups == (group.id,)
    assert "V1" in by_id[meter.id].quantities and "THD_V1" not in by_id[meter.id].quantities  # model without THD
    assert by_id[lights.id].exclude_totals
    assert next(n.name for n in inst.loads if n.id == by_id[lights.id].load) == "Lighting"
    assert by_id[gas.id].utility == "gas" and by_id[gas.id].position == 2
    assert "breaker" in by_id[breaker.id].quantities and by_id[breaker.id].gateway == remote.id
    assert [g.panel_board for g in inst.gateways] == [None, board.id]
    h = history(tmp_path / "csv")
    ts = FALL_BACK
    h.append([SlotRecord(meter.id, ts, SLOT, counters={"Ea+": Counter(5, 50)}, stats={"V1": Stat(230, 229, 231)}),
              SlotRecord(gas.id, ts, SLOT, counters={"gas": Counter(2, 20)})], inst)
    assert rows(tmp_path / "csv/energy/groups_2024-10_1.csv")[1][2:] == ["5"]
    assert rows(tmp_path / "csv/overallTotal/values_2024-10.csv")[1][2:] == ["5", "2", ""]
    for path in (tmp_path / "csv").rglob("*.csv"):
        check_file(path)


# -- LibreOffice ------------------------------------------------------------------------------------------------
NS = {"table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
      "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0"}
# CSV filter options: field separator (ASCII code), text delimiter ("), character set (76: UTF-8),
# first line, column formats (none: detected, as on a double click), language (1036 fr-FR: decimal
# comma; 1033 en-US: decimal point).
FILTERS = {(";", ","): "59,34,76,1,,1036", (",", "."): "44,34,76,1,,1033"}


def office_cells(path: Path) -> list[list[tuple[str | None, str | None]]]:
    """(value type, value) of each cell of each row of a flat ODF spreadsheet."""
    out = []
    for row in ET.parse(path).getroot().iter(f"{{{NS['table']}}}table-row"):
        cells = []
        for cell in row.findall("table:table-cell", NS):
            repeat = int(cell.get(f"{{{NS['table']}}}number-columns-repeated", "1"))
            kind = cell.get(f"{{{NS['office']}}}value-type")
            cells += [(kind, cell.get(f"{{{NS['office']}}}value") or cell.get(f"{{{NS['office']}}}date-value"))] \
                * min(repeat, 64)
        out.append(cells)
    return out


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice (libreoffice-calc-nogui) not installed")
@pytest.mark.parametrize("field, decimal", list(FILTERS))
def test_libreoffice_reads_numbers_as_numbers_and_dates_as_dates(tmp_path, field, decimal):
    root = tmp_path / "csv"
    h = history(root, field, decimal)
    for slot in run(FALL_BACK, 4):
        h.append(slot, INSTALLATION)
    names = ["devices/1/1_energy_2024-10.csv", "devices/1/1_stat_2024-10.csv", "devices/2/2_energy_2024-10.csv",
             "energy/devices_2024-10_1.csv", "overallTotal/values_2024-10.csv"]
    out = tmp_path / "out"
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
                    f"--infilter=CSV:{FILTERS[field, decimal]}", "--convert-to", "fods", "--outdir", str(out),
                    *(str(root / n) for n in names)], check=True, capture_output=True, timeout=180)
    for name in names:
        header, *lines = rows(root / name, field)
        sheet = office_cells(out / Path(name).with_suffix(".fods").name)
        assert [kind for kind, _ in sheet[0][:len(header)]] == ["string"] * len(header), name   # the BOM is gone
        for line, cells in zip(lines, sheet[1:]):
            for column, text, (kind, value) in zip(header, line, cells):
                if column == "UTC offset":
                    assert kind == "string"
                elif column in ("date", "gap since") and text:
                    assert kind == "date", (name, column, text, kind)
                    assert datetime.fromisoformat(value) == datetime.fromisoformat(text)
                elif text:
                    assert kind == "float" and float(value) == float(text.replace(decimal, ".")), \
                        (name, column, text, kind, value)
        assert len(sheet) - 1 >= len(lines)
