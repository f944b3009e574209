"""The bottle application of the pages: its routes, one module per page family, and the checks
every request goes through (access.py)."""

from __future__ import annotations

import logging

import bottle

from wsmeasure import users

from . import (pages_access, pages_bill, pages_consumptions, pages_home, pages_panel, pages_reports, pages_server,
               pages_system, pages_users)
from .access import AccessPlugin, ctx, secure_headers

log = logging.getLogger(__name__)

# each module: routes(app, box); every route names its page (access.py)
PAGE_MODULES = [pages_access, pages_home, pages_users, pages_system, pages_bill, pages_panel, pages_consumptions,
                pages_server, pages_reports]


class Router(bottle.Router):
    """bottle's router, its patterns compiled once all routes are in. bottle rebuilds the combined
    pattern of every dynamic route at each route added (quadratic: 0.3 s for our 127 routes on a
    PC, seconds of the first boot on a small board); make_app compiles once, at the end."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.deferred: set[str] | None = set()

    def _compile(self, method):
        if self.deferred is None:
            super()._compile(method)
        else:
            self.deferred.add(method)

    def compile_all(self) -> None:
        pending, self.deferred = self.deferred or set(), None
        for method in pending:
            super()._compile(method)


def make_app(box) -> bottle.Bottle:
    users.seed(box.db)
    app = bottle.Bottle(catchall=True)
    vars(app)["router"] = Router()   # bottle's __setattr__ guards it against plugins; no route yet
    app.install(AccessPlugin(box))
    for module in PAGE_MODULES:
        module.routes(app, box)
    app.router.compile_all()
    for route in app.routes:
        if "page" not in route.config:
            raise ValueError(f"route {route.method} {route.rule} must say which page it belongs to")
        route.prepare()   # plugins applied now: a route without a valid page fails here, not later

    def error_page(err: bottle.HTTPError):
        from .render import render

        secure_headers()
        c = ctx(box)
        messages = {404: c._("This page does not exist."), 405: c._("This action is not allowed here."),
                    413: c._("The file or form is too large.")}
        message = messages.get(err.status_code, c._("Something went wrong; the error was logged."))
        if err.status_code >= 500:
            log.error("%s %s: %s", bottle.request.method, bottle.request.path, err.exception or err.body,
                      exc_info=err.exception)
        if bottle.request.path.startswith("/api/"):
            bottle.response.content_type = "application/json"
            return bottle.json_dumps({"ok": False, "error": message})
        return render("error.tpl", title=message, message=message)

    for code in (400, 403, 404, 405, 413, 500):
        app.error(code)(error_page)
    return app
