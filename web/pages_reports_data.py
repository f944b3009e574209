"""Data download (manual 8.5.1): CSV files of the chosen devices, groups or loads, in reportdata.zip.

- GET /reports/data?list=devices|groups|loads: section A, the list to choose from (one by one, or
  "Select all"), and section B, the period (start and end dates), with or without costs, and
  the resolution (15 minutes, 1 hour, 1 day).
- POST /reports/data: the zip (app/report_data.py builds the files), or the form again with
  the reason (400): a period the resolution no longer has, dates the wrong way round, nothing
  chosen, costs without a tariff.

The files use the CSV settings of the Web Server configuration (8.4.1: field and decimal
separators), UTF-8 with a byte order mark and CRLF, like the CSV history (history_format.py).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

import bottle
from bottle import request

from wsmeasure import report_data, settings
from wsmeasure.history_format import CsvFormat
from wsmeasure.settings import ConfigError

from .access import ctx
from .i18n import core_text
from .pages_reports import (Busy, Catalogue, building, busy_text, list_text, open_store, page, send,
                            tariff_costs)
from .pages_system_common import kind_text

log = logging.getLogger(__name__)

PATH = "/reports/data"
FIELDS = ("list", "items", "start", "end", "resolution", "costs")


def resolution_text(_) -> list[tuple[str, str]]:
    return [("15min", _("15 minutes")), ("1h", _("1 hour")), ("1d", _("1 day"))]


def routes(app: bottle.Bottle, box) -> None:

    def form_page(list_type: str, data: dict | None = None, errors: dict | None = None, status: int = 200):
        c = ctx()
        _ = c._
        cat = Catalogue.read(box.db, _)
        costs, currency = tariff_costs(box.db)
        with open_store(box) as store:
            today = datetime.now(store.tz).date()
            firsts = {res: report_data.first_day(store, report_data.LEVEL_OF[res], time.time())
                      for res in report_data.RESOLUTIONS}
        keep = _("15-minute values from {quarter} on, hourly values from {hour} on, daily values from {day} on.")
        keep = keep.format(quarter=firsts["15min"], hour=firsts["1h"], day=firsts["1d"])
        data = data or {}
        chosen = set(data.get("items") or ())
        return page("reports_data.tpl", status, title=_("Data download"), list_type=list_type,
                    lists=list(list_text(_).items()), choices=cat.choices(list_type), chosen=chosen,
                    all_chosen=data.get("all") == "on",
                    data={"start": data.get("start") or today.replace(day=1).isoformat(),
                          "end": data.get("end") or today.isoformat(),
                          "resolution": data.get("resolution") or "15min",
                          "costs": data.get("costs") or "off"},
                    errors=errors or {}, resolutions=resolution_text(_), keep=keep, today=today.isoformat(),
                    kind_names=kind_text(_),
                    has_costs=costs is not None, currency=currency,
                    sample_rate=settings.get(box.db, "sample_rate_min"))

    @app.get(PATH, page="reports")
    def data_form():
        list_type = request.query.get("list") or "devices"
        if list_type not in report_data.LIST_TYPES:
            list_type = "devices"
        return form_page(list_type)

    @app.post(PATH, page="reports")
    def data_download():
        c = ctx()
        _ = c._
        f = request.forms
        list_type = f.getunicode("list") or "devices"
        if list_type not in report_data.LIST_TYPES:
            list_type = "devices"
        data = {"items": f.getall("items"), "all": f.getunicode("all") or "", "start": f.getunicode("start") or "",
                "end": f.getunicode("end") or "", "resolution": f.getunicode("resolution") or "15min",
                "costs": f.getunicode("costs") or "off"}
        cat = Catalogue.read(box.db, _)
        ids = [ch.id for ch in cat.choices(list_type)] if data["all"] == "on" else data["items"]
        costs, currency = None, ""
        if data["costs"] == "on":
            costs, currency = tariff_costs(box.db)
            if costs is None:
                return form_page(list_type, data, {"costs": _("No tariff is configured: the files cannot include "
                                                              "costs.")}, 400)
        try:
            start = report_data.parse_date(data["start"], "start")
            end = report_data.parse_date(data["end"], "end")
            choice = report_data.Download(list_type, cat.items(list_type, ids), start, end, data["resolution"],
                                          costs, currency)
            fmt = CsvFormat.from_settings(settings.get(box.db, "csv.field_separator"),
                                          settings.get(box.db, "csv.decimal_separator"))
            with building(), open_store(box) as store:
                choice = report_data.check(store, choice, time.time())
                files = report_data.build(store, choice, fmt, {"date": _("date"), "offset": _("UTC offset")})
        except Busy:
            return form_page(list_type, data, {"_": busy_text(_)}, 503)
        except ConfigError as exc:
            field = exc.field if exc.field in FIELDS else "_"
            return form_page(list_type, data, {field: core_text(_, exc)}, 400)
        log.info("data download by %s: %s, %d item(s), %s to %s, %s%s", c.user.name, list_type, len(choice.items),
                 choice.start, choice.end, choice.resolution, ", with costs" if costs else "")
        return send(report_data.zip_bytes(files), report_data.ZIP_NAME, "application/zip")
