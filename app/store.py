"""data.db: the measurement store (energies kept forever, statistics in a budget).

One writer (the daemon's recorder) and any number of readers (web threads, FTP, reports), each
with its own Store. Plain `sqlite3` rather than peewee: the schema is a handful of fixed tables
whose hot path is a few `executemany` and upserts a slot; an ORM would add per-row objects and
hide the one thing that matters here, which statement runs in which transaction.

Layout (docs/history.md has the why):
  slot            (ts, device) -> slot_s          the ledger: this device's slot is counted
  energy_slot     (ts, device, qty) -> delta, idx, since
  energy_hour/day/month/year  (ts, device, qty) -> delta      rollups, same transaction
  counter_state   (device, qty) -> idx, t         the recorder's baselines: its restart state
  (costs: quantities "cost:<tariff id>" in energy_slot and the rollups, priced when a slot is
   written: write_slot's `pricer`, app/tariffs.py, docs/costs.md)
  stat            (device, kind, level, ts) -> layout, data   packed stats/states, budgeted
  layout, quantity, meta                          names stored once; floors and versions
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping, NamedTuple

from . import store_stats as st
from .records import Counter, SlotRecord
from .store_time import DAY, HOUR, LEVEL_NAMES, LEVELS, MONTH, SLOT, YEAR, bucket_start, next_start
from .store_time import zone as load_zone

log = logging.getLogger(__name__)

DATA_DB = "data.db"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 10.0
DAY_S = 86400

# Retention of the energy tables: rows older than this are deleted, their sums being in the level
# above (so no Wh is lost). The cut falls on a boundary of the level above, so a view is whole or empty.
#   level  kept (days, None = forever)  why
HORIZONS = (
    (SLOT,  40,    "a month of sample-rate detail for CSV rebuilds and late reports, plus margin"),
    (HOUR,  400,   "the day view of any day in the last year, to compare with the same day last year"),
    (DAY,   3660,  "the month view (daily bars) over the ten-year life of the box"),
    (MONTH, None,  "forever: the year view"),
    (YEAR,  None,  "forever: the 10-year view"),
)
ENERGY_TABLES = tuple(f"energy_{name}" for name in LEVEL_NAMES)

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS quantity (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)",
    "CREATE TABLE IF NOT EXISTS slot (ts INTEGER NOT NULL, device INTEGER NOT NULL, slot_s INTEGER NOT NULL,"
    " PRIMARY KEY (ts, device)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS energy_slot (ts INTEGER NOT NULL, device INTEGER NOT NULL, qty INTEGER NOT NULL,"
    " delta INTEGER NOT NULL, idx INTEGER NOT NULL, since INTEGER, PRIMARY KEY (ts, device, qty)) WITHOUT ROWID",
    *(f"CREATE TABLE IF NOT EXISTS {t} (ts INTEGER NOT NULL, device INTEGER NOT NULL, qty INTEGER NOT NULL,"
      f" delta INTEGER NOT NULL, PRIMARY KEY (ts, device, qty)) WITHOUT ROWID" for t in ENERGY_TABLES[1:]),
    # the recorder's baseline of every counter: index and the epoch it was read at
    "CREATE TABLE IF NOT EXISTS counter_state (device INTEGER NOT NULL, qty INTEGER NOT NULL,"
    " idx INTEGER NOT NULL, t INTEGER NOT NULL, PRIMARY KEY (device, qty)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS layout (id INTEGER PRIMARY KEY, kind INTEGER NOT NULL, names TEXT NOT NULL,"
    " UNIQUE (kind, names))",
    # a rowid table: a harmonics row (1.4 kB) would spill to overflow pages in a WITHOUT ROWID one
    "CREATE TABLE IF NOT EXISTS stat (id INTEGER PRIMARY KEY, device INTEGER NOT NULL, kind INTEGER NOT NULL,"
    " level INTEGER NOT NULL, ts INTEGER NOT NULL, layout INTEGER NOT NULL, data BLOB NOT NULL)",
    "CREATE UNIQUE INDEX IF NOT EXISTS stat_key ON stat (device, kind, level, ts)",
)
SLOT_FLOOR = "slot_floor"   # meta: slots older than this were let go; a write there cannot be checked
# Derived, counter-like quantities: costs in millionths of the currency, "cost:<tariff id>", priced
# from the counters when a slot is written. Summed like energies; no index of their own (idx 0),
# never in the counter state, in slot_records only when asked for.
COST_PREFIX = "cost:"
# (record, its slot's local start) -> {"cost:<id>": Counter(cost, 0, since)}: app/tariffs.Pricer
Pricer = Callable[[SlotRecord, datetime], Mapping[str, Counter]]


class Written(NamedTuple):
    """What write_slot did with the records it was given."""

    stored: int     # new (device, slot): counted now
    already: int    # stored before (a retry, or a replay after a crash): left as they were
    too_old: int    # older than the slot horizon: cannot be checked against the ledger, refused


class StatRow(NamedTuple):
    device: int
    kind: str       # stat / thd / harmonics / state
    level: int      # SLOT..YEAR: the resolution it has now
    ts: int         # bucket start
    values: dict    # {name: Stat} or, for states, {name: StateSpan}


@dataclass
class _Series:
    """What the budget needs of one (device, kind) series, kept in memory (rebuilt on open/rollback)."""

    row_bytes: int = 0
    counts: list = field(default_factory=lambda: [0] * len(LEVELS))


class Store:
    """data.db in `data_dir`; `zone` is setting time.zone ("" = the system's).

    One writer per file (the daemon); readers pass readonly=True, one Store per thread."""

    def __init__(self, data_dir: Path | str, zone: str = "", *, readonly: bool = False,
                 stats_budget: int = st.DEFAULT_BUDGET_BYTES, horizons: Iterable[tuple] = HORIZONS):
        self.path = Path(data_dir) / DATA_DB
        self.tz = load_zone(zone)
        self.readonly = readonly
        self.stats_budget = stats_budget
        self.horizons = {row[0]: row[1] for row in horizons}
        self._lock = threading.Lock()   # one Store may be handed to a worker thread: one user at a time
        if readonly:
            self.conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S,
                                        isolation_level=None, check_same_thread=False)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                        check_same_thread=False)
            self._create()
        self._buckets: dict[int, tuple[int, ...]] = {}
        self._load()

    # -- opening ---------------------------------------------------------------------------------
    def _create(self) -> None:
        c = self.conn
        c.execute("PRAGMA journal_mode=WAL")
        c.execute("PRAGMA synchronous=FULL")   # one commit every sample period: durability is cheap
        with self._transaction():
            version = c.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise RuntimeError(f"{self.path} has schema version {version}, newer than this wsmeasure "
                                   f"({SCHEMA_VERSION}): refusing to touch it")
            for sql in SCHEMA:
                c.execute(sql)
            c.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _load(self) -> None:
        """Caches: names <-> ids, the slot floor, and the per-series counts the budget needs."""
        c = self.conn
        self._qty = dict(c.execute("SELECT name, id FROM quantity"))
        self._qty_name = {v: k for k, v in self._qty.items()}
        self._layout = {(kind, tuple(names.split())): lid for lid, kind, names in
                        c.execute("SELECT id, kind, names FROM layout")}
        self._layout_names = {lid: names for (_, names), lid in self._layout.items()}
        row = c.execute("SELECT value FROM meta WHERE key = ?", (SLOT_FLOOR,)).fetchone()
        self._floor = row[0] if row else 0
        self._series: dict[tuple[int, int], _Series] = {}
        self._budget: st.Budget | None = None
        if self.readonly:
            return
        for device, kind, level, n in c.execute(
                "SELECT device, kind, level, count(*) FROM stat GROUP BY device, kind, level"):
            self._series.setdefault((device, kind), _Series()).counts[level] = n
        for (device, kind), s in self._series.items():
            s.row_bytes = c.execute("SELECT length(data) FROM stat WHERE device = ? AND kind = ?"
                                    " ORDER BY level, ts DESC LIMIT 1", (device, kind)).fetchone()[0]

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    class _Tx:
        def __init__(self, store: "Store"):
            self.store = store

        def __enter__(self):
            self.store._lock.acquire()
            try:
                self.store.conn.execute("BEGIN IMMEDIATE")
            except BaseException:
                self.store._lock.release()
                raise

        def __exit__(self, exc_type, exc, tb):
            try:
                if exc_type is None:
                    self.store.conn.execute("COMMIT")
                else:
                    if self.store.conn.in_transaction:   # SQLite may have rolled back already (disk full)
                        self.store.conn.execute("ROLLBACK")
                    if hasattr(self.store, "_qty"):
                        self.store._load()   # the caches may name rows the rollback removed
            finally:
                self.store._lock.release()

    def _transaction(self) -> "_Tx":
        return Store._Tx(self)

    # -- names -----------------------------------------------------------------------------------
    def _qty_id(self, name: str) -> int:
        qid = self._qty.get(name)
        if qid is None:
            qid = self.conn.execute("INSERT INTO quantity (name) VALUES (?)", (name,)).lastrowid
            self._qty[name], self._qty_name[qid] = qid, name
        return qid

    def _layout_id(self, kind: int, names: tuple[str, ...]) -> int:
        lid = self._layout.get((kind, names))
        if lid is None:
            lid = self.conn.execute("INSERT INTO layout (kind, names) VALUES (?, ?)",
                                    (kind, " ".join(names))).lastrowid
            self._layout[kind, names], self._layout_names[lid] = lid, names
        return lid

    def _bucket_starts(self, ts: int) -> tuple[int, ...]:
        """(slot, hour, day, month, year) starts of a slot start; cached, slots come many per ts."""
        got = self._buckets.get(ts)
        if got is None:
            if len(self._buckets) > 4096:
                self._buckets.clear()
            got = self._buckets[ts] = tuple(bucket_start(self.tz, level, ts) for level in LEVELS)
        return got

    # -- writing ---------------------------------------------------------------------------------
    def write_slot(self, records: Iterable[SlotRecord],
                   counter_state: Mapping[int, Mapping[str, tuple[int, int]]] | None = None,
                   pricer: Pricer | None = None) -> Written:
        """Store the records of a slot (or of several) in ONE transaction: ledger, counters and
        their rollups, costs, stats, states, and the counter state. A (device, ts) already in the
        ledger is skipped whole (its costs too), so a retry or a replay never counts twice.

        `counter_state` is the recorder's {device: {counter: (index, epoch read)}} once these
        records are stored: it replaces the stored one, in the same transaction, so that a restart
        resumes from exactly what data.db holds. Without it, each counter's index of the newest
        slot written is kept.

        `pricer(record, local start)` gives the costs of each record stored now ("cost:<id>"
        quantities, app/tariffs.Pricer): written as counters with their rollups. A pricer that
        fails costs that record nothing: the energies are written all the same."""
        records = list(records)
        with self._transaction():
            c = self.conn
            seen: set[tuple[int, int]] = set()
            for ts in {r.ts for r in records}:
                seen.update((ts, d) for (d,) in c.execute("SELECT device FROM slot WHERE ts = ?", (ts,)))
            fresh, already, too_old = [], 0, 0
            for r in records:
                if r.ts < self._floor:
                    too_old += 1
                elif (r.ts, r.device_id) in seen:
                    already += 1
                else:
                    seen.add((r.ts, r.device_id))
                    fresh.append(r)
            if too_old:
                log.warning("data.db: %d record(s) older than the slot horizon (%d) refused", too_old, self._floor)
            if fresh:
                c.executemany("INSERT INTO slot (ts, device, slot_s) VALUES (?, ?, ?)",
                              [(r.ts, r.device_id, r.slot_s) for r in fresh])
                self._write_counters(fresh, derive_state=counter_state is None, pricer=pricer)
                self._write_stats(fresh)
            if counter_state is not None:
                c.execute("DELETE FROM counter_state")
                c.executemany("INSERT INTO counter_state (device, qty, idx, t) VALUES (?, ?, ?, ?)",
                              [(int(dev), self._qty_id(name), int(i), int(t))
                               for dev, counters in counter_state.items() for name, (i, t) in counters.items()])
        return Written(len(fresh), already, too_old)

    def _costs(self, pricer: Pricer, r: SlotRecord) -> Mapping[str, Counter]:
        try:
            costs = pricer(r, datetime.fromtimestamp(r.ts, self.tz))
        except Exception:   # noqa: BLE001 -- costs must never keep the energies from being recorded
            log.exception("data.db: device %s slot %s not priced", r.device_id, r.ts)
            return {}
        return {name: k for name, k in costs.items() if name.startswith(COST_PREFIX)}

    def _write_counters(self, records: list[SlotRecord], derive_state: bool, pricer: Pricer | None = None) -> None:
        c = self.conn
        fine, state = [], []
        sums: list[dict] = [defaultdict(int) for _ in LEVELS]   # level -> (bucket, device, qty) -> delta
        for r in records:
            starts = self._bucket_starts(r.ts)
            costs = self._costs(pricer, r) if pricer and r.counters else {}
            for name, k in (*r.counters.items(), *costs.items()):
                qid = self._qty_id(name)
                fine.append((r.ts, r.device_id, qid, k.delta, k.index, k.since))
                if name not in costs:
                    state.append((r.device_id, qid, k.index, r.ts))
                for level in LEVELS[1:]:
                    sums[level][starts[level], r.device_id, qid] += k.delta
        if not fine:
            return
        c.executemany("INSERT INTO energy_slot (ts, device, qty, delta, idx, since) VALUES (?, ?, ?, ?, ?, ?)", fine)
        for level in LEVELS[1:]:
            c.executemany(f"INSERT INTO {ENERGY_TABLES[level]} (ts, device, qty, delta) VALUES (?, ?, ?, ?)"
                          f" ON CONFLICT DO UPDATE SET delta = delta + excluded.delta",
                          [(*key, delta) for key, delta in sums[level].items()])
        if derive_state:   # a late slot (written after a newer one) must not move the index back
            c.executemany("INSERT INTO counter_state (device, qty, idx, t) VALUES (?, ?, ?, ?)"
                          " ON CONFLICT DO UPDATE SET idx = excluded.idx, t = excluded.t"
                          " WHERE excluded.t >= counter_state.t", state)

    def _write_stats(self, records: list[SlotRecord]) -> None:
        rows, touched = [], set()
        for r in records:
            for kind, names, blob in st.encode(r.stats, r.states):
                rows.append((r.device_id, kind, SLOT, r.ts, self._layout_id(kind, names), blob))
                s = self._series.setdefault((r.device_id, kind), _Series())
                if s.row_bytes != len(blob):
                    s.row_bytes, self._budget = len(blob), None   # the shares change
                s.counts[SLOT] += 1
                touched.add((r.device_id, kind))
        if not rows:
            return
        self.conn.executemany("INSERT INTO stat (device, kind, level, ts, layout, data) VALUES (?, ?, ?, ?, ?, ?)", rows)
        budget = self.budget()
        for key in touched:
            self._fold(key, budget)

    # -- statistics budget -------------------------------------------------------------------------
    def budget(self) -> st.Budget:
        """Rows per series and per level, from the total budget and the series present."""
        if self._budget is None:
            self._budget = st.Budget.share(self.stats_budget, (s.row_bytes for s in self._series.values()))
        return self._budget

    def _fold(self, key: tuple[int, int], budget: st.Budget) -> None:
        """Levels over their quota: fold their oldest whole buckets into the level above until back
        under FOLD_TO of it, never the bucket that holds the newest row of the level."""
        c, (device, kind) = self.conn, key
        counts = self._series[key].counts
        for level in (SLOT, HOUR, DAY, MONTH):
            quota = budget.quotas[level]
            if counts[level] <= quota:
                continue
            up, keep = level + 1, int(quota * st.FOLD_TO)
            series = (device, kind, level)
            oldest, newest = c.execute("SELECT min(ts), max(ts) FROM stat WHERE device = ? AND kind = ? AND"
                                       " level = ?", series).fetchone()
            # the row after the oldest (count - keep): its parent bucket is the last one folded
            row = c.execute("SELECT ts FROM stat WHERE device = ? AND kind = ? AND level = ? ORDER BY ts"
                            " LIMIT 1 OFFSET ?", (*series, counts[level] - keep - 1)).fetchone()
            lo = bucket_start(self.tz, up, oldest)
            end = min(next_start(self.tz, up, bucket_start(self.tz, up, row[0])), bucket_start(self.tz, up, newest))
            if end <= lo:
                continue
            rows = c.execute("SELECT id, level, ts, layout, data FROM stat WHERE device = ? AND kind = ? AND"
                             " ((level = ? AND ts < ?) OR (level = ? AND ts >= ? AND ts < ?)) ORDER BY level DESC, ts",
                             (*series, end, up, lo, end)).fetchall()
            groups: dict[int, list] = {}
            for rid, lev, ts, lay, data in rows:
                start = ts if lev == up else self._bucket_starts(ts)[up]
                groups.setdefault(start, []).append((rid, lev, lay, data))
            # a parent row with no child to take in stays as it is
            groups = {start: g for start, g in groups.items() if any(lev == level for _, lev, _, _ in g)}
            if not groups:
                continue
            ids, new = [], []
            for start, g in groups.items():   # parent row first (it holds the older data), then ts order
                names, blob = st.merge_packed(kind, [self._names(lay) for _, _, lay, _ in g], [d for *_, d in g])
                new.append((device, kind, up, start, self._layout_id(kind, names), blob))
                ids += [rid for rid, _, _, _ in g]
                folded = sum(1 for _, lev, _, _ in g if lev == level)
                counts[level] -= folded
                counts[up] += 1 - (len(g) - folded)   # an existing parent row is replaced
            c.executemany("DELETE FROM stat WHERE id = ?", [(i,) for i in ids])
            c.executemany("INSERT INTO stat (device, kind, level, ts, layout, data) VALUES (?, ?, ?, ?, ?, ?)", new)

    # -- retention ---------------------------------------------------------------------------------
    def retain(self, now: float | None = None) -> dict[str, int]:
        """Delete energy rows past their horizon and fold statistics back into the budget.

        Run it daily. Ages count from the newest slot stored or the clock, whichever is earlier,
        so a clock set years ahead cannot wipe the fine data."""
        wall = int(time.time() if now is None else now)
        deleted: dict[str, int] = {}
        with self._transaction():
            c = self.conn
            newest = c.execute("SELECT max(ts) FROM slot").fetchone()[0]
            ref = wall if newest is None else min(wall, newest)
            for level, days in sorted(self.horizons.items()):
                if days is None or level == YEAR:
                    continue
                cut = bucket_start(self.tz, level + 1, ref - days * DAY_S)
                deleted[LEVEL_NAMES[level]] = c.execute(
                    f"DELETE FROM {ENERGY_TABLES[level]} WHERE ts < ?", (cut,)).rowcount
                if level == SLOT and cut > self._floor:
                    deleted["ledger"] = c.execute("DELETE FROM slot WHERE ts < ?", (cut,)).rowcount
                    c.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT DO UPDATE SET value ="
                              " excluded.value", (SLOT_FLOOR, cut))
                    self._floor = cut
            before = sum(sum(s.counts) for s in self._series.values())
            self._budget = None
            budget = self.budget()
            for key in list(self._series):
                self._fold(key, budget)
            deleted["stat_rows_folded"] = before - sum(sum(s.counts) for s in self._series.values())
        return deleted

    def forget_stats(self, device: int) -> int:
        """Drop a deleted device's statistics and states (its energies stay: they are in the past
        totals), so that its series stops taking a share of the budget. Returns the rows deleted."""
        with self._transaction():
            n = self.conn.execute("DELETE FROM stat WHERE device = ?", (device,)).rowcount
            for key in [k for k in self._series if k[0] == device]:
                del self._series[key]
            self._budget = None
        return n

    def checkpoint(self) -> None:
        """Fold the WAL back into data.db and truncate it (after retention, before a backup)."""
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # -- reading -----------------------------------------------------------------------------------
    def counter_state(self) -> dict[int, dict[str, tuple[int, int]]]:
        """The stored counter state, {device: {counter: (index, epoch)}}: what the recorder resumes
        from after a restart (and the CSV global counters)."""
        out: dict[int, dict[str, tuple[int, int]]] = {}
        names = dict((v, k) for k, v in self.conn.execute("SELECT name, id FROM quantity"))
        for device, qid, idx, t in self.conn.execute("SELECT device, qty, idx, t FROM counter_state"):
            out.setdefault(device, {})[names[qid]] = (idx, t)
        return out

    def stored_until(self) -> int | None:
        """End of the newest slot stored (None: nothing yet): the recorder's first slot starts there.
        Retention never deletes the newest slot (it counts its ages from it)."""
        return self.conn.execute("SELECT max(ts + slot_s) FROM slot WHERE ts = (SELECT max(ts) FROM slot)"
                                 ).fetchone()[0]

    def slot_floor(self) -> int:
        """Oldest slot start still accepted (0 until a retention has run)."""
        return self._floor

    def sums(self, level: int, start: int, end: int, members: Mapping[str, Iterable[int]]) -> dict[int, int]:
        """{bucket start: sum of deltas} of `level` over [start, end) for {qty: device ids}; buckets
        where no member recorded anything are absent (a recorded zero is present)."""
        clauses, args = [], [start, end]
        for name, devices in members.items():
            devices = sorted(set(devices))
            qid = self._qty_id_read(name)
            if qid is None or not devices:
                continue
            clauses.append(f"(qty = ? AND device IN ({','.join('?' * len(devices))}))")
            args += [qid, *devices]
        if not clauses:
            return {}
        sql = (f"SELECT ts, sum(delta) FROM {ENERGY_TABLES[level]} WHERE ts >= ? AND ts < ?"
               f" AND ({' OR '.join(clauses)}) GROUP BY ts")
        return dict(self.conn.execute(sql, args))

    def deltas(self, level: int, start: int, end: int, names: Iterable[str],
               devices: Iterable[int]) -> Iterator[tuple[int, int, str, int]]:
        """(bucket start, device, quantity, delta) rows of `level` over [start, end) for these
        quantities and devices, in one pass (a download of many columns reads the table once)."""
        qids = {qid: name for name in set(names) if (qid := self._qty_id_read(name)) is not None}
        devices = sorted(set(devices))
        if not qids or not devices:
            return
        sql = (f"SELECT ts, device, qty, delta FROM {ENERGY_TABLES[level]} WHERE ts >= ? AND ts < ?"
               f" AND qty IN ({','.join('?' * len(qids))}) AND device IN ({','.join('?' * len(devices))})")
        for ts, device, qid, delta in self.conn.execute(sql, (start, end, *qids, *devices)):
            yield ts, device, qids[qid], delta

    def slot_lengths(self, start: int, end: int) -> dict[int, int]:
        """{slot start: length in s} of the slots of [start, end), from the ledger (every device of
        one slot start has the same length)."""
        return dict(self.conn.execute("SELECT ts, max(slot_s) FROM slot WHERE ts >= ? AND ts < ? GROUP BY ts",
                                      (start, end)))

    def _qty_id_read(self, name: str) -> int | None:
        if name not in self._qty:   # a reader opened before the writer met this quantity
            row = self.conn.execute("SELECT id FROM quantity WHERE name = ?", (name,)).fetchone()
            if row is None:
                return None
            self._qty[name] = row[0]
        return self._qty[name]

    def stat_rows(self, device: int, start: int, end: int, kinds: Iterable[str] | None = None) -> list[StatRow]:
        """Stats and states of a device over [start, end), at whatever resolution they have now."""
        codes = [st.KINDS.index(k) for k in (kinds or st.KINDS)]
        sql = (f"SELECT kind, level, ts, layout, data FROM stat WHERE device = ? AND kind IN"
               f" ({','.join('?' * len(codes))}) AND ts >= ? AND ts < ? ORDER BY ts, level")
        return [StatRow(device, st.KINDS[kind], level, ts, st.values(kind, st.decode(kind, self._names(lay), data)))
                for kind, level, ts, lay, data in self.conn.execute(sql, (device, *codes, start, end))]

    def _names(self, layout: int) -> tuple[str, ...]:
        names = self._layout_names.get(layout)
        if names is None:
            names = self._layout_names[layout] = tuple(self.conn.execute(
                "SELECT names FROM layout WHERE id = ?", (layout,)).fetchone()[0].split())
        return names

    def slot_records(self, start: int, end: int, devices: Iterable[int] | None = None,
                     costs: bool = False) -> list[SlotRecord]:
        """The SlotRecords of [start, end) as far as the slot level still holds them (CSV rebuilds):
        counters until the slot horizon, stats until the budget folded them. The recorder's
        records as they were written: the "cost:<id>" rows priced with them only with costs=True
        (as counters with index 0)."""
        wanted = None if devices is None else set(devices)
        names = dict((v, k) for k, v in self.conn.execute("SELECT name, id FROM quantity"))
        recs: dict[tuple[int, int], SlotRecord] = {}
        for ts, device, slot_s in self.conn.execute("SELECT ts, device, slot_s FROM slot WHERE ts >= ? AND ts < ?"
                                                    " ORDER BY ts, device", (start, end)):
            if wanted is None or device in wanted:
                recs[ts, device] = SlotRecord(device, ts, slot_s)
        for ts, device, qid, delta, idx, since in self.conn.execute(
                "SELECT ts, device, qty, delta, idx, since FROM energy_slot WHERE ts >= ? AND ts < ?", (start, end)):
            if (ts, device) in recs and (costs or not names[qid].startswith(COST_PREFIX)):
                recs[ts, device].counters[names[qid]] = Counter(delta, idx, since)
        for device in {d for _, d in recs}:
            for row in self.stat_rows(device, start, end):
                rec = recs.get((row.ts, device))
                if row.level != SLOT or rec is None:
                    continue
                if row.kind == "state":
                    rec.states.update({n: v.last for n, v in row.values.items()})
                else:
                    rec.stats.update(row.values)
        return list(recs.values())

    def records_since(self, ts: int, window_s: int = 86400) -> Iterator[SlotRecord]:
        """SlotRecords of the slots starting at or after `ts`, in (ts, device) order, read a day at
        a time (the CSV repair walks them; after a lost journal that may be 40 days)."""
        first, last = self.conn.execute("SELECT min(ts), max(ts) FROM slot WHERE ts >= ?", (ts,)).fetchone()
        if first is None:
            return
        for lo in range(first, last + 1, window_s):
            yield from self.slot_records(lo, lo + window_s)

    def sizes(self) -> dict[str, int]:
        """Rows per table (bench, status page)."""
        tables = ("slot", *ENERGY_TABLES, "counter_state", "stat")
        return {t: self.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}

