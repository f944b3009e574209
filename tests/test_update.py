"""Software update (manual 7.10, issue 7): signed bundles, installed into the inactive of two
application slots, switched, kept once marked good, else rolled back by slot-guard; every
refusal changes nothing; configuration and data survive every path. All on temporary folders
standing for the box's root (no root rights, no QEMU)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tarfile
from html import unescape
from pathlib import Path

import pytest
from web import box, client, csrf_of  # noqa: F401

from wsmeasure import __version__, bundle, cli, settings, update
from wsmeasure import installation as inst
from wsmeasure.backup import make_backup, restore_backup
from wsmeasure.db import CONFIG_DB, open_config
from wsmeasure.models import SCHEMA_VERSION
from wsmeasure.settings import ConfigError

REPO = Path(__file__).resolve().parent.parent
SLOT_GUARD = REPO / "rootfs/usr/lib/wsmeasure/slot-guard"


def next_version(version: str) -> str:
    numbers = [int(n) for n in bundle.VERSION.match(version).group(1).split(".")]
    numbers[-1] += 1
    return ".".join(map(str, numbers))


NEW = next_version(__version__)


# -- fixtures: keys, one real bundle, a fake box ------------------------------------------------------
@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keys")
    private, public = bundle.keygen(folder / "dev.key")
    other, _ = bundle.keygen(folder / "stranger.key")
    return {"private": private, "public": public, "stranger": other}


@pytest.fixture(scope="module")
def good(keys, tmp_path_factory):
    """A bundle of the current source, stamped NEW: pip wheel + the dependencies of this venv."""
    out = tmp_path_factory.mktemp("bundle") / f"wsmeasure-{NEW}.bundle"
    return bundle.build(keys["private"], out, version=NEW)


def fake_slot(folder: Path, version: str) -> None:
    """A slot that looks installed (slot-guard checks bin/wsmeasure), without a real virtualenv."""
    (folder / "bin").mkdir(parents=True)
    (folder / "bin" / "wsmeasure").write_text(f"#!/bin/sh\necho {version}\n")
    (folder / "VERSION").write_text(version)


def fake_build(folder: Path, wheels: Path, version: str, python: Path) -> None:
    assert any(w.name.startswith(f"wsmeasure-{version}-") for w in wheels.iterdir())
    fake_slot(folder, version)


def make_root(folder: Path, keys) -> Path:
    """A box's root: slot-a active (the running version) and the trusted key."""
    app_dir = folder / update.APP_DIR
    fake_slot(app_dir / "slot-a", __version__)
    os.symlink("slot-a", app_dir / "current")
    (folder / bundle.KEYS_DIR).mkdir(parents=True)
    (folder / bundle.KEYS_DIR / "dev.pub").write_bytes(keys["public"].read_bytes())
    return folder


@pytest.fixture
def root(tmp_path, keys):
    """A box with a data partition: a configuration with a device, measurements, CSV history.
    (open_config binds the models to this config.db: not for the page tests, whose daemon has its own.)"""
    root = make_root(tmp_path / "root", keys)
    data = root / update.DATA_DIR
    db = open_config(data)
    inst.add_device(db, inst.local_gateway(db).id, "emdx3_meter", "0 146 69", 1, "Main incomer")
    settings.set(db, "serial.baudrate", "9600")
    db.close()
    (data / "history" / "energy").mkdir(parents=True)
    (data / "history" / "energy" / "2024-01.csv").write_text("time;Ea+\n2024-01-01 00:00;12.5\n")
    with sqlite3.connect(data / "data.db") as conn:
        conn.execute("CREATE TABLE slot (t INTEGER, v REAL)")
        conn.execute("INSERT INTO slot VALUES (1, 2.5)")
    conn.close()
    return root


def data_dir(root: Path) -> Path:
    return root / update.DATA_DIR


def tree(folder: Path) -> dict:
    """Every file's bytes and every symlink's target under `folder`: "byte-identical" made testable."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = str(path.relative_to(folder))
            if path.is_symlink():
                found[rel] = ("link", os.readlink(path))
            elif path.is_file():
                found[rel] = ("file", path.read_bytes())
            else:
                found[rel] = ("dir",)
    return found


def current(root: Path) -> str:
    return os.readlink(root / update.APP_DIR / "current")


def state(root: Path) -> dict:
    return update.read_state(data_dir(root))


def guard(root: Path, *args) -> str:
    """One start of the daemon: slot-guard as wsmeasure.service's ExecStartPre runs it."""
    done = subprocess.run([sys.executable, str(SLOT_GUARD), "--root", str(root), *args], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stderr


def device_names(root: Path) -> list[str]:
    db = open_config(data_dir(root))
    try:
        return sorted(d.name for d in inst.devices(db))
    finally:
        db.close()


def data_survived(root: Path) -> None:
    assert device_names(root) == ["Main incomer"]
    assert (data_dir(root) / "history" / "energy" / "2024-01.csv").read_text().endswith("12.5\n")
    with sqlite3.connect(data_dir(root) / "data.db") as conn:
        assert conn.execute("SELECT v FROM slot").fetchall() == [(2.5,)]
    conn.close()


def install(root: Path, path: Path, **kw) -> update.Outcome:
    kw.setdefault("build_slot", fake_build)
    return update.install_update(path, root, data_dir(root), **kw)


# -- rewriting bundles ---------------------------------------------------------------------------
def members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as archive:
        return {m.name: archive.extractfile(m).read() for m in archive.getmembers()}


def write_bundle(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def resigned(good: Path, out: Path, key: Path, **changes) -> Path:
    """The good bundle with manifest fields changed, signed again with `key`."""
    files = members(good)
    manifest = {**json.loads(files[bundle.MANIFEST]), **changes}
    data = json.dumps(manifest).encode()
    files[bundle.MANIFEST] = data
    files[bundle.SIGNATURE] = bundle.load_private_key(key).sign(data)
    return write_bundle(out, files)


def tampered_payload(good: Path, out: Path) -> Path:
    files = members(good)
    payload = bytearray(files[bundle.PAYLOAD])
    payload[len(payload) // 2] ^= 0xFF   # same size, one byte changed inside a wheel
    files[bundle.PAYLOAD] = bytes(payload)
    return write_bundle(out, files)


def payload_with(good: Path, out: Path, key: Path, extra: dict[str, bytes]) -> Path:
    """The good bundle whose payload also holds `extra` files, properly hashed and signed."""
    files = members(good)
    inner = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(files[bundle.PAYLOAD])) as source, tarfile.open(fileobj=inner, mode="w") as t:
        for m in source.getmembers():
            t.addfile(m, source.extractfile(m))
        for name, data in extra.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    payload = inner.getvalue()
    files[bundle.PAYLOAD] = payload
    manifest = json.loads(files[bundle.MANIFEST])
    manifest["payload"] = {"name": bundle.PAYLOAD, "size": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}
    files[bundle.MANIFEST] = json.dumps(manifest).encode()
    files[bundle.SIGNATURE] = bundle.load_private_key(key).sign(files[bundle.MANIFEST])
    return write_bundle(out, files)


# -- the bundle ----------------------------------------------------------------------------------
def test_a_bundle_is_a_signed_manifest_and_a_payload_of_wheels(good, keys):
    files = members(good)
    assert list(files) == list(bundle.MEMBERS)
    manifest = json.loads(files[bundle.MANIFEST])
    assert manifest["product"] == "wsmeasure" and manifest["version"] == NEW
    assert manifest["compatible"] == bundle.default_compatible()
    assert manifest["python"] == f"{sys.version_info.major}.{sys.version_info.minor}"
    wheels = manifest["wheels"]
    assert f"wsmeasure-{NEW}-py3-none-any.whl" in wheels
    for dependency in ("cryptography", "peewee", "pymodbus", "cheroot", "bottle", "pip"):
        assert any(w.lower().startswith(dependency + "-") for w in wheels), dependency
    assert not any(w.lower().startswith(("pytest", "webtest", "playwright")) for w in wheels)   # no test extras
    verified = bundle.verify(good, keys=bundle.read_public_keys([keys["public"]]), installed=__version__)
    assert verified.key == "dev.key.pub" and sorted(verified.wheels) == sorted(wheels)
    assert oct(keys["private"].stat().st_mode & 0o777) == "0o600"


def test_versions_compare_as_releases():
    order = ["0.9", "1.0.dev1", "1.0a1", "1.0b2", "1.0rc1", "1.0", "1.0.0", "1.0.post1", "1.0.1", "1.10"]
    keys = [bundle.version_key(v) for v in order]
    assert keys == sorted(keys)
    assert bundle.version_key("1.0") == bundle.version_key("1.0.0")
    for bad in ("", "v1", "1.0+local", "1..0", "latest"):
        with pytest.raises(ValueError):
            bundle.version_key(bad)


def test_the_box_compatibility_string(tmp_path):
    assert bundle.box_compatible(tmp_path) == bundle.default_compatible()
    assert bundle.default_compatible("aarch64") == "wsmeasure-appliance-arm64"
    assert bundle.default_compatible("x86_64") == "wsmeasure-appliance-amd64"
    (tmp_path / "etc/wsmeasure").mkdir(parents=True)
    (tmp_path / bundle.COMPATIBLE_FILE).write_text("wsmeasure-appliance-arm64\n")
    assert bundle.box_compatible(tmp_path) == "wsmeasure-appliance-arm64"


# -- refusals change nothing -----------------------------------------------------------------------
REFUSALS = {
    "tampered payload": (lambda good, out, keys: tampered_payload(good, out), {}, "does not match its signed manifest"),
    "bad signature": (lambda good, out, keys: resigned(good, out, keys["stranger"]), {},
                      "does not match a key this box trusts"),
    "manifest changed after signing": (lambda good, out, keys: write_bundle(out, {
        **members(good), bundle.MANIFEST: members(good)[bundle.MANIFEST].replace(b'"format"', b' "format"')}), {},
        "does not match a key this box trusts"),
    "unsigned": (lambda good, out, keys: write_bundle(out, {k: v for k, v in members(good).items()
                                                            if k != bundle.SIGNATURE}), {}, "not signed"),
    "incompatible": (lambda good, out, keys: resigned(good, out, keys["private"], compatible="wsmeasure-appliance-arm64"),
                     {}, "this box is wsmeasure-appliance-"),
    "other Python": (lambda good, out, keys: resigned(good, out, keys["private"], python="3.99"), {},
                     "built for Python 3.99"),
    "older version": (lambda good, out, keys: good, {"installed": "99.0"}, "older than the installed 99.0"),
    "same version": (lambda good, out, keys: good, {"installed": NEW}, "is already installed"),
    "not a bundle": (lambda good, out, keys: out.write_bytes(b"PK\x03\x04 not a tar" * 100) and out, {},
                     "not a wsmeasure update bundle"),
    "extra member": (lambda good, out, keys: write_bundle(out, {**members(good), "../evil": b"x"}), {},
                     "not a wsmeasure update bundle"),
    "other product": (lambda good, out, keys: resigned(good, out, keys["private"], product="other"), {},
                      "not a wsmeasure update bundle"),
    "no version": (lambda good, out, keys: resigned(good, out, keys["private"], version="latest"), {},
                   "no valid version"),
    "not only wheels": (lambda good, out, keys: payload_with(good, out, keys["private"], {"../../etc/passwd": b"x"}),
                        {}, "something else than wheels"),
    "missing file": (lambda good, out, keys: out, {}, "cannot be read"),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_a_refused_bundle_changes_nothing(case, good, keys, root, tmp_path):
    make, options, says = REFUSALS[case]
    path = make(good, tmp_path / "candidate.bundle", keys)
    update.write_state(data_dir(root), {"active": "slot-a", "pending": False, "history": []})
    before = tree(root)
    with pytest.raises(ConfigError) as refused:
        install(root, path, **options)
    assert refused.value.field == "bundle"
    assert says in str(refused.value)
    assert tree(root) == before


def test_too_big_and_no_trusted_key(good, root, monkeypatch):
    before = tree(root)
    monkeypatch.setattr(bundle, "BUNDLE_MAX", 1000)
    with pytest.raises(ConfigError, match="a bundle is at most 0.0 MiB"):
        install(root, good)
    monkeypatch.undo()
    for key in (root / bundle.KEYS_DIR).iterdir():
        key.unlink()
    with pytest.raises(ConfigError, match="no key to check update signatures"):
        install(root, good)
    del before[str(bundle.KEYS_DIR / "dev.pub")]
    assert tree(root) == before


# -- install, trial, mark good, rollback ------------------------------------------------------------
def test_install_builds_the_inactive_slot_and_switches(good, root):
    """The real thing: a virtualenv built offline from the payload, its scripts pointing at the slot."""
    done = install(root, good, build_slot=None)
    assert (done.action, done.version, done.slot, done.installed) == ("installed", NEW, "slot-b", __version__)
    slot = root / update.APP_DIR / "slot-b"
    assert current(root) == "slot-b"
    assert not list((root / update.APP_DIR).glob(".*"))   # no .slot-b.new, .current.new left
    ran = subprocess.run([str(slot / "bin" / "wsmeasure"), "--help"], capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0 and "update" in ran.stdout   # the shebang names slot-b, not the build folder
    version = subprocess.run([str(root / update.APP_DIR / "current" / "bin" / "python"), "-c",
                              "import wsmeasure; print(wsmeasure.__version__)"], capture_output=True, text=True)
    assert version.stdout.strip() == NEW
    assert not (slot / "bin" / "pip").exists()   # pip ran from its wheel: the slot needs none
    now = state(root)
    assert (now["active"], now["previous"], now["pending"], now["tries"]) == ("slot-b", "slot-a", True, 0)
    assert (now["version"], now["previous_version"]) == (NEW, __version__)
    assert now["history"][-1]["event"] == "installed"
    assert (data_dir(root) / "update" / update.SNAPSHOT).is_file()
    assert not list((data_dir(root) / "update").glob(update.WORK_PREFIX + "*"))
    data_survived(root)
    # while it is on trial, no other bundle: the inactive slot is its way back
    before = tree(root)
    with pytest.raises(ConfigError, match="still on trial"):
        install(root, good, force=True)
    assert tree(root) == before
    assert not update.mark_good(data_dir(root), slot="slot-a")   # the old version cannot vouch for it
    assert update.mark_good(data_dir(root), slot="slot-b")
    assert state(root)["pending"] is False and state(root)["history"][-1]["event"] == "confirmed"
    assert "nothing on trial" in guard(root)
    assert current(root) == "slot-b"


def test_slot_guard_counts_tries_and_rolls_back_after_three(good, root):
    install(root, good)
    assert current(root) == "slot-b"
    for n in (1, 2, 3):
        assert f"start {n} of 3" in guard(root)
        assert current(root) == "slot-b" and state(root)["tries"] == n and state(root)["pending"]
    said = guard(root)
    assert "back to" in said and current(root) == "slot-a"
    now = state(root)
    assert (now["active"], now["previous"], now["pending"]) == ("slot-a", "slot-b", False)
    assert (now["version"], now["previous_version"]) == (__version__, NEW)
    event = now["history"][-1]
    assert event["event"] == "rolled_back" and event["from_version"] == NEW and event["config_restored"] is False
    assert "no update" not in guard(root) and current(root) == "slot-a"   # later starts: nothing to do
    data_survived(root)
    # the failed slot is the inactive one: the next bundle goes there
    assert install(root, good).slot == "slot-b"


def test_marked_good_in_time_stays(good, root):
    install(root, good)
    guard(root)
    guard(root)
    assert update.mark_good(data_dir(root), slot="slot-b")
    for _ in range(5):
        guard(root)
    assert current(root) == "slot-b" and state(root)["tries"] == 2


def test_a_migrated_configuration_is_restored_on_rollback(good, root):
    install(root, good)
    guard(root)
    with sqlite3.connect(data_dir(root) / CONFIG_DB) as conn:   # what a newer version's migration does
        conn.execute("CREATE TABLE newer_feature (x)")
        conn.execute("PRAGMA user_version = 99")
    conn.close()
    for _ in range(3):   # the previous version would refuse schema 99 (db.open_config)
        guard(root)
    assert current(root) == "slot-a" and state(root)["history"][-1]["config_restored"] is True
    with sqlite3.connect(data_dir(root) / CONFIG_DB) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert not conn.execute("SELECT name FROM sqlite_master WHERE name = 'newer_feature'").fetchall()
    conn.close()
    data_survived(root)   # opens with the previous version's schema again


def test_a_configuration_change_during_the_trial_is_kept_without_migration(good, root):
    install(root, good)
    guard(root)
    db = open_config(data_dir(root))
    inst.add_device(db, inst.local_gateway(db).id, "emdx3_meter", "0 146 68", 2, "Added on trial")
    db.close()
    for _ in range(3):
        guard(root)
    assert current(root) == "slot-a"
    assert device_names(root) == ["Added on trial", "Main incomer"]


def test_slot_guard_follows_an_interrupted_switch_and_never_fails(root, tmp_path):
    assert "no update" in guard(root)
    update.write_state(data_dir(root), {"active": "slot-b", "previous": "slot-a", "pending": True, "tries": 0,
                                        "version": NEW})
    assert "did not happen" in guard(root)   # state written, power cut before the switch
    assert current(root) == "slot-a" and state(root)["pending"] is False
    assert state(root)["history"][-1]["event"] == "interrupted"
    (data_dir(root) / "update" / "state.json").write_text("{not json")
    assert "JSONDecodeError" in guard(root)   # logged; the daemon starts all the same
    assert current(root) == "slot-a"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no update" in guard(empty)


def test_no_rollback_without_a_previous_slot(good, root):
    install(root, good)
    for _ in range(3):
        guard(root)
    shutil.rmtree(root / update.APP_DIR / "slot-a")
    assert "no previous slot" in guard(root)
    assert current(root) == "slot-b" and state(root)["pending"] is False


def test_the_daemon_confirms_a_version_once_healthy(good, root):
    install(root, good)
    checks = []

    def healthy():
        checks.append(1)
        return len(checks) >= 3   # the first poll cycle comes later

    done = asyncio.run(update.confirm_when_healthy(data_dir(root), healthy, after_s=0, every_s=0.01, slot="slot-b"))
    assert done and len(checks) == 3 and state(root)["pending"] is False
    # not on trial, or another slot, or not running from a slot at all (a developer machine): at once
    assert not asyncio.run(update.confirm_when_healthy(data_dir(root), lambda: True, after_s=3600, slot="slot-b"))
    assert not asyncio.run(update.confirm_when_healthy(data_dir(root), lambda: True, after_s=3600))


def test_backup_and_restore_of_the_configuration_across_an_update(good, root):
    db = open_config(data_dir(root))
    try:
        make_backup(db, data_dir(root))
        install(root, good)
        guard(root)
        update.mark_good(data_dir(root), slot="slot-b")
        inst.add_device(db, inst.local_gateway(db).id, "emdx3_meter", "0 146 68", 2, "After the update")
        settings.set(db, "serial.baudrate", "19200")
        restored = restore_backup(db, data_dir(root))
        assert restored["devices"] == 1 and restored["version"] == __version__
        assert sorted(d.name for d in inst.devices(db)) == ["Main incomer"]
        assert settings.get(db, "serial.baudrate") == 9600
    finally:
        db.close()


# -- developer machines, the root updater, the command line -----------------------------------------
def test_a_developer_machine_verifies_and_installs_nothing(good, root, tmp_path):
    (root / update.APP_DIR / "current").unlink()
    shutil.rmtree(root / update.APP_DIR)
    before = tree(root)
    done = install(root, good)
    assert done.action == "verified" and done.slot is None and done.version == NEW
    assert tree(root) == before
    fake = tmp_path / "box"
    shutil.copytree(root, fake, symlinks=True)
    fake_slot(fake / update.APP_DIR / "slot-a", __version__)
    os.symlink("slot-a", fake / update.APP_DIR / "current")
    before = tree(fake)
    assert install(fake, good, dry_run=True).slot == "slot-b"
    assert tree(fake) == before


def test_the_daemon_user_queues_the_bundle_for_the_root_updater(good, keys, root, tmp_path, monkeypatch):
    upload = data_dir(root) / "update" / "uploaded.bundle"
    upload.parent.mkdir(parents=True, exist_ok=True)
    upload.write_bytes(good.read_bytes())
    monkeypatch.setattr(update, "writable", lambda folder: False)
    with pytest.raises(ConfigError, match="not writable"):
        install(root, upload)   # the command line does not queue: it says to run as root
    done = install(root, upload, queue=True)
    assert done.action == "queued" and not upload.exists() and current(root) == "slot-a"
    queued = data_dir(root) / "update" / update.QUEUED
    assert queued.read_bytes() == good.read_bytes()
    assert update.status(root, data_dir(root))["queued"]
    monkeypatch.undo()
    ran = []
    done = update.process_queue(root, data_dir(root), run=lambda cmd, **kw: ran.append(cmd), build_slot=fake_build)
    assert done.action == "installed" and current(root) == "slot-b" and not queued.exists()
    assert ran == [list(update.RESTART)]
    # a refusal on the root side is recorded for the page
    tampered_payload(good, queued)
    with pytest.raises(ConfigError):
        update.process_queue(root, data_dir(root), run=lambda cmd, **kw: ran.append(cmd), force=True)
    event = state(root)["history"][-1]
    assert event["event"] == "refused" and "does not match its signed manifest" in event["message"]["template"]
    assert not queued.exists() and len(ran) == 1


def test_the_command_line(good, root, capsys, monkeypatch):
    base = ["update", "install", "--root", str(root), "--dry-run"]
    assert cli.main(base + [str(good)]) == 0
    assert f"verified: wsmeasure {NEW}" in capsys.readouterr().out
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(good.read_bytes())))
    assert cli.main(base + ["-"]) == 0   # ssh box wsmeasure update install - < FILE
    assert "nothing installed (it would go into slot-b)" in capsys.readouterr().out
    assert not (data_dir(root) / "update" / "stdin.bundle").exists()
    assert cli.main(["update", "install", "--root", str(root), "--dry-run", str(good), "--force"]) == 0
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"garbage")))
    assert cli.main(base + ["-"]) == 1
    assert "refused: the file is not a wsmeasure update bundle" in capsys.readouterr().err
    assert cli.main(["update", "status", "--root", str(root)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["appliance"] and shown["active"] == "slot-a" and not shown["pending"]


# -- the Software update page -------------------------------------------------------------------
def error_of(page) -> str:
    m = re.search(r'<p class="error" id="bundle-error">([^<]*)</p>', page.text)
    return unescape(m.group(1)) if m else ""


def test_the_page_refuses_a_tampered_bundle_and_verifies_a_good_one(box, client, good, keys, tmp_path,  # noqa: F811
                                                                    monkeypatch):
    root = make_root(tmp_path / "root", keys)
    monkeypatch.setattr(update, "ROOT", root)   # the box's keys and slots; the daemon is not --appliance
    restarts = []
    monkeypatch.setattr(update, "restart_later", lambda *a, **kw: restarts.append(1))
    web = client("administrator")
    folder = box.daemon.data_dir / "update"
    page = web.get("/server/update")
    assert __version__ in page.text and "slot-a" in page.text and "developer machine" in page.text
    bad = tampered_payload(good, tmp_path / "tampered.bundle")
    refused = web.post("/server/update", {"csrf": csrf_of(page)},
                       upload_files=[("bundle", "tampered.bundle", bad.read_bytes())], status=400)
    assert "does not match its signed manifest" in error_of(refused)
    before = tree(root)
    ok = web.post("/server/update", {"csrf": csrf_of(page)},
                  upload_files=[("bundle", good.name, good.read_bytes())], status=200)
    assert f"The bundle is verified: wsmeasure {NEW}" in ok.text and "nothing was installed" in ok.text
    assert tree(root) == before and current(root) == "slot-a" and not restarts
    assert not [p for p in folder.iterdir() if p.name != "state.json"]   # the uploads are gone
    # the refusal in the user's language
    web.post("/language", {"csrf": csrf_of(page), "lang": "de", "next": "/server/update"}, status=303)
    try:
        german = web.post("/server/update", {"csrf": csrf_of(page)},
                          upload_files=[("bundle", "tampered.bundle", bad.read_bytes())], status=400)
        assert "does not match" not in error_of(german) and error_of(german)
    finally:
        web.post("/language", {"csrf": csrf_of(page), "lang": "en", "next": "/"}, status=303)


def test_the_page_shows_the_last_updates(box, client, keys, tmp_path, monkeypatch):  # noqa: F811
    root = make_root(tmp_path / "root", keys)
    monkeypatch.setattr(update, "ROOT", root)
    folder = box.daemon.data_dir
    saved = update.read_state(folder)
    state = {"active": "slot-a", "previous": "slot-b", "pending": False, "version": __version__,
             "previous_version": NEW, "history": []}
    update.add_event(state, "installed", version=NEW, slot="slot-b", from_version=__version__)
    update.add_event(state, "rolled_back", version=__version__, slot="slot-a", from_version=NEW, tries=3,
                     config_restored=True)
    try:
        update.install_update(folder / "missing.bundle", root, folder)
    except ConfigError as exc:
        update.add_event(state, "refused", message=exc.message.to_json())
    update.write_state(folder, state)
    try:
        page = client("administrator").get("/server/update")
        text = page.text
        assert f"Version {NEW} was not marked good after 3 starts: the box went back to version {__version__}." in text
        assert "The configuration from before the update was restored." in text
        assert f"Version {NEW} installed in slot-b" in text
        assert "An update was refused: the update file cannot be read" in text
        assert f"{NEW} in slot-b" in text   # the previous version
    finally:
        update.write_state(folder, saved)
