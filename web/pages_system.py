"""The System configuration pages (manual 7.16): the menu, the data sample rate (7.16.4) and the
advanced configuration (release notes: status poll time). Gateways and devices, and loads,
measure groups and panel boards are in pages_system_gateways / _devices / _groupings."""

from __future__ import annotations

import bottle
from bottle import request, response

from wsmeasure import settings
from wsmeasure.settings import ConfigError

from . import pages_system_devices, pages_system_gateways, pages_system_groupings
from .access import ctx
from .i18n import core_text
from .pages_system_common import STYLES, applied
from .render import flash, render

SAMPLE_RATES = (1, 5, 10, 15, 30, 60)                         # minutes (settings: sample_rate_min)
STATUS_POLL = (3, 5, 10, 15, 30, 45, 60, 90, 120)             # seconds (poll.status_interval_s)


def routes(app: bottle.Bottle, box) -> None:
    pages_system_gateways.routes(app, box)
    pages_system_devices.routes(app, box)
    pages_system_groupings.routes(app, box)

    @app.get("/system", page="system")
    def menu():
        c = ctx()
        entries = [
            ("/system/gateways", c._("Gateways and devices"),
             c._("The gateways, and the devices on each of them.")),
            ("/system/boards", c._("Loads, groups and panel boards"),
             c._("How the installation is described: panel boards, loads and measure groups.")),
            ("/system/bill", c._("Bill of consumptions"), c._("Currency, tariffs and cost rules of electricity, gas and water.")),
            ("/system/sample-rate", c._("Data sample rate"),
             c._("How often consumptions and statistics are recorded.")),
            ("/system/advanced", c._("Advanced configuration"),
             c._("Status poll time of the circuit breakers.")),
        ]
        return render("system.tpl", title=c._("System configuration"), back="/", entries=entries,
                      styles=STYLES)

    def setting_page(key: str, title: str, label: str, options, hint: str, action: str,
                     errors=None, data=None, status=200):
        c = ctx()
        response.status = status
        return render("system_setting.tpl", title=title, back="/system", key=key, label=label, hint=hint,
                      options=options, value=settings.get(box.db, key), action=action,
                      errors=errors or {}, data=data or {}, styles=STYLES, note=c._(
                          "A change does not alter the data already recorded."
                      ) if key == "sample_rate_min" else "")

    def save_setting(key: str, show):
        c = ctx()
        raw = request.forms.get(key, "")
        try:
            settings.set(box.db, key, raw)
        except ConfigError as exc:
            return show({key: core_text(c._, exc)}, {key: raw}, 400)
        flash(c._("Settings saved."))
        applied(box)
        bottle.redirect(request.path, 303)

    def sample_rate_page(errors=None, data=None, status=200):
        c = ctx()
        options = [(m, c._("{minutes} min").format(minutes=m)) for m in SAMPLE_RATES]
        return setting_page("sample_rate_min", c._("Data sample rate"), c._("Sample rate"), options,
                            c._("Recording of consumptions and statistics, histograms and CSV files. "
                                "Default: 10 minutes."), "/system/sample-rate", errors, data, status)

    @app.get("/system/sample-rate", page="system")
    def sample_rate():
        return sample_rate_page()

    @app.post("/system/sample-rate", page="system")
    def save_sample_rate():
        return save_setting("sample_rate_min", sample_rate_page)

    def advanced_page(errors=None, data=None, status=200):
        c = ctx()
        options = [(s, c._("{seconds} s").format(seconds=s)) for s in STATUS_POLL]
        return setting_page("poll.status_interval_s", c._("Advanced configuration"), c._("Status poll time"),
                            options, c._("How often the state of the circuit breakers (open, closed, tripped) "
                                         "is read. Recommended: 60 seconds."),
                            "/system/advanced", errors, data, status)

    @app.get("/system/advanced", page="system")
    def advanced():
        return advanced_page()

    @app.post("/system/advanced", page="system")
    def save_advanced():
        return save_setting("poll.status_interval_s", advanced_page)
