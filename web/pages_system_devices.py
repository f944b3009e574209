"""Gateways and devices, the devices' side (manual 7.16.1.2-7.16.1.5, 7.16.6.2): the devices of
one gateway (section A) and the settings of one device (section B). Adding is two steps: the
family, then the form with that family's own fields (device_fields.py says which apply)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import bottle
from bottle import request, response

from wsmeasure import groupings, installation
from wsmeasure.device_fields import GENERIC_FUNCTIONS, GENERIC_WORDS, WORD_ORDERS
from wsmeasure.drivers.base import EMS, PHASES, PULSE, SIDE, SIDES, SUPPLY
from wsmeasure.drivers.base import VIRTUAL as REMOTE
from wsmeasure.drivers.catalogue import families
from wsmeasure.drivers.registers import ENCODINGS
from wsmeasure.poller import address_label
from wsmeasure.settings import ConfigError
from wsmeasure.specs import VIRTUAL

from .access import ctx
from .i18n import core_text
from .pages_system_common import (SCRIPTS, SLAVE_UNIT, STYLES, applied, breaker_icon,
                                  error_field, family_label, led, load_label, model_label, status, switched,
                                  test_verdict)
from .render import flash, render

FORM_FIELDS = ("model", "name", "address", "interface", "position", "concentrator", "side", "phase", "supply",
               "load", "fn", "register", "words", "multiplier", "encoding", "word_order", "remote_id",
               "exclude_totals", "exclude_alerts")
ERROR_FIELDS = FORM_FIELDS + ("groups",)
PREFILL = ("model", "address", "position", "concentrator", "side")   # "Add the other side", "Add" again


def addable(gateway) -> list:
    """The families a device of this gateway can be: virtual devices only on virtual gateways."""
    return [f for f in families().values()
            if f.addable and (f.addressing == REMOTE) == (gateway.kind == VIRTUAL)]


def form_values(device) -> dict:
    """A stored device as its form shows it."""
    out = {f: getattr(device, f) for f in FORM_FIELDS if f not in ("load",)}
    out["load"] = device.load_id or ""
    if device.register is not None:
        out["register"] = f"{device.register:04X}"
    if device.multiplier is not None:
        out["multiplier"] = f"{device.multiplier:g}"
    out["exclude_totals"] = "on" if device.exclude_totals else "off"
    out["exclude_alerts"] = "on" if device.exclude_alerts else "off"
    return {k: ("" if v is None else v) for k, v in out.items()}


def routes(app: bottle.Bottle, box) -> None:
    def _gateway(gid: int):
        found = next((g for g in installation.gateways(box.db) if g.id == gid), None)
        if found is None:
            bottle.abort(404)
        return found

    def _device(did: int):
        found = next((d for d in installation.devices(box.db) if d.id == did), None)
        if found is None:
            bottle.abort(404)
        return found

    def choices(c, fam, device) -> dict:
        """The options of the selects and check boxes of a family's form."""
        _ = c._
        current_load = device.load_id if device else None
        loads = [("", _("Others (no load)"))] + [
            (ld.id, load_label(_, ld) + ("" if ld.enabled else " " + _("(disabled)")))
            for ld in groupings.loads(box.db)
            if ld.kind not in ("others", "utility") and (ld.enabled or ld.id == current_load)]
        auto_load = next((load_label(_, ld) for ld in groupings.loads(box.db) if ld.key == fam.load), None)
        mine = {g.id for g in groupings.device_groups(box.db, device.id)} if device else set()
        groups = [(g.id, g.name + ("" if g.enabled else " " + _("(disabled)")))
                  for g in groupings.groups(box.db) if g.enabled or g.id in mine]
        concentrators = [(m.cat_no, _("{cat_no} {label} ({inputs} inputs)").format(
                              cat_no=m.cat_no, label=_(m.label), inputs=m.inputs))
                         for f in families().values() for m in f.models.values() if m.inputs]
        return dict(
            models=[("", _("Not chosen (shown as \"Configuration\")"))] + [
                (m.cat_no, model_label(_, m)) for m in fam.models.values()],
            model_tags=json.dumps({m.cat_no: " ".join(sorted(m.tags)) for m in fam.models.values()}),
            loads=loads, auto_load=auto_load, groups=groups, my_groups=sorted(mine),
            concentrators=[("", "—")] + concentrators,
            supplies=[(s, {"upstream": _("Upstream"), "downstream": _("Downstream")}[s]) for s in SUPPLY],
            phases=[("", "—")] + [(p, p) for p in PHASES], sides=[("", "—")] + [(s, s) for s in SIDES],
            functions=[(f, {3: _("3 (read holding registers)"), 4: _("4 (read input registers)")}[f])
                       for f in GENERIC_FUNCTIONS],
            words=[(w, str(w)) for w in GENERIC_WORDS], encodings=[(e, e) for e in ENCODINGS],
            word_orders=[(w, {"high_first": _("High word first"), "low_first": _("Low word first")}[w])
                         for w in WORD_ORDERS])

    def page(gateway, current=None, fam=None, errors=None, data=None, status_code=200):
        """current: None (list only), "family" (step 1 of Add), "new" (step 2) or a Device."""
        c = ctx()
        response.status = status_code
        gw_status, dev_status = status(box)
        device = current if current not in (None, "family", "new") else None
        values = dict(
            title=c._("Devices of gateway {name}").format(name=gateway.name), back=f"/system/gateways/{gateway.id}",
            gateway=gateway, devices=installation.devices(box.db, gateway.id), current=current, fam=fam,
            families=[(f.key, family_label(c._, f.key)) for f in addable(gateway)],
            gw_state=gw_status.get(gateway.id, "on" if gateway.enabled else "off"), dev_status=dev_status,
            led=lambda s: led(c._, s), breaker=lambda s: breaker_icon(c._, s), address_label=address_label,
            family_label=lambda k: family_label(c._, k), slave_unit=SLAVE_UNIT,
            PULSE=PULSE, SIDE=SIDE, EMS=EMS, REMOTE=REMOTE,
            errors=errors or {}, data=data or {}, styles=STYLES, scripts=SCRIPTS, other_side=None)
        if fam is not None:
            values.update(choices(c, fam, device))
            values["stored"] = form_values(device) if device else {k: request.query.getunicode(k, "")
                                                                   for k in PREFILL}
            if device and device.side and device.model and "two_sides" in fam.models.get(device.model).tags:
                other = "B" if device.side == "A" else "A"
                if not any(d.address == device.address and d.side == other for d in values["devices"]):
                    query = urlencode({"family": fam.key, "model": device.model, "address": device.address,
                                       "side": other})
                    values["other_side"] = (other, f"/system/gateways/{gateway.id}/devices/new?{query}")
        return render("system_devices.tpl", **values)

    def submitted() -> dict:
        f = request.forms
        data = {k: f.getunicode(k, "") for k in FORM_FIELDS if k in f}
        data["groups"] = f.getall("groups")
        return data

    def refused(gateway, current, fam, exc: ConfigError, data: dict):
        return page(gateway, current, fam, {error_field(exc, ERROR_FIELDS): core_text(ctx()._, exc)}, data, 400)

    @app.get("/system/gateways/<gid:int>/devices", page="system")
    def list_devices(gid):
        return page(_gateway(gid))

    @app.get("/system/gateways/<gid:int>/devices/new", page="system")
    def new_device(gid):
        c = ctx()
        gateway = _gateway(gid)
        key = request.query.get("family", "")
        if not key:
            return page(gateway, "family")
        fam = {f.key: f for f in addable(gateway)}.get(key)
        if fam is None:
            return page(gateway, "family", errors={"_": c._("Choose a family from the list.")}, status_code=400)
        return page(gateway, "new", fam)

    @app.post("/system/gateways/<gid:int>/devices/new", page="system")
    def add_device(gid):
        c = ctx()
        gateway = _gateway(gid)
        fam = {f.key: f for f in addable(gateway)}.get(request.forms.get("family", ""))
        if fam is None:
            return page(gateway, "family", errors={"_": c._("Choose a family from the list.")}, status_code=400)
        data = submitted()
        try:
            device = installation.add_device(box.db, gid, family=fam.key, **data)
        except ConfigError as exc:
            return refused(gateway, "new", fam, exc, data)
        flash(c._("Device {name} saved.").format(name=device.name))
        applied(box)
        bottle.redirect(f"/system/devices/{device.id}", 303)

    @app.get("/system/devices/<did:int>", page="system")
    def edit_device(did):
        device = _device(did)
        return page(device.gateway, device, families().get(device.family))

    @app.post("/system/devices/<did:int>", page="system")
    def save_device(did):
        c = ctx()
        device = _device(did)
        data = submitted()
        try:
            saved = installation.update_device(box.db, did, **data)
        except ConfigError as exc:
            return refused(device.gateway, device, families().get(device.family), exc, data)
        flash(c._("Device {name} saved.").format(name=saved.name))
        applied(box)
        bottle.redirect(f"/system/devices/{did}", 303)

    @app.post("/system/devices/<did:int>/test", page="system")
    def test_device(did):
        _device(did)
        test_verdict(box, "device", did)
        bottle.redirect(f"/system/devices/{did}", 303)

    @app.post("/system/devices/<did:int>/switch", page="system")
    def switch_device(did):
        c = ctx()
        device = _device(did)
        try:
            device = installation.set_device_enabled(box.db, did, switched())
        except ConfigError as exc:
            return page(device.gateway, device, families().get(device.family), {"_": core_text(c._, exc)},
                        status_code=400)
        flash((c._("Device {name} switched ON.") if device.enabled else
               c._("Device {name} switched OFF: it is not read.")).format(name=device.name))
        applied(box)
        bottle.redirect(f"/system/devices/{did}", 303)

    @app.get("/system/devices/<did:int>/delete", page="system")
    def confirm_delete(did):
        c = ctx()
        device = _device(did)
        return render("confirm.tpl", title=c._("Delete device {name}?").format(name=device.name),
                      back=f"/system/devices/{did}", action=f"/system/devices/{did}/delete", button=c._("Erase"),
                      detail=c._("Its recorded history stays on the box; its ID is never given again."))

    @app.post("/system/devices/<did:int>/delete", page="system")
    def delete_device(did):
        c = ctx()
        device = _device(did)
        gid = device.gateway_id
        try:
            installation.delete_device(box.db, did)
        except ConfigError as exc:
            return page(device.gateway, device, families().get(device.family), {"_": core_text(c._, exc)},
                        status_code=400)
        flash(c._("Device {name} deleted.").format(name=device.name))
        applied(box)
        bottle.redirect(f"/system/gateways/{gid}/devices", 303)
