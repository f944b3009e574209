"""Consumptions: data & diagram (manual 8.2.2, phone layout 7.2.2): histograms of what the
installation consumed per Day (hours), Month (days), Year (months) and 10 years (years), with the
previous period's total beside, in units and in currency.

- GET /consumptions: the five ways of looking (and the two of Tariffs).
- GET /consumptions/<page>?view=day|month|year|10years&date=YYYY-MM-DD&large=1 (+ the page's own
  choices): the page with a table of every number, so it works without script; its script draws
  the charts (uPlot) from the JSON route. Pages: total (Grand total, per load), overall
  (electricity, gas, water), partials (load=<id>|all&group=<id>|all), compare (a=<id>&b=<id>&
  mode=details|total), details (device=<id>&list=all|load-<id>|group-<id>&q=<counter>), tariffs
  (kind=electricity|gas|water&t=<tariff id>...), tariffs/details (device=<id>&t=...).
- GET /api/consumptions/<page>?...: the same as JSON (pages_consumptions_data.payload).
- GET /consumptions/<page>/datalogger.csv?...: the buckets of the period shown (manual 8.2.2.6).

A wrong view or date is refused with 400 and a message (JSON for the API), an unknown device,
load or group with 404. Each web thread reads data.db through its own read-only Store.
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

import bottle
from bottle import request, response

from wsmeasure.aggregates import VIEWS

from . import pages_consumptions_devices as devices
from . import pages_consumptions_pages as pages
from .access import ctx
from .pages_consumptions_charts import datalogger_csv, payload
from .pages_consumptions_data import FIRST_DAY, LAST_DAY, VIEW_HINTS, VIEW_NAMES, Refused, period_title
from .pages_panel import BREAKER_TEXT, FUNCTION_TEXT, STATUS_TEXT
from .render import render


def _(message: str) -> str:
    return message


# path -> (builder, title, what it shows); the menu lists them in this order
PAGES = {
    "total": (pages.grand_total, _("Grand total"), _("Active energy of the whole installation, per load")),
    "overall": (pages.overall, _("Overall"), _("Electricity, gas and water, in units and in currency")),
    "partials": (pages.partials, _("Partials: groups and loads"), _("A load or a measure group")),
    "compare": (devices.compare, _("Compare"), _("Two devices side by side")),
    "details": (devices.details, _("Details"), _("One device and its counters")),
    "tariffs": (devices.tariffs_total, _("Tariffs: total"), _("The installation's costs per tariff")),
    "tariffs/details": (devices.tariffs_details, _("Tariffs: details"), _("One device's costs per tariff")),
}
SECTION_A = ("details", "tariffs/details")   # pages with the device list beside the charts
STYLES = ["vendor/uplot/uPlot.min.css", "consumptions.css"]
SCRIPTS = ["vendor/uplot/uPlot.iife.min.js", "consumptions.js"]


def query_of(report, **changes) -> dict:
    """The query of the page shown, with some values changed (None: left out)."""
    p = report.period
    query = {**report.params, "view": p.view, "date": p.day.isoformat(),
             "large": "1" if request.query.get("large") == "1" else None, **changes}
    return {k: v for k, v in query.items() if v not in (None, "", [])}


def cells(texts) -> str:
    """Table cells of texts, escaped (the long tables of the pages, written compactly)."""
    return "".join(f"<td>{escape(t)}</td>" for t in texts)


def link(path: str, query: dict) -> str:
    return path + ("?" + urlencode(query, doseq=True) if query else "")


def routes(app: bottle.Bottle, box) -> None:
    @app.get("/consumptions", page="consumptions")
    def menu():
        c = ctx()
        entries = [(f"/consumptions/{key}", c._(title), c._(hint)) for key, (_b, title, hint) in PAGES.items()]
        return render("consumptions.tpl", title=c._("Consumptions: data & diagram"), back="/", entries=entries)

    def build(c, key: str):
        return PAGES[key][0](pages.Ask.parse(box, c, key))

    def refused(exc: Refused, api: bool):
        response.status = exc.status
        if api:
            response.content_type = "application/json"
            return bottle.json_dumps({"ok": False, "error": exc.message})
        return render("error.tpl", title=exc.message, message=exc.message, back="/consumptions")

    def page_route(key: str):
        path = f"/consumptions/{key}"

        def show():
            c = ctx()
            try:
                report = build(c, key)
            except Refused as exc:
                return refused(exc, api=False)
            _ = c._
            data = payload(report, c._, c.lang)
            p = report.period
            here = query_of(report)
            nxt = p.next_day
            views = [(v, _(VIEW_NAMES[v]), _(VIEW_HINTS[v]), link(path, query_of(report, view=v))) for v in VIEWS]
            navigation = {
                "prev": link(path, query_of(report, date=p.previous_day.isoformat())),
                "next": link(path, query_of(report, date=nxt.isoformat())) if nxt else None,
                "today": link(path, query_of(report, date=None)),
                "csv": link(path + "/datalogger.csv", here),
                "large": link(path, query_of(report, large=None if request.query.get("large") == "1" else "1")),
                "devices": lambda d: link(path, {**query_of(report, q=None, t=None), "device": d["id"]}),
                "counter": lambda q: link(path, query_of(report, q=q)),
            }
            hidden = {k: v for k, v in here.items() if k not in ("date", "view", "t") and
                      k not in {name for name, *_rest in report.controls} and not isinstance(v, list)}
            return render("consumptions_page.tpl", title=f"{_('Consumptions')} \u00b7 {report.title}",
                          back="/consumptions", styles=STYLES + (["panel.css"] if key in SECTION_A else []),
                          scripts=SCRIPTS, report=report, data=data, data_json=bottle.json_dumps(data), here=path,
                          key=key, views=views,
                          nav=navigation, hidden=hidden, cells=cells, large=request.query.get("large") == "1",
                          tabs=[(f"/consumptions/{k}", _(v[1])) for k, v in PAGES.items()],
                          first_day=FIRST_DAY.isoformat(), last_day=min(LAST_DAY, p.today).isoformat(),
                          previous_title=period_title(p.view, p.previous_day, _),
                          status_text=lambda s: _(STATUS_TEXT[s]), breaker_text=lambda s: _(BREAKER_TEXT[s]),
                          function_text=lambda f: _(FUNCTION_TEXT[f]))

        def api():
            c = ctx()
            try:
                report = build(c, key)
            except Refused as exc:
                return refused(exc, api=True)
            response.content_type = "application/json"
            return bottle.json_dumps(payload(report, c._, c.lang))

        def csv():
            c = ctx()
            try:
                report = build(c, key)
            except Refused as exc:
                return refused(exc, api=False)
            response.content_type = "text/csv; charset=utf-8"
            response.set_header("Content-Disposition", 'attachment; filename="datalogger.csv"')
            return datalogger_csv(box, report)

        app.route(path, "GET", show, page="consumptions")
        app.route(path + "/datalogger.csv", "GET", csv, page="consumptions")
        app.route("/api" + path, "GET", api, page="consumptions")

    for key in PAGES:
        page_route(key)
