"""Consumptions of devices: Compare (two devices, in currency only when they measure different
things), Details (one device: the histogram of a counter, its other counters) and Tariffs (Total:
the installation's costs per tariff; Details: one device's). Section A, the device list with its
status icons, comes from My panel board's view of the daemon's status.
"""

from __future__ import annotations

from bottle import request

from wsmeasure import groupings, installation
from wsmeasure.poller import address_label

from . import pages_consumptions_costs as costs
from .pages_consumptions_charts import Chart, Report, Series
from .pages_consumptions_data import COST, Refused, amount, difference
from .pages_consumptions_pages import GAS, KINDS, WATER, Ask
from .pages_panel import Installation, label, provided
from .pages_system_common import load_label


def _(message: str) -> str:
    return message


COUNTERS = ("Ea+", "Ea-", "Er+", "Er-", "water", "gas")     # in the order a device's counters are listed
COLOURS = {"Ea+": "#0b5f8a", "Ea-": "#5c940d", "Er+": "#862e9c", "Er-": "#c2255c", "water": WATER, "gas": GAS}
FIRST, SECOND, BEFORE = "#1971c2", "#f08c00", "#adb5bd"
MODES = {"details": _("Details"), "total": _("Total")}


def device_rows(a: Ask) -> list[dict]:
    """Every device with a counter, with its status icons (when the daemon answers) and counters."""
    live = {d["id"]: d for d in Installation(a.box, a.t, a.lang).devices}   # empty when the daemon is gone
    rows = []
    for spec in installation.all_devices(a.db):
        counters = [q for q in COUNTERS if q in provided(spec)[0]]
        billed = a.members.counters.get(spec.id)
        if billed and billed not in counters:
            counters.insert(0, billed)
        if not counters:
            continue
        d = live.get(spec.id) or {}
        rows.append({"id": spec.id, "name": spec.name, "address": d.get("address") or address_label(spec),
                     "status": d.get("status") or "off", "functions": d.get("functions") or [],
                     "breaker": d.get("breaker"), "counters": counters, "billed": billed or counters[0]})
    return rows


def section_a(a: Ask, report: Report, every: list[dict]) -> tuple[list[dict], dict | None]:
    """Filter the device list as asked (all, a load, a group); the device chosen (listed or not),
    or the first one listed."""
    _ = a.t
    loads = [(f"load-{load.id}", load_label(_, load)) for load in groupings.loads(a.db)]
    groups = [(f"group-{g.id}", g.name) for g in groupings.groups(a.db)]
    which = a.arg("list", "all")
    if which not in {v for v, _n in loads + groups}:
        which = "all"
    rows = every
    if which != "all":
        kind, _sep, ident = which.partition("-")
        members = (a.members.loads if kind == "load" else a.members.groups).get(int(ident), ())
        rows = [r for r in every if r["id"] in members]
    choices = [("all", _("All devices"))]
    if loads:
        choices.append((_("Loads"), loads))
    if groups:
        choices.append((_("Measure groups"), groups))
    report.device_list = (choices, which)
    report.devices = rows
    ident = a.ident("device")
    if ident is None:
        return rows, rows[0] if rows else None
    chosen = next((r for r in every if r["id"] == ident), None)
    if chosen is None:
        raise Refused(404, _("There is no device with this ID."))
    return rows, chosen


def compare(a: Ask) -> Report:
    """Manual 8.2.2.3: two devices; in their unit when they measure the same thing, else in
    currency (kWh of energy and kWh equivalent of gas are never compared)."""
    _ = a.t
    rows = device_rows(a)
    by_id = {r["id"]: r for r in rows}
    mode = a.arg("mode", "details")
    if mode not in MODES:
        raise Refused(400, _("Unknown comparison \"{mode}\": choose total or details.").format(mode=mode[:20]))
    picked = []
    for name, fallback in (("a", 0), ("b", 1)):
        ident = a.ident(name)
        if ident is not None and ident not in by_id:
            raise Refused(404, _("There is no device with this ID."))
        picked.append(by_id[ident] if ident is not None else rows[min(fallback, len(rows) - 1)] if rows else None)
    first, second = picked
    options = [(str(r["id"]), f"{r['address']} \u00b7 {r['name']}") for r in rows]
    report = a.report(_("Compare"), params={"a": first["id"] if first else "", "b": second["id"] if second else "",
                                            "mode": mode})
    report.controls = [("a", _("First device"), options, str(first["id"]) if first else ""),
                       ("b", _("Second device"), options, str(second["id"]) if second else ""),
                       ("mode", _("Comparison"), [(k, _(v)) for k, v in MODES.items()], mode)]
    if first is None or second is None:
        report.message = _("No device measures a consumption yet.")
        return report
    q1, q2 = first["billed"], second["billed"]
    if q1 == q2:
        quantity, selections = q1, [{q1: (first["id"],)}, {q2: (second["id"],)}]
    else:
        quantity = COST
        kinds = [costs.KIND_OF.get(q) for q in (q1, q2)]
        if not all(costs.priced(a.db, k) for k in kinds):
            report.message = _("These devices measure different things ({first}, {second}): they can only be "
                               "compared in currency, and no tariff is configured for both.").format(
                first=label(q1, _), second=label(q2, _))
            return report
        selections = [costs.cost_selection(a.db, kinds[0], [first["id"]]),
                      costs.cost_selection(a.db, kinds[1], [second["id"]])]
        report.summary.append((_("Compared in"), report.currency))
    series = [a.series(f"device-{r['id']}", r["name"], colour, sel)
              for r, colour, sel in zip((first, second), (FIRST, SECOND), selections)]
    report.csv_series = [(s, quantity) for s in series]
    if mode == "details":
        report.charts.append(Chart("compare", "bars", _("Consumptions compared"), quantity, series))
    else:
        now = Series("now", _("This period"), FIRST, [s.total for s in series], None, None)
        before = Series("before", _("Previous period"), BEFORE, [s.previous for s in series], None, None)
        report.charts.append(Chart("compare", "bars", _("Totals compared"), quantity, [now, before],
                                   categories=[s.name for s in series]))
    return report


def details(a: Ask) -> Report:
    """Manual 8.2.2.4: one device (excluded from totals or not): the histogram of one of its
    counters (its billed one first) and the totals of all of them."""
    _, lang = a.t, a.lang
    report = a.report(_("Details"))
    rows, device = section_a(a, report, device_rows(a))
    if device is None:
        report.message = _("No device measures a consumption yet.")
        return report
    quantity = a.arg("q") or device["billed"]
    if quantity not in device["counters"]:
        raise Refused(400, _("This device has no counter \"{counter}\".").format(counter=quantity[:20]))
    report.params = {"device": device["id"], "list": report.device_list[1], "q": quantity}
    report.current = device
    all_series = []
    for q in device["counters"]:
        s = a.series(q, label(q, _), COLOURS.get(q, FIRST), {q: (device["id"],)})
        all_series.append((s, q))
        _diff, diff_text, percent = difference(q, s.total, s.previous, lang)
        report.counters.append({"q": q, "label": label(q, _), "total": amount(q, s.total, lang),
                                "previous": amount(q, s.previous, lang), "difference": diff_text, "percent": percent,
                                "current": q == quantity})
        if q == quantity:
            report.charts.append(Chart("device", "bars", f"{device['name']} \u00b7 {label(q, _)}", q, [s]))
    report.csv_series = all_series
    line = a.cost_line(costs.KIND_OF.get(device["billed"], ""), [device["id"]])
    if line:
        report.summary.append(line)
    return report


def _per_tariff(a: Ask, report: Report, kind: str, devices) -> list[Series]:
    """The cost series of `devices`, one per tariff of `kind` ticked (all when none is named): the
    live tariffs, and deleted ones that priced something in this period or the previous one."""
    _ = a.t
    every = costs.tariffs(a.db, kind, deleted=True)
    series = {x.id: a.series(f"tariff-{x.id}", _("{name} (deleted)").format(name=x.name) if x.deleted else x.name,
                             x.colour, {x.quantity: tuple(devices)}) for x in every}
    shown = [x for x in every if not x.deleted or series[x.id].total is not None or series[x.id].previous is not None]
    raw = [v.strip() for v in request.query.getall("t") if v.strip()][:64]
    if any(not r.isdigit() for r in raw):
        raise Refused(400, _("A tariff is named by its ID."))
    if raw or request.query.get("ticked"):   # "ticked": the form was sent, maybe with no box ticked
        chosen = [x for x in shown if str(x.id) in raw]
    else:
        chosen = shown
    report.checks = [("t", _("Tariffs shown"), [(str(x.id), series[x.id].name, x.colour) for x in shown],
                      [str(x.id) for x in chosen])]
    report.params["t"] = [x.id for x in chosen]
    return [series[x.id] for x in chosen]


def tariffs_total(a: Ask) -> Report:
    """Manual 8.2.2.5.1: the cost of the installation's electricity, gas or water per tariff: a
    pie of the tariffs ticked, and their histogram."""
    _ = a.t
    kind = a.arg("kind", "electricity")
    names = {k: _(label) for k, _q, label, _c in KINDS}
    if kind not in names:
        raise Refused(400, _("Unknown kind \"{kind}\": choose electricity, gas or water.").format(kind=kind[:20]))
    report = a.report(_("Tariffs: total"), params={"kind": kind})
    report.controls = [("kind", _("Consumption"), list(names.items()), kind)]
    quantity = dict((k, q) for k, q, _l, _c in KINDS)[kind]
    if not costs.priced(a.db, kind):
        report.message = no_tariff(a, names[kind])
        return report
    series = _per_tariff(a, report, kind, a.members.total(quantity)[quantity])
    if series:
        report.charts.append(Chart("tariffs", "pie", _("Costs per tariff"), COST, series))
        report.charts.append(Chart("tariff-bars", "bars", _("Costs per tariff"), COST, series, stacked=True))
    else:
        report.message = _("No tariff ticked, or no device of this kind in the totals.")
    return report


def tariffs_details(a: Ask) -> Report:
    """Manual 8.2.2.5.2: one device's costs per tariff (the tariffs of what it is billed on)."""
    _ = a.t
    report = a.report(_("Tariffs: details"))
    rows, device = section_a(a, report, device_rows(a))
    if device is None:
        report.message = _("No device measures a consumption yet.")
        return report
    report.params = {"device": device["id"], "list": report.device_list[1]}
    report.current = device
    kind = costs.KIND_OF.get(device["billed"])
    if not costs.priced(a.db, kind):
        report.message = no_tariff(a, label(device["billed"], _))
        return report
    series = _per_tariff(a, report, kind, [device["id"]])
    if series:
        report.charts.append(Chart("tariffs", "bars", f"{device['name']} \u00b7 {_('Costs per tariff')}", COST,
                                   series, stacked=True))
    else:
        report.message = _("No tariff ticked.")
    return report


def no_tariff(a: Ask, what: str) -> str:
    _ = a.t
    return _("No tariff configured for {what}: costs are shown once a tariff is set up.").format(what=what)

