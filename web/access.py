"""Who may do what: every route names the page it belongs to, checked here on every request.

`page=` on a route is one of:
- "public": the login pages, static files, the language switch;
- "any": any logged-in user (home, logout);
- "users": the Users page, administrators only (manual 8.1.2);
- a page key of users.PAGES: users whose pages include it (8.1.1).
A route without `page=` cannot be registered (the app refuses to build), so no page can be
left open by forgetting it. State-changing requests (POST) must carry the session's CSRF
token and, when the browser names one, come from our own origin.
"""

from __future__ import annotations

import hmac
import logging
from urllib.parse import quote

import bottle
from bottle import request, response

from wsmeasure import settings, users

from .i18n import catalog

log = logging.getLogger(__name__)

SID_COOKIE = "wsm_sid"
TRUST_COOKIE = "wsm_trust"
SPECIAL = ("public", "any", "users")
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")

# no script, style, frame or form target outside the box; no inline script at all
HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                                "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Strict-Transport-Security": "max-age=31536000",
}


class Ctx:
    """The request's session, user and language (made once per request, kept in its environ)."""

    def __init__(self, box):
        self.box = box
        self.session = box.sessions.get(request.get_cookie(SID_COOKIE))
        self.fresh = self.session is None
        if self.fresh:
            self.session = box.sessions.new()
        self.user = None
        if self.session.user_id is not None:
            u = next(iter(users.User.raw("SELECT * FROM user WHERE id = ?", self.session.user_id)), None)
            if u is None or not u.enabled:   # disabled or erased meanwhile: out
                box.sessions.drop(self.session.sid)
                self.session, self.fresh = box.sessions.new(), True
            else:
                self.user = u
        # the display language chosen in this session, else the box's default (manual 7.11)
        self.lang = self.session.lang or settings.get(box.db, "language.default")
        self._ = catalog(self.lang).gettext

    @property
    def pages(self) -> tuple[str, ...]:
        return users.pages_of(self.user) if self.user else ()

    def may(self, page: str) -> bool:
        if page == "public":
            return True
        if self.user is None:
            return False
        if page == "any":
            return True
        if page == "users":
            return bool(self.user.admin)
        return page in self.pages

    def set_session(self, session) -> None:
        """Switch to another session (login, logout) and send its cookie with this answer."""
        self.session, self.fresh = session, True
        set_cookies(self)


def ctx(box=None) -> Ctx:
    c = request.environ.get("wsm.ctx")
    if c is None:
        c = request.environ["wsm.ctx"] = Ctx(box or request.app.config["wsm.box"])
    return c


def secure_headers() -> None:
    for name, value in HEADERS.items():
        response.set_header(name, value)


def set_cookies(c: Ctx) -> None:
    if c.fresh:
        response.set_cookie(SID_COOKIE, c.session.sid, path="/", secure=True, httponly=True, samesite="strict")


def _same_origin() -> bool:
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin is None   # "null": a sandboxed or privacy-redirected form; refuse
    host = request.headers.get("Host", "")
    return origin.split("://", 1)[-1] == host


def wants_json() -> bool:
    return request.path.startswith("/api/")


def refuse(status: int, message: str):
    """A refusal the user can read: JSON for the API, a page otherwise."""
    if wants_json():
        response.status = status
        response.content_type = "application/json"
        return bottle.json_dumps({"ok": False, "error": message})
    from .render import render

    response.status = status
    return render("error.tpl", title=message, message=message)


class AccessPlugin:
    name = "wsm_access"
    api = 2

    def __init__(self, box):
        self.box = box

    def setup(self, app):
        app.config["wsm.box"] = self.box

    def apply(self, callback, route):
        page = route.config.get("page")
        if page not in SPECIAL and page not in users.PAGE_KEYS:
            raise ValueError(f"route {route.method} {route.rule} must say which page it belongs to "
                             f"(page=...: {', '.join(SPECIAL + users.PAGE_KEYS)}), not {page!r}")

        def wrapper(*args, **kwargs):
            c = ctx(self.box)
            secure_headers()
            response.set_header("Cache-Control", "no-store")
            set_cookies(c)   # now: a redirect raised below copies the headers set so far
            if request.method in UNSAFE:
                token = request.forms.get("csrf") or request.headers.get("X-CSRF-Token") or ""
                if not (hmac.compare_digest(token.encode(), c.session.csrf.encode()) and _same_origin()):
                    log.warning("refused %s %s from %s: CSRF token or origin wrong",
                                request.method, request.path, request.remote_addr)
                    return refuse(403, c._("This form has expired or did not come from this box. "
                                           "Reload the page and try again."))
            if not c.may(page):
                if c.user is not None:
                    return refuse(403, c._("Your user cannot open this page."))
                if wants_json():
                    return refuse(401, c._("Your session has ended: log in again."))
                target = request.fullpath if request.method == "GET" else "/"
                return bottle.redirect("/login?next=" + quote(target, safe="/"), 303)
            return callback(*args, **kwargs)

        return wrapper
