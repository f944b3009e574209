"""The fields of one device (manual 7.16.1): family and model, addressing on the bus, options, load
and default name; `device_values` checks them all and gives the clean column values.

The rules read the driver catalogue's Family attributes (addressing, fields, load, alerts, model
tags and inputs), never specific family keys. A field that does not apply to the family or model
is refused, not ignored.

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

from typing import Any

from wsmeasure.drivers.base import EMS, PHASES, PULSE, SIDE, SIDES, SUPPLY, Family, Model
from wsmeasure.drivers.base import VIRTUAL as REMOTE
from wsmeasure.drivers.catalogue import families, find_model
from wsmeasure.drivers.registers import ENCODINGS

from .fields import absent, choice, flag, given, given_or_free_name, integer, multiplier, register
from .groupings import device_load_id
from .messages import Msg
from .models import Device, Gateway
from .settings import ConfigError
from .specs import VIRTUAL

MAX_ADDRESS = 247            # Modbus slave addresses 1..247
SLAVE_UNIT = 247             # a slave box answers its master as unit 247 (manual 7.16.6.2)
ALL_LOADS = 29999            # Remote ID of "total of all electrical loads"

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
SLOT_FIELDS = ("address", "position", "side", "interface", "concentrator", "remote_id")


# -- family and model -------------------------------------------------------------------------------
def _family(raw: Any) -> Family:
    """A family devices can be declared of (not a catalogue-only one such as the concentrators)."""
    addable = {k: f for k, f in families().items() if f.addable}
    key = str(raw or "").strip()
    if key not in addable:
        raise ConfigError("family", '"{key}" is not a device family; families: {families}', key=key,
                          families=", ".join(addable))
    return addable[key]


def _model(fam: Family, raw: Any) -> Model | None:
    """A model of the family, or None: the manual lets it be left out ("Configuration")."""
    if not given(raw):
        return None
    wanted = str(raw).replace(" ", "")
    for cat_no, model in fam.models.items():
        if cat_no.replace(" ", "") == wanted:
            return model
    raise ConfigError("model", '"{raw}" is not a model of {family}; models: {models}', raw=raw,
                      family=Msg(fam.label), models=", ".join(fam.models) or Msg("none"))


# -- addressing -------------------------------------------------------------------------------------
def _modbus_address(raw: Any, what: Msg = Msg("the Modbus address")) -> int:
    if not given(raw):
        raise ConfigError("address", "{what} (1 to {max}) is required", what=what, max=MAX_ADDRESS)
    return integer(raw, "address", 1, MAX_ADDRESS, what)


def _ems_address(raw: Any, interface: Any) -> tuple[int, int | None]:
    """EMS CX3: a local address ("15"), or "module-interface" in remote addressing ("2-1")."""
    if isinstance(raw, str) and "-" in raw:
        absent(interface, "interface", Msg('give the interface in the address ("module-interface", like 2-1)'))
        module, _, iface = raw.strip().partition("-")
        return (_modbus_address(module, Msg("the module address")),
                _modbus_address(iface, Msg("the interface address")))
    address = _modbus_address(raw)
    return address, (_modbus_address(interface, Msg("the interface address")) if given(interface) else None)


def _concentrators() -> str:
    return ", ".join(sorted({m.cat_no for f in families().values() for m in f.models.values() if m.inputs}))


def _concentrator(raw: Any) -> Model:
    if not given(raw):
        raise ConfigError("concentrator", "choose the concentrator or counter with pulse input: {models}",
                          models=_concentrators())
    found = find_model(str(raw))
    if found is None or not found[1].inputs:
        raise ConfigError("concentrator", '"{raw}" has no pulse inputs; concentrators and counters with '
                                          "pulse input: {models}", raw=raw, models=_concentrators())
    return found[1]


def _remote_id(raw: Any) -> int:
    """1XXXX device, 2YYYY load, 3ZZZZ group of the slave; 29999 (or "all") = all electrical loads."""
    if isinstance(raw, str) and raw.strip().lower() == "all":
        return ALL_LOADS
    if not given(raw):
        raise ConfigError("remote_id", 'the Remote ID is required: 1XXXX (device), 2YYYY (load), '
                                       '3ZZZZ (measure group) or "all"')
    value = integer(raw, "remote_id", 10001, 39999, Msg("the Remote ID"))
    if value % 10000 == 0:
        raise ConfigError("remote_id", "{value} names no object: IDs start at 1 (1XXXX, 2YYYY, 3ZZZZ)", value=value)
    return value


def _addressing(fam: Family, model: Model | None, v: dict) -> dict:
    how = fam.addressing
    out = dict(address=None, position=None, side=None, interface=None, concentrator=None, remote_id=None)
    if how == REMOTE:
        if given(v.get("address")) and \
                integer(v["address"], "address", 1, MAX_ADDRESS, Msg("the address")) != SLAVE_UNIT:
            raise ConfigError("address", "a virtual device is read at address {unit} (filled automatically)",
                              unit=SLAVE_UNIT)
        out["address"], out["remote_id"] = SLAVE_UNIT, _remote_id(v.get("remote_id"))
    elif how == EMS:
        out["address"], out["interface"] = _ems_address(v.get("address"), v.get("interface"))
    else:
        out["address"] = _modbus_address(v.get("address"))
    if how != REMOTE:
        absent(v.get("remote_id"), "remote_id", Msg("a Remote ID applies only to virtual devices (master/slave)"))
    if how != EMS:
        absent(v.get("interface"), "interface", Msg("an interface applies only to EMS CX3 modules"))

    if how == PULSE:
        conc = _concentrator(v.get("concentrator"))
        out["concentrator"] = conc.cat_no
        if not given(v.get("position")):
            raise ConfigError("position", "the position (input 1 to {inputs} of {model}) is required",
                              inputs=conc.inputs, model=conc.cat_no)
        out["position"] = integer(v["position"], "position", 1, conc.inputs,
                                  Msg("the position on {model}", model=conc.cat_no))
    else:
        absent(v.get("position"), "position", Msg("a position applies only to counters with pulse output"))
        absent(v.get("concentrator"), "concentrator", Msg("a concentrator applies only to counters with pulse output"))

    two_sides = model is not None and "two_sides" in model.tags
    if how == SIDE and (two_sides or model is None):
        out["side"] = choice(v.get("side"), "side", SIDES, Msg("side"))
        if two_sides and out["side"] is None:
            raise ConfigError("side", "the side (A or B) is required for a two-sided station")
    else:
        absent(v.get("side"), "side", Msg("a side applies only to two-sided charging stations (old range)"))
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


def _check_bus(gateway: Gateway, family_key: str, model_no: str | None, a: dict, device_id: int | None) -> None:
    unit, key, place = _slot(family_key, model_no, a)
    others = Device.select().where((Device.gateway == gateway) & (Device.id != (device_id or 0)))
    for other in others:
        o_unit, o_key, o_place = _slot(other.family, other.model, {f: getattr(other, f) for f in SLOT_FIELDS})
        if o_unit != unit:
            continue
        if key is None or o_key != key:
            raise ConfigError("address", 'address {unit} is already used on gateway "{gateway}" by '
                                         '"{other}"; devices share an address only as the inputs of one '
                                         "pulse concentrator or the two sides of one station",
                              unit=unit, gateway=gateway.name, other=other.name)
        if o_place == place:
            raise ConfigError(*_same_place(key, place, unit, other.name))


def _same_place(key: tuple, place: Any, unit: int, other: str) -> tuple[str, Msg]:
    """(field, message) for two devices declared at the same place of one physical device."""
    kind = key[0]
    if kind == "inputs" and place:
        return "position", Msg('position {place} of {model} at address {unit} is already used by "{other}"',
                               place=place, model=key[1], unit=unit, other=other)
    if kind == "inputs":
        return "address", Msg('{model} at address {unit} is already declared ("{other}")',
                              model=key[1], unit=unit, other=other)
    if kind == "station":
        return "side", Msg('side {place} of the station at address {unit} is already declared ("{other}")',
                           place=place, unit=unit, other=other)
    if kind == "ems":
        return "address", Msg('module {place} of the interface at address {unit} is already declared ("{other}")',
                              place=place, unit=unit, other=other)
    return "remote_id", Msg('Remote ID {place} is already read from this slave by "{other}"', place=place, other=other)


def _address_label(a: dict) -> str:
    """The manual's default device name: address, address-position, address-side (module-interface)."""
    if a["remote_id"] is not None:
        return f"{SLAVE_UNIT}-{a['remote_id']}"
    for extra in ("position", "side", "interface"):
        if a[extra] is not None:
            return f"{a['address']}-{a[extra]}"
    return str(a["address"])


# -- options ----------------------------------------------------------------------------------------
def _generic(v: dict) -> dict:
    out = dict(fn=choice(v.get("fn"), "fn", GENERIC_FUNCTIONS, Msg("read function"), default=3),
               register=register(v.get("register")),
               words=choice(v.get("words"), "words", GENERIC_WORDS, Msg("word count")),
               encoding=choice(v.get("encoding"), "encoding", tuple(ENCODINGS), Msg("encoding")),
               multiplier=multiplier(v.get("multiplier")),
               word_order=choice(v.get("word_order"), "word_order", WORD_ORDERS, Msg("word order"),
                                 default=WORD_ORDERS[0]))
    if out["words"] is None:
        out["words"] = ENCODINGS[out["encoding"]].words if out["encoding"] else 2
    if out["encoding"] is None:
        out["encoding"] = DEFAULT_ENCODING[out["words"]]
    if ENCODINGS[out["encoding"]].words != out["words"]:
        fitting = ", ".join(k for k, f in ENCODINGS.items() if f.words == out["words"])
        raise ConfigError("encoding", "{encoding} takes {takes} word(s), not {words}; with {words} word(s): "
                                      "{fitting}", encoding=out["encoding"], takes=ENCODINGS[out["encoding"]].words,
                          words=out["words"], fitting=fitting)
    if out["register"] + out["words"] - 1 > 0xFFFF:
        raise ConfigError("register", "{words} words from register {register} go past FFFF", words=out["words"],
                          register=f'{out["register"]:04X}')
    return out


def _options(fam: Family, model: Model | None, v: dict) -> dict:
    out = dict(supply=None, phase=None, **dict.fromkeys(GENERIC_FIELDS))
    if "supply" in fam.fields:
        out["supply"] = choice(v.get("supply"), "supply", SUPPLY, Msg("supply"), default=SUPPLY[0])
    else:
        absent(v.get("supply"), "supply", Msg("the supply direction does not apply to {family}",
                                              family=Msg(fam.label)))

    single = model is not None and "single_phase" in model.tags
    if "phase" in fam.fields and (single or model is None):
        out["phase"] = choice(v.get("phase"), "phase", PHASES, Msg("phase"))
        if single and out["phase"] is None:
            raise ConfigError("phase", "the phase (L1, L2 or L3) is required for a single-phase station")
    else:
        absent(v.get("phase"), "phase", Msg("a phase applies only to single-phase charging stations"))

    if "generic" in fam.fields:
        out.update(_generic(v))
    else:
        for f in GENERIC_FIELDS:
            absent(v.get(f), f, Msg("{field} applies only to the generic Modbus meter", field=f))
    return out


# -- one device, all fields ---------------------------------------------------------------------------
def device_values(gateway: Gateway, v: dict, device: Device | None) -> dict:
    """Every rule that reads one device's own fields; the clean column values."""
    fam = _family(v.get("family"))
    model = _model(fam, v.get("model"))
    if (fam.addressing == REMOTE) != (gateway.kind == VIRTUAL):
        raise ConfigError("family", '{family} cannot be on gateway "{gateway}": virtual devices '
                                    "are read from slave boxes (virtual gateways), and only there",
                          family=Msg(fam.label), gateway=gateway.name)
    out = dict(family=fam.key, model=model.cat_no if model else None)
    out.update(_addressing(fam, model, v))
    out.update(_options(fam, model, v))
    out["exclude_totals"] = flag(v.get("exclude_totals"), "exclude_totals")
    out["exclude_alerts"] = flag(v.get("exclude_alerts"), "exclude_alerts")
    if out["exclude_alerts"] and not fam.alerts:
        raise ConfigError("exclude_alerts", '"exclude alerts" does not apply to {family}', family=Msg(fam.label))
    out["load"] = device_load_id(fam, v.get("load"), device.load_id if device else None)
    _check_bus(gateway, fam.key, out["model"], out, device.id if device else None)
    out["name"] = given_or_free_name(Device, v.get("name"), _address_label(out), device.id if device else None,
                                     "device")
    return out


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


def still_applying(device: Device, values: dict) -> dict:
    """A device's stored fields that still apply to its new family/model (an invalid new family
    or model is left for device_values to refuse)."""
    try:
        fam = _family(values["family"])
        keep = _applicable(fam, _model(fam, values["model"]))
    except ConfigError:
        return values
    old = families().get(device.family)
    if old is not None and old.load and fam.load != old.load:
        values = {**values, "load": None}   # the water/gas load came with the old family
    return {k: v for k, v in values.items() if k in keep}
