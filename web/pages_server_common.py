"""What the "Web Server configuration" pages share: saving several settings at once, asking the
daemon to reload, and showing sizes and times."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, Callable

from wsmeasure import settings
from wsmeasure.models import Setting, bound
from wsmeasure.settings import ConfigError

from .access import ctx
from .box import DaemonGone
from .i18n import core_text
from .render import flash, render

log = logging.getLogger(__name__)

STYLES = ("server.css",)


def page_render(template: str, /, **values) -> str:
    """render() with the pages' own stylesheet."""
    return render(template, styles=STYLES, **values)


def save_settings(db, values: dict[str, Any]) -> dict[str, Any]:
    """Store several settings in one transaction, or none; returns them parsed.

    Every value is parsed first (ConfigError naming its key), then all are written and only
    then the rows' cross-checks run once each: set one by one, a check would see a half-changed
    form (field separator already a comma, decimal separator still the old comma) and refuse a
    valid one. A refusal rolls everything back."""
    parsed = {key: settings.parse(key, "" if raw is None else raw) for key, raw in values.items()}
    with bound(db), db.atomic():
        for key, value in parsed.items():
            Setting.replace(key=key, value=settings.format_value(value)).execute()
        done = set()
        for key, value in parsed.items():
            check = settings.row(key).check
            if check and check not in done:
                done.add(check)
                check(db, value)
    return parsed


def dry_run(db, action: Callable[[], Any]) -> Any:
    """Run `action` (which saves) inside a transaction rolled back afterwards: the checks of a
    confirmation step, without storing anything. Its ConfigError goes through."""
    with bound(db), db.atomic() as txn:
        result = action()
        txn.rollback()
    return result


def reload_daemon(box, c) -> bool:
    """Ask the daemon to apply the stored settings; a warning flash when it cannot."""
    try:
        answer = box.call("reload")
    except DaemonGone as exc:
        log.warning("reload after a settings change: %s", exc)
        flash(c._("Saved, but the acquisition service did not answer: the settings apply at its next start."),
              "warn")
        return False
    if not answer.get("ok"):
        flash(c._("Saved, but the acquisition service refused to apply them: {error}").format(
            error=answer.get("error") or answer.get("message") or "?"), "warn")
        return False
    return True


def field_errors(exc: ConfigError, fields: dict[str, str], default: str = "_") -> dict[str, str]:
    """{form field: message} for a refusal; `fields` maps setting keys (or core field names) to
    form fields; anything else goes to the top of the form."""
    field = fields.get(exc.field) or (exc.field if exc.field in fields.values() else default)
    return {field: core_text(ctx()._, exc)}


def size_text(n: int | None) -> str:
    if n is None:
        return "-"
    for unit, scale in (("GiB", 2 ** 30), ("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def time_text(db, epoch: float | None) -> str:
    """An epoch time as the box's wall time ("2024-03-06 10:07:03 CET")."""
    if not isinstance(epoch, (int, float)):
        return "-"
    from wsmeasure.store_time import zone

    try:
        tz = zone(settings.get(db, "time.zone"))
    except Exception:  # noqa: BLE001 -- a page must show even with a broken zone database
        tz = timezone.utc
    return datetime.fromtimestamp(epoch, tz).strftime("%Y-%m-%d %H:%M:%S %Z").strip()
