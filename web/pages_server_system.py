"""System information (manual 8.8) with its "Optimize" button, and Backup/Restore (9)."""

from __future__ import annotations

import logging
import threading

import bottle
from bottle import response

from wsmeasure import __version__, backup, clock, network, settings, sysinfo, users
from wsmeasure.ftp import UPLOAD_NAME

from .access import ctx
from .box import DaemonGone
from .i18n import core_text
from .pages_server_common import page_render, reload_daemon, size_text, time_text
from .render import flash

log = logging.getLogger(__name__)

CPU_HIGH = 80          # manual 8.8 C: consistently above it may mean a hardware problem
OPTIMIZE_TIMEOUT_S = 600.0   # VACUUM of a large data.db on a flash card takes a while
APPLY_DELAY_S = 2.0          # a restored network is applied after the answer has left


def routes(app: bottle.Bottle, box) -> None:
    db = box.db

    # -- System information (8.8) --------------------------------------------------------------
    @app.get("/server/sysinfo", page="server")
    def system_information():
        c = ctx()
        started = None
        try:
            started = box.call("status").get("started")
        except DaemonGone as exc:
            log.warning("system information: %s", exc)
        info = sysinfo.system_info(box.data_dir, started, box.version or __version__)
        sizes, auto, health = info["database_bytes"], info["backup"], info["health"]
        if auto["status"] == "ok":
            backup_state = c._("Ok")
        elif auto["status"] == "none":
            backup_state = c._("None yet")
        else:
            backup_state = c._("Error: {detail}").format(detail=auto["status"].removeprefix("error: "))
        if health is None:
            health_state, health_kind = c._("No measures recorded yet."), "ok"
        elif not health["ok"]:
            health_state = c._("Damaged: contact technical support.")
            health_kind = "error"
        elif health["fragmented"]:
            health_state, health_kind = c._("Optimization recommended: press Optimize."), "warn"
        else:
            health_state, health_kind = c._("Good"), "ok"
        rows = [
            (c._("Firmware version"), info["version"]),
            (c._("Last restart of the service"), time_text(db, started)),
            (c._("Last restart of the system"), time_text(db, info["boot"])),
            (c._("CPU used"), f"{info['cpu_percent']:.0f} %"),
            (c._("Database size"), size_text(sizes["total"])),
            (c._("Configuration"), size_text(sizes["config"])),
            (c._("Measures"), size_text(sizes["data"])),
            (c._("CSV history"), size_text(sizes["history"])),
            (c._("Available storage space"), c._("{free} of {total}").format(
                free=size_text(info["free_bytes"]), total=size_text(info["disk_bytes"]))),
            (c._("Last automatic backup"), time_text(db, auto["time"])),
            (c._("Status of the automatic backup"), backup_state),
        ]
        return page_render("server_sysinfo.tpl", title=c._("System information"), back="/server", rows=rows,
                           cpu_high=info["cpu_percent"] > CPU_HIGH, health_state=health_state,
                           health_kind=health_kind, backup_error=auto["status"].startswith("error"))

    @app.post("/server/sysinfo/optimize", page="server")
    def optimize():
        c = ctx()
        try:
            answer = box.call("optimize", timeout=OPTIMIZE_TIMEOUT_S)
        except DaemonGone as exc:
            flash(c._("The acquisition service did not answer: {error}").format(error=str(exc)), "warn")
            bottle.redirect("/server/sysinfo", 303)
        if answer.get("ok"):
            log.info("data.db optimized by %s: %s -> %s bytes", c.user.name, answer.get("before"), answer.get("after"))
            flash(c._("Database optimized: {before} before, {after} now.").format(
                before=size_text(answer.get("before")), after=size_text(answer.get("after"))))
        else:
            flash(c._("The database was not optimized: {error}").format(
                error=answer.get("error") or answer.get("message") or "?"), "error")
        bottle.redirect("/server/sysinfo", 303)

    # -- Backup/Restore (9) --------------------------------------------------------------------
    def zip_info() -> dict | None:
        path = box.history_dir / UPLOAD_NAME
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        return {"size": size_text(st.st_size), "time": time_text(db, st.st_mtime)}

    def backup_page(errors=None, status=200):
        c = ctx()
        response.status = status
        return page_render("server_backup.tpl", title=c._("Backup/Restore"), back="/server", archive=zip_info(),
                           zip_name=UPLOAD_NAME, errors=errors or {})

    @app.get("/server/backup", page="server")
    def backup_restore():
        return backup_page()

    @app.post("/server/backup", page="server")
    def make_backup():
        c = ctx()
        try:
            backup.make_backup(db, box.data_dir)
        except OSError as exc:
            log.error("backup failed: %s", exc)
            return backup_page({"_": c._("The backup could not be written: {error}").format(error=str(exc))}, 500)
        info = zip_info()
        log.info("backup database.zip written by %s", c.user.name)
        flash(c._("Backup saved: {name} ({size}, {time}) is in the FTP folder.").format(
            name=UPLOAD_NAME, size=info["size"], time=info["time"]))
        bottle.redirect("/server/backup", 303)

    @app.get("/server/backup/restore", page="server")
    def confirm_restore():
        c = ctx()
        info = zip_info()
        if info is None:
            return backup_page({"_": c._("There is no {name} in the FTP folder: copy it there first.").format(
                name=UPLOAD_NAME)}, 404)
        detail = c._("The whole configuration is replaced by the one in {name} ({size}, {time}): installation, "
                     "settings (network ones included) and users.").format(name=UPLOAD_NAME, **info)
        return page_render("confirm.tpl", title=c._("Restore the configuration?"), back="/server/backup",
                           action="/server/backup/restore", button=c._("Restore"), detail=detail)

    @app.post("/server/backup/restore", page="server")
    def restore():
        c = ctx()
        me = c.user.id
        before = {u.id: _identity(u) for u in users.users(db)}
        address = settings.get(db, "net.address")
        try:
            found = backup.restore_backup(db, box.data_dir)
        except backup.RestoreError as exc:
            log.warning("restore refused: %s", exc)
            return backup_page({"_": core_text(c._, exc)}, 400)
        log.info("configuration restored by %s from %s: %s", c.user.name, UPLOAD_NAME, found)
        after = {u.id: _identity(u) for u in users.users(db)}
        for uid in set(before) | set(after):   # a session must not go on as someone else
            if uid != me and before.get(uid) != after.get(uid):
                box.sessions.drop_user(uid)
        reload_daemon(box, c)
        if box.appliance:
            _apply_system(box, c)
        message = c._("Configuration restored from {name} of {created}: {gateways} gateway(s), {devices} "
                      "device(s).").format(name=UPLOAD_NAME, created=found.get("created") or "?",
                                           gateways=found["gateways"], devices=found["devices"])
        if before.get(me) != after.get(me):
            box.sessions.drop_user(me)
            fresh = box.sessions.new()
            fresh.lang = c.session.lang
            fresh.flash.append(("ok", message + " " + c._("Your user changed with it: log in again.")))
            c.set_session(fresh)
            bottle.redirect("/login", 303)
        moved = settings.get(db, "net.address")
        if box.appliance and moved != address:   # the restored network takes the box elsewhere
            return page_render("server_notice.tpl", title=c._("Backup/Restore"), back="/server",
                               message=message + " " + c._("The web server moves to its new address in a few seconds."),
                               link=f"https://{moved}/")
        flash(message)
        bottle.redirect("/server/backup", 303)


def _identity(u) -> tuple:
    return (u.name, u.pin_hash, u.puk_hash, u.pages, u.admin, u.enabled)


def _apply_system(box, c) -> None:
    """Appliance: the restored time settings now, the restored network a moment later (the answer
    must leave first if the address changed)."""
    try:
        clock.apply_time(box.db)
    except network.ApplyError as exc:
        flash(c._("The date and time settings could not be applied: {error}").format(error=str(exc)), "error")

    def later():
        try:
            network.apply_network(box.db)
        except Exception:  # noqa: BLE001 -- nobody waits for this answer: the log says it
            log.exception("applying the restored network settings failed")

    timer = threading.Timer(APPLY_DELAY_S, later)
    timer.daemon = True
    timer.start()
