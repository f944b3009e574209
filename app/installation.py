"""The installation and its rules: manual 7.16.1 (gateways, devices, ON/OFF, delete, default names)
and 7.16.2 (loads, measure groups, panel boards).

Every public function that writes is one transaction: a broken rule raises ConfigError(field,
message) and nothing is saved. Arguments may be Python values or the text of a web form;
None and "" both mean "not given". The rules read the driver catalogue's Family attributes
(addressing, fields, load, alerts, model tags and inputs), never specific family keys.

One address per bus (manual: "a different Modbus address for each device connected to the same
bus RS485"). Devices share a Modbus unit only as places of one physical device:
  - the inputs of one pulse concentrator / counter with pulse input (each position once, plus
    the counter itself, "position 0"),
  - the two sides A/B of one old-range two-sided station (same model),
  - the modules of one EMS CX3 interface in remote addressing ("module-interface": the bus
    unit is the interface),
  - the Remote IDs read from one slave box (unit 247 of a virtual gateway).
"""

from __future__ import annotations

import functools
import ipaddress
import math
from typing import Any

from wsmeasure.drivers.base import EMS, PHASES, PULSE, SIDE, SIDES, SUPPLY, DeviceSpec, Family, Model
from wsmeasure.drivers.base import VIRTUAL as REMOTE
from wsmeasure.drivers.catalogue import families, find_model
from wsmeasure.drivers.registers import ENCODINGS

from . import settings
from .models import NAME_MAX, TEXT_MAX, Device, DeviceGroup, Gateway, Load, MeasureGroup, PanelBoard, bound
from .settings import ConfigError, boolean
from .specs import IP, LOCAL, VIRTUAL, GatewaySpec

LOCAL_NAME = "Local"
LOCAL_ADDRESS = "127.0.0.1"
DEFAULT_PORT = 502
MAX_ADDRESS = 247            # Modbus slave addresses 1..247
SLAVE_UNIT = 247             # a slave box answers its master as unit 247 (manual 7.16.6.2)
MAX_ID = 9999                # Remote IDs are written 1XXXX (device), 2YYYY (load), 3ZZZZ (group)
ALL_LOADS = 29999            # Remote ID of "total of all electrical loads"
MAX_LOAD_ID = 9998           # so that 2YYYY never reaches 29999
MAX_GROUPS_PER_DEVICE = 5
MAX_USER_LOADS = 8           # 6 predefined + 8 user = the manual's 14 loads, plus "Others"

# Load kinds: predefined (RT 2012 uses), "Others" (devices without load), utility (assigned
# automatically to water and gas counters: Family.load), user (created by the installer).
PREDEFINED, OTHERS, UTILITY, USER = "predefined", "others", "utility", "user"
BUILTIN_LOADS = (
    # key                kind         name (the UI translates built-in loads by key)
    ("heating",          PREDEFINED, "Heating"),
    ("air_conditioning", PREDEFINED, "Air conditioning"),
    ("hot_water",        PREDEFINED, "Domestic hot water"),
    ("lighting",         PREDEFINED, "Lighting"),
    ("ventilation",      PREDEFINED, "Ventilation"),     # RT 2012 "auxiliaries"; the manual's example load
    ("sockets",          PREDEFINED, "Power sockets"),
    ("others",           OTHERS,     "Others"),
    ("water",            UTILITY,    "Water"),
    ("gas",              UTILITY,    "Gas"),
)

# Generic Modbus meter (manual: function, register, words, multiplier; encoding and word order added).
GENERIC_FUNCTIONS = (3, 4)
GENERIC_WORDS = (1, 2, 4)
DEFAULT_ENCODING = {1: "U16", 2: "U32", 4: "U64"}
WORD_ORDERS = ("high_first", "low_first")
GENERIC_FIELDS = ("fn", "register", "words", "multiplier", "encoding", "word_order")

# What a DeviceSpec carries in `params` for the drivers (only those that apply are set).
PARAM_FIELDS = ("supply", "phase", "concentrator", *GENERIC_FIELDS, "remote_id")
DEVICE_FIELDS = ("family", "model", "name", "address", "position", "side", "interface", "load",
                 "exclude_totals", "exclude_alerts", *PARAM_FIELDS)
__all__ = [
    "ConfigError", "seed",
    "add_gateway", "update_gateway", "set_gateway_enabled", "delete_gateway", "set_eq_device",
    "add_device", "update_device", "set_device_enabled", "set_device_groups", "delete_device",
    "add_load", "rename_load", "set_load_enabled", "erase_load",
    "add_group", "update_group", "set_group_enabled", "erase_group",
    "add_panel_board", "update_panel_board", "set_panel_board_enabled", "erase_panel_board",
    "local_gateway", "gateways", "devices", "device_groups", "loads", "groups", "panel_boards",
    "is_on", "device_spec", "all_devices", "load_specs",
]


def _writes(func):
    """One IMMEDIATE transaction per call, the models bound to the db given."""
    @functools.wraps(func)
    def wrapper(db, *args, **kwargs):
        with bound(db), db.atomic():
            return func(db, *args, **kwargs)
    return wrapper


def _reads(func):
    """One consistent snapshot per call, without taking the write lock."""
    @functools.wraps(func)
    def wrapper(db, *args, **kwargs):
        with bound(db), db.atomic("DEFERRED"):
            return func(db, *args, **kwargs)
    return wrapper


# -- seeding (db.open_config) ---------------------------------------------------------------------
@_writes
def seed(db) -> None:
    """The "Local" gateway and the built-in loads, if missing (idempotent: looked up by kind / key)."""
    if not Gateway.select().where(Gateway.kind == LOCAL).exists():
        Gateway.create(kind=LOCAL, name=_free_name(Gateway, LOCAL_NAME), address=LOCAL_ADDRESS,
                       port=DEFAULT_PORT)
    for key, kind, name in BUILTIN_LOADS:
        if not Load.select().where(Load.key == key).exists():
            Load.create(key=key, kind=kind, name=_free_name(Load, name))


# -- small parsers: form text or Python values in, clean values out ------------------------------
def _given(raw: Any) -> bool:
    return raw is not None and not (isinstance(raw, str) and not raw.strip())


def _absent(raw: Any, field: str, why: str) -> None:
    if _given(raw):
        raise ConfigError(field, why)


def _int(raw: Any, field: str, lo: int, hi: int, what: str) -> int:
    if isinstance(raw, bool) or isinstance(raw, float) and not raw.is_integer():
        raise ConfigError(field, f"{what} must be a whole number from {lo} to {hi}")
    try:
        value = int(raw) if isinstance(raw, (int, float)) else int(str(raw).strip())
    except ValueError:
        raise ConfigError(field, f'{what} must be a whole number from {lo} to {hi} (not "{raw}")') from None
    if not lo <= value <= hi:
        raise ConfigError(field, f"{what} must be from {lo} to {hi} (not {value})")
    return value


def _choice(raw: Any, field: str, allowed: tuple, what: str, default: Any = None) -> Any:
    """One of `allowed` (compared as text, without case); `default` when not given."""
    if not _given(raw):
        return default
    text = str(raw).strip().lower()
    for value in allowed:
        if str(value).lower() == text:
            return value
    raise ConfigError(field, f'{what} "{raw}" is not allowed; choose {", ".join(map(str, allowed))}')


def _flag(raw: Any, field: str, default: bool = False) -> bool:
    if not _given(raw):
        return default
    if isinstance(raw, bool):
        return raw
    try:
        return boolean(raw)
    except ValueError as exc:
        raise ConfigError(field, f"{field}: {exc}") from None


def _text(raw: Any, field: str, limit: int = TEXT_MAX) -> str:
    text = "" if raw is None else str(raw).strip()
    if len(text) > limit:
        raise ConfigError(field, f"{field} is {len(text)} characters long; at most {limit}")
    if any(ord(c) < 32 for c in text):
        raise ConfigError(field, f"{field} must be one line of text")
    return text


def _required_name(raw: Any, what: str) -> str:
    name = _text(raw, "name", NAME_MAX)
    if not name:
        raise ConfigError("name", f"a name is required for the {what}")
    return name


def _unique_name(model, name: str, exclude_id: int | None, what: str) -> str:
    query = model.select().where(model.name == name)   # the column compares without case
    if exclude_id is not None:
        query = query.where(model.id != exclude_id)
    other = query.first()
    if other is not None:
        raise ConfigError("name", f'the name "{name}" is already used by {what} {other.id} '
                                  f'("{other.name}"); names must differ')
    return name


def _free_name(model, base: str, exclude_id: int | None = None) -> str:
    """`base`, or "base (2)", "base (3)"... : the first one not used (default names stay unique)."""
    candidate, n = base, 1
    while True:
        query = model.select().where(model.name == candidate)
        if exclude_id is not None:
            query = query.where(model.id != exclude_id)
        if not query.exists():
            return candidate
        n += 1
        tail = f" ({n})"
        candidate = base[:NAME_MAX - len(tail)] + tail


def _get(model, ident: Any, field: str, what: str):
    """A row by ID (int or digits)."""
    try:
        row = model.get_or_none(model.id == int(str(ident).strip()))
    except ValueError:
        row = None
    if row is None:
        raise ConfigError(field, f'there is no {what} with ID "{ident}"')
    return row


def _lookup(model, raw: Any, field: str, what: str):
    """A row by ID, by key (built-in loads) or by name."""
    if isinstance(raw, model):
        return raw
    text = str(raw).strip()
    if text.isdigit():
        return _get(model, text, field, what)
    row = None
    if model is Load:
        row = Load.get_or_none(Load.key == text)
    row = row or model.get_or_none(model.name == text)
    if row is None:
        raise ConfigError(field, f'there is no {what} "{raw}"')
    return row


def _check_id(row, what: str, limit: int = MAX_ID) -> None:
    """Remote IDs have four digits: refuse (and roll back) past the last one."""
    if row.id > limit:
        raise ConfigError("id", f"no {what} IDs are left (the last one, {limit}, is used: IDs are never reused)")


# -- gateways -------------------------------------------------------------------------------------
def _ipv4(raw: Any) -> str:
    if not _given(raw):
        raise ConfigError("address", "the IP address of the gateway is required")
    text = str(raw).strip()
    try:
        ip = ipaddress.IPv4Address(text)
    except ValueError:
        raise ConfigError("address", f'"{text}" is not an IPv4 address like 192.168.1.20') from None
    if ip.is_loopback:
        raise ConfigError("address", f"{ip} is this box: its own RS485 port is the \"{LOCAL_NAME}\" gateway")
    if ip.is_unspecified or ip.is_multicast or ip == ipaddress.IPv4Address("255.255.255.255"):
        raise ConfigError("address", f"{ip} is not the address of one host")
    return str(ip)


def _panel_board(raw: Any, current_id: int | None) -> int | None:
    if not _given(raw):
        return None
    board = _lookup(PanelBoard, raw, "panel_board", "panel board")
    if not board.enabled and board.id != current_id:
        raise ConfigError("panel_board", f'the panel board "{board.name}" is disabled')
    return board.id


def _gateway_values(kind: str, values: dict, gateway: Gateway | None) -> dict:
    gid = gateway.id if gateway else None
    if kind == LOCAL:
        if _given(values.get("address")) and str(values["address"]).strip() != LOCAL_ADDRESS:
            raise ConfigError("address", f'the address of the "{LOCAL_NAME}" gateway is fixed ({LOCAL_ADDRESS})')
        if _given(values.get("port")) and _int(values["port"], "port", 1, 65535, "the port") != DEFAULT_PORT:
            raise ConfigError("port", f'the port of the "{LOCAL_NAME}" gateway is fixed ({DEFAULT_PORT})')
        address, port = LOCAL_ADDRESS, DEFAULT_PORT
    else:
        address = _ipv4(values.get("address"))
        port = _int(values.get("port") if _given(values.get("port")) else DEFAULT_PORT,
                    "port", 1, 65535, "the TCP port")
        # Same kind, same address: the same box declared twice. (A box can be both an IP gateway
        # for its RS485 devices and a virtual gateway for its energies: kinds may share.)
        other = Gateway.get_or_none((Gateway.kind == kind) & (Gateway.address == address)
                                    & (Gateway.id != (gid or 0)))
        if other is not None:
            raise ConfigError("address", f'gateway "{other.name}" already has the address {address}')
    out = dict(address=address, port=port,
               description=_text(values.get("description"), "description"),
               panel_board=_panel_board(values.get("panel_board"),
                                        gateway.panel_board_id if gateway else None))
    name = values.get("name")
    out["name"] = (_unique_name(Gateway, _text(name, "name", NAME_MAX), gid, "gateway") if _given(name)
                   else _free_name(Gateway, address, gid))   # manual: the IP address when left empty
    return out


@_writes
def add_gateway(db, address: Any, name: Any = "", description: Any = "", kind: str = IP,
                port: Any = DEFAULT_PORT, panel_board: Any = None, enabled: Any = True) -> Gateway:
    """A Modbus TCP gateway ("ip") or a slave wsmeasure box ("virtual")."""
    if str(kind).strip().lower() == LOCAL:
        raise ConfigError("kind", f'the "{LOCAL_NAME}" gateway exists once and is never added')
    kind = _choice(kind, "kind", (IP, VIRTUAL), "gateway kind", default=IP)
    values = _gateway_values(kind, dict(address=address, name=name, description=description, port=port,
                                        panel_board=panel_board), None)
    gateway = Gateway.create(kind=kind, enabled=_flag(enabled, "enabled", True), **values)
    _check_id(gateway, "gateway")
    return gateway


GATEWAY_CHANGES = ("name", "description", "address", "port", "panel_board")


@_writes
def update_gateway(db, gateway_id: Any, **changes: Any) -> Gateway:
    """Change some of name, description, address, port, panel_board (the kind never changes)."""
    unknown = sorted(k for k in changes if k not in GATEWAY_CHANGES)
    if unknown:
        raise TypeError(f"update_gateway: unknown fields {unknown}; fields: {GATEWAY_CHANGES}")
    gateway = _get(Gateway, gateway_id, "gateway", "gateway")
    current = dict(name=gateway.name, description=gateway.description, address=gateway.address,
                   port=gateway.port, panel_board=gateway.panel_board_id)
    values = _gateway_values(gateway.kind, {**current, **changes}, gateway)
    Gateway.update(**values).where(Gateway.id == gateway.id).execute()
    return Gateway.get_by_id(gateway.id)


@_writes
def set_gateway_enabled(db, gateway_id: Any, on: Any) -> Gateway:
    """ON/OFF. OFF puts all its devices OFF; ON gives back each device its own state."""
    gateway = _get(Gateway, gateway_id, "gateway", "gateway")
    gateway.enabled = _flag(on, "enabled")
    gateway.save()
    return gateway


@_writes
def delete_gateway(db, gateway_id: Any) -> None:
    gateway = _get(Gateway, gateway_id, "gateway", "gateway")
    if gateway.kind == LOCAL:
        raise ConfigError("gateway", f'the "{gateway.name}" gateway (the RS485 port of this box) cannot be '
                                     f"deleted; switch it OFF instead")
    count = Device.select().where(Device.gateway == gateway).count()
    if count:
        raise ConfigError("gateway", f'gateway "{gateway.name}" still has {count} device(s): delete them first')
    gateway.delete_instance()


def _has_thd(model_no: str | None, family_key: str) -> bool:
    fam = families().get(family_key)
    model = fam.models.get(model_no) if fam and model_no else None
    return model is not None and bool({"thd", "harmonics"} & model.tags)


@_writes
def set_eq_device(db, gateway_id: Any, device_id: Any) -> Gateway:
    """The gateway's EQ device (EN 50160 check): one device with THD on it, or none (device_id None)."""
    gateway = _get(Gateway, gateway_id, "gateway", "gateway")
    device = None
    if _given(device_id):
        if settings.get(db, "edition") < 32:
            raise ConfigError("eq", "the EQ device function exists only in the 32 edition (4 149 48)")
        device = _get(Device, device_id, "eq", "device")
        if device.gateway_id != gateway.id:
            raise ConfigError("eq", f'device "{device.name}" is not on gateway "{gateway.name}"')
        if not _has_thd(device.model, device.family):
            raise ConfigError("eq", f'device "{device.name}" does not measure THD: an EQ device must be a '
                                    f"model with THD or THD + harmonics")
    Device.update(eq=False).where((Device.gateway == gateway) & (Device.eq == True)).execute()  # noqa: E712
    if device is not None:
        Device.update(eq=True).where(Device.id == device.id).execute()
    return gateway


# -- devices: addressing ----------------------------------------------------------------------------
def _family(raw: Any) -> Family:
    """A family devices can be declared of (not a catalogue-only one such as the concentrators)."""
    addable = {k: f for k, f in families().items() if f.addable}
    key = str(raw or "").strip()
    if key not in addable:
        raise ConfigError("family", f'"{key}" is not a device family; families: {", ".join(addable)}')
    return addable[key]


def _model(fam: Family, raw: Any) -> Model | None:
    """A model of the family, or None: the manual lets it be left out ("Configuration")."""
    if not _given(raw):
        return None
    wanted = str(raw).replace(" ", "")
    for cat_no, model in fam.models.items():
        if cat_no.replace(" ", "") == wanted:
            return model
    raise ConfigError("model", f'"{raw}" is not a model of {fam.label}; models: {", ".join(fam.models) or "none"}')


def _modbus_address(raw: Any, what: str = "the Modbus address") -> int:
    if not _given(raw):
        raise ConfigError("address", f"{what} (1 to {MAX_ADDRESS}) is required")
    return _int(raw, "address", 1, MAX_ADDRESS, what)


def _ems_address(raw: Any, interface: Any) -> tuple[int, int | None]:
    """EMS CX3: a local address ("15"), or "module-interface" in remote addressing ("2-1")."""
    if isinstance(raw, str) and "-" in raw:
        _absent(interface, "interface", 'give the interface in the address ("module-interface", like 2-1)')
        module, _, iface = raw.strip().partition("-")
        return (_modbus_address(module, "the module address"),
                _modbus_address(iface, "the interface address"))
    address = _modbus_address(raw)
    return address, (_modbus_address(interface, "the interface address") if _given(interface) else None)


def _concentrators() -> str:
    return ", ".join(sorted({m.cat_no for f in families().values() for m in f.models.values() if m.inputs}))


def _concentrator(raw: Any) -> Model:
    if not _given(raw):
        raise ConfigError("concentrator", f"choose the concentrator or counter with pulse input: {_concentrators()}")
    found = find_model(str(raw))
    if found is None or not found[1].inputs:
        raise ConfigError("concentrator", f'"{raw}" has no pulse inputs; concentrators and counters with '
                                          f"pulse input: {_concentrators()}")
    return found[1]


def _remote_id(raw: Any) -> int:
    """1XXXX device, 2YYYY load, 3ZZZZ group of the slave; 29999 (or "all") = all electrical loads."""
    if isinstance(raw, str) and raw.strip().lower() == "all":
        return ALL_LOADS
    if not _given(raw):
        raise ConfigError("remote_id", 'the Remote ID is required: 1XXXX (device), 2YYYY (load), '
                                       '3ZZZZ (measure group) or "all"')
    value = _int(raw, "remote_id", 10001, 39999, "the Remote ID")
    if value % 10000 == 0:
        raise ConfigError("remote_id", f"{value} names no object: IDs start at 1 (1XXXX, 2YYYY, 3ZZZZ)")
    return value


def _addressing(fam: Family, model: Model | None, v: dict) -> dict:
    how = fam.addressing
    out = dict(address=None, position=None, side=None, interface=None, concentrator=None, remote_id=None)
    if how == REMOTE:
        if _given(v.get("address")) and _int(v["address"], "address", 1, MAX_ADDRESS, "the address") != SLAVE_UNIT:
            raise ConfigError("address", f"a virtual device is read at address {SLAVE_UNIT} (filled automatically)")
        out["address"], out["remote_id"] = SLAVE_UNIT, _remote_id(v.get("remote_id"))
    elif how == EMS:
        out["address"], out["interface"] = _ems_address(v.get("address"), v.get("interface"))
    else:
        out["address"] = _modbus_address(v.get("address"))
    if how != REMOTE:
        _absent(v.get("remote_id"), "remote_id", "a Remote ID applies only to virtual devices (master/slave)")
    if how != EMS:
        _absent(v.get("interface"), "interface", "an interface applies only to EMS CX3 modules")

    if how == PULSE:
        conc = _concentrator(v.get("concentrator"))
        out["concentrator"] = conc.cat_no
        if not _given(v.get("position")):
            raise ConfigError("position", f"the position (input 1 to {conc.inputs} of {conc.cat_no}) is required")
        out["position"] = _int(v["position"], "position", 1, conc.inputs, f"the position on {conc.cat_no}")
    else:
        _absent(v.get("position"), "position", "a position applies only to counters with pulse output")
        _absent(v.get("concentrator"), "concentrator", "a concentrator applies only to counters with pulse output")

    two_sides = model is not None and "two_sides" in model.tags
    if how == SIDE and (two_sides or model is None):
        out["side"] = _choice(v.get("side"), "side", SIDES, "side")
        if two_sides and out["side"] is None:
            raise ConfigError("side", "the side (A or B) is required for a two-sided station")
    else:
        _absent(v.get("side"), "side", "a side applies only to two-sided charging stations (old range)")
    return out


def _slot(family_key: str, model_no: str | None, a: dict) -> tuple[int, tuple | None, Any]:
    """(unit on the bus, what may share that unit, place within it): see the module docstring."""
    fam = families().get(family_key)
    how = fam.addressing if fam else None
    if how == PULSE:
        return a["address"], ("inputs", a["concentrator"]), a["position"]
    if how == SIDE and a["side"]:
        return a["address"], ("station", family_key, model_no), a["side"]
    if how == EMS and a["interface"]:
        return a["interface"], ("ems",), a["address"]
    if how == REMOTE:
        return SLAVE_UNIT, ("remote",), a["remote_id"]
    model = fam.models.get(model_no) if fam and model_no else None
    if model is not None and model.inputs:
        return a["address"], ("inputs", model.cat_no), 0
    return a["address"], None, None


SLOT_FIELDS = ("address", "position", "side", "interface", "concentrator", "remote_id")


def _check_bus(gateway: Gateway, family_key: str, model_no: str | None, a: dict, device_id: int | None) -> None:
    unit, key, place = _slot(family_key, model_no, a)
    others = Device.select().where((Device.gateway == gateway) & (Device.id != (device_id or 0)))
    for other in others:
        o_unit, o_key, o_place = _slot(other.family, other.model, {f: getattr(other, f) for f in SLOT_FIELDS})
        if o_unit != unit:
            continue
        if key is None or o_key != key:
            raise ConfigError("address", f'address {unit} is already used on gateway "{gateway.name}" by '
                                         f'"{other.name}"; devices share an address only as the inputs of one '
                                         f"pulse concentrator or the two sides of one station")
        if o_place == place:
            raise ConfigError(*_same_place(key, place, unit, other.name))


def _same_place(key: tuple, place: Any, unit: int, other: str) -> tuple[str, str]:
    """(field, message) for two devices declared at the same place of one physical device."""
    kind = key[0]
    if kind == "inputs" and place:
        return "position", f'position {place} of {key[1]} at address {unit} is already used by "{other}"'
    if kind == "inputs":
        return "address", f'{key[1]} at address {unit} is already declared ("{other}")'
    if kind == "station":
        return "side", f'side {place} of the station at address {unit} is already declared ("{other}")'
    if kind == "ems":
        return "address", f'module {place} of the interface at address {unit} is already declared ("{other}")'
    return "remote_id", f'Remote ID {place} is already read from this slave by "{other}"'


def _address_label(a: dict) -> str:
    """The manual's default device name: address, address-position, address-side (module-interface)."""
    if a["remote_id"] is not None:
        return f"{SLAVE_UNIT}-{a['remote_id']}"
    for extra in ("position", "side", "interface"):
        if a[extra] is not None:
            return f"{a['address']}-{a[extra]}"
    return str(a["address"])


# -- devices: options -------------------------------------------------------------------------------
def _register(raw: Any) -> int:
    """Hexadecimal, as the meter makers print it: "C652", "0xC652", "c652h" (an int is taken as is)."""
    if not _given(raw):
        raise ConfigError("register", "the register of the positive active energy (hexadecimal) is required")
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    else:
        text = str(raw).strip().lower().removeprefix("0x").removesuffix("h")
        try:
            value = int(text, 16)
        except ValueError:
            raise ConfigError("register", f'register "{raw}" is not hexadecimal (like C652 or 0x0048)') from None
    if not 0 <= value <= 0xFFFF:
        raise ConfigError("register", f"register {value:X} is out of range (0000 to FFFF)")
    return value


def _multiplier(raw: Any) -> float:
    if not _given(raw):
        return 1.0
    try:
        value = float(raw) if isinstance(raw, (int, float)) else float(str(raw).strip().replace(",", "."))
    except ValueError:
        raise ConfigError("multiplier", f'multiplier "{raw}" is not a number') from None
    if value == 0 or not math.isfinite(value):
        raise ConfigError("multiplier", "the multiplier must be a number other than 0")
    return value


def _generic(v: dict) -> dict:
    out = dict(fn=_choice(v.get("fn"), "fn", GENERIC_FUNCTIONS, "read function", default=3),
               register=_register(v.get("register")),
               words=_choice(v.get("words"), "words", GENERIC_WORDS, "word count"),
               encoding=_choice(v.get("encoding"), "encoding", tuple(ENCODINGS), "encoding"),
               multiplier=_multiplier(v.get("multiplier")),
               word_order=_choice(v.get("word_order"), "word_order", WORD_ORDERS, "word order",
                                  default=WORD_ORDERS[0]))
    if out["words"] is None:
        out["words"] = ENCODINGS[out["encoding"]].words if out["encoding"] else 2
    if out["encoding"] is None:
        out["encoding"] = DEFAULT_ENCODING[out["words"]]
    if ENCODINGS[out["encoding"]].words != out["words"]:
        fitting = ", ".join(k for k, f in ENCODINGS.items() if f.words == out["words"])
        raise ConfigError("encoding", f'{out["encoding"]} takes {ENCODINGS[out["encoding"]].words} word(s), '
                                      f'not {out["words"]}; with {out["words"]} word(s): {fitting}')
    if out["register"] + out["words"] - 1 > 0xFFFF:
        raise ConfigError("register", f'{out["words"]} words from register {out["register"]:04X} go past FFFF')
    return out


def _options(fam: Family, model: Model | None, v: dict) -> dict:
    out = dict(supply=None, phase=None, **dict.fromkeys(GENERIC_FIELDS))
    if "supply" in fam.fields:
        out["supply"] = _choice(v.get("supply"), "supply", SUPPLY, "supply", default=SUPPLY[0])
    else:
        _absent(v.get("supply"), "supply", f"the supply direction does not apply to {fam.label}")

    single = model is not None and "single_phase" in model.tags
    if "phase" in fam.fields and (single or model is None):
        out["phase"] = _choice(v.get("phase"), "phase", PHASES, "phase")
        if single and out["phase"] is None:
            raise ConfigError("phase", "the phase (L1, L2 or L3) is required for a single-phase station")
    else:
        _absent(v.get("phase"), "phase", "a phase applies only to single-phase charging stations")

    if "generic" in fam.fields:
        out.update(_generic(v))
    else:
        for f in GENERIC_FIELDS:
            _absent(v.get(f), f, f"{f} applies only to the generic Modbus meter")
    return out


def _device_load(fam: Family, raw: Any, current_id: int | None) -> int | None:
    if fam.load:  # water and gas counters: the load is assigned automatically (manual 7.16.1.3)
        auto = Load.get_or_none(Load.key == fam.load)
        if auto is None:
            raise ConfigError("load", f'the "{fam.load}" load is missing from this installation')
        if _given(raw) and _lookup(Load, raw, "load", "load").id != auto.id:
            raise ConfigError("load", f'the load of {fam.label} is "{auto.name}", assigned automatically')
        return auto.id
    if not _given(raw):
        return None
    load = _lookup(Load, raw, "load", "load")
    if load.kind == UTILITY:
        raise ConfigError("load", f'the "{load.name}" load is assigned automatically to {load.key} counters only')
    if load.kind == OTHERS:
        return None   # "Others" is where devices without a load are shown: one way to say it
    if not load.enabled and load.id != current_id:
        raise ConfigError("load", f'the load "{load.name}" is disabled')
    return load.id


def _device_values(gateway: Gateway, v: dict, device: Device | None) -> dict:
    """Every rule that reads one device's own fields; the clean column values."""
    fam = _family(v.get("family"))
    model = _model(fam, v.get("model"))
    if (fam.addressing == REMOTE) != (gateway.kind == VIRTUAL):
        raise ConfigError("family", f'{fam.label} cannot be on gateway "{gateway.name}": virtual devices '
                                    f"are read from slave boxes (virtual gateways), and only there")
    out = dict(family=fam.key, model=model.cat_no if model else None)
    out.update(_addressing(fam, model, v))
    out.update(_options(fam, model, v))
    out["exclude_totals"] = _flag(v.get("exclude_totals"), "exclude_totals")
    out["exclude_alerts"] = _flag(v.get("exclude_alerts"), "exclude_alerts")
    if out["exclude_alerts"] and not fam.alerts:
        raise ConfigError("exclude_alerts", f'"exclude alerts" does not apply to {fam.label}')
    out["load"] = _device_load(fam, v.get("load"), device.load_id if device else None)
    _check_bus(gateway, fam.key, out["model"], out, device.id if device else None)
    name = v.get("name")
    out["name"] = (_unique_name(Device, _text(name, "name", NAME_MAX), device.id if device else None, "device")
                   if _given(name) else _free_name(Device, _address_label(out), device.id if device else None))
    return out


def _merge(fields: dict, params: dict | None) -> dict:
    """Fields given as keywords or in a `params` dict (as DeviceSpec carries them)."""
    unknown = sorted(k for k in fields if k not in DEVICE_FIELDS)
    if unknown:
        raise TypeError(f"unknown device fields {unknown}; fields: {DEVICE_FIELDS}")
    out = dict(fields)
    for key, value in (params or {}).items():
        if key not in PARAM_FIELDS:
            raise TypeError(f"unknown device parameter {key!r}; parameters: {PARAM_FIELDS}")
        if _given(out.get(key)) and out[key] != value:
            raise TypeError(f"device parameter {key!r} given twice")
        out[key] = value
    return out


def _set_groups(device: Device, raw_groups: Any) -> None:
    chosen = []
    for raw in raw_groups or ():
        if not _given(raw):
            continue
        group = _lookup(MeasureGroup, raw, "groups", "measure group")
        if group.id not in [g.id for g in chosen]:
            chosen.append(group)
    if len(chosen) > MAX_GROUPS_PER_DEVICE:
        raise ConfigError("groups", f"a device is in at most {MAX_GROUPS_PER_DEVICE} measure groups "
                                    f"({len(chosen)} chosen)")
    current = {m.group_id for m in DeviceGroup.select().where(DeviceGroup.device == device)}
    for group in chosen:
        if not group.enabled and group.id not in current:
            raise ConfigError("groups", f'the measure group "{group.name}" is disabled')
    DeviceGroup.delete().where(DeviceGroup.device == device).execute()
    if chosen:
        DeviceGroup.insert_many([{"device": device.id, "group": g.id} for g in chosen]).execute()


@_writes
def add_device(db, gateway_id: Any, family: Any, model: Any = None, address: Any = None, name: Any = "", *,
               groups: Any = (), params: dict | None = None, enabled: Any = True, **fields: Any) -> Device:
    """Declare a device on a gateway. Fields: see DEVICE_FIELDS; parameters may also come in `params`."""
    gateway = _get(Gateway, gateway_id, "gateway", "gateway")
    values = _merge(dict(family=family, model=model, address=address, name=name, **fields), params)
    edition, count = settings.get(db, "edition"), Device.select().count()
    if count >= edition:
        raise ConfigError("edition", f"this box manages {edition} points of measure and {count} are declared: "
                                     f"delete a device first")
    device = Device.create(gateway=gateway, enabled=_flag(enabled, "enabled", True),
                           **_device_values(gateway, values, None))
    _check_id(device, "device")
    _set_groups(device, groups)
    return device


def _applicable(fam: Family, model: Model | None) -> set[str]:
    """The device fields a family/model takes (what _addressing and _options accept)."""
    fields = {"family", "model", "name", "address", "load", "exclude_totals"}
    how = fam.addressing
    fields |= {PULSE: {"position", "concentrator"}, EMS: {"interface"}, REMOTE: {"remote_id"}}.get(how, set())
    if how == SIDE and (model is None or "two_sides" in model.tags):
        fields.add("side")
    if "supply" in fam.fields:
        fields.add("supply")
    if "phase" in fam.fields and (model is None or "single_phase" in model.tags):
        fields.add("phase")
    if "generic" in fam.fields:
        fields.update(GENERIC_FIELDS)
    if fam.alerts:
        fields.add("exclude_alerts")
    return fields


def _still_applying(device: Device, values: dict) -> dict:
    """A device's stored fields that still apply to its new family/model (an invalid new family
    or model is left for _device_values to refuse)."""
    try:
        fam = _family(values["family"])
        keep = _applicable(fam, _model(fam, values["model"]))
    except ConfigError:
        return values
    old = families().get(device.family)
    if old is not None and old.load and fam.load != old.load:
        values = {**values, "load": None}   # the water/gas load came with the old family
    return {k: v for k, v in values.items() if k in keep}


@_writes
def update_device(db, device_id: Any, *, gateway: Any = None, groups: Any = None, params: dict | None = None,
                  **changes: Any) -> Device:
    """Change some fields of a device (all rules checked again). With a new family or model, the
    stored fields that do not apply to it are dropped; `groups`, when given, replaces the groups."""
    device = _get(Device, device_id, "device", "device")
    changes = _merge(changes, params)
    target = _get(Gateway, gateway, "gateway", "gateway") if _given(gateway) else device.gateway
    current = {f: getattr(device, f) for f in DEVICE_FIELDS if f != "load"}
    current["load"] = device.load_id
    values = {**current, **changes}
    if values["family"] != device.family or values["model"] != device.model:
        values = {**_still_applying(device, values), **changes}
    values = _device_values(target, values, device)
    if device.eq and (target.id != device.gateway_id or not _has_thd(values["model"], values["family"])):
        raise ConfigError("eq", f'"{device.name}" is the EQ device of its gateway: choose another EQ device '
                                f"(or none) first")
    Device.update(gateway=target, **values).where(Device.id == device.id).execute()
    if groups is not None:
        _set_groups(device, groups)
    return Device.get_by_id(device.id)


@_writes
def set_device_enabled(db, device_id: Any, on: Any) -> Device:
    """The device's own ON/OFF; it is polled only when its gateway is ON too."""
    device = _get(Device, device_id, "device", "device")
    on = _flag(on, "enabled")
    if on and not device.gateway.enabled:
        raise ConfigError("enabled", f'gateway "{device.gateway.name}" is OFF: switch the gateway ON first')
    device.enabled = on
    device.save()
    return device


@_writes
def set_device_groups(db, device_id: Any, groups: Any) -> None:
    _set_groups(_get(Device, device_id, "device", "device"), groups)


@_writes
def delete_device(db, device_id: Any) -> None:
    """Its ID is never given again: it names the device's CSV history."""
    _get(Device, device_id, "device", "device").delete_instance()   # groups go with it (CASCADE)


# -- loads ------------------------------------------------------------------------------------------
@_writes
def add_load(db, name: Any) -> Load:
    users = Load.select().where(Load.kind == USER).count()
    if users >= MAX_USER_LOADS:
        raise ConfigError("load", f"at most {MAX_USER_LOADS} loads can be added to the 6 predefined ones "
                                  f"(14 in all): erase or reuse one")
    load = Load.create(kind=USER, name=_unique_name(Load, _required_name(name, "load"), None, "load"))
    _check_id(load, "load", MAX_LOAD_ID)
    return load


def _user_load(load_id: Any, action: str) -> Load:
    load = _get(Load, load_id, "load", "load")
    if load.kind != USER:
        raise ConfigError("load", f'"{load.name}" is a built-in load: it cannot be {action} (only disabled)')
    return load


@_writes
def rename_load(db, load_id: Any, name: Any) -> Load:
    load = _user_load(load_id, "renamed")
    load.name = _unique_name(Load, _required_name(name, "load"), load.id, "load")
    load.save()
    return load


@_writes
def set_load_enabled(db, load_id: Any, on: Any) -> Load:
    load = _get(Load, load_id, "load", "load")
    on = _flag(on, "enabled")
    if not on and load.kind == OTHERS:
        raise ConfigError("load", f'"{load.name}" shows the devices without a load: it cannot be disabled')
    load.enabled = on
    load.save()
    return load


@_writes
def erase_load(db, load_id: Any) -> None:
    """User loads only; their devices go back to "Others"."""
    _user_load(load_id, "erased").delete_instance()


# -- measure groups and panel boards: add, rename, disable, erase -----------------------------------
def _add_named(model, what: str, name: Any, description: Any):
    row = model.create(name=_unique_name(model, _required_name(name, what), None, what),
                       description=_text(description, "description"))
    _check_id(row, what)
    return row


def _update_named(model, what: str, ident: Any, name: Any, description: Any):
    row = _get(model, ident, what.replace(" ", "_"), what)
    if name is not None:
        row.name = _unique_name(model, _required_name(name, what), row.id, what)
    if description is not None:
        row.description = _text(description, "description")
    row.save()
    return row


def _set_enabled(model, what: str, ident: Any, on: Any):
    row = _get(model, ident, what.replace(" ", "_"), what)
    row.enabled = _flag(on, "enabled")
    row.save()
    return row


@_writes
def add_group(db, name: Any, description: Any = "") -> MeasureGroup:
    return _add_named(MeasureGroup, "measure group", name, description)


@_writes
def update_group(db, group_id: Any, name: Any = None, description: Any = None) -> MeasureGroup:
    return _update_named(MeasureGroup, "measure group", group_id, name, description)


@_writes
def set_group_enabled(db, group_id: Any, on: Any) -> MeasureGroup:
    """A disabled group keeps its devices; it is not offered for new assignments."""
    return _set_enabled(MeasureGroup, "measure group", group_id, on)


@_writes
def erase_group(db, group_id: Any) -> None:
    _get(MeasureGroup, group_id, "measure_group", "measure group").delete_instance()


@_writes
def add_panel_board(db, name: Any, description: Any = "") -> PanelBoard:
    return _add_named(PanelBoard, "panel board", name, description)


@_writes
def update_panel_board(db, board_id: Any, name: Any = None, description: Any = None) -> PanelBoard:
    return _update_named(PanelBoard, "panel board", board_id, name, description)


@_writes
def set_panel_board_enabled(db, board_id: Any, on: Any) -> PanelBoard:
    return _set_enabled(PanelBoard, "panel board", board_id, on)


@_writes
def erase_panel_board(db, board_id: Any) -> None:
    """Its gateways are left in no panel board."""
    _get(PanelBoard, board_id, "panel_board", "panel board").delete_instance()


# -- reading ------------------------------------------------------------------------------------------
@_reads
def local_gateway(db) -> Gateway:
    return Gateway.get(Gateway.kind == LOCAL)


@_reads
def gateways(db) -> list[Gateway]:
    return list(Gateway.select().order_by(Gateway.id))


@_reads
def devices(db, gateway_id: Any = None) -> list[Device]:
    query = Device.select().order_by(Device.id)
    if gateway_id is not None:
        query = query.where(Device.gateway == int(gateway_id))
    return list(query)


@_reads
def device_groups(db, device_id: Any) -> list[MeasureGroup]:
    return list(MeasureGroup.select().join(DeviceGroup).where(DeviceGroup.device == int(device_id))
                .order_by(MeasureGroup.id))


@_reads
def loads(db) -> list[Load]:
    return list(Load.select().order_by(Load.id))


@_reads
def groups(db) -> list[MeasureGroup]:
    return list(MeasureGroup.select().order_by(MeasureGroup.id))


@_reads
def panel_boards(db) -> list[PanelBoard]:
    return list(PanelBoard.select().order_by(PanelBoard.id))


def is_on(device: Device, gateway: Gateway | None = None) -> bool:
    """Polled: ON itself and on a gateway that is ON (manual 7.16.1.5)."""
    return device.enabled and (gateway or device.gateway).enabled


def _spec(d: Device) -> DeviceSpec:
    params = {k: getattr(d, k) for k in PARAM_FIELDS if getattr(d, k) is not None}
    return DeviceSpec(id=d.id, family=d.family, model=d.model, address=d.address, position=d.position,
                      side=d.side, interface=d.interface, params=params, name=d.name)


@_reads
def device_spec(db, device_id: Any) -> DeviceSpec | None:
    """Any device, ON or OFF (the "Test" button), or None."""
    device = Device.get_or_none(Device.id == int(device_id))
    return _spec(device) if device else None


@_reads
def all_devices(db, gateway_id: Any = None) -> list[DeviceSpec]:
    """Every device, ON or OFF, as specs (status pages list the OFF ones too)."""
    query = Device.select().order_by(Device.id)
    if gateway_id is not None:
        query = query.where(Device.gateway == int(gateway_id))
    return [_spec(d) for d in query]


@_reads
def load_specs(db) -> list[GatewaySpec]:
    """Every gateway (with `enabled`); in `devices` only the devices that are ON on a gateway that is ON."""
    specs = {g.id: GatewaySpec(id=g.id, name=g.name, kind=g.kind, address=g.address, port=g.port,
                               enabled=g.enabled)
             for g in Gateway.select().order_by(Gateway.id)}
    polled = (Device.select().join(Gateway)
              .where((Device.enabled == True) & (Gateway.enabled == True))  # noqa: E712
              .order_by(Device.id))
    for device in polled:
        specs[device.gateway_id].devices.append(_spec(device))
    return list(specs.values())
