"""The home page: one tile per page the user may open (manual 8.1.1: it differs per user)."""

from __future__ import annotations

import bottle

from wsmeasure import users

from .access import ctx
from .render import render

# page key -> where its tile leads; a page not built yet has no tile
ENTRY = {
    "server": "/server",
    "system": "/system",
    "panel": "/panel",
    "consumptions": "/consumptions",
    "reports": "/reports",
}


def routes(app: bottle.Bottle, box) -> None:
    @app.get("/", page="any")
    def home():
        c = ctx()
        tiles = [(key, c._(label), ENTRY[key]) for key, label in users.PAGES
                 if key in ENTRY and c.may(key)]
        return render("home.tpl", title=c._("Home"), tiles=tiles)
