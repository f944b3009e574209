"""Access to the pages (manual 8.1): TLS, login by PIN then PUK, logout and lock, lockout,
session expiry, CSRF, and every route against every factory user (8.1.1)."""

from __future__ import annotations

import http.client
import re
import socket
import ssl
import warnings

import pytest
from web import FACTORY, box, browser_for, client, csrf_of, login  # noqa: F401

from wsmeasure import users
from wsmeasure.web import sessions as sessions_mod
from wsmeasure.web.access import SID_COOKIE, TRUST_COOKIE


def tls_client(**kw) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    for k, v in kw.items():
        setattr(ctx, k, v)
    return ctx


# -- the server ---------------------------------------------------------------------------------
def test_https_prefers_aes256_gcm_and_refuses_old_tls(box):
    port = box.daemon.ports["https"]
    with socket.create_connection(("127.0.0.1", port)) as raw, \
            tls_client().wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        assert tls.version() == "TLSv1.3" and tls.cipher()[0] == "TLS_AES_256_GCM_SHA384"
    ctx12 = tls_client(maximum_version=ssl.TLSVersion.TLSv1_2)
    with socket.create_connection(("127.0.0.1", port)) as raw, ctx12.wrap_socket(raw) as tls:
        assert tls.version() == "TLSv1.2" and tls.cipher()[0] == "ECDHE-ECDSA-AES256-GCM-SHA384"
    ctx11 = tls_client()
    with warnings.catch_warnings():   # deprecated on purpose: this is the client we must refuse
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx11.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        ctx11.maximum_version = ssl.TLSVersion.TLSv1_1
    ctx11.set_ciphers("ALL:@SECLEVEL=0")
    with pytest.raises((ssl.SSLError, ConnectionError)):
        with socket.create_connection(("127.0.0.1", port)) as raw, ctx11.wrap_socket(raw):
            pass


def test_http_port_only_redirects(box):
    conn = http.client.HTTPConnection("127.0.0.1", box.daemon.ports["http"], timeout=10)
    conn.request("GET", "/panel?gw=1", headers={"Host": "box.local:80"})
    answer = conn.getresponse()
    assert answer.status == 301
    assert answer.getheader("Location") == f"https://box.local:{box.daemon.ports['https']}/panel?gw=1"
    assert b"<html" not in answer.read()


def test_certificate_is_kept_across_restarts(box):
    cert = (box.daemon.data_dir / "tls" / "cert.pem").read_bytes()
    pem = ssl.get_server_certificate(("127.0.0.1", box.daemon.ports["https"]))
    assert pem.split()[2] in cert.decode()   # the served certificate is the stored one
    assert (box.daemon.data_dir / "tls" / "key.pem").stat().st_mode & 0o077 == 0


def test_pages_are_compressed_and_carry_security_headers(box):
    conn = http.client.HTTPSConnection("127.0.0.1", box.daemon.ports["https"], context=tls_client(), timeout=10)
    conn.request("GET", "/login", headers={"Accept-Encoding": "gzip"})
    answer = conn.getresponse()
    body = answer.read()
    assert answer.status == 200 and answer.getheader("Content-Encoding") == "gzip"
    assert "script-src 'self'" in answer.getheader("Content-Security-Policy")
    cookie = answer.getheader("Set-Cookie")
    assert SID_COOKIE in cookie and "Secure" in cookie and "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    assert len(body) < 4000


# -- logging in ---------------------------------------------------------------------------------
def test_pages_ask_for_login_first(box):
    web = browser_for(box.app)
    answer = web.get("/server/users", status=303)
    assert answer.headers["Location"].endswith("/login?next=/server/users")
    api = web.get("/api/nothing-here", status=404)
    assert api.status_int == 404


def test_pin_then_puk_then_pin_only_after_logout_and_both_after_lock(box):
    web = login(box.app, "installer")
    assert "System configuration" in web.get("/").text
    assert web.cookies.get(TRUST_COOKIE)
    page = web.get("/logout")
    web.post("/logout", {"csrf": csrf_of(page), "how": "logout"}, status=303)
    web.get("/", status=303)                               # logged out
    page = web.get("/login")
    done = web.post("/login", {"csrf": csrf_of(page), "pin": "55555"}, status=303)  # PIN is enough
    assert done.headers["Location"].endswith("/")
    page = web.get("/logout")
    web.post("/logout", {"csrf": csrf_of(page), "how": "lock"}, status=303)
    assert not web.cookies.get(TRUST_COOKIE)
    page = web.get("/login")
    again = web.post("/login", {"csrf": csrf_of(page), "pin": "55555"})
    assert again.status_int == 200 and 'name="puk"' in again.text   # locked: the PUK again


def test_wrong_puk_and_session_token_changes_at_login(box):
    web = browser_for(box.app)
    page = web.get("/login")
    before = web.cookies[SID_COOKIE]
    page = web.post("/login", {"csrf": csrf_of(page), "pin": "11111"})
    wrong = web.post("/login/puk", {"csrf": csrf_of(page), "puk": "12345678901234"}, status=401)
    assert "Wrong PUK" in wrong.text
    web.post("/login/puk", {"csrf": csrf_of(page), "puk": FACTORY["user"][1]}, status=303)
    assert web.cookies[SID_COOKIE] != before            # no session fixation


def test_repeated_failures_lock_the_address_out_with_growing_delay(box):
    lock = box.daemon.web_app.config["wsm.box"].lockout
    web = browser_for(box.app)
    web.extra_environ["REMOTE_ADDR"] = "10.9.9.9"
    waits = []
    for _ in range(sessions_mod.FREE_TRIES):
        page = web.get("/login")
        answer = web.post("/login", {"csrf": csrf_of(page), "pin": "00000"}, status=401)
        waits.append(lock.wait("10.9.9.9"))
    assert "Wait 5 s" in answer.text
    assert waits[:-1] == [0.0] * (sessions_mod.FREE_TRIES - 1) and 4 < waits[-1] <= 5
    assert lock.failed("10.9.9.9") == 2 * sessions_mod.FIRST_WAIT_S      # each failure doubles the wait
    assert lock.failed("10.9.9.9") == 4 * sessions_mod.FIRST_WAIT_S
    page = web.get("/login")   # even the right PIN waits now
    locked = web.post("/login", {"csrf": csrf_of(page), "pin": "99999"}, status=429)
    assert "Too many wrong codes" in locked.text and int(locked.headers["Retry-After"]) >= 1
    other = login(box.app, "user")   # another address is not locked out
    assert other.get("/").status_int == 200
    lock.succeeded("10.9.9.9")


def test_idle_session_expires(box):
    web = login(box.app, "user")
    sessions = box.daemon.web_app.config["wsm.box"].sessions
    session = sessions.get(web.cookies[SID_COOKIE])
    session.seen -= 15 * 60 + 1          # 15 minutes without a request (web.session_idle_min)
    web.get("/", status=303)
    assert sessions.get(web.cookies[SID_COOKIE]) is None or sessions.get(web.cookies[SID_COOKIE]).user_id is None


def test_post_without_or_with_foreign_csrf_is_refused(client):
    web = client("administrator")
    web.post("/server/users/new", {"name": "x", "pin": "12345", "puk": "1" * 14}, status=403)
    page = web.get("/server/users/new")
    web.post("/server/users/new", {"csrf": csrf_of(page), "name": "x", "pin": "12345", "puk": "1" * 14},
             headers={"Origin": "https://evil.example"}, status=403)
    assert "x" not in [u.name for u in users.users(None or web.app.config["wsm.box"].db)]


# -- users ------------------------------------------------------------------------------------------
def test_users_page_adds_a_user_with_chosen_pages_and_refuses_bad_codes(box, client):
    admin = client("administrator")
    page = admin.get("/server/users/new")
    bad = admin.post("/server/users/new", {"csrf": csrf_of(page), "name": "night guard", "pin": "55555",
                                           "puk": "1" * 14, "pages": ["panel"], "enabled": "on"}, status=400)
    assert "already used by another user" in bad.text and "night guard" in bad.text
    assert "night guard" not in [u.name for u in users.users(box.db)]
    short = admin.post("/server/users/new", {"csrf": csrf_of(page), "name": "night guard", "pin": "123",
                                             "puk": "1" * 14, "enabled": "on"}, status=400)
    assert "5 to 8 digits" in short.text
    admin.post("/server/users/new", {"csrf": csrf_of(page), "name": "night guard", "pin": "24680",
                                     "puk": "1357 9135 7913 57", "pages": ["panel"], "enabled": "on"}, status=303)
    guard = login(box.app, "night guard", "24680", "13579135791357")
    home = guard.get("/").text
    assert "My panel board" in home and "System configuration" not in home
    guard.get("/server/users", status=403)
    # disabled without erasing: cannot log in any more, their session ends
    uid = next(u.id for u in users.users(box.db) if u.name == "night guard")
    page = admin.get(f"/server/users/{uid}")
    admin.post(f"/server/users/{uid}", {"csrf": csrf_of(page), "name": "night guard", "pages": ["panel"],
                                        "enabled": "off"}, status=303)
    guard.get("/", status=303)
    assert not users.user(box.db, uid).enabled
    web = browser_for(box.app)
    page = web.get("/login")
    web.post("/login", {"csrf": csrf_of(page), "pin": "24680"}, status=401)
    box.daemon.web_app.config["wsm.box"].lockout.succeeded("127.0.0.1")


def test_the_last_administrator_cannot_lock_everybody_out(box, client):
    admin = client("administrator")
    green = next(u for u in users.users(box.db) if u.name == "greenUp")
    me = next(u for u in users.users(box.db) if u.name == "administrator")
    page = admin.get(f"/server/users/{green.id}")
    admin.post(f"/server/users/{green.id}", {"csrf": csrf_of(page), "name": "greenUp",
                                              "pages": users.pages_of(green), "enabled": "off"}, status=303)
    page = admin.get(f"/server/users/{me.id}")
    refused = admin.post(f"/server/users/{me.id}", {"csrf": csrf_of(page), "name": "administrator",
                                                    "pages": ["panel"], "enabled": "on"}, status=400)
    assert "must stay enabled" in refused.text
    assert "server" in users.pages_of(users.user(box.db, me.id))
    admin.post(f"/server/users/{green.id}", {"csrf": csrf_of(page), "name": "greenUp",
                                              "pages": users.pages_of(green), "enabled": "on"}, status=303)


def test_factory_codes_warning_until_changed(box):
    web = login(box.app, "user")
    assert "factory PIN and PUK" in web.get("/").text


# -- every route, every factory user (8.1.1) ---------------------------------------------------------
EXPECTED = {   # page -> factory users who may open it
    "server": {"administrator", "greenUp"},
    "system": {"administrator", "installer", "greenUp"},
    "panel": {"administrator", "installer", "greenUp"},
    "consumptions": {"administrator", "installer", "greenUp", "user"},
    "greenup": {"greenUp"},
    "reports": {"administrator", "greenUp"},
    "alarms": {"administrator", "installer", "greenUp", "user"},
    "users": {"administrator", "greenUp"},
    "any": set(FACTORY),
}


def concrete(rule: str) -> str:
    return re.sub(r"<[^>]+>", "1", rule)


def test_factory_users_have_the_pages_of_section_8_1_1():
    for name, _pin, _puk, pages, admin in users.DEFAULT_USERS:
        for page in users.PAGE_KEYS:
            assert (page in pages.split()) == (name in EXPECTED[page]), (name, page)
        assert admin == (name in EXPECTED["users"])


def test_the_kept_factory_hashes_are_of_the_printed_codes_and_a_new_code_gets_its_own_salt(tmp_path):
    from wsmeasure.db import open_config
    from wsmeasure.secrets import verify_secret

    codes = [code for _name, pin, puk, *_ in users.DEFAULT_USERS for code in (pin, puk)]
    assert sorted(users.FACTORY_HASHES) == sorted(codes)
    for code, stored in users.FACTORY_HASHES.items():
        assert verify_secret(code, stored)
        assert not verify_secret(code[:-1] + str((int(code[-1]) + 1) % 10), stored)
    db = open_config(tmp_path)
    users.seed(db)
    admin = users.users(db)[0]
    assert admin.pin_hash == users.FACTORY_HASHES["99999"]
    users.update_user(db, admin.id, pin="24680")
    changed = users.user(db, admin.id)
    assert verify_secret("24680", changed.pin_hash)
    assert changed.pin_hash.split("$")[4] not in {h.split("$")[4] for h in users.FACTORY_HASHES.values()}
    db.close()


@pytest.mark.parametrize("role", sorted(FACTORY))
def test_every_route_allows_or_refuses_each_factory_user(box, client, role):
    web = client(role)
    csrf = csrf_of(web.get("/"))
    checked = 0
    for route in box.app.routes:
        page = route.config["page"]
        if page == "public":
            continue
        path = concrete(route.rule)
        allowed = role in EXPECTED[page]
        if route.method == "GET":
            answer = web.get(path, expect_errors=True)
            if allowed:
                assert answer.status_int not in (401, 403), (role, path)
            else:
                assert answer.status_int == 403, (role, path, answer.status_int)
        elif not allowed:   # refused before anything happens; allowed POSTs are tested per page
            answer = web.post(path, {"csrf": csrf}, expect_errors=True)
            assert answer.status_int == 403, (role, route.method, path, answer.status_int)
        checked += 1
    assert checked >= 4
