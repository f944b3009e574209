"""The "Web Server configuration" pages (manual 7.7 to 7.11, 8.4.1, 8.8, 9): page key "server".

- /server: the menu (Web server settings, Users, System information, Backup/Restore, Software update);
- /server/network, /server/modbus, /server/time, /server/csv: the four "Web server settings"
  forms (pages_server_settings.py);
- /server/sysinfo, /server/backup: System information and Backup/Restore (pages_server_system.py);
- /server/update: Software update (pages_server_update.py).
The Users page (/server/users) is pages_users.py.
"""

from __future__ import annotations

import bottle

from . import pages_server_settings, pages_server_system, pages_server_update
from .access import ctx
from .pages_server_common import page_render


def routes(app: bottle.Bottle, box) -> None:
    @app.get("/server", page="server")
    def menu():
        c = ctx()
        settings_items = [
            ("/server/network", c._("Network settings")),
            ("/server/modbus", c._("Modbus settings")),
            ("/server/time", c._("Date and time")),
            ("/server/csv", c._("CSV and other settings")),
        ]
        items = []
        if c.may("users"):
            items.append(("/server/users", c._("Users")))
        items += [
            ("/server/sysinfo", c._("System information")),
            ("/server/backup", c._("Backup/Restore")),
            ("/server/update", c._("Software update")),
        ]
        return page_render("server.tpl", title=c._("Web Server configuration"), back="/",
                           settings_items=settings_items, items=items)

    pages_server_settings.routes(app, box)
    pages_server_system.routes(app, box)
    pages_server_update.routes(app, box)
