"""The catalogue: every family of manual section 5, keyed by family key and catalogue number.

Each family module holds its own table and ends with `FAMILY = Family(...)`; this module only
lists the modules, so adding a family is one line here and one module beside it.
"""

from __future__ import annotations

import importlib
from functools import cache

from .base import Family, Model

FAMILY_MODULES = (
    "emdx3_meter",
    "emdx3_counter",
    "pulse",
    "ems_cx3",
    "breakers",
    "supervision",
    "greenup",
    "generic",
    "wsmeasure_virtual",
)


@cache
def families() -> dict[str, Family]:
    out = {}
    for name in FAMILY_MODULES:
        module = importlib.import_module(f"{__package__}.{name}")
        for fam in getattr(module, "FAMILIES", None) or (module.FAMILY,):
            out[fam.key] = fam
    return out


def family(key: str) -> Family:
    try:
        return families()[key]
    except KeyError:
        raise KeyError(f"unknown device family {key!r}; known: {', '.join(families())}") from None


def find_model(cat_no: str) -> tuple[Family, Model] | None:
    """The family and model of a catalogue number ("0 146 68", "014668" and "0146 68" alike)."""
    wanted = cat_no.replace(" ", "")
    for fam in families().values():
        for key, model in fam.models.items():
            if key.replace(" ", "") == wanted:
                return fam, model
    return None
