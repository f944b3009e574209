"""Opening config.db: the installation and the settings, small and precious.

Several processes open it at once (the daemon, `wsmeasure config set`, later the web threads):
WAL lets readers run beside the one writer, write transactions start IMMEDIATE so that two
writers queue on the busy timeout instead of failing on a lock upgrade, and synchronous=FULL
makes a committed change survive a power cut.
"""

from __future__ import annotations

from pathlib import Path

from peewee import SqliteDatabase

from . import installation
from .models import MODELS, SCHEMA_VERSION

CONFIG_DB = "config.db"
BUSY_TIMEOUT_S = 10.0   # a writer waits this long for another one before "database is locked"
                        # (sqlite3's connect timeout: set before the pragmas below run)
PRAGMAS = (
    ("journal_mode", "wal"),
    ("synchronous", "full"),
    ("foreign_keys", 1),
)


def open_config(data_dir: Path) -> SqliteDatabase:
    """Open (creating if needed) DATA_DIR/config.db with its tables and defaults; models bound to it."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    db = SqliteDatabase(str(data_dir / CONFIG_DB), pragmas=PRAGMAS, timeout=BUSY_TIMEOUT_S,
                        lock_type="IMMEDIATE")
    db.bind(MODELS)
    db.connect()
    version = db.execute_sql("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:   # checked outside any transaction, so that the close below can happen
        db.close()
        raise RuntimeError(f"{data_dir / CONFIG_DB} has schema version {version}, newer than this "
                           f"wsmeasure ({SCHEMA_VERSION}): refusing to touch it")
    with db.atomic():  # one writer creates and seeds; a second opener waits, then finds it done
        version = db.execute_sql("PRAGMA user_version").fetchone()[0]
        db.create_tables(MODELS)  # IF NOT EXISTS
        installation.seed(db)
        if version < SCHEMA_VERSION:
            db.execute_sql(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return db
