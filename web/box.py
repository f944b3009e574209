"""What the pages work with: the box's configuration, its data folders and the daemon's loop.

The web threads read and write config.db themselves (peewee gives each thread its own
connection) and ask the daemon's asyncio loop for everything else (status, Test, reload)
through `call`, which waits for the loop's answer.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable

from wsmeasure import settings

from .sessions import Lockout, Sessions, Trust

CALL_TIMEOUT_S = 15.0    # a device Test takes a few RS485 timeouts at most


class DaemonGone(RuntimeError):
    pass


@dataclass
class Box:
    db: Any
    data_dir: Path
    appliance: bool
    handle: Callable[[dict], Awaitable[dict]] | None = None   # the daemon's request handler
    loop: asyncio.AbstractEventLoop | None = None
    version: str = ""
    sessions: Sessions = field(init=False)
    lockout: Lockout = field(default_factory=Lockout)
    trust: Trust = field(init=False)

    def __post_init__(self):
        self.data_dir = Path(self.data_dir)
        self.sessions = Sessions(lambda: 60 * settings.get(self.db, "web.session_idle_min"))
        self.trust = Trust(self.data_dir / "web.key")

    @property
    def history_dir(self) -> Path:
        return self.data_dir / "history"

    def call(self, cmd: str, timeout: float = CALL_TIMEOUT_S, **args) -> dict:
        """Ask the daemon's loop (status, test, reload...) from a web thread."""
        if self.handle is None or self.loop is None or self.loop.is_closed():
            raise DaemonGone("the acquisition service is not running")
        future = asyncio.run_coroutine_threadsafe(self.handle({"cmd": cmd, **args}), self.loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise DaemonGone(f"the acquisition service did not answer within {timeout:.0f} s") from None
