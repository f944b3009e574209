"""The installation as the CSV history sees it: plain, frozen data built once from config.db.

Frozen and comparable, so that the history can tell a changed configuration by `!=`
(settings files rewritten, versions of the aggregated files bumped).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from wsmeasure.drivers.catalogue import families

from . import groupings, installation
from .records import ENERGY, GAS, WATER, file_kind

log = logging.getLogger(__name__)

UTILITIES = (ENERGY, GAS, WATER)   # file_kind of a device's counter: which folder sums it


@dataclass(frozen=True)
class HistDevice:
    id: int
    name: str
    family: str
    model: str | None = None
    counter: str | None = "Ea+"          # the consumption it is billed on (Family.counter): Ea+, water, gas, None
    quantities: tuple[str, ...] = ()     # what its driver reads: the columns of its own files
    load: int | None = None              # None: "Others"
    groups: tuple[int, ...] = ()
    exclude_totals: bool = False
    gateway: int | None = None
    address: int | None = None
    position: int | None = None
    interface: int | None = None
    side: str | None = None
    enabled: bool = True

    @property
    def utility(self) -> str | None:
        """energy / gas / water: the folder its consumption is summed in; None: no consumption."""
        return file_kind(self.counter) if self.counter else None


@dataclass(frozen=True)
class HistGateway:
    id: int
    name: str
    kind: str
    address: str
    port: int = 502
    panel_board: int | None = None
    enabled: bool = True


@dataclass(frozen=True)
class Named:
    """A load, a measure group or a panel board."""

    id: int
    name: str
    kind: str = ""           # loads: predefined / others / utility / user
    description: str = ""
    enabled: bool = True


@dataclass(frozen=True)
class Installation:
    devices: tuple[HistDevice, ...] = ()
    gateways: tuple[HistGateway, ...] = ()
    loads: tuple[Named, ...] = ()
    groups: tuple[Named, ...] = ()
    panel_boards: tuple[Named, ...] = ()

    def device(self, device_id: int) -> HistDevice | None:
        return next((d for d in self.devices if d.id == device_id), None)

    def of_utility(self, utility: str) -> list[HistDevice]:
        return [d for d in self.devices if d.utility == utility]

    @property
    def others_load(self) -> int | None:
        """The "Others" load, where devices without a load are counted."""
        return next((n.id for n in self.loads if n.kind == groupings.OTHERS), None)

    def load_of(self, device: HistDevice) -> int | None:
        return device.load if device.load is not None else self.others_load


def _quantities(spec) -> tuple[str, ...]:
    """The quantities the device's driver reads (its model's variant), else its family's list."""
    fam = families().get(spec.family)
    if fam is None:
        return ()
    try:
        driver = fam.driver_for(spec)
        return tuple(dict.fromkeys(r.name for r in driver.measure_rows() + driver.status_rows()))
    except (ValueError, KeyError, TypeError) as exc:   # an unfinished configuration: whole family
        log.debug("device %s: driver rows unavailable (%s); using the family's quantities", spec.id, exc)
        return tuple(fam.quantities)


def installation_from_config(db) -> Installation:
    """Read the installation through the configuration's public read functions."""
    specs = {s.id: s for s in installation.all_devices(db)}
    devices = []
    for d in installation.devices(db):
        fam = families().get(d.family)
        devices.append(HistDevice(
            id=d.id, name=d.name, family=d.family, model=d.model,
            counter=fam.counter if fam else None,
            quantities=_quantities(specs[d.id]) if d.id in specs else (),
            load=d.load_id, groups=tuple(g.id for g in groupings.device_groups(db, d.id)),
            exclude_totals=bool(d.exclude_totals), gateway=d.gateway_id, address=d.address,
            position=d.position, interface=d.interface, side=d.side, enabled=bool(d.enabled)))
    return Installation(
        devices=tuple(devices),
        gateways=tuple(HistGateway(id=g.id, name=g.name, kind=g.kind, address=g.address, port=g.port,
                                   panel_board=g.panel_board_id, enabled=bool(g.enabled))
                       for g in installation.gateways(db)),
        loads=tuple(Named(id=n.id, name=n.name, kind=n.kind, enabled=bool(n.enabled)) for n in groupings.loads(db)),
        groups=tuple(Named(id=n.id, name=n.name, description=n.description, enabled=bool(n.enabled))
                     for n in groupings.groups(db)),
        panel_boards=tuple(Named(id=n.id, name=n.name, description=n.description, enabled=bool(n.enabled))
                           for n in groupings.panel_boards(db)),
    )


# -- the two files of settings/ (manual 8.4.3.6) --------------------------------------------------------
def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _named(rows, ident) -> str:
    row = next((r for r in rows if r.id == ident), None)
    return f"{row.name} [{row.id}]" if row else ""


def _label(family: str) -> str:
    fam = families().get(family)
    return fam.label if fam else family


GATEWAYS_DEVICES_HEADER = (
    "gateway ID", "gateway", "gateway kind", "IP address", "TCP port", "panel board", "gateway ON",
    "device ID", "device", "family", "catalogue number", "Modbus address", "pulse input", "EMS interface",
    "side", "load", "measure groups", "excluded from totals", "device ON")


def gateways_devices(inst: Installation) -> list[tuple]:
    """One row per device, with its gateway; a gateway without devices has a row of its own."""
    rows = [GATEWAYS_DEVICES_HEADER]
    for g in inst.gateways:
        gateway = (g.id, g.name, g.kind, g.address, g.port, _named(inst.panel_boards, g.panel_board), _yes(g.enabled))
        mine = [d for d in inst.devices if d.gateway == g.id]
        for d in mine:
            rows.append(gateway + (
                d.id, d.name, _label(d.family), d.model or "", d.address, d.position, d.interface, d.side or "",
                _named(inst.loads, inst.load_of(d)), " | ".join(_named(inst.groups, i) for i in d.groups),
                _yes(d.exclude_totals), _yes(d.enabled)))
        if not mine:
            rows.append(gateway + ("",) * (len(GATEWAYS_DEVICES_HEADER) - len(gateway)))
    return rows


GROUPINGS_HEADER = ("type", "ID", "name", "kind", "description", "ON", "members")


def loads_groups_panelboards(inst: Installation) -> list[tuple]:
    """One row per load, measure group and panel board, with its devices (gateways for boards)."""
    def members(items) -> str:
        return " | ".join(f"{m.name} [{m.id}]" for m in items)

    rows = [GROUPINGS_HEADER]
    for n in inst.loads:
        rows.append(("load", n.id, n.name, n.kind, n.description, _yes(n.enabled),
                     members(d for d in inst.devices if inst.load_of(d) == n.id)))
    for n in inst.groups:
        rows.append(("measure group", n.id, n.name, "", n.description, _yes(n.enabled),
                     members(d for d in inst.devices if n.id in d.groups)))
    for n in inst.panel_boards:
        rows.append(("panel board", n.id, n.name, "", n.description, _yes(n.enabled),
                     members(g for g in inst.gateways if g.panel_board == n.id)))
    return rows
