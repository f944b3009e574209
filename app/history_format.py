"""How the CSV history looks: separators, numbers, dates, lines, and the folder/file naming table.

Chosen so that a double click opens the files right in LibreOffice and Excel, in any locale:
  - UTF-8 with a byte order mark: without it Excel reads the bytes in the Windows code page and
    "Éclairage" becomes "Ã‰clairage"; LibreOffice and Python's "utf-8-sig" drop the mark.
  - dates as ISO "YYYY-MM-DD HH:MM:SS" in local time: the one form both programs read as a date
    whatever their language; the next column gives the UTC offset as text ("UTC+01:00") so
    that the repeated hour of the autumn change shows two different rows (a bare "+01:00"
    would be read as a time of day, and as a formula by Excel).
  - whole numbers for Wh, varh and dm3; other values with at most DECIMALS decimals, never
    an exponent (LibreOffice leaves "1e-05" as text), no thousands separator.
  - a text cell is quoted only when it holds a separator, a quote or a line break; a text
    that Excel would run as a formula (=, +, -, @) starts with an apostrophe (OWASP).
  - lines end with CRLF (RFC 4180).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, tzinfo

BOM = "\ufeff"
NEWLINE = "\r\n"
DECIMALS = 4
FIELD_SEPARATORS = {"semicolon": ";", "comma": ","}     # setting csv.field_separator
DECIMAL_SEPARATORS = {"comma": ",", "point": "."}       # setting csv.decimal_separator
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
DATE_HEADER, OFFSET_HEADER = "date", "UTC offset"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# -- where files go: one row per kind of series ------------------------------------------------------
# A series is one sequence of monthly files with the same columns. Its version goes up when its
# columns change (and when the separators change: a file never mixes two formats).
#   name: how the series key is written ({...} from the key's parts),
#   always: the version is always in the name (manual 8.4.3.2/4/7), else only from version 2.
DEVICES, ENERGY, GAS, WATER, OVERALL, SETTINGS, EQCHECK = (
    "devices", "energy", "gas", "water", "overallTotal", "settings", "eqcheck")
FOLDERS = (DEVICES, ENERGY, EQCHECK, GAS, OVERALL, SETTINGS, WATER)   # manual 8.4.3


@dataclass(frozen=True)
class Naming:
    folder: str      # format with the key's fields
    stem: str        # file name before "_<version>.csv"
    always: bool     # version always written


NAMING = {
    DEVICES: Naming("devices/{device}", "{device}_{kind}_{month}", always=False),   # 4_energy_2013-06.csv
    ENERGY:  Naming("energy", "{kind}_{month}", always=True),                       # devices_2014-03_1.csv
    GAS:     Naming("gas", "{kind}_{month}", always=True),
    WATER:   Naming("water", "{kind}_{month}", always=True),
    OVERALL: Naming("overallTotal", "{kind}_{month}", always=False),                # values_2014-03.csv
}
# Folders of the aggregated files and the types they hold (manual 8.4.3.2/4/7; "cost" files
# of overallTotal come with the tariffs).
UTILITY_TYPES = {ENERGY: ("devices", "groups", "loads"), GAS: ("devices", "groups"), WATER: ("devices", "groups")}
OVERALL_VALUES = "values"
SETTINGS_FILES = ("gateways_devices.csv", "loads_groups_panelboards.csv")


def series_key(folder: str, kind: str, device: int | None = None) -> str:
    """"devices/4/energy", "energy/groups", "overallTotal/values": the key of the versions manifest."""
    return f"{DEVICES}/{device}/{kind}" if folder == DEVICES else f"{folder}/{kind}"


def split_key(key: str) -> dict:
    parts = key.split("/")
    if parts[0] == DEVICES:
        return dict(folder=DEVICES, device=parts[1], kind=parts[2])
    return dict(folder=parts[0], kind=parts[1])


def file_path(key: str, month: str, version: int) -> str:
    """Relative path of the file of series `key` for `month` ("2024-03") and `version`."""
    fields = split_key(key)
    naming = NAMING[fields["folder"]]
    stem = naming.stem.format(month=month, **fields)
    tail = f"_{version}" if naming.always or version > 1 else ""
    return f"{naming.folder.format(**fields)}/{stem}{tail}.csv"


def file_pattern(key: str) -> re.Pattern:
    """Matches the file names of series `key` (any month, any version): groups month, version."""
    fields = split_key(key)
    naming = NAMING[fields["folder"]]
    stem = re.escape(naming.stem.format(month="@", **fields)).replace("@", r"(\d{4}-\d{2})")
    version = r"_(\d+)" if naming.always else r"(?:_(\d+))?"
    return re.compile(f"^{stem}{version}\\.csv$")


def folder_of(key: str) -> str:
    fields = split_key(key)
    return NAMING[fields["folder"]].folder.format(**fields)


# -- cells ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CsvFormat:
    field_sep: str = ";"
    decimal_sep: str = ","

    def __post_init__(self):
        if self.field_sep not in FIELD_SEPARATORS.values() or self.decimal_sep not in DECIMAL_SEPARATORS.values():
            raise ValueError(f"separators: field one of {list(FIELD_SEPARATORS.values())}, "
                             f"decimal one of {list(DECIMAL_SEPARATORS.values())}")
        if self.field_sep == self.decimal_sep:
            raise ValueError("the field and decimal separators must differ (section 8.4.1)")

    @classmethod
    def from_settings(cls, field: str, decimal: str) -> "CsvFormat":
        """From the setting words ("semicolon", "comma", "point") or the characters themselves."""
        return cls(FIELD_SEPARATORS.get(field, field), DECIMAL_SEPARATORS.get(decimal, decimal))

    def integer(self, value) -> str:
        return "" if value is None else str(int(value))

    def number(self, value) -> str:
        """At most DECIMALS decimals, trailing zeros dropped, never an exponent; "" for none/NaN."""
        if value is None or isinstance(value, float) and not math.isfinite(value):
            return ""
        if isinstance(value, int):
            return str(value)
        text = f"{value:.{DECIMALS}f}".rstrip("0").rstrip(".")
        if text in ("-0", ""):
            text = "0"
        return text.replace(".", self.decimal_sep)

    def text(self, value: str) -> str:
        value = str(value)
        if value.startswith(FORMULA_STARTS):
            value = "'" + value
        if self.field_sep in value or '"' in value or "\n" in value or "\r" in value:
            value = '"' + value.replace('"', '""') + '"'
        return value

    def line(self, cells) -> str:
        return self.field_sep.join(cells) + NEWLINE

    def header(self, names) -> str:
        return self.line(self.text(n) for n in names)


def stamp(ts: int, tz: tzinfo) -> tuple[str, str]:
    """(local date, "UTC+01:00") of an epoch second."""
    local = datetime.fromtimestamp(ts, tz)
    return local.strftime(DATE_FORMAT), offset_text(local)


def offset_text(local: datetime) -> str:
    minutes = int(local.utcoffset().total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def local_date(ts: int, tz: tzinfo) -> str:
    return datetime.fromtimestamp(ts, tz).strftime(DATE_FORMAT)


def month_of(ts: int, tz: tzinfo) -> str:
    """The local month a slot belongs to, as in the file names: "2024-03"."""
    return datetime.fromtimestamp(ts, tz).strftime("%Y-%m")


def parse_stamp(date: str, offset: str) -> int:
    """The epoch second of a (date, offset) pair as written by `stamp`; ValueError if not one."""
    if not offset.startswith("UTC"):
        raise ValueError(f"not an offset: {offset!r}")
    return int(datetime.fromisoformat(date + offset[3:]).timestamp())
