"""Login (PIN, then PUK), logout and lock, the display language, static files (manual 8.1, 7.11.2)."""

from __future__ import annotations

import logging
from pathlib import Path

import bottle
from bottle import request, response

from wsmeasure import users

from .access import TRUST_COOKIE, ctx
from .i18n import CODES
from .render import render
from .sessions import TRUST_S

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"


def local_target(raw: str | None) -> str:
    """Where to go after a form: a path on this box only (never //elsewhere or a full URL)."""
    raw = raw or "/"
    if not raw.startswith("/") or raw.startswith("//") or "\\" in raw or any(ord(ch) < 32 for ch in raw):
        return "/"
    return raw


def routes(app: bottle.Bottle, box) -> None:
    def too_soon(c, stage: str, pending: str = ""):
        wait = box.lockout.wait(request.remote_addr or "")
        if wait <= 0:
            return None
        response.status = 429
        response.set_header("Retry-After", str(int(wait) + 1))
        message = c._("Too many wrong codes: wait {seconds} s before trying again.").format(seconds=int(wait) + 1)
        return login_page(c, stage, {"_": message}, pending)

    def login_page(c, stage: str, errors: dict | None = None, pending: str = ""):
        return render("login.tpl", title=c._("Log in"), stage=stage, pending=pending,
                      action="/login" if stage == "pin" else "/login/puk",
                      next=local_target(request.params.get("next")), errors=errors or {})

    def logged_in(c, u):
        box.lockout.succeeded(request.remote_addr or "")
        c.set_session(box.sessions.login(c.session, u.id))
        log.info("user %s logged in from %s", u.name, request.remote_addr)
        bottle.redirect(local_target(request.params.get("next")), 303)

    def failed(c, stage: str, pending: str = ""):
        wait = box.lockout.failed(request.remote_addr or "")
        log.warning("wrong %s from %s", stage.upper(), request.remote_addr)
        response.status = 401
        message = c._("Wrong PIN.") if stage == "pin" else c._("Wrong PUK.")
        if wait:
            message += " " + c._("Wait {seconds} s before trying again.").format(seconds=int(wait + 0.999))
        return login_page(c, stage, {stage: message}, pending)

    @app.get("/login", page="public")
    def login_form():
        c = ctx()
        if c.user:
            bottle.redirect(local_target(request.params.get("next")), 303)
        c.session.pending_id = None
        return login_page(c, "pin")

    @app.post("/login", page="public")
    def login_pin():
        c = ctx()
        refused = too_soon(c, "pin")
        if refused:
            return refused
        u = users.find_by_pin(box.db, request.forms.get("pin", ""))
        if u is None:
            return failed(c, "pin")
        if box.trust.holds(request.get_cookie(TRUST_COOKIE), u.id, u.puk_hash):
            return logged_in(c, u)   # this browser gave the PUK before, and was not locked
        c.session.pending_id = u.id
        return login_page(c, "puk", pending=u.name)

    @app.post("/login/puk", page="public")
    def login_puk():
        c = ctx()
        u = users.User.get_or_none(users.User.id == c.session.pending_id) if c.session.pending_id else None
        if u is None or not u.enabled:
            bottle.redirect("/login", 303)
        refused = too_soon(c, "puk", u.name)
        if refused:
            return refused
        if not users.check_puk(u, request.forms.get("puk", "")):
            return failed(c, "puk", u.name)
        response.set_cookie(TRUST_COOKIE, box.trust.mark(u.id, u.puk_hash), path="/", max_age=TRUST_S,
                            secure=True, httponly=True, samesite="strict")
        return logged_in(c, u)

    @app.get("/logout", page="any")
    def logout_form():
        c = ctx()
        return render("logout.tpl", title=c._("Logout"), back="/")

    @app.post("/logout", page="any")
    def logout():
        c = ctx()
        lock = request.forms.get("how") == "lock"
        log.info("user %s %s", c.user.name, "locked" if lock else "logged out")
        box.sessions.drop(c.session.sid)
        new = box.sessions.new()
        new.lang = c.session.lang
        c.set_session(new)
        if lock:
            response.delete_cookie(TRUST_COOKIE, path="/", secure=True, httponly=True, samesite="strict")
        bottle.redirect("/login", 303)

    @app.post("/language", page="public")
    def language():
        c = ctx()
        lang = request.forms.get("lang")
        if lang in CODES:
            c.session.lang = lang
        bottle.redirect(local_target(request.forms.get("next")), 303)

    @app.get("/static/<path:path>", page="public", skip=["wsm_access"])
    def static(path):
        answer = bottle.static_file(path, root=str(STATIC))
        if answer.status_code == 200:
            answer.set_header("Cache-Control", "public, max-age=86400")
            answer.set_header("X-Content-Type-Options", "nosniff")
        return answer
