"""Reports & data download (manual 8.5): the menu, and what its two pages share.

- GET /reports: the two choices, Data download and Reports.
- /reports/data (pages_reports_data.py): CSV files of the chosen devices, groups or loads in
  reportdata.zip (8.5.1).
- /reports/pdf (pages_reports_pdf.py): the Summary and Detailed PDF reports (8.5.2).

The numbers come from app/report_data.py (and the PDF from app/report_pdf.py) through a
read-only Store of this request's thread (data.db in WAL: it reads beside the recorder). Costs
come from app/tariffs.py (`cost_quantities`, `currency`, `minor_units`): without a tariff the
"with costs" option says so and is refused. Building a file is CPU and memory on a small box:
at most BUILDS at a time, the others are asked to try again (503).
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import quote

import bottle
from bottle import response

from wsmeasure import groupings, installation, report_data, settings, tariffs
from wsmeasure.aggregates import Members, members_from_config
from wsmeasure.store import Store

from .access import ctx
from .pages_system_common import load_label
from .render import render

log = logging.getLogger(__name__)

STYLES = ["system.css"]
SCRIPTS = ["reports.js"]
BUILDS = threading.BoundedSemaphore(2)
BUSY_WAIT_S = 20


def list_text(_) -> dict[str, str]:
    return {"devices": _("Meter devices"), "groups": _("Measure groups"), "loads": _("Loads")}


@dataclass
class Choice:
    """A device, group or load as the pages list it."""

    id: int
    name: str            # shown, with its ID: "Main incomer [1]"
    kinds: tuple         # energy kinds it sums
    note: str = ""       # "OFF", "Disabled"
    groups: tuple = ()   # devices: its measure groups
    load: int | None = None


@dataclass
class Catalogue:
    """Today's installation for the report pages: devices with a counter, groups, loads."""

    members: Members
    devices: list[Choice] = field(default_factory=list)
    groups: list[Choice] = field(default_factory=list)
    loads: list[Choice] = field(default_factory=list)
    load_kind: dict = field(default_factory=dict)

    @classmethod
    def read(cls, db, _) -> "Catalogue":
        members = members_from_config(db)
        cat = cls(members)
        in_load = {d: lid for lid, devs in members.loads.items() for d in devs}
        in_groups: dict[int, list[int]] = {}
        for gid, devs in members.groups.items():
            for d in devs:
                in_groups.setdefault(d, []).append(gid)
        for d in installation.devices(db):
            item = report_data.device_item(members, d.id, "")
            if item is None:
                continue   # no energy counter: nothing to download or report
            cat.devices.append(Choice(d.id, f"{d.name} [{d.id}]", tuple(item.devices),
                                      "" if installation.is_on(d) else _("OFF"), tuple(in_groups.get(d.id, ())),
                                      in_load.get(d.id)))
        for g in groupings.groups(db):
            kinds = tuple(report_data.group_item(members, g.id, "").devices)
            cat.groups.append(Choice(g.id, f"{g.name} [{g.id}]", kinds,
                                     "" if g.enabled else _("Disabled")))
        for load in groupings.loads(db):
            kind = load.key if load.key in ("water", "gas") else "electricity"
            cat.load_kind[load.id] = kind
            cat.loads.append(Choice(load.id, f"{load_label(_, load)} [{load.id}]",
                                    tuple(report_data.load_item(members, load.id, "", kind).devices),
                                    "" if load.enabled else _("Disabled")))
        return cat

    def choices(self, list_type: str) -> list[Choice]:
        return {"devices": self.devices, "groups": self.groups, "loads": self.loads}.get(list_type, [])

    def items(self, list_type: str, ids) -> list[report_data.Item]:
        """The report_data items of the chosen IDs (unknown ones ignored), in the list's order."""
        wanted = {str(i) for i in ids}
        out = []
        for ch in self.choices(list_type):
            if str(ch.id) not in wanted:
                continue
            if list_type == "devices":
                item = report_data.device_item(self.members, ch.id, ch.name)
            elif list_type == "groups":
                item = report_data.group_item(self.members, ch.id, ch.name)
            else:
                item = report_data.load_item(self.members, ch.id, ch.name, self.load_kind[ch.id])
            if item is not None:
                out.append(item)
        return out


def tariff_costs(db) -> tuple[dict[str, list[str]] | None, str]:
    """({kind: its "cost:<id>" quantities}, currency) of the kinds that have or had a tariff (the
    costs of a deleted tariff stay in data.db); (None, "") when no kind ever had one."""
    costs = {kind: sorted(q.values()) for kind in report_data.KINDS if (q := tariffs.cost_quantities(db, kind))}
    return (costs or None), (tariffs.currency(db) if costs else "")


def cost_decimals(currency: str) -> int:
    return tariffs.minor_units(currency) if currency else 2


def open_store(box) -> Store:
    """A read-only Store for this request (one per thread; closed after use)."""
    return Store(box.data_dir, settings.get(box.db, "time.zone"), readonly=True)


class Busy(Exception):
    """BUILDS files are being made already: the page asks to try again (503)."""


def busy_text(_) -> str:
    return _("Other reports are being made: try again in a minute.")


@contextmanager
def building():
    """One of the BUILDS slots, or Busy after BUSY_WAIT_S."""
    if not BUILDS.acquire(timeout=BUSY_WAIT_S):
        raise Busy()
    try:
        yield
    finally:
        BUILDS.release()


def send(data: bytes, name: str, content_type: str) -> bytes:
    """A download: the file's bytes with its name (manual: reportdata.zip, report_..._2026-10.pdf)."""
    response.content_type = content_type
    response.set_header("Content-Disposition", f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}")
    response.set_header("Content-Length", str(len(data)))
    response.set_header("Cache-Control", "no-store")
    return data


def page(template: str, status: int = 200, **values) -> str:
    response.status = status
    return render(template, styles=STYLES, scripts=SCRIPTS, back="/reports", **values)


def routes(app: bottle.Bottle, box) -> None:
    from . import pages_reports_data, pages_reports_pdf

    @app.get("/reports", page="reports")
    def reports_menu():
        c = ctx()
        tiles = [("data", c._("Data download"), "/reports/data"), ("pdf", c._("Reports"), "/reports/pdf")]
        return render("reports.tpl", title=c._("Reports & data download"), tiles=tiles)

    pages_reports_data.routes(app, box)
    pages_reports_pdf.routes(app, box)
