"""Backup and restore of the configuration (manual 9) and the automatic backup (8.8), on real files:
a round trip, every refusal leaving config.db as it was, hostile archives, a restore under an
open connection."""

from __future__ import annotations

import io
import json
import sqlite3
import warnings
import zipfile
from pathlib import Path

import pytest

from wsmeasure import __version__, settings
from wsmeasure import installation as inst
from wsmeasure.backup import (AUTO_DIR, RestoreError, auto_backup, auto_backup_due, last_auto_backup, make_backup,
                              restore_backup)
from wsmeasure.db import CONFIG_DB, open_config
from wsmeasure.models import SCHEMA_VERSION


@pytest.fixture
def db(tmp_path):
    db = open_config(tmp_path)
    yield db
    db.close()


def install(db) -> None:
    """A small installation: two gateways, two devices, changed settings."""
    local = inst.local_gateway(db)
    inst.add_device(db, local.id, "emdx3_meter", "0 146 69", 1, "Main incomer")
    gw = inst.add_gateway(db, "192.168.1.20", "Floor 2")
    inst.add_device(db, gw.id, "emdx3_meter", "0 146 68", 2, "Lighting")
    settings.set(db, "serial.baudrate", "9600")
    settings.set(db, "language.default", "fr_BE")


def dump(data_dir: Path, sequences: bool = True) -> str:
    """The content of config.db as another process sees it (WAL included)."""
    conn = sqlite3.connect(data_dir / CONFIG_DB)
    try:
        return "\n".join(line for line in conn.iterdump() if sequences or "sqlite_sequence" not in line)
    finally:
        conn.close()


def zip_path(data_dir: Path) -> Path:
    return data_dir / "history" / "database.zip"


def names(db) -> list[str]:
    return sorted(d.name for d in inst.devices(db))


# -- backup ----------------------------------------------------------------------------------------
def test_the_backup_holds_a_snapshot_and_a_manifest(db, tmp_path):
    install(db)   # committed, still in the WAL: the snapshot must see it
    assert (tmp_path / f"{CONFIG_DB}-wal").stat().st_size > 0
    path = make_backup(db, tmp_path)
    assert path == zip_path(tmp_path)
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["config.db", "manifest.json"]
        manifest = json.loads(archive.read("manifest.json"))
        (tmp_path / "copy.db").write_bytes(archive.read("config.db"))
    assert manifest["product"] == "wsmeasure" and manifest["schema"] == SCHEMA_VERSION
    assert manifest["version"] == __version__ and "T" in manifest["created"]
    conn = sqlite3.connect(tmp_path / "copy.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"   # whole without a -wal
    assert conn.execute("SELECT count(*) FROM device").fetchone()[0] == 2
    assert conn.execute("SELECT value FROM setting WHERE key = 'serial.baudrate'").fetchone()[0] == "9600"
    conn.close()
    assert sorted(p.name for p in (tmp_path / "history").iterdir()) == ["database.zip"]   # no temp file left
    assert not list(tmp_path.glob(".backup-work-*"))


# -- restore ---------------------------------------------------------------------------------------------
def test_round_trip(db, tmp_path):
    install(db)
    make_backup(db, tmp_path)
    wanted = dump(tmp_path, sequences=False)
    for device in inst.devices(db):
        inst.delete_device(db, device.id)
    inst.add_device(db, inst.local_gateway(db).id, "emdx3_meter", "0 146 69", 7, "Newcomer")
    settings.set(db, "serial.baudrate", "38400")
    settings.set(db, "ftp.password", "n3w-pass")
    summary = restore_backup(db, tmp_path)
    assert summary["gateways"] == 2 and summary["devices"] == 2 and summary["schema"] == SCHEMA_VERSION
    assert summary["version"] == __version__ and summary["created"]
    assert names(db) == ["Lighting", "Main incomer"]
    assert settings.get(db, "serial.baudrate") == 9600 and settings.get(db, "ftp.password") == ""
    assert settings.get(db, "language.default") == "fr_BE"
    assert dump(tmp_path, sequences=False) == wanted   # the ID counters keep the Newcomer's ID used
    assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"   # the live file stays WAL
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_a_restore_while_another_connection_is_open(db, tmp_path):
    install(db)
    make_backup(db, tmp_path)
    web = open_config(tmp_path)   # the daemon's connection (`db`) and a web thread's
    try:
        inst.delete_device(db, inst.devices(db)[0].id)
        settings.set(web, "serial.parity", "odd")
        assert len(inst.devices(web)) == 1
        restore_backup(web, tmp_path)
        assert names(db) == names(web) == ["Lighting", "Main incomer"]
        assert settings.get(db, "serial.parity") == "even"
        inst.add_gateway(db, "192.168.1.21", "After the restore")   # both keep working
        assert len(inst.gateways(web)) == 3
    finally:
        web.close()


def test_a_backup_with_another_page_size_is_restored(db, tmp_path):
    install(db)
    good = members_of(make_backup(db, tmp_path))
    other = with_sql(good["config.db"], tmp_path, "PRAGMA page_size = 8192", "VACUUM")
    assert int.from_bytes(other[16:18], "big") == 8192
    write_zip(zip_path(tmp_path), {**good, "config.db": other})
    inst.delete_device(db, inst.devices(db)[0].id)
    restore_backup(db, tmp_path)
    assert names(db) == ["Lighting", "Main incomer"]
    assert db.execute_sql("PRAGMA page_size").fetchone()[0] == 4096


def test_ids_handed_out_after_the_backup_are_not_handed_out_again(db, tmp_path):
    install(db)   # devices 1 and 2
    make_backup(db, tmp_path)
    gone = inst.add_device(db, inst.local_gateway(db).id, "emdx3_meter", "0 146 69", 9, "Short-lived")
    inst.delete_device(db, gone.id)   # device 3: its CSV folder and data.db series remain
    restore_backup(db, tmp_path)
    new = inst.add_device(db, inst.local_gateway(db).id, "emdx3_meter", "0 146 69", 9, "Third")
    assert (gone.id, new.id) == (3, 4)


# -- refusals: each leaves config.db as it was ----------------------------------------------------------
def write_zip(path: Path, members: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def members_of(path: Path) -> dict:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def with_sql(config: bytes, tmp_path: Path, *statements: str) -> bytes:
    """The backup's config.db changed by a few statements."""
    path = tmp_path / "edit.db"
    path.write_bytes(config)
    conn = sqlite3.connect(path, isolation_level=None)
    for sql in statements:
        conn.execute(sql)
    conn.close()
    return path.read_bytes()


def empty_db(tmp_path: Path) -> bytes:
    path = tmp_path / "empty.db"
    sqlite3.connect(path).execute("CREATE TABLE other (x)").connection.close()
    return path.read_bytes()


def torn(config: bytes) -> bytes:
    """A config.db with the b-tree header of its last page overwritten (a torn write)."""
    page = int.from_bytes(config[16:18], "big")
    last = len(config) - page
    return config[:last] + b"\xff" * 12 + config[last + 12:]


def manifest(**changes) -> bytes:
    return json.dumps({"product": "wsmeasure", "schema": SCHEMA_VERSION, "version": __version__,
                       "created": "2024-03-06T11:02:00+01:00", **changes}).encode()


CASES = {
    # name: (make the archive from the good members, the message says)
    "missing": (None, "no database.zip"),
    "not a zip": (lambda m, t: b"PK\x03\x04 not really a zip", "not a zip archive"),
    "no manifest": (lambda m, t: {"config.db": m["config.db"]}, "manifest.json missing"),
    "no config.db": (lambda m, t: {"manifest.json": m["manifest.json"]}, "config.db missing"),
    "an extra member": (lambda m, t: {**m, "notes.txt": b"hello"}, "unexpected entries (notes.txt)"),
    "a path out of the folder": (lambda m, t: {**m, "../x": b"boom"}, "unexpected entries (../x)"),
    "an absolute path": (lambda m, t: {"/etc/config.db": m["config.db"], "manifest.json": m["manifest.json"]},
                         "unexpected entries (/etc/config.db)"),
    "a member twice": (lambda m, t: [("config.db", m["config.db"]), ("config.db", m["config.db"]),
                                     ("manifest.json", m["manifest.json"])], "once each"),
    "not our manifest": (lambda m, t: {**m, "manifest.json": manifest(product="other")}, "not made by wsmeasure"),
    "manifest not json": (lambda m, t: {**m, "manifest.json": b"{oops"}, "not valid JSON"),
    "a newer schema": (lambda m, t: {**m, "manifest.json": manifest(schema=SCHEMA_VERSION + 1, version="9.0")},
                       "newer wsmeasure"),
    "config.db not a database": (lambda m, t: {**m, "config.db": b"SQLite format 3\x00" + b"\x01" * 5000},
                                 "config.db is not a readable database"),
    "a damaged config.db": (lambda m, t: {**m, "config.db": torn(m["config.db"])}, "config.db is"),
    "config.db of something else": (lambda m, t: {**m, "config.db": empty_db(t)}, "lacks the table"),
    "a table without its columns": (lambda m, t: {**m, "config.db": with_sql(
        m["config.db"], t, "ALTER TABLE device DROP COLUMN exclude_alerts")}, "column(s) exclude_alerts of table device"),
    "config.db of a newer schema": (lambda m, t: {**m, "config.db": with_sql(
        m["config.db"], t, f"PRAGMA user_version = {SCHEMA_VERSION + 1}")}, "newer than this"),
    "a setting this version refuses": (lambda m, t: {**m, "config.db": with_sql(
        m["config.db"], t, "UPDATE setting SET value = '31250' WHERE key = 'serial.baudrate'")},
        "serial.baudrate"),
    "an unknown setting": (lambda m, t: {**m, "config.db": with_sql(
        m["config.db"], t, "INSERT INTO setting VALUES ('serial.speed', '9600')")},
        '"serial.speed" is unknown'),
    "a dangling row": (lambda m, t: {**m, "config.db": with_sql(
        m["config.db"], t, "UPDATE device SET gateway_id = 99")}, "do not exist"),
    "a zip bomb": (lambda m, t: {**m, "config.db": b"\0" * (64 * 2 ** 20 + 1)}, "larger than 64 MiB uncompressed"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_refused_restore_changes_nothing(db, tmp_path, case):
    install(db)
    good = members_of(make_backup(db, tmp_path))
    make, fragment = CASES[case]
    path = zip_path(tmp_path)
    if make is None:
        path.unlink()
    else:
        content = make(good, tmp_path)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            if isinstance(content, dict):
                content = list(content.items())
            path.unlink()
            with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive, warnings.catch_warnings():
                warnings.simplefilter("ignore")   # "Duplicate name": that is the point of one case
                for name, data in content:
                    archive.writestr(name, data)
    inst.delete_device(db, inst.devices(db)[0].id)   # so that a restore would show
    before = dump(tmp_path)
    with pytest.raises(RestoreError) as exc:
        restore_backup(db, tmp_path)
    assert fragment in str(exc.value), str(exc.value)
    assert dump(tmp_path) == before
    assert not (tmp_path / "x").exists() and not Path("/etc/config.db").exists()
    assert not list(tmp_path.glob(".backup-work-*"))


def test_a_member_lying_about_its_size_is_refused(db, tmp_path):
    # the declared size says 10 bytes; the stream says more: zipfile stops at the declared size and
    # the CRC check fails, so the lie is refused rather than read on
    install(db)
    good = members_of(make_backup(db, tmp_path))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("manifest.json", good["manifest.json"])
        archive.writestr("config.db", good["config.db"])
    raw = bytearray(buffer.getvalue())
    # file_size of config.db in its central directory record (offset 24 of the record)
    central = raw.rfind(b"PK\x01\x02")
    raw[central + 24:central + 28] = (10).to_bytes(4, "little")
    zip_path(tmp_path).write_bytes(bytes(raw))
    before = dump(tmp_path)
    with pytest.raises(RestoreError, match="config.db cannot be read"):
        restore_backup(db, tmp_path)
    assert dump(tmp_path) == before


# -- the automatic backup ------------------------------------------------------------------------------
def test_auto_backup_keeps_a_good_copy_and_its_status(db, tmp_path):
    assert last_auto_backup(tmp_path) == {"time": None, "status": "none", "last_ok": None}
    assert auto_backup_due(tmp_path, now=1000.0)
    install(db)
    record = auto_backup(db, tmp_path, now=1000.0)
    assert record == {"time": 1000.0, "status": "ok", "last_ok": 1000.0} == last_auto_backup(tmp_path)
    copy = sqlite3.connect(f"file:{tmp_path / AUTO_DIR / CONFIG_DB}?mode=ro", uri=True)
    assert copy.execute("SELECT count(*) FROM device").fetchone()[0] == 2
    copy.close()
    assert not auto_backup_due(tmp_path, now=1000.0 + 86399)
    assert auto_backup_due(tmp_path, now=1000.0 + 86400)
    assert auto_backup_due(tmp_path, now=999.0)   # the clock went back: do not wait a day more
    assert sorted(p.name for p in (tmp_path / AUTO_DIR).iterdir()) == ["config.db", "status.json"]


def test_a_failed_auto_backup_is_an_error_status_and_keeps_the_last_good_time(db, tmp_path):
    auto_backup(db, tmp_path, now=1000.0)
    target = tmp_path / AUTO_DIR / CONFIG_DB
    target.unlink()
    target.mkdir()   # something in the way: the new copy cannot take its place
    (target / "keep").write_text("x")
    record = auto_backup(db, tmp_path, now=2000.0)
    assert record["status"].startswith("error: ") and record["time"] == 2000.0 and record["last_ok"] == 1000.0
    assert last_auto_backup(tmp_path) == record
    assert [p.name for p in tmp_path.joinpath(AUTO_DIR).iterdir() if p.name.startswith(".")] == []


def test_an_unreadable_status_says_so(tmp_path):
    (tmp_path / AUTO_DIR).mkdir()
    (tmp_path / AUTO_DIR / "status.json").write_text("{torn")
    assert last_auto_backup(tmp_path)["status"].startswith("error: ")
    assert auto_backup_due(tmp_path)
