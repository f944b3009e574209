"""What the System configuration pages share: the daemon's status and reload, the labels the
catalogue and the built-in loads show in the user's language, and the device address label."""

from __future__ import annotations

import logging

import bottle

from wsmeasure.drivers.catalogue import families

from .access import ctx
from .box import DaemonGone
from .i18n import core_text
from .render import flash

log = logging.getLogger(__name__)

ON, OFF, ERROR = "on", "off", "error"   # status of a gateway or device (app/poller.py)
BREAKER = {0: "open", 1: "closed", 2: "tripped"}   # the "breaker" value of the protection devices
SLAVE_UNIT = 247
STYLES = ["system.css"]
SCRIPTS = ["system.js"]


def family_label(_, key: str) -> str:
    """The family's name in the user's language: the catalogue's label (a message of the "core"
    domain, web/messages.py), but for the slave box, which the pages name more plainly."""
    if key == "wsmeasure_virtual":
        return _("WSMEASURE (slave web server)")
    fam = families().get(key)
    return _(fam.label) if fam else key


def model_label(_, model) -> str:
    """A catalogue number with its description; a model known by name shows its description only."""
    if model.cat_no.replace(" ", "").isdigit():
        return f"{model.cat_no} · {_(model.label)}"
    return _(model.label)


def kind_text(_) -> dict[str, str]:
    """The energy kinds (tariffs.KINDS) in the user's language."""
    return {"electricity": _("Electricity"), "gas": _("Gas"), "water": _("Water")}


def load_label(_, load) -> str:
    """A built-in load shows its name in the user's language; a user load its own name."""
    labels = {
        "heating": _("Heating"),
        "air_conditioning": _("Air conditioning"),
        "hot_water": _("Domestic hot water"),
        "lighting": _("Lighting"),
        "ventilation": _("Ventilation"),
        "sockets": _("Power sockets"),
        "others": _("Others"),
        "water": _("Water"),
        "gas": _("Gas"),
    }
    return labels.get(load.key or "", load.name) if load.key else load.name


def status(box) -> tuple[dict, dict]:
    """({gateway id: status}, {device id: (status, breaker state or None)}) from the daemon;
    empty when it does not answer (the pages still work, without status icons)."""
    try:
        answer = box.call("status", timeout=5)
    except Exception as exc:   # noqa: BLE001 -- DaemonGone, or a loop busy stopping
        log.info("no status for the system pages: %s", exc)
        return {}, {}
    gateways, devices = {}, {}
    for gw in answer.get("gateways", ()):
        gateways[gw["id"]] = gw.get("status", OFF)
        for d in gw.get("devices", ()):
            breaker = (d.get("values") or {}).get("breaker")
            try:
                breaker = BREAKER.get(int(breaker)) if breaker is not None else None
            except (TypeError, ValueError):
                breaker = None
            devices[d["id"]] = (d.get("status", OFF), breaker)
    return gateways, devices


def applied(box) -> None:
    """Ask the daemon to apply a saved change; say so when it cannot (the change stays saved)."""
    c = ctx()
    try:
        box.call("reload")
    except DaemonGone:
        flash(c._("Saved, but the acquisition service did not answer: the change applies when it runs again."),
              "warn")
    except Exception:   # noqa: BLE001 -- saved all the same: never a 500 for a change that is in
        log.exception("reload after a configuration change failed")
        flash(c._("Saved, but the acquisition service could not apply it: see the log."), "warn")


def test_verdict(box, what: str, ident: int) -> None:
    """Run the daemon's Test and show its verdict on the next page."""
    c = ctx()
    try:
        answer = box.call("test", what=what, id=ident)
    except DaemonGone:
        flash(c._("Test impossible: the acquisition service did not answer."), "error")
        return
    message = core_text(c._, answer)
    if answer.get("ok"):
        flash(c._("Test passed: {message}").format(message=message), "ok")
    else:
        flash(c._("Test failed: {message}").format(message=message), "error")


def switched() -> str:
    """The "on" of an ON/OFF button: on or off, nothing else (a form without it is refused)."""
    value = bottle.request.forms.get("on", "")
    if value not in ("on", "off"):
        bottle.abort(400, "on or off")
    return value


def error_field(exc, fields) -> str:
    """The form field a core refusal names, or "_" (shown at the top of the form)."""
    return exc.field if exc.field in fields else "_"


# -- icons: small inline SVG (no file to fetch), with the state as text for screen readers ---------
def led(_, state: str | None) -> str:
    """Status of a gateway or device: ON (green), OFF (grey), communication error (red)."""
    if state is None:
        return ""
    text = {ON: _("ON"), OFF: _("OFF"), ERROR: _("Communication error")}.get(state, state)
    shape = ('<path d="M8 2 15 14H1z"/><path d="M8 6v4M8 11.5v.5" class="mark"/>' if state == ERROR
             else '<circle cx="8" cy="8" r="6"/>')
    return (f'<span class="led st-{state}" title="{text}"><svg class="icon" viewBox="0 0 16 16" '
            f'aria-hidden="true">{shape}</svg><span class="sr">{text}</span></span>')


def breaker_icon(_, state: str | None) -> str:
    """Circuit breaker state: open, closed or tripped (only for the devices that report one)."""
    if state is None:
        return ""
    text = {"open": _("Open"), "closed": _("Closed"), "tripped": _("Tripped")}[state]
    blade = {"open": "M8 11 12 5", "closed": "M8 11V5", "tripped": "M8 11 13.5 8"}[state]
    return (f'<span class="brk brk-{state}" title="{text}"><svg class="icon" viewBox="0 0 16 16" '
            f'aria-hidden="true"><rect width="16" height="16" rx="3"/>'
            f'<path d="M8 2v3M8 11v3{" " + blade}"/></svg><span class="sr">{text}</span></span>')
