"""Field values in, clean values out: the parsers the configuration rules share, public so that the
web forms can check a field with the same rule and the same message.

A value comes as a Python value or as the text of a web form; None and "" (or blanks) both mean
"not given". A refused value raises ConfigError(field, template, **params): `field` names the form
field, the message says what is allowed (messages.py: the pages translate it). `what`, the thing a
value is for, is a Msg ("the Modbus address") for the value helpers; for the name and row helpers
it is the kind of row ("device", "load"...), and their sentences come whole from the tables
below. The name and row helpers look at config.db, so they run inside the caller's transaction
(see transactions.py).
"""

from __future__ import annotations

import math
from typing import Any

from .messages import Msg, reason
from .models import NAME_MAX, TEXT_MAX, Load
from .settings import ConfigError, boolean

MAX_ID = 9999   # Remote IDs are written 1XXXX (device), 2YYYY (load), 3ZZZZ (group): four digits

# The sentences of the name and row helpers, one per kind of row: put into one English sentence,
# the word "device" or "load" would not take the gender and case other languages give it.
NO_ID = {
    "gateway": Msg('there is no gateway with ID "{ident}"'),
    "device": Msg('there is no device with ID "{ident}"'),
    "load": Msg('there is no load with ID "{ident}"'),
    "measure group": Msg('there is no measure group with ID "{ident}"'),
    "panel board": Msg('there is no panel board with ID "{ident}"'),
    "user": Msg('there is no user with ID "{ident}"'),
    "tariff": Msg('there is no tariff with ID "{ident}"'),
    "cost rule": Msg('there is no cost rule with ID "{ident}"'),
}
NO_NAME = {   # lookup(): the rows chosen by name
    "load": Msg('there is no load "{name}"'),
    "measure group": Msg('there is no measure group "{name}"'),
    "panel board": Msg('there is no panel board "{name}"'),
}
NAME_REQUIRED = {
    "load": Msg("a name is required for the load"),
    "measure group": Msg("a name is required for the measure group"),
    "panel board": Msg("a name is required for the panel board"),
    "user": Msg("a name is required for the user"),
}
NAME_USED = {
    "gateway": Msg('the name "{name}" is already used by gateway {id} ("{other}"); names must differ'),
    "device": Msg('the name "{name}" is already used by device {id} ("{other}"); names must differ'),
    "load": Msg('the name "{name}" is already used by load {id} ("{other}"); names must differ'),
    "measure group": Msg('the name "{name}" is already used by measure group {id} ("{other}"); '
                         "names must differ"),
    "panel board": Msg('the name "{name}" is already used by panel board {id} ("{other}"); names must differ'),
    "user": Msg('the name "{name}" is already used by user {id} ("{other}"); names must differ'),
}
NO_ID_LEFT = {
    "gateway": Msg("no gateway IDs are left (the last one, {limit}, is used: IDs are never reused)"),
    "device": Msg("no device IDs are left (the last one, {limit}, is used: IDs are never reused)"),
    "load": Msg("no load IDs are left (the last one, {limit}, is used: IDs are never reused)"),
    "measure group": Msg("no measure group IDs are left (the last one, {limit}, is used: IDs are never reused)"),
    "panel board": Msg("no panel board IDs are left (the last one, {limit}, is used: IDs are never reused)"),
}


# -- plain values -----------------------------------------------------------------------------------
def given(raw: Any) -> bool:
    return raw is not None and not (isinstance(raw, str) and not raw.strip())


def absent(raw: Any, field: str, why: Msg) -> None:
    """Refuse a field that does not apply (rather than ignore it)."""
    if given(raw):
        raise ConfigError(field, why)


def integer(raw: Any, field: str, lo: int, hi: int, what: Msg) -> int:
    if isinstance(raw, bool) or isinstance(raw, float) and not raw.is_integer():
        raise ConfigError(field, "{what} must be a whole number from {lo} to {hi}", what=what, lo=lo, hi=hi)
    try:
        value = int(raw) if isinstance(raw, (int, float)) else int(str(raw).strip())
    except ValueError:
        raise ConfigError(field, '{what} must be a whole number from {lo} to {hi} (not "{raw}")',
                          what=what, lo=lo, hi=hi, raw=raw) from None
    if not lo <= value <= hi:
        raise ConfigError(field, "{what} must be from {lo} to {hi} (not {value})", what=what, lo=lo, hi=hi,
                          value=value)
    return value


def choice(raw: Any, field: str, allowed: tuple, what: Msg, default: Any = None) -> Any:
    """One of `allowed` (compared as text, without case); `default` when not given."""
    if not given(raw):
        return default
    wanted = str(raw).strip().lower()
    for value in allowed:
        if str(value).lower() == wanted:
            return value
    raise ConfigError(field, '{what} "{raw}" is not allowed; choose {allowed}', what=what, raw=raw,
                      allowed=", ".join(map(str, allowed)))


def flag(raw: Any, field: str, default: bool = False) -> bool:
    if not given(raw):
        return default
    if isinstance(raw, bool):
        return raw
    try:
        return boolean(raw)
    except ValueError as exc:
        raise ConfigError(field, "{field}: {reason}", field=field, reason=reason(exc)) from None


def text(raw: Any, field: str, limit: int = TEXT_MAX) -> str:
    """One line of text, at most `limit` characters, stripped ("" when not given)."""
    value = "" if raw is None else str(raw).strip()
    if len(value) > limit:
        raise ConfigError(field, "{field} is {length} characters long; at most {limit}", field=field,
                          length=len(value), limit=limit)
    if any(ord(c) < 32 for c in value):
        raise ConfigError(field, "{field} must be one line of text", field=field)
    return value


def register(raw: Any) -> int:
    """Hexadecimal, as the meter makers print it: "C652", "0xC652", "c652h" (an int is taken as is)."""
    if not given(raw):
        raise ConfigError("register", "the register of the positive active energy (hexadecimal) is required")
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    else:
        digits = str(raw).strip().lower().removeprefix("0x").removesuffix("h")
        try:
            value = int(digits, 16)
        except ValueError:
            raise ConfigError("register", 'register "{raw}" is not hexadecimal (like C652 or 0x0048)',
                              raw=raw) from None
    if not 0 <= value <= 0xFFFF:
        raise ConfigError("register", "register {value} is out of range (0000 to FFFF)", value=f"{value:X}")
    return value


def multiplier(raw: Any) -> float:
    """A number other than 0 (1 when not given); a comma is a decimal point."""
    if not given(raw):
        return 1.0
    try:
        value = float(raw) if isinstance(raw, (int, float)) else float(str(raw).strip().replace(",", "."))
    except ValueError:
        raise ConfigError("multiplier", 'multiplier "{raw}" is not a number', raw=raw) from None
    if value == 0 or not math.isfinite(value):
        raise ConfigError("multiplier", "the multiplier must be a number other than 0")
    return value


# -- names: unique per table, compared without case -------------------------------------------------
def required_name(raw: Any, what: str) -> str:
    name = text(raw, "name", NAME_MAX)
    if not name:
        raise ConfigError("name", NAME_REQUIRED[what])
    return name


def _named(model, name: str, exclude_id: int | None):
    """The rows of `model` called `name`, but row `exclude_id` (the one being renamed)."""
    query = model.select().where(model.name == name)   # the column compares without case
    if exclude_id is not None:
        query = query.where(model.id != exclude_id)
    return query


def unique_name(model, name: str, exclude_id: int | None, what: str) -> str:
    other = _named(model, name, exclude_id).first()
    if other is not None:
        raise ConfigError("name", NAME_USED[what], name=name, id=other.id, other=other.name)
    return name


def free_name(model, base: str, exclude_id: int | None = None) -> str:
    """`base`, or "base (2)", "base (3)"... : the first one not used (default names stay unique)."""
    candidate, n = base, 1
    while _named(model, candidate, exclude_id).exists():
        n += 1
        tail = f" ({n})"
        candidate = base[:NAME_MAX - len(tail)] + tail
    return candidate


def given_or_free_name(model, raw: Any, default: str, exclude_id: int | None, what: str) -> str:
    """The name given (unique), or when left empty the first free one of `default`, "default (2)"..."""
    if given(raw):
        return unique_name(model, text(raw, "name", NAME_MAX), exclude_id, what)
    return free_name(model, default, exclude_id)


# -- rows: chosen by ID or by name, and their IDs -----------------------------------------------------
def by_id(model, ident: Any, field: str, what: str):
    """A row by ID (int or digits)."""
    try:
        row = model.get_or_none(model.id == int(str(ident).strip()))
    except ValueError:
        row = None
    if row is None:
        raise ConfigError(field, NO_ID[what], ident=ident)
    return row


def lookup(model, raw: Any, field: str, what: str):
    """A row by ID, by key (built-in loads) or by name."""
    if isinstance(raw, model):
        return raw
    wanted = str(raw).strip()
    if wanted.isdigit():
        return by_id(model, wanted, field, what)
    row = None
    if model is Load:
        row = Load.get_or_none(Load.key == wanted)
    row = row or model.get_or_none(model.name == wanted)
    if row is None:
        raise ConfigError(field, NO_NAME[what], name=raw)
    return row


def check_id(row, what: str, limit: int = MAX_ID) -> None:
    """Remote IDs have four digits: refuse (and roll back) past the last one."""
    if row.id > limit:
        raise ConfigError("id", NO_ID_LEFT[what], limit=limit)
