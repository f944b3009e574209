"""Bill of consumptions (manual 7.16.3), in System configuration: the currency and the gas
conversion factor; per energy kind (tabs Electricity, Gas, Water) the tariffs with their dated
prices, and the cost rules in the order they are evaluated, the DEFAULT rule last.

The rules are app/tariffs.py's; a refused form comes back with status 400, the typed values and
the message by its field, and nothing saved. A saved change asks the daemon to reload, so the
next slots are priced with it (costs already recorded stay as billed: docs/costs.md)."""

from __future__ import annotations

from datetime import datetime

import bottle
from bottle import request, response

from wsmeasure import settings, tariffs
from wsmeasure.currencies import CODES
from wsmeasure.settings import ConfigError
from wsmeasure.store_time import zone

from .access import ctx
from .i18n import core_text
from .pages_system_common import STYLES, applied, kind_text
from .render import flash, render

BASE = "/system/bill"
PAGE_STYLES = [*STYLES, "bill.css"]
TARIFF_FIELDS = ("name", "colour", *(f"{f}{i}" for i in range(1, tariffs.MAX_PRICES + 1) for f in ("price", "from")))
RULE_FIELDS = ("tariff", "date_from", "date_to", "repeat", "time_from", "time_to", "weekdays")
SETTING_FIELDS = {"bill.currency": "currency", "bill.gas_kwh_per_m3": "gas_kwh_per_m3"}


def day_names(_) -> tuple[str, ...]:
    return (_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun"))


def swatch(colour: str | None) -> str:
    """A tariff's colour (validated #rrggbb) as a small SVG square: no style attribute (CSP)."""
    fill = colour if colour else "none"
    return (f'<svg class="swatch" viewBox="0 0 16 16" aria-hidden="true"><rect x=".5" y=".5" width="15" '
            f'height="15" rx="3" fill="{fill}"/></svg>')


def validity_text(_, rule: tariffs.Rule) -> str:
    if rule.date_from is None:
        return _("Always")
    if rule.date_to is None:
        text = str(rule.date_from)
    else:
        text = _("{start} to {end}").format(start=rule.date_from, end=rule.date_to)
    return _("{period}, every year").format(period=text) if rule.repeat else text


def frame_text(_, rule: tariffs.Rule) -> str:
    if rule.time_from == tariffs.FIRST_MINUTE and rule.time_to == tariffs.LAST_MINUTE:
        return _("All day")
    return f"{tariffs.format_time(rule.time_from)}–{tariffs.format_time(rule.time_to)}"


def days_text(_, rule: tariffs.Rule) -> str:
    if rule.weekdays == tariffs.EVERY_DAY:
        return _("Every day")
    names = day_names(_)
    return ", ".join(names[d] for d in sorted(rule.weekdays))


def prices_text(_, kind: str, tariff: tariffs.Tariff) -> list[str]:
    unit = tariffs.UNITS[kind]
    out = []
    for p in tariff.prices:
        value = f"{tariffs.format_price(p.price)}/{unit}"
        out.append(value if p.valid_from is None else _("{price} from {date}").format(price=value, date=p.valid_from))
    return out


def _now_local(box) -> datetime:
    return datetime.now(zone(settings.get(box.db, "time.zone")))


def routes(app: bottle.Bottle, box) -> None:
    def kind_or_404(kind: str) -> str:
        if kind not in tariffs.KINDS:
            bottle.abort(404)
        return kind

    def tariff_or_404(kind: str, tid: int) -> tariffs.Tariff:
        found = next((t for t in tariffs.tariffs(box.db, kind) if t.id == tid), None)
        if found is None:
            bottle.abort(404)
        return found

    def rule_or_404(kind: str, rid: int) -> tariffs.Rule:
        found = next((r for r in tariffs.rules(box.db, kind) if r.id == rid and not r.default), None)
        if found is None:
            bottle.abort(404)
        return found

    def tabs(_, kind: str, suffix: str = "") -> list:
        return [(f"{BASE}/{k}{suffix}", text, k == kind) for k, text in kind_text(_).items()]

    def done(message: str, kind: str):
        flash(message)
        applied(box)
        bottle.redirect(f"{BASE}/{kind}", 303)

    def field_of(exc: ConfigError, fields) -> str:
        name = SETTING_FIELDS.get(exc.field, exc.field)
        return name if name in fields else "_"

    # -- the page of a kind: settings, tariffs, rules ---------------------------------------------------
    def page(kind: str, errors=None, data=None, status: int = 200):
        c = ctx()
        response.status = status
        rule_list = tariffs.rules(box.db, kind)
        tariff_list = tariffs.tariffs(box.db, kind)
        active = tariffs.rule_for(rule_list, _now_local(box))
        values = {"currency": tariffs.currency(box.db), "gas_kwh_per_m3": f"{tariffs.gas_kwh_per_m3(box.db)}"}
        return render("bill.tpl", title=c._("Bill of consumptions"), back="/system", tabs=tabs(c._, kind),
                      kind=kind, base=f"{BASE}/{kind}", tariffs=tariff_list,
                      by_id={t.id: t for t in tariff_list}, rules=rule_list, active=active, values=values,
                      codes=CODES, max_tariffs=tariffs.MAX_TARIFFS, swatch=swatch,
                      validity=lambda r: validity_text(c._, r), frame=lambda r: frame_text(c._, r),
                      days=lambda r: days_text(c._, r), prices=lambda t: prices_text(c._, kind, t),
                      errors=errors or {}, data=data or {}, styles=PAGE_STYLES)

    @app.get(BASE, page="system")
    def first_page():
        return page(tariffs.ELECTRICITY)

    @app.get(BASE + "/<kind>", page="system")
    def kind_page(kind):
        return page(kind_or_404(kind))

    @app.post(BASE + "/<kind>/settings", page="system")
    def save_settings(kind):
        c = ctx()
        kind = kind_or_404(kind)
        data = {k: request.forms.getunicode(k, "") for k in ("currency", "gas_kwh_per_m3") if k in request.forms}
        try:
            tariffs.save_settings(box.db, data.get("currency", ""),
                                  data.get("gas_kwh_per_m3") if kind == tariffs.GAS else None)
        except ConfigError as exc:
            return page(kind, {field_of(exc, data): core_text(c._, exc)}, data, 400)
        done(c._("Settings saved."), kind)

    # -- tariffs -------------------------------------------------------------------------------------------
    def tariff_page(kind: str, current: tariffs.Tariff | None, errors=None, data=None, status: int = 200):
        c = ctx()
        response.status = status
        if data is None:
            data = {}
            if current is not None:
                data = {"name": current.name, "colour": current.colour}
                for i, p in enumerate(current.prices, 1):
                    data[f"price{i}"] = tariffs.format_price(p.price)
                    data[f"from{i}"] = "" if p.valid_from is None else str(p.valid_from)
        title = c._("New tariff") if current is None else c._("Tariff {name}").format(name=current.name)
        action = f"{BASE}/{kind}/tariffs/" + ("new" if current is None else str(current.id))
        default_colour = tariffs.PALETTE[len(tariffs.tariffs(box.db, kind)) % len(tariffs.PALETTE)]
        return render("bill_tariff.tpl", title=title, back=f"{BASE}/{kind}", kind=kind, action=action,
                      kind_title=kind_text(c._)[kind], unit=tariffs.UNITS[kind], rows=tariffs.MAX_PRICES,
                      default_colour=default_colour, errors=errors or {}, data=data, styles=PAGE_STYLES)

    def submitted_tariff() -> tuple[dict, list]:
        data = {k: request.forms.getunicode(k, "") for k in TARIFF_FIELDS}
        prices = [(data[f"price{i}"], data[f"from{i}"]) for i in range(1, tariffs.MAX_PRICES + 1)]
        return data, prices

    @app.get(BASE + "/<kind>/tariffs/new", page="system")
    def new_tariff(kind):
        return tariff_page(kind_or_404(kind), None)

    @app.post(BASE + "/<kind>/tariffs/new", page="system")
    def add_tariff(kind):
        c = ctx()
        kind = kind_or_404(kind)
        data, prices = submitted_tariff()
        try:
            saved = tariffs.add_tariff(box.db, kind, data["name"], data["colour"] or None, prices)
        except ConfigError as exc:
            return tariff_page(kind, None, {field_of(exc, TARIFF_FIELDS): core_text(c._, exc)}, data, 400)
        done(c._("Tariff {name} saved.").format(name=saved.name), kind)

    @app.get(BASE + "/<kind>/tariffs/<tid:int>", page="system")
    def edit_tariff(kind, tid):
        kind = kind_or_404(kind)
        return tariff_page(kind, tariff_or_404(kind, tid))

    @app.post(BASE + "/<kind>/tariffs/<tid:int>", page="system")
    def save_tariff(kind, tid):
        c = ctx()
        kind = kind_or_404(kind)
        current = tariff_or_404(kind, tid)
        data, prices = submitted_tariff()
        try:
            saved = tariffs.update_tariff(box.db, tid, data["name"], data["colour"] or current.colour, prices)
        except ConfigError as exc:
            return tariff_page(kind, current, {field_of(exc, TARIFF_FIELDS): core_text(c._, exc)}, data, 400)
        done(c._("Tariff {name} saved.").format(name=saved.name), kind)

    @app.get(BASE + "/<kind>/tariffs/<tid:int>/delete", page="system")
    def confirm_delete_tariff(kind, tid):
        c = ctx()
        kind = kind_or_404(kind)
        current = tariff_or_404(kind, tid)
        return render("confirm.tpl", title=c._("Delete the tariff {name}?").format(name=current.name),
                      back=f"{BASE}/{kind}", action=f"{BASE}/{kind}/tariffs/{tid}/delete", button=c._("Delete"),
                      detail=c._("The costs already recorded with it stay in the history."), styles=PAGE_STYLES)

    @app.post(BASE + "/<kind>/tariffs/<tid:int>/delete", page="system")
    def delete_tariff(kind, tid):
        c = ctx()
        kind = kind_or_404(kind)
        current = tariff_or_404(kind, tid)
        try:
            tariffs.delete_tariff(box.db, tid)
        except ConfigError as exc:
            return page(kind, {"_": core_text(c._, exc)}, status=400)
        done(c._("Tariff {name} deleted.").format(name=current.name), kind)

    # -- cost rules --------------------------------------------------------------------------------------
    def rule_page(kind: str, current: tariffs.Rule | None, errors=None, data=None, status: int = 200,
                  default: bool = False):
        c = ctx()
        response.status = status
        if data is None:
            data = {}
            if current is not None:
                data = {"tariff": current.tariff_id or "",
                        "date_from": current.date_from or "", "date_to": current.date_to or "",
                        "repeat": "on" if current.repeat else "off",
                        "time_from": tariffs.format_time(current.time_from),
                        "time_to": tariffs.format_time(current.time_to),
                        "weekdays": [tariffs.WEEKDAYS[d] for d in sorted(current.weekdays)]}
        if default:
            title, action = c._("DEFAULT rule"), f"{BASE}/{kind}/rules/default"
        elif current is None:
            title, action = c._("New cost rule"), f"{BASE}/{kind}/rules/new"
        else:
            title, action = c._("Cost rule"), f"{BASE}/{kind}/rules/{current.id}"
        tariff_list = tariffs.tariffs(box.db, kind)
        options = [(t.id, t.name) for t in tariff_list]
        if not data.get("tariff"):
            options.insert(0, ("", c._("Choose a tariff")))
        return render("bill_rule.tpl", title=title, back=f"{BASE}/{kind}", kind=kind, action=action,
                      default=default, options=options, has_tariffs=bool(tariff_list),
                      days=list(zip(tariffs.WEEKDAYS, day_names(c._))), errors=errors or {}, data=data,
                      styles=PAGE_STYLES)

    def submitted_rule() -> dict:
        data = {k: request.forms.getunicode(k, "") for k in RULE_FIELDS if k != "weekdays"}
        data["weekdays"] = request.forms.getall("weekdays")
        return data

    def rule_values(data: dict) -> dict:
        return dict(tariff=data["tariff"], date_from=data["date_from"], date_to=data["date_to"],
                    repeat=data["repeat"] or "off", time_from=data["time_from"], time_to=data["time_to"],
                    weekdays=data["weekdays"])

    @app.get(BASE + "/<kind>/rules/new", page="system")
    def new_rule(kind):
        kind = kind_or_404(kind)
        return rule_page(kind, None, data={"weekdays": list(tariffs.WEEKDAYS), "time_from": "00:00",
                                           "time_to": "23:59"})

    @app.post(BASE + "/<kind>/rules/new", page="system")
    def add_rule(kind):
        c = ctx()
        kind = kind_or_404(kind)
        data = submitted_rule()
        try:
            tariffs.add_rule(box.db, kind, **rule_values(data))
        except ConfigError as exc:
            return rule_page(kind, None, {field_of(exc, RULE_FIELDS): core_text(c._, exc)}, data, 400)
        done(c._("Cost rule saved."), kind)

    @app.get(BASE + "/<kind>/rules/default", page="system")
    def edit_default(kind):
        kind = kind_or_404(kind)
        return rule_page(kind, tariffs.rules(box.db, kind)[-1], default=True)

    @app.post(BASE + "/<kind>/rules/default", page="system")
    def save_default(kind):
        c = ctx()
        kind = kind_or_404(kind)
        data = {"tariff": request.forms.getunicode("tariff", "")}
        try:
            tariffs.set_default_tariff(box.db, kind, data["tariff"])
        except ConfigError as exc:
            return rule_page(kind, tariffs.rules(box.db, kind)[-1], {field_of(exc, ("tariff",)): core_text(c._, exc)},
                             data, 400, default=True)
        done(c._("Cost rule saved."), kind)

    @app.get(BASE + "/<kind>/rules/<rid:int>", page="system")
    def edit_rule(kind, rid):
        kind = kind_or_404(kind)
        return rule_page(kind, rule_or_404(kind, rid))

    @app.post(BASE + "/<kind>/rules/<rid:int>", page="system")
    def save_rule(kind, rid):
        c = ctx()
        kind = kind_or_404(kind)
        current = rule_or_404(kind, rid)
        data = submitted_rule()
        try:
            tariffs.update_rule(box.db, rid, **rule_values(data))
        except ConfigError as exc:
            return rule_page(kind, current, {field_of(exc, RULE_FIELDS): core_text(c._, exc)}, data, 400)
        done(c._("Cost rule saved."), kind)

    @app.post(BASE + "/<kind>/rules/<rid:int>/move", page="system")
    def move_rule(kind, rid):
        c = ctx()
        kind = kind_or_404(kind)
        rule_or_404(kind, rid)
        try:
            tariffs.move_rule(box.db, rid, request.forms.getunicode("direction", ""))
        except ConfigError as exc:
            return page(kind, {"_": core_text(c._, exc)}, status=400)
        done(c._("Cost rule moved."), kind)

    @app.get(BASE + "/<kind>/rules/<rid:int>/delete", page="system")
    def confirm_delete_rule(kind, rid):
        c = ctx()
        kind = kind_or_404(kind)
        rule_or_404(kind, rid)
        return render("confirm.tpl", title=c._("Delete this cost rule?"), back=f"{BASE}/{kind}",
                      action=f"{BASE}/{kind}/rules/{rid}/delete", button=c._("Delete"), styles=PAGE_STYLES)

    @app.post(BASE + "/<kind>/rules/<rid:int>/delete", page="system")
    def delete_rule(kind, rid):
        c = ctx()
        kind = kind_or_404(kind)
        rule_or_404(kind, rid)
        try:
            tariffs.delete_rule(box.db, rid)
        except ConfigError as exc:
            return page(kind, {"_": core_text(c._, exc)}, status=400)
        done(c._("Cost rule deleted."), kind)
