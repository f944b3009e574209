"""My panel board (manual 8.2.1, phone layout 7.2.1): the devices with their status icons
(section A), chosen per gateway, per panel board or all of them, and the measures and states of
the device chosen (sections B and C), refreshed live by static/panel.js through /api/panel.

- GET /panel?list=all|gateway-<id>|board-<id>&device=<id>: the whole page, values included, so
  it works without script (a "Refresh" link reloads it). Without `device`, the first device of
  the list that is not OFF is shown.
- GET /api/panel?list=...&device=<id>: the list's statuses and the chosen device's values.
- GET /api/panel/<id>: one device's values.

A device switched OFF (or on a gateway switched OFF) is listed, never shown with measures
(manual 7.16.1.5). On a communication error the last values read are shown, with their time.
Commands (outputs, charging stations) are not offered here yet.

Values are formatted here, for the user's language (decimal comma, grouped thousands) and
scaled to a readable unit (Wh -> kWh -> MWh, W -> kW -> MW, dm3 -> m3), so the script only
copies texts into the page.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

import bottle
from bottle import request, response

from wsmeasure import groupings, installation
from wsmeasure.drivers.catalogue import family as family_of
from wsmeasure.drivers.quantities import BREAKER_STATES, QUANTITIES, STATION_STATES

from .access import ctx
from .box import DaemonGone
from .render import render


def _(message: str) -> str:
    """Marks a message for the catalogues; it is translated when shown (`ctx()._`)."""
    return message


REFRESH_S = 3
NA = "\u2014"               # a value not read (yet)
NNBSP = "\u202f"            # thousands separator of the languages with a decimal comma
ONLY_EA = ("generic", "wsmeasure_virtual")   # manual 8.2.1: only the positive active energy

STATUS_TEXT = {"on": _("On"), "off": _("Off"), "error": _("Communication error"),
               "fault": _("Charging station failure")}
BREAKER_TEXT = {"open": _("Open"), "closed": _("Closed"), "tripped": _("Tripped"), "unknown": _("Not read yet")}
STATION_TEXT = {"available": _("Available"), "waiting": _("Waiting"), "charging": _("Charging"), "fault": _("Fault")}
SWITCH_TEXT = {0: _("Off"), 1: _("On")}
AUTHORIZE_TEXT = {0: _("Wait"), 1: _("Start")}
FUNCTION_TEXT = {"measure": _("Measure"), "state": _("State"), "command": _("Command")}
ALARM_BITS = {   # the alarm word of each family (drivers/breakers.py, drivers/ems_cx3.py)
    "breaker": (_("Overload pre-alarm"), _("Trip unit fault")),
    "ems": (_("Measure threshold exceeded"), _("Configuration or installation error")),
}
ALARM_KIND = {"dpx3": "breaker", "dmx3": "breaker", "dx3": "breaker", "ems_cx3": "ems", "ems_cx3_state": "ems"}

# Every quantity a device may show, with its label (the matrices below label rows and columns).
LABELS = {
    "Ea+": _("Active energy imported"),
    "Ea-": _("Active energy exported"),
    "Er+": _("Reactive energy imported"),
    "Er-": _("Reactive energy exported"),
    "hours": _("Hour meter"),
    "water": _("Water volume"),
    "gas": _("Gas volume"),
    "F": _("Frequency"),
    "leakage": _("Residual current"),
    "breaker": _("Breaker"),
    "alarm": _("Alarms"),
    "station": _("Charging station"),
    "station_error": _("Station errors"),
    "authorize": _("Charge authorization"),
    "current_limit": _("Charging current allowed"),
}
NUMBERED = {"in": _("Input {n}"), "out": _("Output {n}"), "ain": _("Analogue input {n}")}
STATE_NAMES = ("breaker", "station", "authorize", *(f"in{n}" for n in range(1, 9)),
               *(f"out{n}" for n in range(1, 9)))   # a "State" function (alarm words alone are not)

PHASE_COLUMNS = ("L1", "L2", "L3", "N")
LINE_COLUMNS = ("L1-L2", "L2-L3", "L3-L1")
HARMONIC_SIGNALS = ("V1", "V2", "V3", "I1", "I2", "I3")

# Section C: groups of tables. A table is (column headings or None for a label/value list,
# corner heading, rows); a row is (label, one quantity or None per column).
GROUPS: tuple[tuple[str, str, tuple], ...] = (
    ("state", _("State"), (
        (None, None, tuple((n, (n,)) for n in ("breaker", "alarm", "station", "station_error", "authorize",
                                                "current_limit", *(f"in{i}" for i in range(1, 9)),
                                                *(f"out{i}" for i in range(1, 9))))),
    )),
    ("energy", _("Energy"), (
        (None, None, tuple((n, (n,)) for n in ("Ea+", "Ea-", "Er+", "Er-", "hours"))),
    )),
    ("power", _("Power"), (
        (("L1", "L2", "L3", _("Total")), None, (
            (_("Active power"), ("P1", "P2", "P3", "P")),
            (_("Reactive power"), ("Q1", "Q2", "Q3", "Q")),
            (_("Apparent power"), ("S1", "S2", "S3", "S")),
            (_("Power factor"), ("PF1", "PF2", "PF3", "PF")),
            (_("Average active power"), (None, None, None, "P:avg")),
            (_("Maximum active power"), (None, None, None, "P:max")),
        )),
    )),
    ("voltages", _("Voltages, currents and frequency"), (
        (PHASE_COLUMNS, None, (
            (_("Phase-to-neutral voltage"), ("V1", "V2", "V3", None)),
            (_("Current"), ("I1", "I2", "I3", "In")),
            (_("Maximum current"), ("I1:max", "I2:max", "I3:max", None)),
        )),
        (LINE_COLUMNS, None, (
            (_("Phase-to-phase voltage"), ("U12", "U23", "U31")),
        )),
        (None, None, (("F", ("F",)), ("leakage", ("leakage",)))),
    )),
    ("thd", _("Total harmonic distortion (THD)"), (
        (PHASE_COLUMNS, None, (
            (_("Phase-to-neutral voltage"), ("THD_V1", "THD_V2", "THD_V3", None)),
            (_("Current"), ("THD_I1", "THD_I2", "THD_I3", "THD_In")),
        )),
        (LINE_COLUMNS, None, (
            (_("Phase-to-phase voltage"), ("THD_U12", "THD_U23", "THD_U31")),
        )),
    )),
    ("harmonics", _("Harmonics"), (
        (HARMONIC_SIGNALS, _("Order"), tuple(
            (str(h), tuple(f"H{h}_{s}" for s in HARMONIC_SIGNALS)) for h in range(3, 33, 2))),
    )),
    ("water", _("Water consumption"), ((None, None, (("water", ("water",)),)),)),
    ("gas", _("Gas consumption"), ((None, None, (("gas", ("gas",)),)),)),
    ("analogue", _("Analogue inputs"), ((None, None, (("ain1", ("ain1",)), ("ain2", ("ain2",)))),)),
)

# -- numbers ----------------------------------------------------------------------------------------
# unit -> steps (below this absolute value, divide by, unit shown, decimals); the last step has no limit
SCALES = {
    "Wh": ((1e3, 1, "Wh", 0), (1e6, 1e3, "kWh", 3), (None, 1e6, "MWh", 3)),
    "varh": ((1e3, 1, "varh", 0), (1e6, 1e3, "kvarh", 3), (None, 1e6, "Mvarh", 3)),
    "W": ((1e3, 1, "W", 0), (1e6, 1e3, "kW", 2), (None, 1e6, "MW", 3)),
    "var": ((1e3, 1, "var", 0), (1e6, 1e3, "kvar", 2), (None, 1e6, "Mvar", 3)),
    "VA": ((1e3, 1, "VA", 0), (1e6, 1e3, "kVA", 2), (None, 1e6, "MVA", 3)),
    "dm3": ((1e3, 1, "dm³", 0), (None, 1e3, "m³", 3)),
    "V": ((None, 1, "V", 1),),
    "A": ((None, 1, "A", 2),),
    "mA": ((None, 1, "mA", 1),),
    "Hz": ((None, 1, "Hz", 2),),
    "%": ((None, 1, "%", 1),),
    "h": ((None, 1, "h", 0),),
    "": ((None, 1, "", 3),),   # power factors
}
DECIMALS = {"current_limit": 0, "leakage": 0, "ain1": 2, "ain2": 2}


def number(value: float, decimals: int, lang: str) -> str:
    """1234.5 -> "1,234.50" in English, "1 234,50" (narrow no-break space) in the other languages."""
    if round(value, decimals) == 0:
        value = 0.0   # no "-0.00"
    text = f"{value:,.{decimals}f}"
    return text if lang.startswith("en") else text.replace(",", NNBSP).replace(".", ",")


def scaled(name: str, value: Any, lang: str) -> tuple[str, str]:
    """(number text, unit) of a measure or counter, in a readable unit."""
    if value is None:
        return NA, ""
    unit = QUANTITIES[name].unit if name in QUANTITIES else ""
    steps = SCALES.get(unit, ((None, 1, unit, 2),))
    for limit, divisor, shown, decimals in steps:
        if limit is None or abs(value) < limit:
            return number(value / divisor, DECIMALS.get(name, decimals), lang), shown
    raise AssertionError("the last step has no limit")


def shown(text: str, unit: str) -> str:
    return f"{text}\u00a0{unit}" if unit else text


# -- labels and states --------------------------------------------------------------------------------
def label(name: str, _) -> str:
    if name in LABELS:
        return _(LABELS[name])
    for prefix, message in NUMBERED.items():
        if name.startswith(prefix) and name[len(prefix):].isdigit():
            return _(message).format(n=int(name[len(prefix):]))
    return _(name)   # the label of a matrix row (harmonic orders are numbers: unchanged)


def state_of(name: str, value: Any, family: str, _) -> tuple[str, str]:
    """(text, state key for the page's colours) of a state quantity."""
    if value is None:
        return NA, ""
    value = int(value)
    if name == "breaker":
        key = BREAKER_STATES.get(value, "unknown")
        return _(BREAKER_TEXT[key]), key
    if name == "station":
        key = STATION_STATES.get(value)
        return (_(STATION_TEXT[key]), key) if key else (_("Code {code}").format(code=value), "fault")
    if name == "authorize":
        return _(AUTHORIZE_TEXT.get(value, "Wait")), ""
    if name == "alarm":
        if not value:
            return _("No alarm"), ""
        bits = ALARM_BITS.get(ALARM_KIND.get(family, ""), ())
        texts = [_(bits[b]) if b < len(bits) else _("Code {code}").format(code=1 << b)
                 for b in range(16) if value >> b & 1]
        return ", ".join(texts), "alarm"
    if name == "station_error":
        return (_("No error"), "") if not value else (_("Error code {code}").format(code=value), "fault")
    return _(SWITCH_TEXT.get(value, "On")), "on" if value else "off"


def is_state(name: str) -> bool:
    return name in QUANTITIES and QUANTITIES[name].kind == "state"


def value_of(name: str, value: Any, family: str, lang: str, _) -> dict:
    """One quantity for the page and the API: raw value, text, unit, state key."""
    if is_state(name):
        text, key = state_of(name, value, family, _)
        return {"value": value, "text": text, "unit": "", "state": key}
    text, unit = scaled(name, value, lang)
    return {"value": value, "text": text, "unit": unit, "state": ""}


# -- the installation as the page shows it ----------------------------------------------------------------
def provided(spec) -> tuple[set[str], bool]:
    """The quantities a configured device provides and whether it takes commands (kept per
    family, model and parameters: building a driver for every device on every poll of the page
    is the most costly part of it)."""
    key = (spec.family, spec.model, repr(sorted(spec.params.items())))
    if key not in _PROVIDED:
        if len(_PROVIDED) > 1024:   # configurations come and go: stay bounded
            _PROVIDED.clear()
        _PROVIDED[key] = _provided(spec)
    return _PROVIDED[key]


_PROVIDED: dict[tuple, tuple[set[str], bool]] = {}


def _provided(spec) -> tuple[set[str], bool]:
    try:
        driver = family_of(spec.family).driver_for(spec)
        names = {r.name for r in driver.measure_rows() + driver.status_rows()}
        commands = bool(driver.command_rows())
    except (KeyError, ValueError):   # unknown family or refused parameters: nothing to show
        return set(), False
    if spec.family in ONLY_EA:
        names &= {"Ea+"}
    return names & set(QUANTITIES), commands


def status_of(dev: dict) -> str:
    status = dev.get("status") or "off"
    if status == "on" and dev["family"] in ("greenup", "greenup_legacy") and dev["values"].get("station") == 3:
        return "fault"
    return status


def copy_values(dev: dict) -> dict:
    """The device's values (the daemon's loop may be adding some meanwhile)."""
    for _try in range(5):
        try:
            return dict(dev.get("values") or {})
        except RuntimeError:
            continue
    return {}


class Installation:
    """The daemon's status joined with the configuration: gateways, panel boards, devices."""

    def __init__(self, box, t, lang: str):
        self.t, self.lang = t, lang
        _ = t
        self.error = None
        try:
            status = box.call("status")
        except DaemonGone:
            status = {"gateways": []}
            self.error = _("The acquisition service is not answering: no values can be shown.")
        specs = {s.id: s for s in installation.all_devices(box.db)}
        self.board_of = {g.id: g.panel_board_id for g in installation.gateways(box.db)}
        self.boards = [(b.id, b.name) for b in groupings.panel_boards(box.db)]
        self.gateways = [(g["id"], g["name"]) for g in status["gateways"]]
        self.devices: list[dict] = []
        for g in status["gateways"]:
            for d in g["devices"]:
                spec = specs.get(d["id"])
                names, commands = provided(spec) if spec else (set(), False)
                dev = {"id": d["id"], "name": d["name"], "family": d["family"], "model": d.get("model"),
                       "address": str(d.get("address", "")), "gateway": g["id"],
                       "values": copy_values(d), "read_at": d.get("read_at"), "names": names,
                       "status": d.get("status")}
                dev["status"] = status_of(dev)
                dev["functions"] = [f for f, has in (
                    ("measure", any(not is_state(n) for n in names if n != "alarm")),
                    ("state", any(n in STATE_NAMES for n in names)),
                    ("command", commands)) if has]
                breaker = dev["values"].get("breaker") if dev["status"] != "off" else None
                dev["breaker"] = BREAKER_STATES.get(breaker, "unknown") if "breaker" in names else None
                self.devices.append(dev)

    def choices(self) -> list:
        """The list's chooser: (value, label) or (group label, [(value, label)...])."""
        _ = self.t
        out = [("all", _("All devices"))]
        if self.gateways:
            out.append((_("Gateways"), [(f"gateway-{i}", name) for i, name in self.gateways]))
        if self.boards:
            out.append((_("Panel boards"), [(f"board-{i}", name) for i, name in self.boards]))
        return out

    def chosen(self, raw: str | None) -> str:
        """The list asked for, if it exists; else all devices."""
        kind, _sep, ident = (raw or "").partition("-")
        if ident.isdigit():
            known = self.gateways if kind == "gateway" else self.boards if kind == "board" else ()
            if any(i == int(ident) for i, _name in known):
                return f"{kind}-{int(ident)}"
        return "all"

    def listed(self, which: str) -> list[dict]:
        kind, _sep, ident = which.partition("-")
        if kind == "gateway":
            return [d for d in self.devices if d["gateway"] == int(ident)]
        if kind == "board":
            return [d for d in self.devices if self.board_of.get(d["gateway"]) == int(ident)]
        return list(self.devices)

    def device(self, ident: int | None) -> dict | None:
        return next((d for d in self.devices if d["id"] == ident), None)

    # -- what the page and the API show of devices ---------------------------------------------------------
    def brief(self, dev: dict) -> dict:
        _ = self.t
        return {"id": dev["id"], "status": dev["status"], "status_text": _(STATUS_TEXT[dev["status"]]),
                "breaker": dev["breaker"], "breaker_text": _(BREAKER_TEXT[dev["breaker"]]) if dev["breaker"] else None}

    def values(self, dev: dict) -> dict:
        """name -> value_of(...) of what the device provides; nothing while it is OFF."""
        if dev["status"] == "off":
            return {}
        return {n: value_of(n, dev["values"].get(n), dev["family"], self.lang, self.t) for n in sorted(dev["names"])}

    def read_at_text(self, dev: dict) -> str:
        at = dev.get("read_at")
        if not at:
            return ""
        fmt = "%H:%M:%S" if time.time() - at < 86400 else "%Y-%m-%d %H:%M:%S"
        return time.strftime(fmt, time.localtime(at))

    def message(self, dev: dict) -> str:
        _ = self.t
        if dev["status"] == "off":
            return _("This device is switched OFF: its measures are not shown.")
        if not dev["names"]:
            return _("This device provides no measure: check its family, model and address.")
        if dev["status"] == "error":
            if dev.get("read_at"):
                return _("Communication error: the values shown are the last ones read, at {time}.").format(
                    time=self.read_at_text(dev))
            return _("Communication error: no value has been read from this device yet.")
        if not dev.get("read_at"):
            return _("Waiting for the first reading of this device.")
        return ""

    def detail(self, dev: dict, values: dict | None = None) -> dict:
        """The chosen device for the API: status, time of the last reading, values."""
        return {**self.brief(dev), "name": dev["name"], "address": dev["address"], "family": dev["family"],
                "model": dev["model"], "read_at": dev.get("read_at"), "read_at_text": self.read_at_text(dev),
                "message": self.message(dev), "values": self.values(dev) if values is None else values}

    def groups(self, dev: dict, values: dict) -> list[dict]:
        """Section C's tables for the template: only the rows and columns the device has."""
        _ = self.t
        out = []
        for key, title, tables in GROUPS:
            shown_tables = []
            for columns, corner, rows in tables:
                kept = [(row_label, cells) for row_label, cells in rows if any(c in dev["names"] for c in cells if c)]
                if not kept:
                    continue
                width = len(kept[0][1])
                used = [i for i in range(width) if any(cells[i] in dev["names"] for _l, cells in kept if cells[i])]
                table_rows = []
                for row_label, cells in kept:
                    text = label(row_label, _)
                    table_rows.append((text, [self.cell(cells[i], values, text, _(columns[i]) if columns else None)
                                              for i in used]))
                shown_tables.append({"columns": [_(columns[i]) for i in used] if columns else None,
                                     "corner": _(corner) if corner else "", "rows": table_rows,
                                     "compact": key == "harmonics"})
            if shown_tables:
                out.append({"key": key, "title": _(title), "tables": shown_tables})
        return out

    def cell(self, name: str | None, values: dict, row_label: str, column: str | None) -> dict | None:
        if name is None or name not in values:
            return None
        v = values[name]
        return {"q": name, "text": shown(v["text"], v["unit"]), "state": v["state"],
                "title": f"{row_label} {column}" if column else row_label}


def routes(app: bottle.Bottle, box) -> None:
    def which_device(view: Installation, listed: list[dict]) -> tuple[dict | None, bool]:
        """The device asked for (found or not), else the first of the list that is not OFF."""
        raw = request.query.get("device", "")
        if raw:
            dev = view.device(int(raw)) if raw.isdigit() else None
            return dev, dev is None
        return next((d for d in listed if d["status"] != "off"), listed[0] if listed else None), False

    @app.get("/panel", page="panel")
    def panel():
        c = ctx()
        view = Installation(box, c._, c.lang)
        which = view.chosen(request.query.get("list"))
        listed = view.listed(which)
        dev, missing = which_device(view, listed)
        if missing:
            response.status = 404
        elif view.error:
            response.status = 503
        values = view.values(dev) if dev else {}
        query = {"list": which}
        api = "/api/panel?" + urlencode({**query, **({"device": dev["id"]} if dev else {})})
        return render("panel.tpl", title=c._("My panel board"), back="/", styles=["panel.css"],
                      scripts=["panel.js"], view=view, which=which, listed=listed, current=dev,
                      missing=missing, groups=view.groups(dev, values) if dev else [],
                      detail=view.detail(dev, values) if dev else None, api=api,
                      link=lambda d: "/panel?" + urlencode({**query, "device": d["id"]}),
                      here="/panel?" + urlencode({**query, **({"device": dev["id"]} if dev else {})}),
                      status_text=lambda s: c._(STATUS_TEXT[s]), breaker_text=lambda s: c._(BREAKER_TEXT[s]),
                      function_text=lambda f: c._(FUNCTION_TEXT[f]), refresh_s=REFRESH_S)

    def answer(view: Installation, payload: dict):
        response.content_type = "application/json"
        if view.error:
            response.status = 503
            return bottle.json_dumps({"ok": False, "error": view.error})
        return bottle.json_dumps({"ok": True, "time": time.time(), **payload})

    @app.get("/api/panel", page="panel")
    def api_panel():
        c = ctx()
        view = Installation(box, c._, c.lang)
        listed = view.listed(view.chosen(request.query.get("list")))
        raw = request.query.get("device", "")
        dev = view.device(int(raw)) if raw.isdigit() else None
        if raw and dev is None:
            bottle.abort(404)
        return answer(view, {"devices": [view.brief(d) for d in listed],
                             "device": view.detail(dev) if dev else None})

    @app.get("/api/panel/<ident:int>", page="panel")
    def api_device(ident):
        c = ctx()
        view = Installation(box, c._, c.lang)
        dev = view.device(ident)
        if dev is None:
            bottle.abort(404)
        return answer(view, {"device": view.detail(dev)})
