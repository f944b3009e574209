"""Consumptions: the request (`Ask`) and the pages of the whole installation -- Grand total (Ea+
divided per load), Overall (electricity, gas, water in units and currency) and Partials (a load or
all electricity loads, of a measure group or of all groups). Devices: pages_consumptions_devices.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bottle import request

from wsmeasure import aggregates, groupings

from . import pages_consumptions_costs as costs
from .pages_consumptions_charts import Chart, Report, Series
from .pages_consumptions_data import COST, Period, Refused, add, amount, parse_day, parse_view, store_of
from .pages_system_common import load_label


def _(message: str) -> str:
    return message


ELECTRICITY, GAS, WATER = "#f08c00", "#2f9e44", "#1971c2"   # the manual's orange, green and blue
LOAD_COLOURS = {"heating": "#e03131", "air_conditioning": "#1c7ed6", "hot_water": "#f76707",
                "lighting": "#fab005", "ventilation": "#12b886", "sockets": "#7048e8", "others": "#868e96",
                "water": WATER, "gas": GAS}
USER_COLOURS = ("#c2255c", "#5c940d", "#0b7285", "#862e9c", "#e67700", "#364fc7", "#a61e4d", "#2b8a3e")
KINDS = (("electricity", "Ea+", _("Electricity"), ELECTRICITY), ("gas", "gas", _("Gas"), GAS),
         ("water", "water", _("Water"), WATER))


def load_colour(load) -> str:
    return LOAD_COLOURS.get(load.key or "", USER_COLOURS[load.id % len(USER_COLOURS)])


def load_quantity(load) -> str:
    """What a load adds up: water and gas loads their volumes, the others active energy."""
    return load.key if load.key in ("water", "gas") else "Ea+"


@dataclass
class Ask:
    """One request to a Consumptions page: who asks (translator, language), the period, the
    installation as the views need it (aggregates.Members) and data.db."""

    box: object
    t: object
    lang: str
    page: str
    period: Period
    members: aggregates.Members

    @classmethod
    def parse(cls, box, c, page: str) -> "Ask":
        store = store_of(box)
        today = datetime.now(store.tz).date()
        view = parse_view(request.query.getunicode("view"), c._)
        day = parse_day(request.query.getunicode("date"), today, c._)
        return cls(box, c._, c.lang, page, Period(store, view, day, today), aggregates.members_from_config(box.db))

    @property
    def db(self):
        return self.box.db

    def arg(self, name: str, default: str = "") -> str:
        return (request.query.getunicode(name) or default).strip()

    def ident(self, name: str) -> int | None:
        """A numeric ID from the query ("", "all" or absent: None); anything else is refused."""
        _ = self.t
        raw = self.arg(name)
        if not raw or raw == "all":
            return None
        if not raw.isdigit() or len(raw) > 9:
            raise Refused(400, _("\"{value}\" is not an ID.").format(value=raw[:20]))
        return int(raw)

    def series(self, key: str, name: str, colour: str, selection) -> Series:
        now, before = self.period.read(selection)
        return Series(key, name, colour, [b.value for b in now.buckets], now.total, before)

    def report(self, title: str, **values) -> Report:
        return Report(self.page, title, self.period, currency=costs.currency(self.db), **values)

    def cost_line(self, kind: str | None, devices) -> tuple[str, str] | None:
        """("Cost", text) of `devices` for `kind`, when the kind has (had) tariffs."""
        _ = self.t
        if not devices or not costs.priced(self.db, kind):
            return None
        total = self.period.read(costs.cost_selection(self.db, kind, devices))[0].total
        return _("Cost"), amount(COST, total, self.lang, costs.currency(self.db))

    def loads_series(self, quantity: str = "Ea+", within=None) -> list[Series]:
        """One series per load with devices billed on `quantity` (`within`: only those devices)."""
        out = []
        for load in groupings.loads(self.db):
            devices = self.members.load(load.id, quantity)[quantity]
            if within is not None:
                devices = tuple(d for d in devices if d in within)
            if devices:
                out.append(self.series(f"load-{load.id}", load_label(self.t, load), load_colour(load), {quantity: devices}))
        return out


def grand_total(a: Ask) -> Report:
    """Manual 8.2.2.1: the active energy of the installation, divided per load (devices excluded
    from totals left out; virtual devices counted)."""
    _ = a.t
    series = a.loads_series()
    report = a.report(_("Grand total"))
    if not series:
        report.message = _("No device measures electricity in the totals yet.")
        return report
    report.charts.append(Chart("total", "bars", _("Active energy imported, per load"), "Ea+", series, stacked=True))
    line = a.cost_line("electricity", a.members.total("Ea+")["Ea+"])
    if line:
        report.summary.append(line)
    return report


def overall(a: Ask) -> Report:
    """Electricity, gas and water of the installation: a table in units, gas also in kWh
    equivalent, and in currency; a pie of the costs (of the energies without tariffs)."""
    _, lang = a.t, a.lang
    currency = costs.currency(a.db)
    factor = costs.gas_kwh_per_m3(a.db)
    report = a.report(_("Overall"))
    rows, shares, priced = [], [], False
    for kind, quantity, label, colour in KINDS:
        devices = a.members.total(quantity)[quantity]
        s = a.series(kind, _(label), colour, {quantity: devices})
        if devices:
            report.charts.append(Chart(kind, "bars", _(label), quantity, [s]))
        has_cost = costs.priced(a.db, kind)
        cost = cost_before = None
        if has_cost and devices:
            now, cost_before = a.period.read(costs.cost_selection(a.db, kind, devices))
            cost, priced = now.total, True
        equivalent = s.total * factor if quantity == "gas" and factor and s.total is not None else None
        rows.append({"name": _(label), "colour": colour, "total": amount(quantity, s.total, lang),
                     "previous": amount(quantity, s.previous, lang),
                     "equivalent": amount("Ea+", equivalent, lang) if equivalent is not None else "",
                     "cost": amount(COST, cost, lang, currency) if has_cost else ""})
        shares.append((kind, _(label), colour, s, cost, cost_before, equivalent,
                       s.previous * factor if quantity == "gas" and factor and s.previous is not None else None))
    if priced:
        pie = [Series(k, n, c, [], cost, before) for k, n, c, _s, cost, before, _e, _p in shares if cost is not None]
        report.charts.insert(0, Chart("shares", "pie", _("Costs"), COST, pie))
    else:
        energy = [Series(k, n, c, [], s.total if k == "electricity" else e, s.previous if k == "electricity" else p)
                  for k, n, c, s, _c, _b, e, p in shares if k == "electricity" or (k == "gas" and factor)]
        if factor and energy and add([s.total for s in energy]):
            note = _("No tariff is configured: the shares are those of the energy (gas in kWh equivalent), "
                     "without water.")
            report.charts.insert(0, Chart("shares", "pie", _("Energy"), "Ea+", energy, note=note))
    report.table = {"rows": rows, "equivalent": bool(factor), "cost": any(r["cost"] for r in rows)}
    if not any(c.kind == "bars" for c in report.charts):
        report.message = _("No device measures electricity, gas or water in the totals yet.")
    return report


def partials(a: Ask) -> Report:
    """Manual 8.2.2.2: one load (its quantity: energy, water or gas) or all electricity loads,
    of one measure group or of all groups."""
    _ = a.t
    load_id, group_id = a.ident("load"), a.ident("group")
    loads = {load.id: load for load in groupings.loads(a.db)}
    groups = {g.id: g for g in groupings.groups(a.db)}
    if load_id is not None and load_id not in loads:
        raise Refused(404, _("There is no load with this ID."))
    if group_id is not None and group_id not in groups:
        raise Refused(404, _("There is no measure group with this ID."))
    within = None if group_id is None else set(a.members.groups.get(group_id, ()))
    report = a.report(_("Partials: groups and loads"), params={"load": load_id or "all", "group": group_id or "all"})
    report.controls = [
        ("group", _("Measure group"), [("all", _("All groups"))] +
         [(str(g.id), g.name) for g in groups.values() if g.enabled or g.id == group_id], str(group_id or "all")),
        ("load", _("Load"), [("all", _("All electricity loads"))] +
         [(str(i), load_label(_, load)) for i, load in loads.items() if load.enabled or i == load_id],
         str(load_id or "all")),
    ]
    where = f" \u00b7 {groups[group_id].name}" if group_id else ""
    if load_id is None:
        series = a.loads_series(within=within)
        if series:
            report.charts.append(Chart("partial", "bars", _("All electricity loads") + where, "Ea+", series, stacked=True))
    else:
        load = loads[load_id]
        quantity = load_quantity(load)
        devices = a.members.load(load_id, quantity)[quantity]
        if within is not None:
            devices = tuple(d for d in devices if d in within)
        if devices:
            series = [a.series(f"load-{load_id}", load_label(_, load), load_colour(load), {quantity: devices})]
            report.charts.append(Chart("partial", "bars", load_label(_, load) + where, quantity, series))
    if not report.charts:
        report.message = _("No device of this choice is counted in the totals.")
    return report
