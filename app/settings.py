"""Settings of the box, declared as data: one row per key (default, parser, help).

Values are stored as canonical text in the `setting` table of config.db (booleans as on/off);
a key never set reads as its default. `set` parses and checks, so the table only ever holds
values the daemon can use; `get` returns the parsed value (int, bool or str).
The defaults are the manual's (7.5, 7.8, 7.9, 7.16.4, release notes "Status Poll Time",
"Frame Interval", "Date and time synchronization").
"""

from __future__ import annotations

import ipaddress
import logging
import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from .messages import Msg, reason
from .models import Device, Setting, bound

log = logging.getLogger(__name__)


class ConfigError(ValueError):
    """A refused configuration change: `field` names the form field, `message` says why and what is allowed.

    Raised with a template and its named parameters (messages.py), `message` is the English text,
    a Msg: `translated(_)` gives it in the user's language. A ready Msg may be given instead."""

    def __init__(self, field: str, template: str, /, **params: Any):
        message = Msg.of(template, **params)
        super().__init__(message)
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return str(self.message)

    def translated(self, _: Callable[[str], str]) -> str:
        return self.message.translated(_)


# -- parsers: text in, typed value out, ValueError naming what is allowed -----------------------
TRUE = ("on", "true", "1", "yes")
FALSE = ("off", "false", "0", "no")


def boolean(raw: str) -> bool:
    text = str(raw).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError(Msg('"{raw}" is not on or off (accepted: on/off, true/false, 1/0)', raw=raw))


def one_of(*allowed: int | str) -> Callable[[str], Any]:
    """Exactly one of the listed values (numbers or lower-case words)."""
    by_text = {str(v): v for v in allowed}
    listed = ", ".join(by_text)

    def parse(raw: str):
        text = str(raw).strip().lower()
        if text not in by_text:
            raise ValueError(Msg('"{raw}" is not allowed; allowed values: {allowed}', raw=raw, allowed=listed))
        return by_text[text]

    parse.allowed = listed
    return parse


def whole(lo: int, hi: int, unit: str = "") -> Callable[[str], int]:
    """A whole number from lo to hi."""
    span = f"{lo}..{hi}{' ' + unit if unit else ''}"

    def parse(raw: str) -> int:
        try:
            value = int(str(raw).strip())
        except ValueError:
            raise ValueError(Msg('"{raw}" is not a whole number; allowed: {span}', raw=raw, span=span)) from None
        if not lo <= value <= hi:
            raise ValueError(Msg("{value} is out of range; allowed: {span}", value=value, span=span))
        return value

    parse.allowed = span
    return parse


def device_path(raw: str) -> str:
    """A serial device ("/dev/ttyUSB0", a pty on a developer machine) or "" for none."""
    text = str(raw).strip()
    if text and (not text.startswith("/") or any(c.isspace() for c in text)):
        raise ValueError(Msg('"{raw}" is not an absolute device path like /dev/ttyUSB0 ("" for none)', raw=raw))
    return text


def time_zone(raw: str) -> str:
    """An IANA time zone ("Europe/Paris"), or "" for the system's own."""
    text = str(raw).strip()
    if text:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(text)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(Msg('"{raw}" is not a time zone like Europe/Paris ("" for the system\'s)',
                                 raw=raw)) from None
    return text


def port_range(raw: str) -> str:
    """Passive FTP ports "first-last", unprivileged, at least 4 ports."""
    text = str(raw).strip()
    try:
        first, last = (int(x) for x in text.split("-"))
    except ValueError:
        raise ValueError(Msg('"{raw}" is not a port range like 60000-60099', raw=raw)) from None
    if not 1024 <= first <= last - 3 <= 65535 - 3:
        raise ValueError(Msg('"{raw}": allowed: first-last within 1024..65535, at least 4 ports', raw=raw))
    return f"{first}-{last}"


def ftp_password(raw: str) -> str:
    """Stored hashed (scrypt); 4 to 64 printable characters without spaces."""
    text = str(raw)
    if text.startswith("scrypt$") or text == "":
        return text  # already hashed, or "" for the factory password
    if not 4 <= len(text) <= 64 or not text.isprintable() or any(c.isspace() for c in text):
        raise ValueError(Msg("the FTP password is 4 to 64 printable characters without spaces"))
    from .secrets import hash_secret

    return hash_secret(text)


def separators_differ(db, _value) -> None:
    """A comma cannot be both the field and the decimal separator (section 8.4.1)."""
    if get(db, "csv.field_separator") == "comma" and get(db, "csv.decimal_separator") == "comma":
        raise ConfigError("csv", "CSV: the field separator and the decimal separator cannot both be a comma")


# -- network and time (manual 7.5, 7.7.1, 7.9) ------------------------------------------------------
def _ipv4(raw: str) -> ipaddress.IPv4Address:
    text = str(raw).strip()
    try:
        ip = ipaddress.IPv4Address(text)
    except ValueError:
        raise ValueError(Msg('"{raw}" is not an IPv4 address like 192.168.1.100', raw=raw)) from None
    # a host on the LAN: not "any", this machine, a group, the reserved block or the broadcast
    if ip.is_unspecified or ip.is_loopback or ip.is_multicast or ip.is_reserved:
        raise ValueError(Msg("{ip} is not the address of one host on the network; allowed: 1.0.0.0 to "
                             "223.255.255.255 except 127.x.x.x (this machine)", ip=str(ip)))
    return ip


def ipv4_host(raw: str) -> str:
    """The IPv4 address of one host (not 0.0.0.0, 127.x, multicast, 240.x or 255.255.255.255)."""
    return str(_ipv4(raw))


def ipv4_host_or_none(raw: str) -> str:
    """As ipv4_host, or "" for none (no default gateway)."""
    return str(_ipv4(raw)) if str(raw).strip() else ""


MASK_PREFIXES = range(8, 31)   # /8../30: a /31 or /32 leaves no room for a gateway on the LAN


def netmask(raw: str) -> str:
    """A contiguous subnet mask, dotted ("255.255.255.0") or as a prefix ("24", "/24"); stored dotted."""
    text = str(raw).strip()
    try:
        if text.lstrip("/").isdigit():
            net = ipaddress.IPv4Network(f"0.0.0.0/{text.lstrip('/')}")
        else:
            net = ipaddress.IPv4Network(f"0.0.0.0/{text}")   # refuses a mask with holes
            if net.netmask != ipaddress.IPv4Address(text):   # ipaddress also takes "0.0.0.255" (a host mask)
                raise ValueError
    except ValueError:
        raise ValueError(Msg('"{raw}" is not a subnet mask; allowed: 255.0.0.0 to 255.255.255.252 with '
                             "contiguous ones, like 255.255.255.0 (or a prefix 8..30)", raw=raw)) from None
    if net.prefixlen not in MASK_PREFIXES:
        raise ValueError(Msg('"{raw}" (/{prefix}) is not allowed; allowed: 255.0.0.0 (/8) to '
                             "255.255.255.252 (/30)", raw=raw, prefix=net.prefixlen))
    return str(net.netmask)


DNS_MAX = 3


def dns_servers(raw: str) -> str:
    """Up to 3 IPv4 addresses separated by commas or spaces, stored "a, b"; "" for none."""
    parts = [p for p in re.split(r"[,\s]+", str(raw).strip()) if p]
    servers = list(dict.fromkeys(str(_ipv4(p)) for p in parts))   # a repeated server once
    if len(servers) > DNS_MAX:
        raise ValueError(Msg("{count} DNS servers given; allowed: up to {max} IPv4 addresses",
                             count=len(servers), max=DNS_MAX))
    return ", ".join(servers)


HOST_MAX = 253
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\Z")


def host(raw: str) -> str:
    """A host name ("0.europe.pool.ntp.org") or an IPv4 address; stored in lower case."""
    text = str(raw).strip().lower().rstrip(".")
    labels = text.split(".")   # (`any`, not `all`: this module's all() is the settings')
    if not text or len(text) > HOST_MAX or any(not _LABEL.match(label) for label in labels):
        raise ValueError(Msg('"{raw}" is not allowed; allowed: a host name (letters, digits, dots and hyphens, '
                             "at most {max} characters) or an IPv4 address", raw=raw, max=HOST_MAX))
    if not any(not label.isdigit() for label in labels):   # numbers only: it must be an address
        return ipv4_host(text)
    return text


# The 13 languages of the manual (section 4), in its order; their names are in web/i18n.py.
LANGUAGES = ("de", "en", "es", "fr", "fr_BE", "el", "it", "hu", "nl_BE", "nl", "pl", "pt", "ru")
_LANGUAGE_BY_TEXT = {code.lower(): code for code in LANGUAGES}


def language(raw: str) -> str:
    """One of the LANGUAGES codes, any case, "-" or "_" ("fr-be" -> "fr_BE")."""
    text = str(raw).strip().lower().replace("-", "_")
    if text not in _LANGUAGE_BY_TEXT:
        raise ValueError(Msg('"{raw}" is not allowed; allowed languages: {allowed}', raw=raw,
                             allowed=language.allowed))
    return _LANGUAGE_BY_TEXT[text]


ipv4_host.allowed = "an IPv4 address of one host, like 192.168.1.100"
ipv4_host_or_none.allowed = 'an IPv4 address of one host, or "" for none'
netmask.allowed = "255.0.0.0 to 255.255.255.252, contiguous (or a prefix 8..30)"
dns_servers.allowed = f'up to {DNS_MAX} IPv4 addresses separated by commas or spaces, or "" for none'
host.allowed = f"a host name (letters, digits, dots, hyphens; at most {HOST_MAX} characters) or an IPv4 address"
language.allowed = ", ".join(LANGUAGES)


# -- bill of consumptions (manual 7.16.3) ------------------------------------------------------------
def currency_code(raw: str) -> str:
    """An ISO 4217 code of a currency in use (app/currencies.py), any case; stored in capitals."""
    from .currencies import MINOR_UNITS

    text = str(raw).strip().upper()
    if text not in MINOR_UNITS:
        raise ValueError(Msg('"{raw}" is not the ISO 4217 code of a currency in use, like EUR, USD or GBP',
                             raw=raw))
    return text


GAS_FACTOR_MAX = 20
GAS_FACTOR_DECIMALS = 5


def kwh_per_m3(raw: str) -> Decimal:
    """The gas conversion factor: a decimal number above 0, at most 20, up to 5 decimals (comma or point)."""
    text = str(raw).strip().replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or not 0 < value <= GAS_FACTOR_MAX \
            or -value.normalize().as_tuple().exponent > GAS_FACTOR_DECIMALS:
        raise ValueError(Msg('"{raw}" is not allowed; allowed: a number above 0 and at most {max} kWh/m3, '
                             "with up to {decimals} decimals", raw=raw, max=GAS_FACTOR_MAX,
                             decimals=GAS_FACTOR_DECIMALS))
    return Decimal(f"{value.normalize():f}")   # canonical: "10.55", never "1.055E+1"


currency_code.allowed = "an ISO 4217 code of a currency in use, like EUR"
kwh_per_m3.allowed = f"above 0 to {GAS_FACTOR_MAX} kWh/m3, up to {GAS_FACTOR_DECIMALS} decimals"


boolean.allowed = "on, off"
time_zone.allowed = 'an IANA time zone like Europe/Paris, or "" for the system\'s'
port_range.allowed = "first-last, e.g. 60000-60099"
ftp_password.allowed = "4 to 64 printable characters without spaces"
device_path.allowed = 'an absolute device path, or "" for none'


# -- cross-checks against the installation: (db, value) -> None, raising ConfigError -----------
def edition_fits(db, points: int) -> None:
    """Lowering the edition must not leave more points of measure than it allows (manual 3)."""
    count = Device.select().count()
    if count > points:
        raise ConfigError("edition", "edition: the installation has {count} points of measure; "
                                     "delete {extra} before choosing the {points} edition",
                          count=count, extra=count - points, points=points)
    if points < 32 and Device.select().where(Device.eq == True).exists():  # noqa: E712
        raise ConfigError("edition", "edition: the EQ device function exists only in the 32 edition "
                                     "(4 149 48); clear the EQ devices first")


def network_fits(db, _value) -> None:
    """Address, mask and gateway make one usable subnet (manual 7.7.1).

    A gateway outside the subnet cannot be reached, and the subnet's first and last addresses
    are not a host's. The three are saved together by network.save_network; set one by one
    (the CLI), a move to another subnet changes the gateway ("" first, then the address)."""
    address = ipaddress.IPv4Address(get(db, "net.address"))
    net = ipaddress.IPv4Network(f"{address}/{get(db, 'net.mask')}", strict=False)
    hosts = dict(first=str(net.network_address + 1), last=str(net.broadcast_address - 1))
    if address == net.network_address:
        raise ConfigError("net.address", "the IP address {address} is the network address of the subnet "
                                         "{net}; allowed: {first} to {last}", address=str(address), net=str(net),
                          **hosts)
    if address == net.broadcast_address:
        raise ConfigError("net.address", "the IP address {address} is the broadcast address of the subnet "
                                         "{net}; allowed: {first} to {last}", address=str(address), net=str(net),
                          **hosts)
    gateway = get(db, "net.gateway")
    if not gateway:
        return
    gateway = ipaddress.IPv4Address(gateway)
    if gateway == address:
        raise ConfigError("net.gateway", "the default gateway cannot be the web server's own address "
                                         "{address}; allowed: another address from {first} to {last}, or none",
                          address=str(address), **hosts)
    if gateway not in net or gateway in (net.network_address, net.broadcast_address):
        raise ConfigError("net.gateway", "the default gateway {gateway} is not in the subnet {net} of the "
                                         "IP address and mask; allowed: {first} to {last}, or none",
                          gateway=str(gateway), net=str(net), **hosts)


@dataclass(frozen=True)
class Row:
    key: str
    default: str          # as text, through `parse` like any stored value
    parse: Callable[[str], Any]
    help: str
    check: Callable[[Any, Any], None] | None = None


SETTINGS: tuple[Row, ...] = (
    Row("serial.port", "", device_path,
        'RS485 serial device; "" = none: the daemon attaches its virtual installation'),
    Row("serial.baudrate", "19200", one_of(1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200),
        "RS485 speed, bit/s"),
    Row("serial.parity", "even", one_of("none", "even", "odd"), "RS485 parity"),
    Row("serial.stopbits", "1", one_of(1, 2), "RS485 stop bits"),
    Row("serial.timeout_ms", "300", whole(50, 5000, "ms"), "RS485 timeout: longest wait for an answer"),
    Row("serial.frame_interval_ms", "50", whole(0, 1000, "ms"),
        "quiet time between a Modbus answer and the next request"),
    Row("serial.frame_interval_sync", "on", boolean,
        "sync frame interval to gateways: at least 50 ms, 200 ms on a gateway with Green'Up stations"),
    Row("modbus_tcp.enabled", "off", boolean,
        "Modbus TCP server: RS485/IP gateway for other boxes and slave function (unit 247)"),
    Row("poll.interval_s", "10", whole(1, 600, "s"), "target period of the live-measure poll cycle"),
    Row("poll.status_interval_s", "60", one_of(3, 5, 10, 15, 30, 45, 60, 90, 120),
        "breaker status poll time, s (open/closed/tripped)"),
    Row("sample_rate_min", "10", one_of(1, 5, 10, 15, 30, 60),
        "data sample rate, minutes: recording of consumptions and statistics, CSV files"),
    Row("edition", "32", one_of(10, 32), "points of measure this box manages (4 149 47: 10, 4 149 48: 32)",
        edition_fits),
    Row("time.zone", "", time_zone,
        "installation time zone: days, months and years of the history are cut at its midnights"),
    Row("csv.field_separator", "semicolon", one_of("semicolon", "comma"), "CSV field separator (8.4.1)",
        separators_differ),
    Row("csv.decimal_separator", "comma", one_of("comma", "point"), "CSV decimal separator (8.4.1)",
        separators_differ),
    Row("ftp.password", "", ftp_password,
        'password of the FTP user "wsmeasure" (stored hashed; "" = factory password wsmeasure)'),
    Row("ftp.passive_ports", "60000-60099", port_range, "FTP passive data ports"),
    Row("ftp.max_connections", "10", whole(1, 50), "FTP: most simultaneous connections"),
    Row("net.address", "192.168.1.100", ipv4_host, "IPv4 address of the web server (7.5, 7.7.1)", network_fits),
    Row("net.mask", "255.255.255.0", netmask, "subnet mask (7.5, 7.7.1)", network_fits),
    Row("net.gateway", "192.168.1.1", ipv4_host_or_none, 'default gateway; "" = none', network_fits),
    Row("net.dns", "192.168.1.1", dns_servers, 'DNS servers, up to 3 ("a, b"); "" = none'),
    Row("time.ntp", "off", boolean, '"Automatic time settings": the clock is set from an NTP server (7.9)'),
    Row("time.ntp_server", "0.europe.pool.ntp.org", host, "NTP server: host name or IPv4 address (7.9)"),
    Row("time.sync_devices", "off", boolean,
        '"Sync device time": EMS CX3 interface clocks checked each hour, set when 10 min off (release notes)'),
    Row("language.default", "en", language, "default language of the web pages, from the next login (7.11.1)"),
    Row("web.session_idle_min", "15", whole(2, 240, "min"), "a web session idle this long is closed"),
    Row("bill.currency", "EUR", currency_code,
        "currency of the costs: the ISO 4217 code (7.16.3); stored costs are not converted when it changes"),
    Row("bill.gas_kwh_per_m3", "10.55", kwh_per_m3,
        "gas conversion factor, kWh per m3, from the gas supplier: gas shown also in equivalent kWh (7.16.3)"),
    Row("recorder.slot_s", "0", whole(0, 3600, "s"),
        "developers and tests only: slot length in seconds, overriding sample_rate_min when not 0"),
    Row("virtual.paced", "off", boolean, "virtual installation: bytes paced at the baud rate like a real line"),
    Row("virtual.seeded", "off", boolean, "the demo installation was added once (not added again)"),
)

BY_KEY: dict[str, Row] = {row.key: row for row in SETTINGS}


def row(key: str) -> Row:
    try:
        return BY_KEY[key]
    except KeyError:
        raise ConfigError("key", 'unknown setting "{key}"; settings: {keys}', key=key, keys=", ".join(BY_KEY)) from None


def parse(key: str, raw: str) -> Any:
    """The typed value of `raw` for `key`, or ConfigError naming the allowed values."""
    r = row(key)
    try:
        return r.parse(raw)
    except ValueError as exc:
        raise ConfigError(key, "{field}: {reason}", field=key, reason=reason(exc)) from None


def format_value(value: Any) -> str:
    """Canonical text: on/off for booleans, plain str otherwise (floats without trailing noise)."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        return str(int(value))
    return str(value)


def default(key: str) -> Any:
    return row(key).parse(row(key).default)


def _value(r: Row, stored: str | None) -> Any:
    if stored is None:
        return r.parse(r.default)
    try:
        return r.parse(stored)
    except ValueError:  # written by an older version or by hand: run on the default, say so
        log.warning("setting %s: stored value %r is not valid any more; using the default %r",
                    r.key, stored, r.default)
        return r.parse(r.default)


def get(db, key: str) -> Any:
    r = row(key)
    # plain SQL: read on every web request, where building the query with peewee costs more
    # than running it
    stored = db.execute_sql("SELECT value FROM setting WHERE key = ?", (key,)).fetchone()
    return _value(r, stored[0] if stored else None)


def set(db, key: str, raw: str) -> Any:  # noqa: A001 -- the module's verb, as in `config set`
    """Parse, check and store one setting in one transaction; returns the typed value."""
    value = parse(key, raw)
    r = row(key)
    with bound(db), db.atomic():
        Setting.replace(key=key, value=format_value(value)).execute()
        if r.check:  # after the write, so that checks see the new value; a refusal rolls it back
            r.check(db, value)
    return value


def all(db) -> dict[str, Any]:  # noqa: A001 -- settings.all(db), as the CLI's `config list`
    with bound(db):
        stored = {s.key: s.value for s in Setting.select()}
    return {r.key: _value(r, stored.get(r.key)) for r in SETTINGS}
