"""The Users page (manual 8.1.2, 8.1.3): administrators add users with chosen pages, change
PIN/PUK, disable without erasing."""

from __future__ import annotations

import bottle
from bottle import request, response

from wsmeasure import users
from wsmeasure.settings import ConfigError

from .access import ctx
from .i18n import core_text
from .render import flash, render

FIELDS = ("name", "pin", "puk", "pages", "enabled")


def routes(app: bottle.Bottle, box) -> None:
    def _user(uid: int):
        try:
            return users.user(box.db, uid)
        except ConfigError:
            bottle.abort(404)

    def page(current=None, errors=None, data=None, status=200):
        c = ctx()
        response.status = status
        return render("users.tpl", title=c._("Users"), back="/server", people=users.users(box.db),
                      current=current, page_labels=[(k, c._(label)) for k, label in users.PAGES],
                      errors=errors or {}, data=data or {})

    def submitted() -> dict:
        f = request.forms
        return {"name": f.getunicode("name", ""), "pin": f.get("pin", ""), "puk": f.get("puk", ""),
                "pages": f.getall("pages"), "enabled": f.get("enabled", "off")}

    def refused(current, exc: ConfigError, data: dict):
        field = exc.field if exc.field in FIELDS else "_"
        data = {k: v for k, v in data.items() if k not in ("pin", "puk")}   # never echo codes back
        return page(current, {field: core_text(ctx()._, exc)}, data, status=400)

    @app.get("/server/users", page="users")
    def list_users():
        return page()

    @app.get("/server/users/new", page="users")
    def new_user():
        return page(current="new")

    @app.post("/server/users/new", page="users")
    def add_user():
        c = ctx()
        data = submitted()
        try:
            u = users.add_user(box.db, data["name"], data["pin"], data["puk"], data["pages"], data["enabled"])
        except ConfigError as exc:
            return refused("new", exc, data)
        flash(c._("User {name} saved.").format(name=u.name))
        bottle.redirect(f"/server/users/{u.id}", 303)

    @app.get("/server/users/<uid:int>", page="users")
    def edit_user(uid):
        return page(current=_user(uid))

    @app.post("/server/users/<uid:int>", page="users")
    def save_user(uid):
        c = ctx()
        current = _user(uid)
        data = submitted()
        try:
            u = users.update_user(box.db, uid, name=data["name"], pin=data["pin"], puk=data["puk"],
                                  pages=data["pages"], enabled=data["enabled"])
        except ConfigError as exc:
            return refused(current, exc, data)
        if (data["pin"].strip() or data["puk"].strip() or not u.enabled) and u.id != c.user.id:
            box.sessions.drop_user(u.id)   # new codes or disabled: their open sessions end now
        flash(c._("User {name} saved.").format(name=u.name))
        bottle.redirect(f"/server/users/{u.id}", 303)

    @app.get("/server/users/<uid:int>/erase", page="users")
    def confirm_erase(uid):
        c = ctx()
        u = _user(uid)
        return render("confirm.tpl", title=c._("Erase user {name}?").format(name=u.name), back=f"/server/users/{uid}",
                      action=f"/server/users/{uid}/erase", button=c._("Erase"))

    @app.post("/server/users/<uid:int>/erase", page="users")
    def erase(uid):
        c = ctx()
        u = _user(uid)
        try:
            users.erase_user(box.db, uid)
        except ConfigError as exc:
            return page(u, {"_": core_text(c._, exc)}, status=400)
        box.sessions.drop_user(uid)
        flash(c._("User {name} erased.").format(name=u.name))
        bottle.redirect("/server/users", 303)
