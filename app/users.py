"""The users of the pages (manual 8.1): who they are, which pages they open, their codes.

A user logs in with a PIN, which says who they are (no user name is typed, as on the
manufacturer's box), then confirms with a PUK. So PINs are unique among users. Codes are
stored hashed (secrets.py); checking a PIN tries every user's hash, a few tens of ms each.

Pages are the home page's tiles; each route of the web server names the page it belongs to
and is refused to a user without it. Only the "admin" users (administrator and greenUp, 8.1.2)
manage users; one of them always stays enabled with the Web Server configuration page, or
nobody could reach the Users page again.
"""

from __future__ import annotations

from typing import Any, Iterable

from .fields import by_id, flag, required_name, unique_name
from .messages import Msg
from .models import User, bound
from .secrets import hash_secret, verify_secret
from .settings import ConfigError

# key, label (English; the web layer translates it) -- in the order of the home page
PAGES: tuple[tuple[str, str], ...] = (
    ("server", "Web Server configuration"),
    ("system", "System configuration"),
    ("panel", "My panel board"),
    ("consumptions", "Consumptions: data & diagram"),
    ("greenup", "Green'Up"),
    ("reports", "Reports & data download"),
    ("alarms", "Reports: alarms"),
)
PAGE_KEYS = tuple(key for key, _ in PAGES)

# The four users of a new box (8.1.1) with their printed codes. The manuals disagree on digits
# (7.7.1 shows 9999 / 0000 9999 0000, 8.1.1 and the datasheet 99999 / 00000 9999 00000, and the
# greenUp PUK is printed with 15 digits while "14 characters" is stated): we follow 8.1.1 and
# the datasheet, and give greenUp the 14-digit pattern of the others.
DEFAULT_USERS = (
    # name, PIN, PUK, pages, admin
    ("administrator", "99999", "00000999900000", "server system panel consumptions reports alarms", True),
    ("installer", "55555", "00000555500000", "system panel consumptions alarms", False),
    ("greenUp", "88888", "00000888800000", "server system panel consumptions greenup reports alarms", True),
    ("user", "11111", "00000111100000", "consumptions alarms", False),
)

# Their hashes, made once (secrets.hash_secret) and kept here: a new box seeds its users without
# 8 scrypt runs, which take seconds on a small board at first boot. The codes are printed in the
# manual, so a salt shared by every box hides nothing more; a changed code gets a salt of its own.
FACTORY_HASHES = {
    "99999": "scrypt$16384$8$1$euZpP4ZMTwe03ZUw5h1jcQ==$ZWHO6qBJ07sU7YCP5m7/96PTZm2mM25bE/ahZqBKMSQ=",
    "00000999900000": "scrypt$16384$8$1$Xuc35TLQrjM9WDIpMlrYAg==$U8cdlmG3bV8BLGbL5049cFf5mtuHCe2Ii9wjYQO5I1c=",
    "55555": "scrypt$16384$8$1$mVDa5gZ2llB5ECKg4yX2OA==$sU8Z5/RxZqwECFdmEtSC/ksqU0WSn2H2sWCXs8krwzo=",
    "00000555500000": "scrypt$16384$8$1$ssYkiCyvQkTMkm5ZujJjZw==$Bocb9g6QwBFpm0VQ4aBpLZzj0kItSHHKn7qQpws065k=",
    "88888": "scrypt$16384$8$1$89XmRqAMqYPWP6V19NAYDQ==$7/DbpXDE56Y+8VPO8u3GIqYgWir9vVwm5WGozMkRJE4=",
    "00000888800000": "scrypt$16384$8$1$2UVEW6LJQEb/6+pj2ZyETw==$cLXlaU1hJSpxmGx6yy77G9PEwJlsge3/V/eWNyKzx/A=",
    "11111": "scrypt$16384$8$1$L9RZ8R3YZBkM7GezbKUNKg==$JEgMPauF4aS0ga76yZwZd1+YH257mekZeYw8T2x/7BA=",
    "00000111100000": "scrypt$16384$8$1$M42brUNVz07Xi6x1LYM/Ig==$GW8/IPOhM5HQ0c4jIHH51OzLHIUcyJZ5M0x24G2GL7I=",
}

PIN_DIGITS = (5, 8)
PUK_DIGITS = 14


def _digits(raw: Any) -> str:
    """Codes are typed with spaces for readability ("00000 9999 00000"): keep the digits."""
    return "".join(str(raw or "").split())


def _code(raw: Any, field: str, lo: int, hi: int, refusal: Msg) -> str:
    """The digits of a code of lo to hi digits; `refusal` (a template with {lo} and {hi}) otherwise."""
    code = _digits(raw)
    if not code.isdigit() or not lo <= len(code) <= hi:
        raise ConfigError(field, refusal, lo=lo, hi=hi)
    return code


def pin_code(raw: Any) -> str:
    return _code(raw, "pin", *PIN_DIGITS, Msg("the PIN is {lo} to {hi} digits"))


def puk_code(raw: Any) -> str:
    return _code(raw, "puk", PUK_DIGITS, PUK_DIGITS, Msg("the PUK is {hi} digits"))


def pages_of(user: User) -> tuple[str, ...]:
    return tuple(p for p in user.pages.split(",") if p)


def _pages(raw: Any) -> str:
    chosen = raw.split() if isinstance(raw, str) else list(raw or ())
    unknown = [p for p in chosen if p not in PAGE_KEYS]
    if unknown:
        raise ConfigError("pages", "unknown page {page!r}; pages: {pages}", page=unknown[0], pages=", ".join(PAGE_KEYS))
    return ",".join(p for p in PAGE_KEYS if p in chosen)


def _factory_hash(code: str) -> str:
    return FACTORY_HASHES.get(code) or hash_secret(code)


def seed(db) -> None:
    """The four default users of a new box (once: an empty table only)."""
    with bound(db), db.atomic():
        if User.select().exists():
            return
        for name, pin, puk, pages, admin in DEFAULT_USERS:
            User.create(name=name, pin_hash=_factory_hash(pin), puk_hash=_factory_hash(puk),
                        pages=_pages(pages), admin=admin, factory_codes=True)


def users(db) -> list[User]:
    with bound(db):
        return list(User.select().order_by(User.id))


def user(db, user_id: Any) -> User:
    with bound(db):
        return by_id(User, user_id, "user", "user")


def find_by_pin(db, pin: Any) -> User | None:
    """The enabled user whose PIN this is, or None. Every hash is tried, so the time taken
    does not tell whether, or which, a user matched."""
    code = _digits(pin)
    found = None
    for u in users(db):
        if verify_secret(code, u.pin_hash) and u.enabled and found is None:
            found = u
    return found


def check_puk(u: User, puk: Any) -> bool:
    return verify_secret(_digits(puk), u.puk_hash)


def _pin_free(pin: str, user_id: int | None) -> None:
    # also disabled users: enabling one again must not give two users one PIN
    if any(verify_secret(pin, u.pin_hash) for u in User.select() if u.id != user_id):
        raise ConfigError("pin", "this PIN is already used by another user: the PIN says who logs in")


def _keep_an_admin(db) -> None:
    ok = [u for u in User.select().where(User.admin == True, User.enabled == True)  # noqa: E712
          if "server" in pages_of(u)]
    if not ok:
        raise ConfigError("enabled", "at least one of administrator / greenUp must stay enabled with the "
                                     "Web Server configuration page, or nobody could manage the users")


def add_user(db, name: Any, pin: Any, puk: Any, pages: Iterable[str] | str = (), enabled: Any = True) -> User:
    with bound(db), db.atomic():
        name = unique_name(User, required_name(name, "user"), None, "user")
        pin, puk = pin_code(pin), puk_code(puk)
        _pin_free(pin, None)
        return User.create(name=name, pin_hash=hash_secret(pin), puk_hash=hash_secret(puk),
                           pages=_pages(pages), enabled=flag(enabled, "enabled", True))


def update_user(db, user_id: Any, *, name: Any = None, pin: Any = None, puk: Any = None,
                pages: Iterable[str] | str | None = None, enabled: Any = None) -> User:
    """Change what is given (None: unchanged; an empty PIN/PUK field also leaves it unchanged)."""
    with bound(db), db.atomic():
        u = by_id(User, user_id, "user", "user")
        if name is not None:
            u.name = unique_name(User, required_name(name, "user"), u.id, "user")
        if _digits(pin):
            code = pin_code(pin)
            _pin_free(code, u.id)
            u.pin_hash, u.factory_codes = hash_secret(code), False
        if _digits(puk):
            u.puk_hash, u.factory_codes = hash_secret(puk_code(puk)), False
        if pages is not None:
            u.pages = _pages(pages)
        if enabled is not None:
            u.enabled = flag(enabled, "enabled")
        u.save()
        _keep_an_admin(db)  # after the write: a refusal rolls the whole change back
        return u


def erase_user(db, user_id: Any) -> None:
    """Users added on the Users page may be erased; the administrators only disabled."""
    with bound(db), db.atomic():
        u = by_id(User, user_id, "user", "user")
        if u.admin:
            raise ConfigError("user", "{name} manages the users: it can be disabled, not erased", name=u.name)
        u.delete_instance()
