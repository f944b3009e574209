"""The four "Web server settings" forms: Network (7.7.1), Modbus (7.8, release notes "Frame
Interval"), Date and time (7.9, release notes "Date and time synchronization"), CSV and other
settings (7.11.1, 8.4.1).

Network and Modbus changes cut the way to the box (its address) or its measures (the RS485 port
is reopened): as the manual's "Save 2 times to confirm", the first Save checks the values and
shows them beside the current ones, a second Save stores and applies them.
"""

from __future__ import annotations

import logging
import threading
import time
import zoneinfo
from html import escape

import bottle
from bottle import request, response

from wsmeasure import clock, network, settings
from wsmeasure.models import bound
from wsmeasure.settings import ConfigError
from wsmeasure.store_time import zone as load_zone

from .access import ctx
from .i18n import LANGUAGES, core_text
from .pages_server_common import (dry_run, field_errors, page_render, reload_daemon, save_settings,
                                  time_text)
from .render import flash

log = logging.getLogger(__name__)

NETWORK = {"address": "net.address", "mask": "net.mask", "gateway": "net.gateway", "dns": "net.dns"}
MODBUS = {   # in the order of the manual's page
    "modbus_tcp": "modbus_tcp.enabled",
    "parity": "serial.parity",
    "stopbits": "serial.stopbits",
    "baudrate": "serial.baudrate",
    "timeout_ms": "serial.timeout_ms",
    "frame_sync": "serial.frame_interval_sync",
    "frame_interval_ms": "serial.frame_interval_ms",
}
SWITCHES = ("modbus_tcp", "frame_sync", "ntp", "sync_devices")
BAUDRATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
TIME = {"zone": "time.zone", "ntp": "time.ntp", "ntp_server": "time.ntp_server", "sync_devices": "time.sync_devices"}
CSV = {"field_separator": "csv.field_separator", "decimal_separator": "csv.decimal_separator",
       "language": "language.default", "sample_rate": "sample_rate_min"}
SAMPLE_RATES = (1, 5, 10, 15, 30, 60)
HIDDEN_ZONES = ("localtime", "Factory", "posixrules")
APPLY_DELAY_S = 2.0   # a new address is applied after the answer saying where to go has left


def zone_select(form, c, value: str) -> str:
    """The time zone list, grouped by region (Europe/..., America/...), as a form field."""
    zones = sorted(z for z in zoneinfo.available_timezones() if z not in HIDDEN_ZONES and z != "UTC")
    if value and value not in zones:
        zones.append(value)
    current = str(form.value("zone", value))
    groups: dict[str, list[str]] = {}
    for name in zones:
        groups.setdefault(name.split("/", 1)[0] if "/" in name else "", []).append(name)

    def option(v: str, text: str) -> str:
        chosen = " selected" if v == current else ""
        return f'<option value="{escape(v)}"{chosen}>{escape(text)}</option>'

    system = getattr(load_zone(""), "key", None) or str(load_zone(""))
    html = [option("", c._("The system's time zone ({zone})").format(zone=system)), option("UTC", "UTC")]
    for region in sorted(groups, key=lambda r: (r == "", r)):
        label = region or c._("Other")
        html.append(f'<optgroup label="{escape(label)}">')
        html += [option(name, name.split("/", 1)[1].replace("_", " ") if region else name)
                 for name in groups[region]]
        html.append("</optgroup>")
    control = f'<select id="f-zone" name="zone">{"".join(html)}</select>'
    return form._wrap("zone", c._("Time zone"), control,
                      c._("Days, months and years of the history begin at midnight in this zone."))


def submitted(fields) -> dict[str, str]:
    return {name: request.forms.getunicode(name, "") or "" for name in fields}


def routes(app: bottle.Bottle, box) -> None:
    db = box.db

    def shown(mapping: dict) -> dict:
        return {name: settings.get(db, key) for name, key in mapping.items()}

    def form_page(template: str, title: str, errors=None, data=None, status=200, **values):
        response.status = status
        return page_render(template, title=title, back="/server", errors=errors or {}, data=data or {}, **values)

    def confirm_page(title: str, action: str, rows, data: dict, notes=()):
        return page_render("server_confirm.tpl", title=title, back=action, action=action, rows=rows,
                           hidden=sorted(data.items()), notes=notes)

    # -- Network settings (7.7.1) ---------------------------------------------------------------
    def network_page(errors=None, data=None, status=200):
        c = ctx()
        return form_page("server_network.tpl", c._("Network settings"), errors, data, status,
                         current=shown(NETWORK), appliance=box.appliance)

    @app.get("/server/network", page="server")
    def network_form():
        return network_page()

    @app.post("/server/network", page="server")
    def network_save():
        c = ctx()
        data = submitted(NETWORK)
        before = shown(NETWORK)
        try:
            if request.forms.get("confirmed") != "1":
                new = dry_run(db, lambda: network.save_network(db, **data))
                rows = [(c._("IP address"), before["address"], new["address"]),
                        (c._("Subnet mask"), before["mask"], new["mask"]),
                        (c._("Default gateway"), before["gateway"] or c._("none"), new["gateway"] or c._("none")),
                        (c._("DNS servers"), before["dns"] or c._("none"), new["dns"] or c._("none"))]
                notes = [c._("After saving, the pages answer at https://{address}/ only: give your computer an "
                             "address in the same network first.").format(address=new["address"])
                         if box.appliance else
                         c._("On this developer machine the settings are only stored; the computer's own "
                             "network is not changed.")]
                return confirm_page(c._("Save these network settings?"), "/server/network", rows, data, notes)
            new = network.save_network(db, **data)
        except ConfigError as exc:
            return network_page(field_errors(exc, {key: name for name, key in NETWORK.items()}), data, 400)
        log.info("network settings saved by %s: %s", c.user.name, new)
        if not box.appliance:
            flash(c._("Network settings saved (stored only on this developer machine)."))
            bottle.redirect("/server/network", 303)
        if (new["address"], new["mask"]) != (before["address"], before["mask"]):
            timer = threading.Timer(APPLY_DELAY_S, _apply_network_later, (box,))
            timer.daemon = True
            timer.start()
            url = f"https://{new['address']}/"
            return page_render("server_notice.tpl", title=c._("Network settings saved."), back="/server",
                               message=c._("The web server moves to its new address in a few seconds."), link=url)
        try:
            network.apply_network(db)
        except network.ApplyError as exc:
            flash(c._("Saved, but the network could not be reconfigured: {error}").format(error=str(exc)), "error")
            bottle.redirect("/server/network", 303)
        flash(c._("Network settings saved."))
        bottle.redirect("/server/network", 303)

    # -- Modbus settings (7.8) -----------------------------------------------------------------
    def modbus_page(errors=None, data=None, status=200):
        c = ctx()
        return form_page("server_modbus.tpl", c._("Modbus settings"), errors, data, status,
                         current=shown(MODBUS), baudrates=BAUDRATES)

    def modbus_text(c, name: str, value) -> str:
        if name in SWITCHES:
            return c._("ON") if value else c._("OFF")
        if name == "parity":
            return {"none": c._("None"), "even": c._("Even"), "odd": c._("Odd")}[value]
        if name == "baudrate":
            return c._("{n} bit/s").format(n=value)
        if name in ("timeout_ms", "frame_interval_ms"):
            return c._("{n} ms").format(n=value)
        return str(value)

    @app.get("/server/modbus", page="server")
    def modbus_form():
        return modbus_page()

    @app.post("/server/modbus", page="server")
    def modbus_save():
        c = ctx()
        data = submitted(MODBUS)
        values = {key: data[name] for name, key in MODBUS.items()}
        try:
            if request.forms.get("confirmed") != "1":
                new = dry_run(db, lambda: save_settings(db, values))
                before = shown(MODBUS)
                labels = modbus_labels(c)
                rows = [(labels[name], modbus_text(c, name, before[name]), modbus_text(c, name, new[key]))
                        for name, key in MODBUS.items()]
                notes = [c._("The RS485 port restarts when the settings are saved: measures pause for a few "
                             "seconds and Modbus TCP clients get errors meanwhile.")]
                return confirm_page(c._("Save these Modbus settings?"), "/server/modbus", rows, data, notes)
            with bound(db), db.atomic():   # one transaction for the whole form
                for key, raw in values.items():
                    settings.set(db, key, raw)
        except ConfigError as exc:
            return modbus_page(field_errors(exc, {key: name for name, key in MODBUS.items()}), data, 400)
        log.info("Modbus settings saved by %s", c.user.name)
        if reload_daemon(box, c):
            flash(c._("Modbus settings saved; the RS485 port was restarted."))
        bottle.redirect("/server/modbus", 303)

    # -- Date and time (7.9) -------------------------------------------------------------------
    def time_page(errors=None, data=None, status=200):
        c = ctx()
        return form_page("server_time.tpl", c._("Date and time"), errors, data, status,
                         current=shown(TIME), now=time_text(db, time.time()), appliance=box.appliance,
                         zones=lambda form: zone_select(form, c, settings.get(db, "time.zone")))

    @app.get("/server/time", page="server")
    def time_form():
        return time_page()

    @app.post("/server/time", page="server")
    def time_save():
        c = ctx()
        data = submitted(list(TIME) + ["datetime"])
        when = None
        try:
            if data["datetime"].strip():
                when = clock.parse_local_datetime(data["datetime"])
            with bound(db), db.atomic():   # the clock's own checks see the new NTP switch; a refusal saves nothing
                save_settings(db, {key: data[name] for name, key in TIME.items()})
                if when is not None:
                    clock.set_clock(db, when, box.appliance, run=_checks_only)
        except ConfigError as exc:
            fields = {key: name for name, key in TIME.items()}
            return time_page(field_errors(exc, {**fields, "datetime": "datetime"}), data, 400)
        log.info("date and time settings saved by %s", c.user.name)
        problem = None
        if box.appliance:
            try:
                clock.apply_time(db)   # the zone first: the typed time is the new zone's
                if when is not None:
                    clock.set_clock(db, when, True)
            except (network.ApplyError, ConfigError) as exc:
                problem = core_text(c._, exc)
        reload_daemon(box, c)
        if problem:
            flash(c._("Saved, but the system clock could not be set: {error}").format(error=problem), "error")
        else:
            flash(c._("Date and time settings saved."))
        bottle.redirect("/server/time", 303)

    # -- CSV and other settings (7.11.1, 8.4.1) ------------------------------------------------
    def csv_page(errors=None, data=None, status=200):
        c = ctx()
        data = {k: v for k, v in (data or {}).items() if k != "ftp_password"}   # never echoed back
        return form_page("server_csv.tpl", c._("CSV and other settings"), errors, data, status,
                         current=shown(CSV), factory_ftp=not settings.get(db, "ftp.password"),
                         languages=LANGUAGES, rates=SAMPLE_RATES)

    @app.get("/server/csv", page="server")
    def csv_form():
        return csv_page()

    @app.post("/server/csv", page="server")
    def csv_save():
        c = ctx()
        data = submitted(list(CSV) + ["ftp_password"])
        values = {key: data[name] for name, key in CSV.items()}
        if data["ftp_password"]:   # empty: unchanged
            values["ftp.password"] = data["ftp_password"]
        fields = {key: name for name, key in CSV.items()}
        fields.update({"ftp.password": "ftp_password", "csv": "decimal_separator"})
        try:
            save_settings(db, values)
        except ConfigError as exc:
            return csv_page(field_errors(exc, fields), data, 400)
        log.info("CSV and other settings saved by %s%s", c.user.name,
                 " (new FTP password)" if data["ftp_password"] else "")
        if reload_daemon(box, c):
            flash(c._("Settings saved."))
        bottle.redirect("/server/csv", 303)


def modbus_labels(c) -> dict[str, str]:
    return {"modbus_tcp": c._("Modbus TCP server"), "parity": c._("Parity"), "stopbits": c._("Stop bits"),
            "baudrate": c._("Baud rate"), "timeout_ms": c._("RS485 timeout (ms)"),
            "frame_sync": c._("Sync frame interval to gateways"), "frame_interval_ms": c._("Frame interval (ms)")}


def _checks_only(argv, **_kwargs) -> None:
    """A `run` for clock.set_clock that runs nothing: its checks only, before anything is saved."""


def _apply_network_later(box) -> None:
    try:
        network.apply_network(box.db)
    except Exception:  # noqa: BLE001 -- nobody is waiting for the answer any more: the log says it
        log.exception("applying the new network settings failed")
