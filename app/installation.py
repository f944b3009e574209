"""Gateways and devices (manual 7.16.1: declare, change, ON/OFF, delete, EQ device, default names)
and the reads the daemon and the pages use: the rows, and the specs the acquisition polls.

Every public function that writes is one transaction (transactions.py): a broken rule raises
ConfigError(field, message) and nothing is saved. Arguments may be Python values or the text of a
web form; None and "" both mean "not given" (fields.py). The rules on one device's own fields are
in device_fields.py; loads, measure groups and panel boards in groupings.py.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from wsmeasure.drivers.base import DeviceSpec
from wsmeasure.drivers.catalogue import families

from . import settings
from .device_fields import DEVICE_FIELDS, PARAM_FIELDS, device_values, still_applying
from .fields import by_id, check_id, choice, flag, free_name, given, given_or_free_name, integer, text
from .groupings import BUILTIN_LOADS, assign_groups, panel_board_id
from .messages import Msg
from .models import Device, Gateway, Load
from .settings import ConfigError
from .specs import IP, LOCAL, VIRTUAL, GatewaySpec
from .transactions import reads, writes

LOCAL_NAME = "Local"
LOCAL_ADDRESS = "127.0.0.1"
DEFAULT_PORT = 502
GATEWAY_CHANGES = ("name", "description", "address", "port", "panel_board")

__all__ = [
    "ConfigError", "seed",
    "add_gateway", "update_gateway", "set_gateway_enabled", "delete_gateway", "set_eq_device",
    "add_device", "update_device", "set_device_enabled", "set_device_groups", "delete_device",
    "local_gateway", "gateways", "devices", "is_on", "device_spec", "all_devices", "load_specs",
]


# -- seeding (db.open_config) ---------------------------------------------------------------------
@writes
def seed(db) -> None:
    """The "Local" gateway and the built-in loads, if missing (idempotent: looked up by kind / key)."""
    if not Gateway.select().where(Gateway.kind == LOCAL).exists():
        Gateway.create(kind=LOCAL, name=free_name(Gateway, LOCAL_NAME), address=LOCAL_ADDRESS,
                       port=DEFAULT_PORT)
    for key, kind, name in BUILTIN_LOADS:
        if not Load.select().where(Load.key == key).exists():
            Load.create(key=key, kind=kind, name=free_name(Load, name))


# -- gateways -------------------------------------------------------------------------------------
def _gateway(ident: Any) -> Gateway:
    return by_id(Gateway, ident, "gateway", "gateway")


def _ipv4(raw: Any, port: int = DEFAULT_PORT) -> str:
    if not given(raw):
        raise ConfigError("address", "the IP address of the gateway is required")
    typed = str(raw).strip()
    try:
        ip = ipaddress.IPv4Address(typed)
    except ValueError:
        raise ConfigError("address", '"{raw}" is not an IPv4 address like 192.168.1.20', raw=typed) from None
    # on the box, loopback port 502 is the box itself; another loopback port is another daemon on
    # the same machine (a developer's or a test's master and slave)
    if ip.is_loopback and port == DEFAULT_PORT:
        raise ConfigError("address", '{ip} is this box: its own RS485 port is the "{local}" gateway',
                          ip=str(ip), local=LOCAL_NAME)
    if ip.is_unspecified or ip.is_multicast or ip == ipaddress.IPv4Address("255.255.255.255"):
        raise ConfigError("address", "{ip} is not the address of one host", ip=str(ip))
    return str(ip)


def _gateway_values(kind: str, values: dict, gateway: Gateway | None) -> dict:
    gid = gateway.id if gateway else None
    if kind == LOCAL:
        if given(values.get("address")) and str(values["address"]).strip() != LOCAL_ADDRESS:
            raise ConfigError("address", 'the address of the "{local}" gateway is fixed ({address})',
                              local=LOCAL_NAME, address=LOCAL_ADDRESS)
        if given(values.get("port")) and integer(values["port"], "port", 1, 65535, Msg("the port")) != DEFAULT_PORT:
            raise ConfigError("port", 'the port of the "{local}" gateway is fixed ({port})', local=LOCAL_NAME,
                              port=DEFAULT_PORT)
        address, port = LOCAL_ADDRESS, DEFAULT_PORT
    else:
        port = integer(values.get("port") if given(values.get("port")) else DEFAULT_PORT,
                       "port", 1, 65535, Msg("the TCP port"))
        address = _ipv4(values.get("address"), port)
        # Same kind, same address and port: the same box declared twice. (A box can be both an IP
        # gateway for its RS485 devices and a virtual gateway for its energies: kinds may share.)
        other = Gateway.get_or_none((Gateway.kind == kind) & (Gateway.address == address)
                                    & (Gateway.port == port) & (Gateway.id != (gid or 0)))
        if other is not None:
            raise ConfigError("address", 'gateway "{other}" already has the address {address}', other=other.name,
                              address=address)
    out = dict(address=address, port=port,
               description=text(values.get("description"), "description"),
               panel_board=panel_board_id(values.get("panel_board"),
                                          gateway.panel_board_id if gateway else None))
    # manual: the IP address when the name is left empty
    out["name"] = given_or_free_name(Gateway, values.get("name"), address, gid, "gateway")
    return out


@writes
def add_gateway(db, address: Any, name: Any = "", description: Any = "", kind: str = IP,
                port: Any = DEFAULT_PORT, panel_board: Any = None, enabled: Any = True) -> Gateway:
    """A Modbus TCP gateway ("ip") or a slave wsmeasure box ("virtual")."""
    if str(kind).strip().lower() == LOCAL:
        raise ConfigError("kind", 'the "{local}" gateway exists once and is never added', local=LOCAL_NAME)
    kind = choice(kind, "kind", (IP, VIRTUAL), Msg("gateway kind"), default=IP)
    values = _gateway_values(kind, dict(address=address, name=name, description=description, port=port,
                                        panel_board=panel_board), None)
    gateway = Gateway.create(kind=kind, enabled=flag(enabled, "enabled", True), **values)
    check_id(gateway, "gateway")
    return gateway


@writes
def update_gateway(db, gateway_id: Any, **changes: Any) -> Gateway:
    """Change some of name, description, address, port, panel_board (the kind never changes)."""
    unknown = sorted(k for k in changes if k not in GATEWAY_CHANGES)
    if unknown:
        raise TypeError(f"update_gateway: unknown fields {unknown}; fields: {GATEWAY_CHANGES}")
    gateway = _gateway(gateway_id)
    current = dict(name=gateway.name, description=gateway.description, address=gateway.address,
                   port=gateway.port, panel_board=gateway.panel_board_id)
    values = _gateway_values(gateway.kind, {**current, **changes}, gateway)
    Gateway.update(**values).where(Gateway.id == gateway.id).execute()
    return Gateway.get_by_id(gateway.id)


@writes
def set_gateway_enabled(db, gateway_id: Any, on: Any) -> Gateway:
    """ON/OFF. OFF puts all its devices OFF; ON gives back each device its own state."""
    gateway = _gateway(gateway_id)
    gateway.enabled = flag(on, "enabled")
    gateway.save()
    return gateway


@writes
def delete_gateway(db, gateway_id: Any) -> None:
    gateway = _gateway(gateway_id)
    if gateway.kind == LOCAL:
        raise ConfigError("gateway", 'the "{name}" gateway (the RS485 port of this box) cannot be '
                                     "deleted; switch it OFF instead", name=gateway.name)
    count = Device.select().where(Device.gateway == gateway).count()
    if count:
        raise ConfigError("gateway", 'gateway "{name}" still has {count} device(s): delete them first',
                          name=gateway.name, count=count)
    gateway.delete_instance()


def _has_thd(model_no: str | None, family_key: str) -> bool:
    fam = families().get(family_key)
    model = fam.models.get(model_no) if fam and model_no else None
    return model is not None and bool({"thd", "harmonics"} & model.tags)


@writes
def set_eq_device(db, gateway_id: Any, device_id: Any) -> Gateway:
    """The gateway's EQ device (EN 50160 check): one device with THD on it, or none (device_id None)."""
    gateway = _gateway(gateway_id)
    device = None
    if given(device_id):
        if settings.get(db, "edition") < 32:
            raise ConfigError("eq", "the EQ device function exists only in the 32 edition (4 149 48)")
        device = by_id(Device, device_id, "eq", "device")
        if device.gateway_id != gateway.id:
            raise ConfigError("eq", 'device "{device}" is not on gateway "{gateway}"', device=device.name,
                              gateway=gateway.name)
        if not _has_thd(device.model, device.family):
            raise ConfigError("eq", 'device "{device}" does not measure THD: an EQ device must be a '
                                    "model with THD or THD + harmonics", device=device.name)
    Device.update(eq=False).where((Device.gateway == gateway) & (Device.eq == True)).execute()  # noqa: E712
    if device is not None:
        Device.update(eq=True).where(Device.id == device.id).execute()
    return gateway


# -- devices ----------------------------------------------------------------------------------------
def _device(ident: Any) -> Device:
    return by_id(Device, ident, "device", "device")


def _merge(fields: dict, params: dict | None) -> dict:
    """Fields given as keywords or in a `params` dict (as DeviceSpec carries them)."""
    unknown = sorted(k for k in fields if k not in DEVICE_FIELDS)
    if unknown:
        raise TypeError(f"unknown device fields {unknown}; fields: {DEVICE_FIELDS}")
    out = dict(fields)
    for key, value in (params or {}).items():
        if key not in PARAM_FIELDS:
            raise TypeError(f"unknown device parameter {key!r}; parameters: {PARAM_FIELDS}")
        if given(out.get(key)) and out[key] != value:
            raise TypeError(f"device parameter {key!r} given twice")
        out[key] = value
    return out


@writes
def add_device(db, gateway_id: Any, family: Any, model: Any = None, address: Any = None, name: Any = "", *,
               groups: Any = (), params: dict | None = None, enabled: Any = True, **fields: Any) -> Device:
    """Declare a device on a gateway. Fields: see DEVICE_FIELDS; parameters may also come in `params`."""
    gateway = _gateway(gateway_id)
    values = _merge(dict(family=family, model=model, address=address, name=name, **fields), params)
    edition, count = settings.get(db, "edition"), Device.select().count()
    if count >= edition:
        raise ConfigError("edition", "this box manages {edition} points of measure and {count} are declared: "
                                     "delete a device first", edition=edition, count=count)
    device = Device.create(gateway=gateway, enabled=flag(enabled, "enabled", True),
                           **device_values(gateway, values, None))
    check_id(device, "device")
    assign_groups(device, groups)
    return device


@writes
def update_device(db, device_id: Any, *, gateway: Any = None, groups: Any = None, params: dict | None = None,
                  **changes: Any) -> Device:
    """Change some fields of a device (all rules checked again). With a new family or model, the
    stored fields that do not apply to it are dropped; `groups`, when given, replaces the groups."""
    device = _device(device_id)
    changes = _merge(changes, params)
    target = _gateway(gateway) if given(gateway) else device.gateway
    current = {f: getattr(device, f) for f in DEVICE_FIELDS if f != "load"}
    current["load"] = device.load_id
    values = {**current, **changes}
    if values["family"] != device.family or values["model"] != device.model:
        values = {**still_applying(device, values), **changes}
    values = device_values(target, values, device)
    if device.eq and (target.id != device.gateway_id or not _has_thd(values["model"], values["family"])):
        raise ConfigError("eq", '"{device}" is the EQ device of its gateway: choose another EQ device '
                                "(or none) first", device=device.name)
    Device.update(gateway=target, **values).where(Device.id == device.id).execute()
    if groups is not None:
        assign_groups(device, groups)
    return Device.get_by_id(device.id)


@writes
def set_device_enabled(db, device_id: Any, on: Any) -> Device:
    """The device's own ON/OFF; it is polled only when its gateway is ON too."""
    device = _device(device_id)
    on = flag(on, "enabled")
    if on and not device.gateway.enabled:
        raise ConfigError("enabled", 'gateway "{gateway}" is OFF: switch the gateway ON first',
                          gateway=device.gateway.name)
    device.enabled = on
    device.save()
    return device


@writes
def set_device_groups(db, device_id: Any, groups: Any) -> None:
    assign_groups(_device(device_id), groups)


@writes
def delete_device(db, device_id: Any) -> None:
    """Its ID is never given again: it names the device's CSV history."""
    _device(device_id).delete_instance()   # groups go with it (CASCADE)


# -- reading ------------------------------------------------------------------------------------------
@reads
def local_gateway(db) -> Gateway:
    return Gateway.get(Gateway.kind == LOCAL)


@reads
def gateways(db) -> list[Gateway]:
    return list(Gateway.select().order_by(Gateway.id))


def _devices_of(gateway_id: Any):
    """Every device by ID, or those of one gateway."""
    query = Device.select().order_by(Device.id)
    if gateway_id is not None:
        query = query.where(Device.gateway == int(gateway_id))
    return query


@reads
def devices(db, gateway_id: Any = None) -> list[Device]:
    return list(_devices_of(gateway_id))


def is_on(device: Device, gateway: Gateway | None = None) -> bool:
    """Polled: ON itself and on a gateway that is ON (manual 7.16.1.5)."""
    return device.enabled and (gateway or device.gateway).enabled


def _spec(d: Device) -> DeviceSpec:
    params = {k: getattr(d, k) for k in PARAM_FIELDS if getattr(d, k) is not None}
    return DeviceSpec(id=d.id, family=d.family, model=d.model, address=d.address, position=d.position,
                      side=d.side, interface=d.interface, params=params, name=d.name)


@reads
def device_spec(db, device_id: Any) -> DeviceSpec | None:
    """Any device, ON or OFF (the "Test" button), or None."""
    device = Device.get_or_none(Device.id == int(device_id))
    return _spec(device) if device else None


@reads
def all_devices(db, gateway_id: Any = None) -> list[DeviceSpec]:
    """Every device, ON or OFF, as specs (status pages list the OFF ones too)."""
    return [_spec(d) for d in _devices_of(gateway_id)]


@reads
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
