"""The virtual installation: simulated devices for a box with no RS485 device configured.

It answers for the devices declared on the Local gateway (so a device added on a developer
machine answers at once, like a real one wired correctly), and a first start seeds a demo
installation of several device kinds so that a newcomer sees live values at once.
"""

from __future__ import annotations

import logging

from wsmeasure.drivers.catalogue import family

log = logging.getLogger(__name__)

# The demo panel: one of each kind the drivers cover, as an installer would declare them.
DEMO = (
    dict(family="emdx3_meter", model="0 146 69", address=1, name="Main incomer"),
    dict(family="emdx3_meter", model="0 146 68", address=2, name="Lighting", load="lighting"),
    dict(family="emdx3_counter", model="4 120 91", address=3, name="Heating", load="heating"),
    dict(family="pulse_water", model="WATER", address=3, position=1, name="Water main",
         params={"concentrator": "4 120 91"}),
    dict(family="pulse_electricity", model="0 046 73", address=4, position=1, name="Kitchen",
         params={"concentrator": "0 046 87"}),
    dict(family="pulse_water", model="WATER", address=4, position=2, name="Hot water",
         params={"concentrator": "0 046 87"}),
    dict(family="pulse_gas", model="GAS", address=4, position=3, name="Gas boiler",
         params={"concentrator": "0 046 87"}),
    dict(family="generic", model="GENERIC", address=5, name="Third-party meter",
         params={"fn": 4, "register": 0x0048, "words": 2, "multiplier": 1000, "encoding": "F32",
                 "word_order": "high_first"}),
    dict(family="dpx3", model="DPX3 630 electronic with measurement", address=6, name="DPX3 630 general"),
    dict(family="ems_cx3", model="4 149 20", address=11, name="Ventilation", params={"supply": "upstream"}),
    dict(family="supervision", model="0 261 36", address=20, name="Signalling interface"),
)  # no Green'Up station: it would raise the frame interval to 200 ms for the whole demo


def build_twins(specs, clock=None) -> list:
    """One twin per Modbus address: devices sharing an address (pulse positions) share a twin."""
    by_unit: dict[int, list] = {}
    for spec in specs:
        try:
            driver = family(spec.family).driver_for(spec)
        except (KeyError, ValueError):  # unknown family, or parameters it refuses
            continue
        by_unit.setdefault(driver.unit, []).append(driver)
    twins = []
    for unit, drivers in sorted(by_unit.items()):
        twin_class = drivers[0].family.twin
        if twin_class is None:
            log.warning("no simulated twin for family %s (address %s)", drivers[0].family.key, unit)
            continue
        kw = {"clock": clock} if clock else {}
        factory = getattr(twin_class, "for_drivers", None)
        twins.append(factory(drivers, seed=unit, **kw) if factory else twin_class(drivers[0], seed=unit, **kw))
    return twins
