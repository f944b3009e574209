"""The catalogue covers section 5 of the manual, and every family's rows are sound."""

import re
from pathlib import Path

import pytest

from wsmeasure.drivers.base import DeviceSpec
from wsmeasure.drivers.catalogue import FAMILY_MODULES, families, find_model
from wsmeasure.drivers.quantities import QUANTITIES

MANUAL = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "002_db27d7c1c3e6e254.txt"


def test_every_family_module_loads():
    import importlib

    for name in FAMILY_MODULES:
        importlib.import_module(f"wsmeasure.drivers.{name}")  # a typo would hide a whole family
    assert len(families()) >= 15


@pytest.mark.skipif(not MANUAL.exists(), reason="the manual is in ../shared")
def test_every_device_catalogue_number_of_section_5_is_known():
    text = MANUAL.read_text()
    section = text[text.index("### 5.1 Measuring"):text.index("## 6. Preliminary")]
    numbers = set()
    for group in re.findall(r"\b(\d \d{3} \d{2}(?:/\d{2})*)", section):
        first, *more = group.split("/")
        numbers |= {first} | {first[:-2] + m for m in more}
    comms = {"4 210 75", "0 288 05", "4 149 40", "0 590 56"}  # communication modules, not devices
    unknown = sorted(n for n in numbers - comms if find_model(n) is None)
    assert not unknown


@pytest.mark.parametrize("key", sorted(families()))
def test_rows_name_known_quantities_and_fit_in_a_read(key):
    fam = families()[key]
    assert set(fam.quantities) <= set(QUANTITIES)
    for cat_no in fam.models:
        spec = DeviceSpec(1, key, cat_no, 1, position=1, side="A",
                          params={"concentrator": "0 046 87", "fn": 3, "register": 0, "words": 2,
                                  "multiplier": 1, "remote_id": 10001})
        try:
            driver = fam.driver_for(spec)
            rows = driver.measure_rows() + driver.status_rows()
        except ValueError:
            continue  # parameters this family refuses (its own tests cover them)
        assert {r.name for r in rows} <= set(QUANTITIES)
        assert all(1 <= r.count <= 125 for r in driver.reads(rows))
