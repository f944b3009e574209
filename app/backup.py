"""Backup and restore of the configuration (manual 9), and the daily automatic backup (8.8).

Backup: `database.zip` in the FTP folder (data_dir/history), holding `config.db` (a consistent
snapshot through SQLite's backup API: the live file may have changes in its WAL) and
`manifest.json` (product, schema, version, creation time). Restore reads the database.zip found
there (downloaded earlier, or uploaded over FTP) and checks everything in a private copy before
it touches the live config.db; a refusal raises RestoreError and changes nothing. The copy into
the live file is again the backup API, so every open connection (the daemon's, the web
threads') sees the restored configuration at its next transaction. A restore brings back the
whole configuration: installation, settings (network ones included), users.

The automatic backup is a snapshot of config.db in data_dir/backup, with its time and status
in status.json for the System information page; it is a fallback on the box, not a download.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import tempfile
import threading
import time
import zipfile
from datetime import datetime, timezone
from pathlib import Path

from . import __version__, settings
from .db import BUSY_TIMEOUT_S, CONFIG_DB
from .ftp import TEMP_PREFIX, TEMP_SUFFIX, UPLOAD_NAME
from .history_files import fsync_dir
from .messages import Msg
from .models import MODELS, SCHEMA_VERSION

PRODUCT = "wsmeasure"
MANIFEST = "manifest.json"
MEMBERS = (CONFIG_DB, MANIFEST)
MEMBER_MAX = 64 * 2 ** 20        # uncompressed; a config.db is well under 1 MiB: beyond, a zip bomb
MANIFEST_MAX = 64 * 1024
CHUNK = 2 ** 20
AUTO_DIR = "backup"              # data_dir/backup: config.db + status.json of the automatic backup
AUTO_STATUS = "status.json"
AUTO_PERIOD_S = 86400
WORK_PREFIX = ".backup-work-"    # private folders beside the files; a power cut may leave one

_lock = threading.Lock()         # one backup, restore or automatic backup at a time per process


class RestoreError(Exception):
    """A restore refused; str() says why. Nothing was changed.

    Raised with a template and its named parameters, as ConfigError (messages.py): `message` is
    the English text, `translated(_)` the same in the user's language."""

    def __init__(self, template: str, /, **params):
        self.message = Msg.of(template, **params)
        super().__init__(self.message)

    def translated(self, _) -> str:
        return self.message.translated(_)


@contextlib.contextmanager
def _work_dir(folder: Path):
    """A private temporary folder in `folder` (same file system, not a RAM /tmp), with the lock held;
    leftovers of an interrupted run are removed first."""
    with _lock:
        for stale in folder.glob(WORK_PREFIX + "*"):
            shutil.rmtree(stale, ignore_errors=True)
        with tempfile.TemporaryDirectory(prefix=WORK_PREFIX, dir=folder) as work:
            yield Path(work)


def _snapshot(source: Path, target: Path) -> None:
    """A consistent copy of the live `source` database into the new file `target`, self-contained
    (rollback journal: no -wal beside it), synced to disk."""
    src = sqlite3.connect(source, timeout=BUSY_TIMEOUT_S)
    dst = sqlite3.connect(target, isolation_level=None)
    try:
        src.backup(dst)   # all pages in one step: one read transaction, one consistent state
        dst.execute("PRAGMA journal_mode=DELETE")   # the header still said WAL, as the source
    finally:
        dst.close()
        src.close()
    with open(target, "rb+") as file:
        os.fsync(file.fileno())


def _fsynced_replace(temp: Path, target: Path) -> None:
    with open(temp, "rb+") as file:
        os.fsync(file.fileno())
    os.replace(temp, target)
    fsync_dir(target.parent)


# -- backup (9.1) --------------------------------------------------------------------------------
def make_backup(db, data_dir: Path) -> Path:
    """Write data_dir/history/database.zip (replacing any previous one in one step); returns it."""
    data_dir = Path(data_dir)
    folder = data_dir / "history"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / UPLOAD_NAME
    manifest = {"product": PRODUCT, "schema": SCHEMA_VERSION, "version": __version__,
                "created": datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")}
    # the FTP share's name for a database.zip in progress: hidden, and removed at its start if
    # a power cut left one
    fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=folder)
    os.close(fd)
    try:
        with _work_dir(data_dir) as work:
            snapshot = work / CONFIG_DB
            _snapshot(Path(db.database), snapshot)
            with zipfile.ZipFile(temp, "w", zipfile.ZIP_DEFLATED) as archive:
                archive.write(snapshot, CONFIG_DB)
                archive.writestr(MANIFEST, json.dumps(manifest, indent=2) + "\n")
        _fsynced_replace(Path(temp), target)
    finally:
        Path(temp).unlink(missing_ok=True)
    return target


# -- restore (9.2) -------------------------------------------------------------------------------
def _read_member(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """One member by its exact name, refused past `limit` bytes whatever its header claims."""
    info = archive.getinfo(name)
    if info.file_size > limit:
        raise RestoreError("database.zip: {name} is larger than {limit} uncompressed "
                           "({size} bytes): not a wsmeasure backup", name=name, limit=_mib(limit), size=info.file_size)
    chunks, size = [], 0
    try:
        with archive.open(info) as member:
            while chunk := member.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise RestoreError("database.zip: {name} is larger than {limit} uncompressed", name=name,
                                       limit=_mib(limit))
                chunks.append(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError, NotImplementedError, OSError, EOFError) as exc:
        raise RestoreError("database.zip: {name} cannot be read ({error})", name=name,
                           error=str(exc)) from None  # encrypted, CRC...
    return b"".join(chunks)


def _mib(size: int) -> str:
    mib = size / 2 ** 20
    return f"{mib:.0f} MiB" if mib == int(mib) else f"{mib:.1f} MiB" if mib >= 1 else Msg("{size} bytes", size=size)


def _manifest(data: bytes) -> dict:
    try:
        manifest = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise RestoreError("database.zip: manifest.json is not valid JSON") from None
    if not isinstance(manifest, dict) or manifest.get("product") != PRODUCT:
        raise RestoreError("database.zip was not made by wsmeasure (its manifest does not name it)")
    schema = manifest.get("schema")
    if not isinstance(schema, int) or isinstance(schema, bool) or schema < 1:
        raise RestoreError("database.zip: the manifest has no valid schema version")
    if schema > SCHEMA_VERSION:
        raise RestoreError("database.zip comes from a newer wsmeasure (version {version}, schema {schema}); "
                           "this one reads schema {latest} at most: update first",
                           version=manifest.get("version"), schema=schema, latest=SCHEMA_VERSION)
    return manifest


def _check_database(path: Path) -> dict:
    """Integrity, tables and settings of the extracted config.db; returns counts for the summary."""
    conn = sqlite3.connect(path, isolation_level=None)   # our private copy: only read
    try:
        result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        if result != ["ok"]:
            raise RestoreError("database.zip: config.db is damaged ({problems})", problems="; ".join(result[:3]))
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise RestoreError("database.zip: config.db has schema {schema}, newer than this wsmeasure's "
                               "({latest}): update first", schema=version, latest=SCHEMA_VERSION)
        for model in MODELS:
            table = model._meta.table_name
            columns = {row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')}
            missing = {field.column_name for field in model._meta.sorted_fields} - columns
            if not columns:
                raise RestoreError("database.zip: config.db lacks the table {table}: not a wsmeasure configuration",
                                   table=table)
            if missing:
                raise RestoreError("database.zip: config.db lacks the column(s) {columns} of table {table}: "
                                   "not a wsmeasure configuration", columns=", ".join(sorted(missing)), table=table)
        if conn.execute("PRAGMA foreign_key_check").fetchone():
            raise RestoreError("database.zip: config.db has rows pointing to rows that do not exist")
        for key, value in conn.execute("SELECT key, value FROM setting"):
            if key not in settings.BY_KEY:
                raise RestoreError('database.zip: the setting "{key}" is unknown to wsmeasure {version}', key=key,
                                   version=__version__)
            try:
                settings.parse(key, value)
            except settings.ConfigError as exc:
                raise RestoreError("database.zip: stored setting refused: {reason}", reason=exc.message) from None
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        return {"gateways": conn.execute("SELECT count(*) FROM gateway").fetchone()[0],
                "devices": conn.execute("SELECT count(*) FROM device").fetchone()[0],
                "page_size": page_size}
    except sqlite3.DatabaseError as exc:   # "file is not a database", a damaged page...
        raise RestoreError("database.zip: config.db is not a readable database ({error})", error=str(exc)) from None
    finally:
        conn.close()


def restore_backup(db, data_dir: Path) -> dict:
    """Restore the configuration from data_dir/history/database.zip, after checking it whole.

    Returns {"gateways", "devices", "created", "version", "schema"} of what was restored;
    RestoreError (nothing changed) when the file is missing, not a zip, not exactly our members,
    not ours or from a newer schema, damaged, or holding a setting this version refuses. The
    daemon should reload afterwards (serial line, FTP password, network on the appliance)."""
    data_dir = Path(data_dir)
    source = data_dir / "history" / UPLOAD_NAME
    live = data_dir / CONFIG_DB
    if not source.is_file():
        raise RestoreError("there is no database.zip in the FTP folder: copy it there first (manual 9.2)")
    if source.stat().st_size > MEMBER_MAX:   # before reading its directory, which may be huge too
        raise RestoreError("database.zip is {size}; a backup is at most {limit}", size=_mib(source.stat().st_size),
                           limit=_mib(MEMBER_MAX))
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError):
        raise RestoreError("database.zip is not a zip archive") from None
    with archive, _work_dir(data_dir) as work:
        names = [info.filename for info in archive.infolist()]
        unexpected = sorted(set(names) - set(MEMBERS))
        if unexpected:   # also "../x", "/etc/x": nothing is ever extracted by the zip's own names
            raise RestoreError("database.zip holds unexpected entries ({entries}); "
                               "a backup holds exactly {first} and {second}", entries=", ".join(unexpected[:5]),
                               first=MEMBERS[0], second=MEMBERS[1])
        missing = [name for name in MEMBERS if name not in names]
        if missing:
            raise RestoreError("database.zip must hold {first} and {second} once each; {missing} missing",
                               first=MEMBERS[0], second=MEMBERS[1], missing=", ".join(missing))
        if len(names) != len(MEMBERS):
            raise RestoreError("database.zip must hold {first} and {second} once each", first=MEMBERS[0],
                               second=MEMBERS[1])
        manifest = _manifest(_read_member(archive, MANIFEST, MANIFEST_MAX))
        copy = work / CONFIG_DB
        copy.write_bytes(_read_member(archive, CONFIG_DB, MEMBER_MAX))
        found = _check_database(copy)
        src = sqlite3.connect(copy, isolation_level=None)
        dst = sqlite3.connect(live, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            live_page = dst.execute("PRAGMA page_size").fetchone()[0]
            if found["page_size"] != live_page:   # the backup API cannot change a WAL file's page size
                src.execute(f"PRAGMA page_size = {int(live_page)}")
                src.execute("VACUUM")
            _keep_sequences(dst, src)
            # one write transaction on the live file: other connections see the old configuration
            # or the new one, and the file stays in WAL mode
            src.backup(dst)
        except sqlite3.Error as exc:
            raise RestoreError("config.db could not be replaced ({error}); it is unchanged", error=str(exc)) from None
        finally:
            dst.close()
            src.close()
    _upgrade(db)
    return {"gateways": found["gateways"], "devices": found["devices"], "created": manifest.get("created"),
            "version": manifest.get("version"), "schema": manifest["schema"]}


def _keep_sequences(live: sqlite3.Connection, copy: sqlite3.Connection) -> None:
    """IDs handed out since the backup stay used: they name CSV folders and data.db series of
    devices that may have been deleted since (models.py), so the copy's counters are raised to
    the live ones."""
    for name, seq in live.execute("SELECT name, seq FROM sqlite_sequence").fetchall():
        if not copy.execute("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?", (seq, name)).rowcount:
            copy.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (name, seq))


def _upgrade(db) -> None:
    """The built-in rows open_config adds (idempotent), and missing tables. A schema bump must also
    teach _check_database which tables an older backup may lack (today every table is required)."""
    from . import installation
    from .models import bound

    with bound(db), db.atomic():
        db.create_tables(MODELS)
        installation.seed(db)
        db.execute_sql(f"PRAGMA user_version = {SCHEMA_VERSION}")


# -- the automatic backup (8.8) ------------------------------------------------------------------
def auto_backup(db, data_dir: Path, now: float | None = None) -> dict:
    """Snapshot config.db into data_dir/backup/config.db (replaced only by a good copy) and record
    the time and status in status.json; returns that record."""
    folder = Path(data_dir) / AUTO_DIR
    now = time.time() if now is None else now
    previous = last_auto_backup(data_dir)
    record = {"time": now, "status": "ok", "last_ok": now}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with _work_dir(folder) as work:
            snapshot = work / CONFIG_DB
            _snapshot(Path(db.database), snapshot)
            with contextlib.closing(sqlite3.connect(f"file:{snapshot}?mode=ro", uri=True)) as conn:
                check = conn.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise sqlite3.DatabaseError(f"the copy fails its check: {check}")
            _fsynced_replace(snapshot, folder / CONFIG_DB)
    except (OSError, sqlite3.Error) as exc:
        record = {"time": now, "status": f"error: {exc}", "last_ok": previous.get("last_ok")}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        temp = folder / f".{AUTO_STATUS}.tmp"
        temp.write_text(json.dumps(record) + "\n")
        _fsynced_replace(temp, folder / AUTO_STATUS)
    except OSError as exc:   # a full disk: the page still gets the truth from the return value
        record = {**record, "status": f"error: {exc}"}
    return record


def last_auto_backup(data_dir: Path) -> dict:
    """{"time": epoch of the last attempt or None, "status": "ok" / "error: ..." / "none",
    "last_ok": epoch of the last good one or None}."""
    path = Path(data_dir) / AUTO_DIR / AUTO_STATUS
    try:
        record = json.loads(path.read_text())
        return {"time": record.get("time"), "status": str(record.get("status")), "last_ok": record.get("last_ok")}
    except FileNotFoundError:
        return {"time": None, "status": "none", "last_ok": None}
    except (OSError, ValueError, AttributeError):
        return {"time": None, "status": f"error: {path.name} unreadable", "last_ok": None}


def auto_backup_due(data_dir: Path, now: float | None = None) -> bool:
    """A day since the last attempt (or never, or a clock set back before it)."""
    now = time.time() if now is None else now
    last = last_auto_backup(data_dir)["time"]
    return not isinstance(last, (int, float)) or not 0 <= now - last < AUTO_PERIOD_S
