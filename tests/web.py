"""Fixtures for page tests: a real daemon (virtual installation, its own ports) running in a
thread of the test process, and in-process browsers logged in as a given user.

`box` is module-scoped: one daemon per test module. `client("installer")` is a webtest
TestApp on the daemon's own WSGI app, over "https", logged in with the factory codes.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
import zlib

import pytest

FACTORY = {  # name -> (PIN, PUK), manual 8.1.1
    "administrator": ("99999", "00000 9999 00000"),
    "installer": ("55555", "00000 5555 00000"),
    "greenUp": ("88888", "00000 8888 00000"),
    "user": ("11111", "00000 1111 00000"),
}


class RunningBox:
    """A Daemon started in its own event-loop thread; stop() ends it cleanly."""

    def __init__(self, data_dir, port_offset: int):
        from wsmeasure.daemon import Daemon

        self.daemon = Daemon(data_dir, port_offset=port_offset)
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.error = None
        self.thread = threading.Thread(target=self._run, name="test-daemon", daemon=True)

    def _run(self):
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self.daemon.start())
        except BaseException as exc:  # noqa: BLE001 -- reported to the test
            self.error = exc
            self.ready.set()
            return
        self.ready.set()
        self.loop.run_until_complete(self.daemon.stopping.wait())
        self.loop.run_until_complete(self.daemon.stop())

    def start(self):
        self.thread.start()
        self.ready.wait(60)
        if self.error:
            raise self.error
        return self

    def call(self, cmd, **args):
        return asyncio.run_coroutine_threadsafe(self.daemon.handle({"cmd": cmd, **args}), self.loop).result(30)

    def stop(self):
        self.loop.call_soon_threadsafe(self.daemon.stopping.set)
        self.thread.join(60)

    @property
    def app(self):
        return self.daemon.web_app

    @property
    def db(self):
        return self.daemon.db

    @property
    def https(self):
        return f"https://127.0.0.1:{self.daemon.ports['https']}"


def port_offset(salt: int = 0) -> int:
    # 30000..48990: away from the offsets of test_daemon / test_master_slave (10000..29990)
    return 30000 + (os.getpid() * 7 + salt * 37) % 1900 * 10


def browser_for(app):
    import webtest

    return webtest.TestApp(app, extra_environ={"wsgi.url_scheme": "https", "HTTP_HOST": "127.0.0.1",
                                               "REMOTE_ADDR": "127.0.0.1"})


def csrf_of(page) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def login(app, name: str = "administrator", pin: str | None = None, puk: str | None = None):
    """A TestApp logged in as `name` (factory codes unless given)."""
    web = browser_for(app)
    pin = pin or FACTORY[name][0]
    puk = puk or FACTORY[name][1]
    page = web.get("/login")
    page = web.post("/login", {"csrf": csrf_of(page), "pin": pin})
    assert "PUK" in page.text, page.text
    done = web.post("/login/puk", {"csrf": csrf_of(page), "puk": puk})
    assert done.status_int == 303, done.text
    return web


def browser_login(page, box, name: str = "installer") -> None:
    """Log in through the login page of a real browser (Playwright page) with the factory codes."""
    pin, puk = FACTORY[name]
    page.goto(box.https + "/login")
    page.fill("#f-pin", pin)
    page.click("button.primary")
    page.fill("#f-puk", puk)
    page.click("button.primary")
    page.wait_for_url(box.https + "/")


@pytest.fixture(scope="module")
def box(tmp_path_factory, request):
    salt = zlib.crc32(request.module.__name__.encode()) % 97   # modules of one run on their own ports
    running = RunningBox(tmp_path_factory.mktemp("box"), port_offset(salt)).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def client(box):
    """client(name) -> a TestApp logged in as that user (cached per module)."""
    cache = {}

    def get(name: str = "administrator"):
        if name not in cache:
            cache[name] = login(box.app, name)
        return cache[name]

    return get
