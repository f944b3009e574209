"""Consumptions in currency: the tariffs of app/tariffs.py as the pages need them.

The cost of each device's consumption is in data.db as counter-like quantities "cost:<tariff id>"
(integer millionths of the currency, tariffs.COST_SCALE), priced when a slot is written, so a cost
is read like an energy: aggregates.view(store, view, day, {"cost:3": [device ids], ...}). A deleted
tariff keeps its costs: the charts of the past still name and colour it.
"""

from __future__ import annotations

from wsmeasure import tariffs as bill

COST_SCALE = bill.COST_SCALE
KIND_OF = {counter: kind for kind, counter in bill.COUNTERS.items()}   # billed counter -> tariff kind


def tariffs(db, kind: str | None, deleted: bool = False) -> list[bill.Tariff]:
    """The tariffs of a kind (with deleted=True also the deleted ones); [] for no kind."""
    return bill.tariffs(db, kind, deleted=deleted) if kind in bill.KINDS else []


def priced(db, kind: str | None) -> bool:
    """Has this kind ever had a tariff (so that some of its consumption may have a cost)?"""
    return bool(kind in bill.KINDS and bill.cost_quantities(db, kind))


def currency(db) -> str:
    return bill.currency(db)


def decimals(code: str) -> int:
    return bill.minor_units(code)


def cost_selection(db, kind: str, devices) -> dict[str, tuple[int, ...]]:
    """The whole cost of `devices` for `kind` (every tariff it ever had)."""
    return bill.cost_selection(db, kind, devices) if devices else {}


def gas_kwh_per_m3(db) -> float | None:
    """bill.gas_kwh_per_m3: gas is also shown in kWh equivalent (dm3 x factor = Wh)."""
    factor = bill.gas_kwh_per_m3(db)
    return float(factor) if factor else None
