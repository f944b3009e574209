"""Gateways and devices, the gateways' side (manual 7.16.1, 7.16.6.2): section A lists the
gateways with their status (and, filtered, their devices); section B is the settings of the
selected gateway: Add, Save, Test, Delete, ON/OFF, panel board, EQ device, Devices."""

from __future__ import annotations

import bottle
from bottle import request, response

from wsmeasure import groupings, installation, settings
from wsmeasure.drivers.catalogue import families
from wsmeasure.poller import address_label
from wsmeasure.settings import ConfigError
from wsmeasure.specs import IP, LOCAL, VIRTUAL

from .access import ctx
from .i18n import core_text
from .pages_system_common import (SCRIPTS, STYLES, applied, breaker_icon, error_field, led,
                                  status, switched, test_verdict)
from .render import flash, render

FIELDS = ("kind", "address", "port", "name", "description", "panel_board", "eq")


def kind_label(_, kind: str) -> str:
    return {LOCAL: _("Local gateway (RS485 port of this box)"), IP: _("Modbus TCP gateway"),
            VIRTUAL: _("Slave web server (virtual gateway)")}.get(kind, kind)


def has_thd(device) -> bool:
    fam = families().get(device.family)
    model = fam.models.get(device.model) if fam and device.model else None
    return model is not None and bool({"thd", "harmonics"} & model.tags)


def routes(app: bottle.Bottle, box) -> None:
    def _gateway(gid: int):
        found = next((g for g in installation.gateways(box.db) if g.id == gid), None)
        if found is None:
            bottle.abort(404)
        return found

    def shown() -> str:
        show = request.query.get("show", "gateways")
        return show if show in ("gateways", "devices") or show.startswith("board-") else "gateways"

    def page(current=None, errors=None, data=None, status_code=200):
        c = ctx()
        response.status = status_code
        gws = installation.gateways(box.db)
        boards = groupings.panel_boards(box.db)
        show = shown()
        listed = gws
        if show.startswith("board-"):
            listed = [g for g in gws if str(g.panel_board_id) == show[6:]]
        devices = {}
        if show != "gateways":
            for d in installation.devices(box.db):
                devices.setdefault(d.gateway_id, []).append(d)
        gw_status, dev_status = status(box)
        board_options = [("", c._("None"))] + [
            (b.id, b.name if b.enabled else c._("{name} (disabled)").format(name=b.name)) for b in boards
            if b.enabled or (current not in (None, "new") and current.panel_board_id == b.id)]
        eq_options, eq_current = [], ""
        if current not in (None, "new"):
            own = installation.devices(box.db, current.id)
            eq_options = [("", c._("None"))] + [(d.id, f"{address_label(d)} {d.name}") for d in own if has_thd(d)]
            eq_current = next((d.id for d in own if d.eq), "")
        filters = [("gateways", c._("Gateways")), ("devices", c._("All devices"))] + [
            (f"board-{b.id}", c._("Panel board: {name}").format(name=b.name)) for b in boards]
        return render("system_gateways.tpl", title=c._("Gateways and devices"), back="/system",
                      gateways=listed, devices=devices, current=current, show=show, filters=filters,
                      query="" if show == "gateways" else f"?show={show}",
                      gw_status=gw_status, dev_status=dev_status, board_options=board_options,
                      eq_options=eq_options, eq_current=eq_current,
                      eq_allowed=settings.get(box.db, "edition") >= 32,
                      kinds=[(IP, kind_label(c._, IP)), (VIRTUAL, kind_label(c._, VIRTUAL))],
                      kind_label=lambda k: kind_label(c._, k), LOCAL=LOCAL,
                      led=lambda s: led(c._, s), breaker=lambda s: breaker_icon(c._, s),
                      address_label=address_label,
                      errors=errors or {}, data=data or {}, styles=STYLES, scripts=SCRIPTS)

    def submitted(*names) -> dict:
        return {n: request.forms.getunicode(n, "") for n in names if n in request.forms}

    def refused(current, exc: ConfigError, data: dict):
        return page(current, {error_field(exc, FIELDS): core_text(ctx()._, exc)}, data, 400)

    @app.get("/system/gateways", page="system")
    def list_gateways():
        return page()

    @app.get("/system/gateways/new", page="system")
    def new_gateway():
        return page("new")

    @app.post("/system/gateways/new", page="system")
    def add_gateway():
        c = ctx()
        data = submitted("kind", "address", "port", "name", "description", "panel_board")
        try:
            gw = installation.add_gateway(box.db, data.get("address"), data.get("name"), data.get("description"),
                                          kind=data.get("kind") or IP, port=data.get("port"),
                                          panel_board=data.get("panel_board"))
        except ConfigError as exc:
            return refused("new", exc, data)
        flash(c._("Gateway {name} saved.").format(name=gw.name))
        applied(box)
        bottle.redirect(f"/system/gateways/{gw.id}", 303)

    @app.get("/system/gateways/<gid:int>", page="system")
    def edit_gateway(gid):
        return page(_gateway(gid))

    @app.post("/system/gateways/<gid:int>", page="system")
    def save_gateway(gid):
        c = ctx()
        gw = _gateway(gid)
        data = submitted("address", "port", "name", "description", "panel_board", "eq")
        changes = {k: data[k] for k in ("name", "description", "panel_board") if k in data}
        if gw.kind != LOCAL:
            changes.update({k: data[k] for k in ("address", "port") if k in data})
        if "panel_board" in changes and not changes["panel_board"]:
            changes["panel_board"] = None   # "None" chosen: out of its panel board
        try:
            with box.db.atomic():   # the gateway and its EQ device saved together, or neither
                gw = installation.update_gateway(box.db, gid, **changes)
                if "eq" in data:
                    current = next((d.id for d in installation.devices(box.db, gid) if d.eq), None)
                    wanted = int(data["eq"]) if data["eq"].strip().isdigit() else None
                    if wanted != current:
                        installation.set_eq_device(box.db, gid, wanted)
        except ConfigError as exc:
            return refused(_gateway(gid), exc, data)
        flash(c._("Gateway {name} saved.").format(name=gw.name))
        applied(box)
        bottle.redirect(f"/system/gateways/{gid}", 303)

    @app.post("/system/gateways/<gid:int>/test", page="system")
    def test_gateway(gid):
        _gateway(gid)
        test_verdict(box, "gateway", gid)
        bottle.redirect(f"/system/gateways/{gid}", 303)

    @app.post("/system/gateways/<gid:int>/switch", page="system")
    def switch_gateway(gid):
        c = ctx()
        gw = _gateway(gid)
        try:
            gw = installation.set_gateway_enabled(box.db, gid, switched())
        except ConfigError as exc:
            return page(gw, {"_": core_text(c._, exc)}, status_code=400)
        flash((c._("Gateway {name} switched ON.") if gw.enabled else
               c._("Gateway {name} switched OFF: its devices are not read.")).format(name=gw.name))
        applied(box)
        bottle.redirect(f"/system/gateways/{gid}", 303)

    @app.get("/system/gateways/<gid:int>/delete", page="system")
    def confirm_delete(gid):
        c = ctx()
        gw = _gateway(gid)
        return render("confirm.tpl", title=c._("Delete gateway {name}?").format(name=gw.name),
                      back=f"/system/gateways/{gid}", action=f"/system/gateways/{gid}/delete", button=c._("Erase"),
                      detail=c._("A gateway can be deleted once all its devices are deleted."))

    @app.post("/system/gateways/<gid:int>/delete", page="system")
    def delete_gateway(gid):
        c = ctx()
        gw = _gateway(gid)
        try:
            installation.delete_gateway(box.db, gid)
        except ConfigError as exc:
            return page(gw, {"_": core_text(c._, exc)}, status_code=400)
        flash(c._("Gateway {name} deleted.").format(name=gw.name))
        applied(box)
        bottle.redirect("/system/gateways", 303)
