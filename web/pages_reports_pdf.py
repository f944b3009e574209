"""Reports (manual 8.5.2): the Summary and Detailed PDF reports, monthly or yearly.

- GET /reports/pdf?filter=all|group-<id>|load-<id>: section A, the devices (filtered per measure
  group or load, chosen one by one or all: the Detailed report's), and section B, the type of
  report, monthly or yearly, the month and year, with or without costs.
- POST /reports/pdf: the PDF, named by type and period (report_summary_2026-10.pdf,
  report_detailed_2026.pdf), or the form again with the reason (400).

The numbers are app/report_data.py's (the same views as the Consumptions pages), drawn by
app/report_pdf.py (fpdf2, imported only here, when a report is asked for) with the words of
`labels` below in the user's language and the numbers formatted as on My panel board.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

import bottle
from bottle import request

from wsmeasure import report_data, settings
from wsmeasure.settings import ConfigError
from wsmeasure.store_time import zone

from .access import ctx
from .i18n import core_text
from .pages_consumptions_data import MONTHS, period_title
from .pages_panel import number
from .pages_reports import (Busy, Catalogue, building, busy_text, cost_decimals, open_store, page, send,
                            tariff_costs)
from .pages_system_common import kind_text

log = logging.getLogger(__name__)

PATH = "/reports/pdf"
FIELDS = ("filter", "items", "type", "period", "month", "year", "costs")
YEARS_BACK = 10


def month_names(_) -> list[str]:
    return [_(m) for m in MONTHS]


def pdf_labels(_, report: report_data.Report, now: datetime) -> dict:
    """Every word of the PDF (app/report_pdf.py LABEL_KEYS), in the user's language."""
    summary = report.type == report_data.SUMMARY
    return {
        "title": _("Summary report") if summary else _("Detailed report"),
        "period": period_title(report.view, report.day, _),
        "generated": _("Made on {date}").format(date=now.strftime("%Y-%m-%d %H:%M")),
        "page": _("Page {page} of {pages}"),
        **kind_text(_),
        "total": _("Total"), "previous": _("Previous period"), "change": _("Change"), "cost": _("Cost"),
        "share": _("Share"), "loads": _("Loads"), "groups": _("Measure groups"), "devices": _("Devices"),
        "device": _("Device"), "energy": _("Energy"), "day": _("Day"), "month": _("Month"),
        "consumption": _("Consumption"), "no_data": _("No data recorded in this period."),
        "per_day": _("{unit} per day"), "per_month": _("{unit} per month"),
        "excluded": _("The totals, loads and groups leave out the devices excluded from totals."),
        "none": _("No device with an energy counter."),
        "months": month_names(_),
    }


def filters(cat: Catalogue, _) -> list:
    """The device list's filter: all devices, per measure group, per load (optgroups)."""
    return [("all", _("All devices")),
            (_("Measure groups"), [(f"group-{g.id}", g.name) for g in cat.groups]),
            (_("Loads"), [(f"load-{ld.id}", ld.name) for ld in cat.loads if ld.kinds])]


def filtered(cat: Catalogue, which: str) -> list:
    kind, _sep, ident = which.partition("-")
    if kind == "group" and ident.isdigit():
        return [d for d in cat.devices if int(ident) in d.groups]
    if kind == "load" and ident.isdigit():
        return [d for d in cat.devices if d.load == int(ident)]
    return cat.devices


def routes(app: bottle.Bottle, box) -> None:

    def form_page(which: str, data: dict | None = None, errors: dict | None = None, status: int = 200):
        c = ctx()
        _ = c._
        cat = Catalogue.read(box.db, _)
        costs, currency = tariff_costs(box.db)
        today = datetime.now(zone(settings.get(box.db, "time.zone"))).date()
        data = data or {}
        months = month_names(_)
        return page("reports_pdf.tpl", status, title=_("Reports"), which=which, filters=filters(cat, _),
                    choices=filtered(cat, which), chosen=set(data.get("items") or ()),
                    all_chosen=data.get("all") == "on", kind_names=kind_text(_),
                    data={"type": data.get("type") or "summary", "period": data.get("period") or "monthly",
                          "month": data.get("month") or str(today.month), "year": data.get("year") or str(today.year),
                          "costs": data.get("costs") or "off"},
                    errors=errors or {},
                    types=[("summary", _("Summary report")), ("detailed", _("Detailed report"))],
                    periods=[("monthly", _("Monthly")), ("yearly", _("Yearly"))],
                    months=[(str(i + 1), name) for i, name in enumerate(months)],
                    years=[(str(y), str(y)) for y in range(today.year, today.year - YEARS_BACK - 1, -1)],
                    has_costs=costs is not None, currency=currency)

    @app.get(PATH, page="reports")
    def pdf_form():
        return form_page(request.query.get("filter") or "all")

    @app.post(PATH, page="reports")
    def pdf_download():
        c = ctx()
        _ = c._
        f = request.forms
        which = f.getunicode("filter") or "all"
        data = {key: f.getunicode(key) or "" for key in ("all", "type", "period", "month", "year", "costs")}
        data["items"] = f.getall("items")
        cat = Catalogue.read(box.db, _)
        costs, currency = None, ""
        if data["costs"] == "on":
            costs, currency = tariff_costs(box.db)
            if costs is None:
                return form_page(which, data, {"costs": _("No tariff is configured: the report cannot include "
                                                          "costs.")}, 400)
        kind = data["type"] or "summary"
        if kind not in (report_data.SUMMARY, report_data.DETAILED):
            return form_page(which, data, {"type": _("Choose the Summary or the Detailed report.")}, 400)
        ids = [d.id for d in filtered(cat, which)] if data["all"] == "on" else data["items"]
        devices = cat.items("devices", ids)
        if kind == report_data.DETAILED and not devices:
            return form_page(which, data, {"items": _("Choose at least one device, or Select all.")}, 400)
        try:
            with building(), open_store(box) as store:
                now = time.time()
                view, day = report_data.report_period(data["period"] or "monthly", data["year"], data["month"],
                                                      now, store.tz)
                if kind == report_data.SUMMARY:
                    loads = cat.items("loads", [ld.id for ld in cat.loads])
                    groups = cat.items("groups", [g.id for g in cat.groups])
                    report = report_data.summary(store, cat.members, view, day, kind_text(_), loads, groups,
                                                 costs, currency)
                else:
                    report = report_data.detailed(store, view, day, devices, costs, currency)
                from wsmeasure import report_pdf

                pdf = report_pdf.render(report, pdf_labels(_, report, datetime.fromtimestamp(now, store.tz)),
                                        lambda value, decimals: number(value, decimals, c.lang),
                                        cost_decimals(currency))
        except Busy:
            return form_page(which, data, {"_": busy_text(_)}, 503)
        except ConfigError as exc:
            field = exc.field if exc.field in FIELDS else "_"
            return form_page(which, data, {field: core_text(_, exc)}, 400)
        log.info("%s report %s made for %s", report.type, report.file_name, c.user.name)
        return send(pdf, report.file_name, "application/pdf")
