"""Loads, measure groups and panel boards (manual 7.16.2): how devices and gateways are sorted for
the totals, and the rules for assigning them.

- Loads, what the energy is used for: the 6 predefined uses of RT 2012, "Others" (where devices
  without a load are shown), Water and Gas (assigned automatically to water and gas counters:
  Family.load) and up to 8 loads added by the installer. A device has at most one load.
- Measure groups: up to 5 per device, chosen freely.
- Panel boards: where the gateways are; a gateway is in one panel board at most.

A disabled load, group or panel board stays on what already has it and is not offered for new
assignments. Each public function is one transaction (transactions.py): a broken rule raises
ConfigError(field, message) and nothing is saved.
"""

from __future__ import annotations

from typing import Any

from wsmeasure.drivers.base import Family

from .fields import by_id, check_id, flag, given, lookup, required_name, text, unique_name
from .messages import Msg
from .models import Device, DeviceGroup, Load, MeasureGroup, PanelBoard
from .settings import ConfigError
from .transactions import reads, writes

MAX_LOAD_ID = 9998           # so that a load's Remote ID 2YYYY never reaches 29999 (all loads)
MAX_USER_LOADS = 8           # 6 predefined + 8 user = the manual's 14 loads, plus "Others"
MAX_GROUPS_PER_DEVICE = 5

# Load kinds: predefined (RT 2012 uses), "Others" (devices without load), utility (assigned
# automatically to water and gas counters: Family.load), user (created by the installer).
PREDEFINED, OTHERS, UTILITY, USER = "predefined", "others", "utility", "user"
BUILTIN_LOADS = (
    # key                kind         name (the UI translates built-in loads by key)
    ("heating",          PREDEFINED, "Heating"),
    ("air_conditioning", PREDEFINED, "Air conditioning"),
    ("hot_water",        PREDEFINED, "Domestic hot water"),
    ("lighting",         PREDEFINED, "Lighting"),
    ("ventilation",      PREDEFINED, "Ventilation"),     # RT 2012 "auxiliaries"; the manual's example load
    ("sockets",          PREDEFINED, "Power sockets"),
    ("others",           OTHERS,     "Others"),
    ("water",            UTILITY,    "Water"),
    ("gas",              UTILITY,    "Gas"),
)

__all__ = [
    "add_load", "rename_load", "set_load_enabled", "erase_load",
    "add_group", "update_group", "set_group_enabled", "erase_group",
    "add_panel_board", "update_panel_board", "set_panel_board_enabled", "erase_panel_board",
    "loads", "groups", "panel_boards", "device_groups",
]


# Whole sentences per kind of row (see fields.py) and per utility load.
DISABLED = {
    "load": Msg('the load "{name}" is disabled'),
    "measure group": Msg('the measure group "{name}" is disabled'),
    "panel board": Msg('the panel board "{name}" is disabled'),
}
UTILITY_ONLY = {
    "water": Msg('the "{name}" load is assigned automatically to water counters only'),
    "gas": Msg('the "{name}" load is assigned automatically to gas counters only'),
}


def load_name(load: Load) -> str:
    """A load's name for a message: a built-in load's is translated (a Msg), a user load's is its own."""
    return Msg(load.name) if load.key else load.name


# -- assigning (run inside the transaction of installation.py's writes) --------------------------------
def _offered(row, field: str, what: str, kept: set | tuple = ()) -> None:
    """A disabled row stays where it is assigned (`kept`: the IDs already there) and goes nowhere new."""
    if not row.enabled and row.id not in kept:
        name = load_name(row) if isinstance(row, Load) else row.name
        raise ConfigError(field, DISABLED[what], name=name)


def device_load_id(fam: Family, raw: Any, current_id: int | None) -> int | None:
    """The load of a device of family `fam` (None: no load, shown under "Others")."""
    if fam.load:  # water and gas counters: the load is assigned automatically (manual 7.16.1.3)
        auto = Load.get_or_none(Load.key == fam.load)
        if auto is None:
            raise ConfigError("load", 'the "{load}" load is missing from this installation', load=fam.load)
        if given(raw) and lookup(Load, raw, "load", "load").id != auto.id:
            raise ConfigError("load", 'the load of {family} is "{load}", assigned automatically',
                              family=Msg(fam.label), load=load_name(auto))
        return auto.id
    if not given(raw):
        return None
    load = lookup(Load, raw, "load", "load")
    if load.kind == UTILITY:
        raise ConfigError("load", UTILITY_ONLY[load.key], name=load_name(load))
    if load.kind == OTHERS:
        return None   # "Others" is where devices without a load are shown: one way to say it
    _offered(load, "load", "load", (current_id,))
    return load.id


def assign_groups(device: Device, raw_groups: Any) -> None:
    """Replace the measure groups of a device (IDs or names; repeats and blanks ignored)."""
    chosen = []
    for raw in raw_groups or ():
        if not given(raw):
            continue
        group = lookup(MeasureGroup, raw, "groups", "measure group")
        if group.id not in [g.id for g in chosen]:
            chosen.append(group)
    if len(chosen) > MAX_GROUPS_PER_DEVICE:
        raise ConfigError("groups", "a device is in at most {max} measure groups ({count} chosen)",
                          max=MAX_GROUPS_PER_DEVICE, count=len(chosen))
    current = {m.group_id for m in DeviceGroup.select().where(DeviceGroup.device == device)}
    for group in chosen:
        _offered(group, "groups", "measure group", current)
    DeviceGroup.delete().where(DeviceGroup.device == device).execute()
    if chosen:
        DeviceGroup.insert_many([{"device": device.id, "group": g.id} for g in chosen]).execute()


def panel_board_id(raw: Any, current_id: int | None) -> int | None:
    """The panel board of a gateway, or None."""
    if not given(raw):
        return None
    board = lookup(PanelBoard, raw, "panel_board", "panel board")
    _offered(board, "panel_board", "panel board", (current_id,))
    return board.id


# -- loads: add, rename, disable, erase -----------------------------------------------------------------
def _new_name(model, what: str, raw: Any, row_id: int | None = None) -> str:
    return unique_name(model, required_name(raw, what), row_id, what)


@writes
def add_load(db, name: Any) -> Load:
    users = Load.select().where(Load.kind == USER).count()
    if users >= MAX_USER_LOADS:
        raise ConfigError("load", "at most {max} loads can be added to the 6 predefined ones "
                                  "(14 in all): erase or reuse one", max=MAX_USER_LOADS)
    load = Load.create(kind=USER, name=_new_name(Load, "load", name))
    check_id(load, "load", MAX_LOAD_ID)
    return load


def _user_load(load_id: Any, refusal: Msg) -> Load:
    """A load the installer added; `refusal`, a template with {name}, for a built-in one."""
    load = by_id(Load, load_id, "load", "load")
    if load.kind != USER:
        raise ConfigError("load", refusal, name=load_name(load))
    return load


@writes
def rename_load(db, load_id: Any, name: Any) -> Load:
    load = _user_load(load_id, Msg('"{name}" is a built-in load: it cannot be renamed (only disabled)'))
    load.name = _new_name(Load, "load", name, load.id)
    load.save()
    return load


@writes
def set_load_enabled(db, load_id: Any, on: Any) -> Load:
    load = by_id(Load, load_id, "load", "load")
    on = flag(on, "enabled")
    if not on and load.kind == OTHERS:
        raise ConfigError("load", '"{name}" shows the devices without a load: it cannot be disabled',
                          name=load_name(load))
    load.enabled = on
    load.save()
    return load


@writes
def erase_load(db, load_id: Any) -> None:
    """User loads only; their devices go back to "Others"."""
    _user_load(load_id, Msg('"{name}" is a built-in load: it cannot be erased (only disabled)')).delete_instance()


# -- measure groups and panel boards: add, rename, describe, disable, erase ---------------------------
def _named_rows(model, what: str) -> tuple:
    """The writes of a table whose rows hold only a unique name, a description and ON/OFF:
    add(db, name, description=""), update(db, id, name=None, description=None) (None: unchanged),
    set_enabled(db, id, on) and erase(db, id)."""
    field = what.replace(" ", "_")

    def add(db, name: Any, description: Any = ""):
        row = model.create(name=_new_name(model, what, name), description=text(description, "description"))
        check_id(row, what)
        return row

    def update(db, row_id: Any, name: Any = None, description: Any = None):
        row = by_id(model, row_id, field, what)
        if name is not None:
            row.name = _new_name(model, what, name, row.id)
        if description is not None:
            row.description = text(description, "description")
        row.save()
        return row

    def set_enabled(db, row_id: Any, on: Any):
        row = by_id(model, row_id, field, what)
        row.enabled = flag(on, "enabled")
        row.save()
        return row

    def erase(db, row_id: Any) -> None:
        by_id(model, row_id, field, what).delete_instance()

    return tuple(writes(f) for f in (add, update, set_enabled, erase))


# A disabled group keeps its devices; an erased one lets them go (CASCADE).
add_group, update_group, set_group_enabled, erase_group = _named_rows(MeasureGroup, "measure group")
# An erased panel board leaves its gateways in no panel board.
add_panel_board, update_panel_board, set_panel_board_enabled, erase_panel_board = \
    _named_rows(PanelBoard, "panel board")


# -- reading ------------------------------------------------------------------------------------------
@reads
def loads(db) -> list[Load]:
    return list(Load.select().order_by(Load.id))


@reads
def groups(db) -> list[MeasureGroup]:
    return list(MeasureGroup.select().order_by(MeasureGroup.id))


@reads
def panel_boards(db) -> list[PanelBoard]:
    return list(PanelBoard.select().order_by(PanelBoard.id))


@reads
def device_groups(db, device_id: Any) -> list[MeasureGroup]:
    return list(MeasureGroup.select().join(DeviceGroup).where(DeviceGroup.device == int(device_id))
                .order_by(MeasureGroup.id))
