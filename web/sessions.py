"""Sessions, the trusted-browser mark and the login lockout (manual 8.1, datasheet "Web pages access").

- A session is a random token in a Secure, HttpOnly, SameSite=Strict cookie; the server keeps
  the rest in memory (a restart logs everybody out, which is what a reboot of the box does).
  It ends after `idle_s` without a request and at the latest 12 hours after the login.
  Every session, logged in or not, carries its own CSRF token.
- A browser where a user once gave the PUK is marked "trusted" for that user by a signed
  cookie: "Logout" keeps the mark (next time the PIN is enough), "Lock" removes it (PIN and
  PUK again). The signature covers the user's PUK hash, so changing the PUK revokes it.
- Failed PIN or PUK attempts from one address are free up to FREE_TRIES, then each one makes
  the address wait twice as long as the one before (5 s, 10 s, 20 s ... at most 15 minutes).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

ABSOLUTE_S = 12 * 3600
MAX_SESSIONS = 500          # oldest dropped first: memory stays bounded whatever clients do
TRUST_S = 90 * 86400

FREE_TRIES = 3
FIRST_WAIT_S = 5.0
MAX_WAIT_S = 900.0
FORGET_S = 3600.0           # an address with no failure for an hour starts afresh
MAX_ADDRESSES = 1000


@dataclass
class Session:
    sid: str
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    created: float = field(default_factory=time.time)
    seen: float = field(default_factory=time.time)
    user_id: int | None = None       # logged in as
    pending_id: int | None = None    # PIN given, PUK awaited
    lang: str | None = None          # display language chosen in this session (7.11.2)
    flash: list = field(default_factory=list)   # messages shown once, after a redirect


class Sessions:
    def __init__(self, idle_s: float | callable):
        self._idle = idle_s if callable(idle_s) else (lambda: idle_s)
        self._by_sid: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def new(self) -> Session:
        s = Session(secrets.token_urlsafe(32))
        with self._lock:
            self._by_sid[s.sid] = s
            while len(self._by_sid) > MAX_SESSIONS:
                self._by_sid.popitem(last=False)
        return s

    def get(self, sid: str | None) -> Session | None:
        now = time.time()
        with self._lock:
            s = self._by_sid.get(sid or "")
            if s is None:
                return None
            if now - s.seen > self._idle() or (s.user_id and now - s.created > ABSOLUTE_S):
                del self._by_sid[s.sid]
                return None
            s.seen = now
            self._by_sid.move_to_end(s.sid)
            return s

    def login(self, old: Session, user_id: int) -> Session:
        """A fresh session (new token, new CSRF token) for a user: a token seen before the login
        is worth nothing after it (session fixation)."""
        self.drop(old.sid)
        s = self.new()
        s.user_id, s.lang = user_id, old.lang
        return s

    def drop(self, sid: str) -> None:
        with self._lock:
            self._by_sid.pop(sid, None)

    def drop_user(self, user_id: int) -> None:
        """End every session of a user (disabled, or codes changed by an administrator)."""
        with self._lock:
            for sid in [sid for sid, s in self._by_sid.items() if s.user_id == user_id]:
                del self._by_sid[sid]


class Lockout:
    """Growing delays after repeated failures, per client address."""

    def __init__(self):
        self._failures: OrderedDict[str, tuple[int, float]] = OrderedDict()  # addr -> (count, last)
        self._lock = threading.Lock()

    def _entry(self, addr: str, now: float) -> tuple[int, float]:
        count, last = self._failures.get(addr, (0, 0.0))
        if count and now - last > FORGET_S:
            count = 0
        return count, last

    @staticmethod
    def _delay(count: int) -> float:
        return 0.0 if count < FREE_TRIES else min(MAX_WAIT_S, FIRST_WAIT_S * 2 ** (count - FREE_TRIES))

    def wait(self, addr: str) -> float:
        """Seconds this address must still wait before its next try (0: may try now)."""
        now = time.time()
        with self._lock:
            count, last = self._entry(addr, now)
            return max(0.0, last + self._delay(count) - now)

    def failed(self, addr: str) -> float:
        now = time.time()
        with self._lock:
            count, _ = self._entry(addr, now)
            self._failures[addr] = (count + 1, now)
            self._failures.move_to_end(addr)
            while len(self._failures) > MAX_ADDRESSES:
                self._failures.popitem(last=False)
            return self._delay(count + 1)

    def succeeded(self, addr: str) -> None:
        with self._lock:
            self._failures.pop(addr, None)


class Trust:
    """The signed "this browser knows the PUK of user N" mark."""

    def __init__(self, key_file: Path):
        self.key = _key(key_file)

    def _mac(self, user_id: int, expires: int, puk_hash: str) -> str:
        msg = f"{user_id}|{expires}|{puk_hash}".encode()
        return base64.urlsafe_b64encode(hmac.new(self.key, msg, hashlib.sha256).digest()).decode().rstrip("=")

    def mark(self, user_id: int, puk_hash: str) -> str:
        expires = int(time.time() + TRUST_S)
        return f"{user_id}.{expires}.{self._mac(user_id, expires, puk_hash)}"

    def user_of(self, mark: str | None) -> tuple[int, int] | None:
        """(user_id, expires) of a well-formed, unexpired mark; the MAC is checked by `holds`."""
        try:
            uid, expires, _ = (mark or "").split(".")
            uid, expires = int(uid), int(expires)
        except ValueError:
            return None
        return (uid, expires) if expires > time.time() else None

    def holds(self, mark: str | None, user_id: int, puk_hash: str) -> bool:
        parsed = self.user_of(mark)
        if parsed is None or parsed[0] != user_id:
            return False
        return hmac.compare_digest(mark.split(".")[2], self._mac(user_id, parsed[1], puk_hash))


def _key(path: Path) -> bytes:
    """The box's own signing key, made on first start, readable by the daemon's user only."""
    path = Path(path)
    if path.exists() and path.stat().st_size == 32:
        return path.read_bytes()
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(secrets.token_bytes(32))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path.read_bytes()
