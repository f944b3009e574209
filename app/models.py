"""The tables of config.db: settings and the installation (gateways, devices, loads, groups, panel boards),
and the bill of consumptions (tariffs, their prices, cost rules).

The rules live in `installation.py`, `device_fields.py`, `groupings.py`, `tariffs.py` and `settings.py`; these
classes only say what is stored.
Models are bound to a database by `db.open_config`; `bound(db)` runs code against another
open config.db in the same process (a test's second connection, a restore check).

IDs use SQLite AUTOINCREMENT: an ID is never handed out twice, even after its row is deleted.
A device's ID names its CSV history folder and all IDs are "Remote IDs" a master box reads
(manual 7.16.6.2), so a new object must never inherit the ID of an erased one.
"""

from __future__ import annotations

import contextlib

from peewee import (BooleanField, CharField, CompositeKey, DateField, FloatField, ForeignKeyField,
                    IntegerField, Model, TextField)
from playhouse.sqlite_ext import AutoIncrementField

SCHEMA_VERSION = 1   # PRAGMA user_version; bump with a migration step in db.py

NAME_MAX = 64        # names are unique per kind of object, compared without case
TEXT_MAX = 200       # descriptions / locations


def _name() -> CharField:
    return CharField(max_length=NAME_MAX, unique=True, collation="NOCASE")


class Base(Model):
    class Meta:
        database = None          # bound by db.open_config
        legacy_table_names = False


class Setting(Base):
    """One row per setting changed from its default (see settings.SETTINGS)."""

    key = CharField(primary_key=True)
    value = TextField()


class PanelBoard(Base):
    id = AutoIncrementField()
    name = _name()
    description = TextField(default="")
    enabled = BooleanField(default=True)


class Load(Base):
    id = AutoIncrementField()
    key = CharField(null=True, unique=True)   # built-in loads only: heating, ..., others, water, gas
    kind = CharField()                        # predefined / others / utility / user (installation.py)
    name = _name()
    enabled = BooleanField(default=True)


class MeasureGroup(Base):
    id = AutoIncrementField()
    name = _name()
    description = TextField(default="")
    enabled = BooleanField(default=True)


class Gateway(Base):
    id = AutoIncrementField()
    kind = CharField()                        # specs.LOCAL / IP / VIRTUAL
    name = _name()
    description = TextField(default="")
    address = CharField()                     # IPv4; 127.0.0.1 for the Local gateway
    port = IntegerField(default=502)
    enabled = BooleanField(default=True)
    panel_board = ForeignKeyField(PanelBoard, null=True, on_delete="SET NULL", backref="gateways")


class Device(Base):
    id = AutoIncrementField()
    gateway = ForeignKeyField(Gateway, on_delete="RESTRICT", backref="devices")
    family = CharField()                      # catalogue family key
    model = CharField(null=True)              # catalogue number; None: "Configuration" (not chosen)
    name = _name()
    address = IntegerField()                  # Modbus address; EMS remote addressing: the module
    position = IntegerField(null=True)        # pulse input of the concentrator
    side = CharField(null=True)               # A/B: two-sided stations, old range
    interface = IntegerField(null=True)       # EMS remote addressing: the interface address
    concentrator = CharField(null=True)       # catalogue number of the concentrator / counter with pulse input
    remote_id = IntegerField(null=True)       # virtual devices: 1XXXX device, 2YYYY load, 3ZZZZ group
    load = ForeignKeyField(Load, null=True, on_delete="SET NULL", backref="devices")  # None: "Others"
    supply = CharField(null=True)             # upstream / downstream
    phase = CharField(null=True)              # L1 / L2 / L3
    fn = IntegerField(null=True)              # generic meter: read function 3/4
    register = IntegerField(null=True)
    words = IntegerField(null=True)
    multiplier = FloatField(null=True)
    encoding = CharField(null=True)
    word_order = CharField(null=True)         # high_first / low_first
    exclude_totals = BooleanField(default=False)
    exclude_alerts = BooleanField(default=False)
    eq = BooleanField(default=False)          # the gateway's "EQ device" (EN 50160 check)
    enabled = BooleanField(default=True)      # the device's own switch; its gateway's switch is on Gateway


# At most one EQ device per gateway, also for writers that bypass installation.py. Named: the
# default name would be that of the foreign key's index, and IF NOT EXISTS would skip it.
Device.add_index(Device.index(Device.gateway, unique=True, where=(Device.eq == True),  # noqa: E712
                              name="device_one_eq_per_gateway"))


class User(Base):
    """A person who logs in to the pages (manual 8.1): the PIN says who, the PUK confirms it.

    Codes are stored hashed (secrets.py); `pages` lists the page keys of users.PAGES this user
    may open; `admin` users (administrator, greenUp) manage the users. A disabled user keeps
    their row and cannot log in.
    """

    id = AutoIncrementField()
    name = _name()
    pin_hash = TextField()
    puk_hash = TextField()
    pages = TextField(default="")             # comma-separated page keys
    admin = BooleanField(default=False)
    enabled = BooleanField(default=True)
    factory_codes = BooleanField(default=False)   # still the PIN/PUK printed in the manual


class DeviceGroup(Base):
    device = ForeignKeyField(Device, on_delete="CASCADE", backref="memberships")
    group = ForeignKeyField(MeasureGroup, on_delete="CASCADE", backref="memberships")

    class Meta:
        primary_key = CompositeKey("device", "group")


class Tariff(Base):
    """A tariff of one energy kind (manual 7.16.3): up to 5 live ones per kind, each with up to 5
    dated prices. "Deleting" one only marks it: the costs priced with it stay in data.db under
    `cost:<id>` and the pages still name and colour them (tariffs.py)."""

    id = AutoIncrementField()
    kind = CharField()                        # electricity / gas / water (tariffs.KINDS)
    name = CharField(max_length=NAME_MAX, collation="NOCASE")   # unique per kind among the live ones
    colour = CharField(max_length=7)          # "#rrggbb": histograms and charts
    deleted = BooleanField(default=False)


Tariff.add_index(Tariff.index(Tariff.kind, Tariff.name, unique=True, where=(Tariff.deleted == False),  # noqa: E712
                              name="tariff_live_name_per_kind"))


class TariffPrice(Base):
    """One price of a tariff, valid from a date (None: a tariff's only price, valid always)."""

    tariff = ForeignKeyField(Tariff, on_delete="CASCADE", backref="prices")
    valid_from = DateField(null=True)
    price = IntegerField()                    # 1e-5 of the currency per kWh (electricity) or per m3 (gas, water)


class CostRule(Base):
    """A cost rule (manual 7.16.3): which tariff prices a slot, evaluated top-down per kind by
    `position`; the DEFAULT rule of a kind (is_default) is always last and always holds."""

    id = AutoIncrementField()
    kind = CharField()
    position = IntegerField(default=0)
    is_default = BooleanField(default=False)
    tariff = ForeignKeyField(Tariff, null=True, on_delete="RESTRICT", backref="rules")   # None: no cost
    date_from = DateField(null=True)          # validity: None = always; date_to None = that day only
    date_to = DateField(null=True)
    repeat = BooleanField(default=False)      # the period's days and months, every year
    time_from = IntegerField(default=0)       # time frame, minutes after local midnight, both ends
    time_to = IntegerField(default=1439)      # included (00:00-18:59); time_from > time_to crosses midnight
    weekdays = IntegerField(default=127)      # bit 0 Monday ... bit 6 Sunday


CostRule.add_index(CostRule.index(CostRule.kind, unique=True, where=(CostRule.is_default == True),  # noqa: E712
                                  name="cost_rule_one_default_per_kind"))


MODELS = (Setting, PanelBoard, Load, MeasureGroup, Gateway, Device, DeviceGroup, User, Tariff, TariffPrice,
          CostRule)


@contextlib.contextmanager
def bound(db):
    """Run the block with the models bound to `db` (a no-op for the database open_config bound)."""
    if Setting._meta.database is db:
        yield
    else:
        with db.bind_ctx(MODELS):
            yield
