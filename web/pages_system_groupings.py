"""Loads, measure groups and panel boards (manual 7.16.2): three two-area pages of one shape
(the list, the settings of the selected one), and the intermediate page of "Delete" that offers
Disable (or Enable) and Erase. A device's load and groups are chosen on the device's form, a
gateway's panel board on the gateway's form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import bottle
from bottle import request, response

from wsmeasure import groupings
from wsmeasure.groupings import MAX_USER_LOADS, USER
from wsmeasure.settings import ConfigError

from .access import ctx
from .i18n import core_text
from .pages_system_common import STYLES, applied, error_field, load_label, switched
from .render import flash, render

FIELDS = ("name", "description")


@dataclass(frozen=True)
class Kind:
    path: str                      # /system/<path>
    rows: Callable                 # (db) -> rows
    add: Callable                  # (db, name, description) -> row
    update: Callable               # (db, id, name, description) -> row
    set_enabled: Callable
    erase: Callable
    described: bool                # has a description
    remote: int | None             # Remote ID prefix (2 loads, 3 measure groups), None: none


KINDS = {
    "boards": Kind("boards", groupings.panel_boards,
                   lambda db, name, description: groupings.add_panel_board(db, name, description),
                   lambda db, i, name, description: groupings.update_panel_board(db, i, name, description),
                   groupings.set_panel_board_enabled, groupings.erase_panel_board, True, None),
    "loads": Kind("loads", groupings.loads,
                  lambda db, name, description: groupings.add_load(db, name),
                  lambda db, i, name, description: groupings.rename_load(db, i, name),
                  groupings.set_load_enabled, groupings.erase_load, False, 2),
    "groups": Kind("groups", groupings.groups,
                   lambda db, name, description: groupings.add_group(db, name, description),
                   lambda db, i, name, description: groupings.update_group(db, i, name, description),
                   groupings.set_group_enabled, groupings.erase_group, True, 3),
}


def titles(_) -> dict:
    return {"boards": _("Panel boards"), "loads": _("Loads"), "groups": _("Measure groups")}


def new_titles(_) -> dict:
    return {"boards": _("New panel board"), "loads": _("New load"), "groups": _("New measure group")}


def routes(app: bottle.Bottle, box) -> None:
    for key, kind in KINDS.items():
        _routes(app, box, key, kind)


def _routes(app: bottle.Bottle, box, key: str, kind: Kind) -> None:
    base = f"/system/{kind.path}"

    def _row(rid: int):
        found = next((r for r in kind.rows(box.db) if r.id == rid), None)
        if found is None:
            bottle.abort(404)
        return found

    def renamable(row) -> bool:
        return key != "loads" or row.kind == USER

    def erasable(row) -> bool:
        return key != "loads" or row.kind == USER

    def can_disable(row) -> bool:
        return key != "loads" or row.kind != "others"

    def label(row) -> str:
        return load_label(ctx()._, row) if key == "loads" else row.name

    def hint(_) -> str:
        return {"boards": _("Where the gateways are: a gateway is in one panel board at most, chosen on its "
                           "settings in Gateways and devices."),
                "loads": _("6 predefined loads, \"Others\" for the devices without a load, Water and Gas, and "
                           "up to {count} loads of your own. A device's load is chosen on its settings.").format(
                               count=MAX_USER_LOADS),
                "groups": _("A device is in up to 5 measure groups, chosen on its settings.")}[key]

    def page(current=None, errors=None, data=None, status_code=200):
        c = ctx()
        response.status = status_code
        names = titles(c._)
        return render("system_groupings.tpl", title=c._("Loads, groups and panel boards"), back="/system",
                      tabs=[(f"/system/{k}", names[k], k == key) for k in KINDS], what=names[key], base=base,
                      new_title=new_titles(c._)[key],
                      rows=kind.rows(box.db), current=current, described=kind.described, remote=kind.remote,
                      label=label, renamable=renamable, intro=hint(c._),
                      errors=errors or {}, data=data or {}, styles=STYLES)

    def submitted() -> dict:
        return {k: request.forms.getunicode(k, "") for k in FIELDS if k in request.forms}

    def refused(current, exc: ConfigError, data: dict):
        return page(current, {error_field(exc, FIELDS): core_text(ctx()._, exc)}, data, 400)

    def done(message: str, target: str):
        flash(message)
        applied(box)
        bottle.redirect(target, 303)

    @app.get(base, page="system")
    def listing():
        return page()

    @app.get(base + "/new", page="system")
    def new_row():
        return page("new")

    @app.post(base + "/new", page="system")
    def add_row():
        c = ctx()
        data = submitted()
        try:
            row = kind.add(box.db, data.get("name", ""), data.get("description", ""))
        except ConfigError as exc:
            return refused("new", exc, data)
        done(c._("{name} saved.").format(name=row.name), f"{base}/{row.id}")

    @app.get(base + "/<rid:int>", page="system")
    def edit_row(rid):
        return page(_row(rid))

    @app.post(base + "/<rid:int>", page="system")
    def save_row(rid):
        c = ctx()
        row = _row(rid)
        data = submitted()
        try:
            if not renamable(row):   # the core refuses it too: say it by the field
                raise ConfigError("_", c._("A built-in load cannot be renamed, only disabled."))
            row = kind.update(box.db, rid, data.get("name"), data.get("description"))
        except ConfigError as exc:
            return refused(row, exc, data)
        done(c._("{name} saved.").format(name=row.name), f"{base}/{rid}")

    @app.get(base + "/<rid:int>/delete", page="system")
    def delete_choice(rid):
        c = ctx()
        row = _row(rid)
        return render("system_groupings_delete.tpl", title=c._("Delete {name}?").format(name=label(row)),
                      back=f"{base}/{rid}", base=base, row=row, erasable=erasable(row),
                      can_disable=can_disable(row), styles=STYLES)

    @app.post(base + "/<rid:int>/switch", page="system")
    def switch_row(rid):
        c = ctx()
        row = _row(rid)
        try:
            row = kind.set_enabled(box.db, rid, switched())
        except ConfigError as exc:
            return page(row, {"_": core_text(c._, exc)}, status_code=400)
        done((c._("{name} enabled.") if row.enabled else c._("{name} disabled.")).format(name=label(row)),
             f"{base}/{rid}")

    @app.post(base + "/<rid:int>/erase", page="system")
    def erase_row(rid):
        c = ctx()
        row = _row(rid)
        try:
            kind.erase(box.db, rid)
        except ConfigError as exc:
            return page(row, {"_": core_text(c._, exc)}, status_code=400)
        done(c._("{name} erased.").format(name=label(row)), base)
