"""The CSV history (manual 8.4.3): the files users read over FTP, appended after each slot.

The database is the truth; these files are a view of it that must never show a torn or
doubled line:
  - `append(records, installation)` after each slot is committed: a line goes to a file only
    if the file's last line is older (idempotent: the daemon may retry, `repair` replays);
  - `repair(records_since, installation)` at start-up (and after an append that raised): cuts
    incomplete last lines and re-appends what the database has that the files lack.
`overallTotal/values_...` gets a line for every slot, written only after the lines of all other
files of that slot are on disk (fsync): its last line is therefore where every file is complete,
and `repair` replays from there. A full disk raises OSError from `append` with no partial line.

Versions (manual: "file version increases in case of changes in the system configuration"):
each series (a device's kind, energy/devices, gas/groups...) has a version that goes up when
its columns change (a device, group or load added, removed or renamed, another model) or when
the separators change, so that one file never mixes two layouts. They are kept in
`.versions.json` at the root (written atomically when one changes); without it they are found
again from the file names and headers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from datetime import tzinfo
from itertools import groupby
from pathlib import Path
from typing import Callable, Iterable

from .history_columns import Line, aggregated_columns, consumptions, device_lines, is_journal, sum_cells
from .history_files import Batch, append_line, fix_tail, write_whole
from .history_format import BOM, DEVICES, ENERGY, FOLDERS, GAS, OVERALL, OVERALL_VALUES, SETTINGS, WATER, \
    SETTINGS_FILES, CsvFormat, file_path, file_pattern, folder_of, month_of, parse_stamp, series_key, stamp
from .history_installation import Installation, gateways_devices, loads_groups_panelboards
from .records import SlotRecord

log = logging.getLogger(__name__)

VERSIONS = ".versions.json"
REPAIR_CHUNK = 1000            # slots replayed between two fsyncs
LINE_FOLDERS = (DEVICES, ENERGY, GAS, WATER, OVERALL)   # the folders of appended files
JOURNAL = series_key(OVERALL, OVERALL_VALUES)
STAMP = re.compile(rb"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[;,]UTC[+-]\d\d:\d\d(?:[;,]|$)")  # either separator:
MONTH = re.compile(r"_(\d{4}-\d{2})(?:_\d+)?\.csv$")                                    # older files too

RecordsSince = Callable[[int], Iterable[SlotRecord]]


def _valid(line: bytes) -> bool:
    return STAMP.match(line) is not None and b"\0" not in line


def _line_ts(line: bytes) -> int:
    date, offset = re.split(r"[;,]", line.decode("utf-8", "replace"), maxsplit=2)[:2]
    return parse_stamp(date, offset)


class History:
    def __init__(self, root: Path, field_sep: str, decimal_sep: str, tz: tzinfo):
        """`field_sep`/`decimal_sep`: the characters or the setting words (semicolon, comma, point);
        `tz`: the installation's zone, with its DST rules (store_time.zone(setting time.zone))."""
        self.root = Path(root)
        self.fmt = CsvFormat.from_settings(field_sep, decimal_sep)
        self.tz = tz
        self.dirty = False          # an append raised: call repair before the next append
        self._installation: Installation | None = None
        self._last: dict[Path, int | None] = {}                  # file -> slot of its last line
        self._headers: dict[tuple, tuple[str, str]] = {}         # (key, names) -> header, signature
        self._versions = self._load_versions()
        self._versions_changed = False
        for folder in FOLDERS:
            (self.root / folder).mkdir(parents=True, exist_ok=True)

    # -- public ----------------------------------------------------------------------------------------
    def append(self, records: list[SlotRecord], installation: Installation) -> int:
        """Append the lines of these slots (all records of a slot in one call); returns lines written."""
        if installation != self._installation:
            self.write_settings(installation)
        return self._write(sorted(records, key=lambda r: (r.ts, r.device_id)), installation, chunk=0)

    def repair(self, records_since: RecordsSince, installation: Installation) -> int:
        """Cut torn last lines and re-append what the files lack. `records_since(ts)` yields the
        store's records of slots starting at or after `ts`, in time order. Returns lines written."""
        self.write_settings(installation)
        self._last.clear()            # look at the files again: an append may have failed half-way
        since = self._journal_end()
        month = month_of(since, self.tz) if since is not None else None
        for path in self._line_files():
            found = MONTH.search(path.name)
            if month is None or found and found.group(1) >= month:
                self._last_ts(path)   # cuts an incomplete last line
        written = self._write(records_since(since or 0), installation, chunk=REPAIR_CHUNK)
        self.dirty = False
        log.info("CSV history repaired from %s: %d lines appended", since, written)
        return written

    def write_settings(self, installation: Installation) -> None:
        """settings/: the installation's structure, rewritten (atomically) when it changed."""
        for name, rows in zip(SETTINGS_FILES,
                              (gateways_devices(installation), loads_groups_panelboards(installation))):
            data = (BOM + "".join(self.fmt.line(self._cell(v) for v in row) for row in rows)).encode()
            path = self.root / SETTINGS / name
            try:
                same = path.read_bytes() == data
            except FileNotFoundError:
                same = False
            if not same:
                write_whole(path, data)
        self._installation = installation

    # -- writing -----------------------------------------------------------------------------------------
    def _cell(self, value) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, int):
            return str(value)
        return self.fmt.text(value)

    def _write(self, records: Iterable[SlotRecord], inst: Installation, chunk: int) -> int:
        """Write slot by slot; every `chunk` slots (and at the end) sync the files, then the journal."""
        columns = aggregated_columns(inst)
        written, journal, slots = 0, [], 0
        batch = Batch()
        try:
            for ts, group in groupby(records, key=lambda r: r.ts):
                slot = {r.device_id: r for r in group}
                written += self._slot(batch, ts, slot, inst, columns, journal)
                slots += 1
                if chunk and slots % chunk == 0:
                    written += self._commit(batch, journal)
            written += self._commit(batch, journal)
        except BaseException:
            batch.close()
            self.dirty = True
            raise
        return written

    def _commit(self, batch: Batch, journal: list) -> int:
        """Every file of the chunk on disk first, then the journal lines (and them on disk)."""
        batch.sync()
        if self._versions_changed:   # after the files: a lost save is found again from them
            self._save_versions()
        written = sum(self._put(batch, ts, line) for ts, line in journal)
        journal.clear()
        batch.sync()
        return written

    def _slot(self, batch, ts: int, slot: dict[int, SlotRecord], inst: Installation, columns, journal) -> int:
        written = 0
        for rec in slot.values():
            for line in device_lines(rec, inst.device(rec.device_id), self.fmt, self.tz):
                written += self._put(batch, ts, line)
        values = consumptions(slot, inst)
        for key, cols in columns.items():
            line = Line(key, tuple(c.name for c in cols), sum_cells(cols, values, self.fmt))
            if is_journal(key):
                journal.append((ts, line))
            elif any(line.cells):
                written += self._put(batch, ts, line)
        return written

    def _put(self, batch: Batch, ts: int, line: Line) -> int:
        """Append one line unless the file already reaches `ts`; returns 1 if written."""
        cached = self._headers.get((line.key, line.names))
        if cached is None:
            header = self.fmt.header(line.header)
            cached = self._headers[line.key, line.names] = header, self._signature(header)
        header, signature = cached
        version = self._version(line.key, header, signature)
        path = self.root / file_path(line.key, month_of(ts, self.tz), version)
        last = self._last_ts(path)
        if last is not None and ts <= last:
            return 0
        fd = batch.fd(path, (BOM + header).encode())
        append_line(fd, self.fmt.line((*stamp(ts, self.tz), *line.cells)).encode())
        self._last[path] = ts
        return 1

    # -- reading the files' ends ------------------------------------------------------------------------
    def _last_ts(self, path: Path) -> int | None:
        """The slot of the file's last line (cached), cutting an incomplete one on first look."""
        if path in self._last:
            return self._last[path]
        last = None
        if path.exists() and path.stat().st_size == 0:   # not ours (ours have a header): made again
            path.unlink()
        elif path.exists():
            kept = fix_tail(path, _valid)
            last = _line_ts(kept) if kept else None
        self._last[path] = last
        return last

    def _line_files(self) -> list[Path]:
        return [p for folder in LINE_FOLDERS for p in (self.root / folder).rglob("*.csv")]

    def _journal_end(self) -> int | None:
        """The last slot of the newest overallTotal/values file that has lines: every file is
        complete before it (lines of later slots may be missing)."""
        pattern = file_pattern(JOURNAL)
        found = []
        for path in (self.root / folder_of(JOURNAL)).glob("*.csv"):
            m = pattern.match(path.name)
            if m:
                found.append((m.group(1), int(m.group(2) or 1), path))
        for _, _, path in sorted(found, reverse=True):
            last = self._last_ts(path)
            if last is not None:
                return last
        return None

    # -- versions ------------------------------------------------------------------------------------------
    def _signature(self, header: str) -> str:
        return hashlib.sha256(f"{header}{self.fmt.decimal_sep}".encode()).hexdigest()[:16]

    def _version(self, key: str, header: str, signature: str) -> int:
        entry = self._versions.get(key)
        if entry is None:
            entry = self._versions[key] = self._found_version(key, header, signature)
            self._versions_changed = True
        if entry["signature"] != signature:
            entry["version"] += 1
            entry["signature"] = signature
            self._versions_changed = True
            log.info("CSV history: %s changed its columns or format, now version %d", key, entry["version"])
        return entry["version"]

    def _found_version(self, key: str, header: str, signature: str) -> dict:
        """Without a manifest entry: the highest version among the files, or the next one if the
        newest file's header differs."""
        pattern = file_pattern(key)
        found = []
        folder = self.root / folder_of(key)
        for path in folder.glob("*.csv") if folder.is_dir() else ():
            m = pattern.match(path.name)
            if m:
                found.append((int(m.group(2) or 1), m.group(1), path))
        if not found:
            return {"version": 1, "signature": signature}
        version, _, newest = max(found)
        with open(newest, encoding="utf-8-sig", newline="") as f:
            same = f.readline() == header
        return {"version": version, "signature": signature if same else ""}

    def _load_versions(self) -> dict:
        try:
            data = json.loads((self.root / VERSIONS).read_text())
            return {k: {"version": int(v["version"]), "signature": str(v["signature"])}
                    for k, v in data["series"].items()}
        except FileNotFoundError:
            return {}
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("%s unreadable (%s): versions found again from the files", VERSIONS, exc)
            return {}

    def _save_versions(self) -> None:
        data = {"format": 1, "series": dict(sorted(self._versions.items()))}
        write_whole(self.root / VERSIONS, json.dumps(data, indent=1).encode())
        self._versions_changed = False
