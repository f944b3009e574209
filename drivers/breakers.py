"""Circuit breakers: DPX3 and DX3 RCD add-on modules via 4 210 75, DMX3 via 0 288 05.

verified: false -- the tables of the communication modules 4 210 75 and 0 288 05 are not
public. The maps below are our own, plausible for the quantities the manual lists (section 5:
breaker state open/closed/tripped; energies, powers and currents for the versions with a
measurement unit); a table from the real modules replaces the `*_4210` or `*_0288` rows here.
Both modules: holding registers (function 3), big-endian, 32/64-bit values high word first.

Three families, as the manual's procedure names them ("Circuit-breakers DPX3 - DMX3 and DX3 RCD
add-on modules"): `dpx3`, `dmx3`, `dx3`. Models are keyed by what the installer picks: the
catalogue number where the manual gives one (DMX3 protection units, DX3 add-on modules, the
release notes' 4 23 890), else a description ("DPX3 250 electronic with measurement").
Tags choose the rows: `measure` (currents, voltages, powers), `counting` (energies), `leakage`
(residual current).

The breaker state is read at the "status poll time" (state_rows), measures at the sample rate.
Supply (manual 7.16.1): fed from the bottom is "downstream": powers change sign and imported/
exported energies swap, as for EMS CX3 (`ems_cx3.invert_supply`).
"Exclude alerts" applies to DPX3 and DMX3 (manual 7.16.1.4); the manual does not list DX3.
"""

from __future__ import annotations

import time

from .base import MODBUS, Family, models
from .ems_cx3 import SupplyDriver, SupplyTwin
from .registers import S16, S32, U16, U32, U64, Reg
from .state_twins import breaker_position
from .twins import load_factor

# -- communication module 4 210 75 (DPX3, DX3) --------------------------------------------------
STATE_4210 = (
    # address  name       fmt  scale
    Reg(0x0100, "breaker", U16),          # 0 open, 1 closed, 2 tripped
    Reg(0x0101, "alarm",   U16),          # bit 0 overload pre-alarm, bit 1 trip unit fault
)
MEASURE_4210 = (
    Reg(0x0200, "I1",      U32, 0.001),   # mA
    Reg(0x0202, "I2",      U32, 0.001),
    Reg(0x0204, "I3",      U32, 0.001),
    Reg(0x0206, "In",      U32, 0.001),
    Reg(0x0208, "V1",      U32, 0.01),
    Reg(0x020A, "V2",      U32, 0.01),
    Reg(0x020C, "V3",      U32, 0.01),
    Reg(0x020E, "U12",     U32, 0.01),
    Reg(0x0210, "U23",     U32, 0.01),
    Reg(0x0212, "U31",     U32, 0.01),
    Reg(0x0214, "F",       U16, 0.01),
    Reg(0x0216, "P",       S32, 1),       # W
    Reg(0x0218, "P1",      S32, 1),
    Reg(0x021A, "P2",      S32, 1),
    Reg(0x021C, "P3",      S32, 1),
    Reg(0x021E, "Q",       S32, 1),       # var
    Reg(0x0220, "Q1",      S32, 1),
    Reg(0x0222, "Q2",      S32, 1),
    Reg(0x0224, "Q3",      S32, 1),
    Reg(0x0226, "S",       U32, 1),       # VA
    Reg(0x0228, "S1",      U32, 1),
    Reg(0x022A, "S2",      U32, 1),
    Reg(0x022C, "S3",      U32, 1),
    Reg(0x022E, "PF",      S16, 0.001),
    Reg(0x022F, "PF1",     S16, 0.001),
    Reg(0x0230, "PF2",     S16, 0.001),
    Reg(0x0231, "PF3",     S16, 0.001),
)
LEAKAGE_4210 = (
    Reg(0x0240, "leakage", U32, 1),       # mA (RCD)
)
ENERGY_4210 = (
    Reg(0x0300, "Ea+",     U64, 1),       # Wh
    Reg(0x0304, "Ea-",     U64, 1),
    Reg(0x0308, "Er+",     U64, 1),       # varh
    Reg(0x030C, "Er-",     U64, 1),
)

# -- communication module 0 288 05 (DMX3) -------------------------------------------------------
STATE_0288 = (
    # address  name       fmt  scale
    Reg(0x0010, "breaker", U16),          # 0 open, 1 closed, 2 tripped
    Reg(0x0011, "alarm",   U16),          # bit 0 overload pre-alarm, bit 1 trip unit fault
)
MEASURE_0288 = (
    Reg(0x1000, "I1",      U32, 0.001),   # mA
    Reg(0x1002, "I2",      U32, 0.001),
    Reg(0x1004, "I3",      U32, 0.001),
    Reg(0x1006, "In",      U32, 0.001),
    Reg(0x1008, "U12",     U32, 0.01),
    Reg(0x100A, "U23",     U32, 0.01),
    Reg(0x100C, "U31",     U32, 0.01),
    Reg(0x100E, "V1",      U32, 0.01),
    Reg(0x1010, "V2",      U32, 0.01),
    Reg(0x1012, "V3",      U32, 0.01),
    Reg(0x1014, "F",       U32, 0.01),
    Reg(0x1016, "P",       S32, 10),      # 0.01 kW: an air circuit breaker carries megawatts
    Reg(0x1018, "P1",      S32, 10),
    Reg(0x101A, "P2",      S32, 10),
    Reg(0x101C, "P3",      S32, 10),
    Reg(0x101E, "Q",       S32, 10),      # 0.01 kvar
    Reg(0x1020, "Q1",      S32, 10),
    Reg(0x1022, "Q2",      S32, 10),
    Reg(0x1024, "Q3",      S32, 10),
    Reg(0x1026, "S",       U32, 10),      # 0.01 kVA
    Reg(0x1028, "S1",      U32, 10),
    Reg(0x102A, "S2",      U32, 10),
    Reg(0x102C, "S3",      U32, 10),
    Reg(0x102E, "PF",      S32, 0.001),
    Reg(0x1030, "PF1",     S32, 0.001),
    Reg(0x1032, "PF2",     S32, 0.001),
    Reg(0x1034, "PF3",     S32, 0.001),
)
ENERGY_0288 = (
    Reg(0x1100, "Ea+",     U32, 1000),    # kWh
    Reg(0x1102, "Ea-",     U32, 1000),
    Reg(0x1104, "Er+",     U32, 1000),    # kvarh
    Reg(0x1106, "Er-",     U32, 1000),
)


class Breaker(SupplyDriver):
    """A breaker behind 4 210 75; the model's tags choose the row groups."""

    state_rows = STATE_4210
    groups = {"measure": MEASURE_4210, "leakage": LEAKAGE_4210, "counting": ENERGY_4210}
    max_gap = 16

    def measure_rows(self):
        return [r for tag, rows in self.groups.items() if self.has(tag) for r in rows]


class DmxBreaker(Breaker):
    state_rows = STATE_0288
    groups = {"measure": MEASURE_0288, "counting": ENERGY_0288}


class BreakerTwin(SupplyTwin):
    """Mostly closed, now and then open or tripped (`forced["breaker"]` pins it); no current
    flows through an open breaker."""

    def __init__(self, driver, seed=0, clock=time.time, peak_w=None, reversed_mount=None):
        super().__init__(driver, seed, clock, peak_w, reversed_mount)
        self.forced: dict[str, int] = {}

    def position(self, now: float) -> int:
        return self.forced.get("breaker", breaker_position(self.seed, now))

    def power(self, now):
        return super().power(now) if self.position(now) == 1 else 0.0

    def values(self, now):
        closed = self.position(now) == 1
        return {**super().values(now), "breaker": self.position(now), "alarm": 0,
                "leakage": round(2 + 8 * load_factor(now)) if closed else 0, **self.forced}


def _quantities(*groups) -> tuple[str, ...]:
    return tuple(dict.fromkeys(r.name for g in groups for r in g))


DPX3 = Family(
    key="dpx3",
    label="DPX3 circuit breaker (via 4 210 75)",
    addressing=MODBUS,
    driver=Breaker,
    twin=BreakerTwin,
    verified=False,
    alerts=True,
    fields=("supply",),
    quantities=_quantities(STATE_4210, MEASURE_4210, ENERGY_4210),
    models=models(
        # catalogue number or description         label                                           tags
        ("DPX3 250 electronic with measurement",  "DPX3 250 electronic, measurement unit",        "three_phase measure counting"),
        ("DPX3 630 electronic with measurement",  "DPX3 630 electronic, measurement unit",        "three_phase measure counting"),
        ("DPX3 1600 electronic with measurement", "DPX3 1600 electronic, measurement unit",       "three_phase measure counting"),
        ("4 23 890",                              "DPX3 with 4 23 890",                           "three_phase measure counting"),
        ("DPX3 250 electronic",                   "DPX3 250 electronic",                          "three_phase"),
        ("DPX3 250 electronic with RCD",          "DPX3 250 electronic, integrated RCD",          "three_phase rcd"),
        ("DPX3 250 thermal-magnetic with RCD",    "DPX3 250 thermal-magnetic, integrated RCD",    "three_phase rcd"),
        ("DPX3 630 electronic",                   "DPX3 630 electronic",                          "three_phase"),
        ("DPX3 1600 electronic",                  "DPX3 1600 electronic",                         "three_phase"),
    ),
)

DMX3 = Family(
    key="dmx3",
    label="DMX3 air circuit breaker (via 0 288 05)",
    addressing=MODBUS,
    driver=DmxBreaker,
    twin=BreakerTwin,
    verified=False,
    alerts=True,
    fields=("supply",),
    quantities=_quantities(STATE_0288, MEASURE_0288, ENERGY_0288),
    models=models(
        ("0 288 03/04",    "DMX3 with touchscreen protection unit",  "three_phase measure counting"),
        ("MP2.10",         "DMX3 with protection unit MP2.10",       "three_phase measure counting"),
        ("MP4.10",         "DMX3 with protection unit MP4.10",       "three_phase measure counting"),
        ("0 288 00/01/02", "DMX3 with LCD protection unit",          "three_phase"),
    ),
)

DX3 = Family(
    key="dx3",
    label="DX3 RCD add-on module (via 4 210 75)",
    addressing=MODBUS,
    driver=Breaker,
    twin=BreakerTwin,
    verified=False,
    alerts=False,  # manual 7.16.1.4 lists EMS CX3, DPX3 and DMX3 only
    fields=("supply",),
    quantities=_quantities(STATE_4210, MEASURE_4210, LEAKAGE_4210, ENERGY_4210),
    models=models(
        ("4 106 57/58", "DX3 RCD add-on module with integrated counting",  "counting"),
        ("4 106 59",    "DX3 RCD add-on module with integrated measuring", "three_phase measure counting leakage"),
    ),
)

FAMILY = DPX3
FAMILIES = (DPX3, DMX3, DX3)
