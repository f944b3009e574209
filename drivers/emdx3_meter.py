"""EMDX3 multifunction measuring devices (Modular, Access, Premium).

Rows from the public table "EMDX3 Multifunction meter Cat No. 146 68 ModbusTable LGR EN v1.01"
(wire addresses: the table prints address + 1). Function 3, big-endian, high word first.
Total energies follow the JBUS common table the meter shares with Socomec Countis E3x/E4x
(C652..C65A); the Premium averages, maxima and harmonics are not public and are our own
layout (`verified: false` rows below), to be replaced in one place by the real table.
"""

from .base import MODBUS, Driver, Family, models
from .registers import S32, U16, U32, Reg
from .twins import ElectricTwin

_phase = [(0xC552 + 2 * i, n) for i, n in enumerate(("U12", "U23", "U31", "V1", "V2", "V3"))]

ROWS = (
    # address  name     fmt  scale (to W, V, A, Hz, Wh...)
    Reg(0xC550, "hours", U32, 0.01),
    *[Reg(a, n, U32, 0.01) for a, n in _phase],
    Reg(0xC55E, "F",     U32, 0.01),
    Reg(0xC560, "I1",    U32, 0.001),
    Reg(0xC562, "I2",    U32, 0.001),
    Reg(0xC564, "I3",    U32, 0.001),
    Reg(0xC566, "In",    U32, 0.001),
    Reg(0xC568, "P",     S32, 10),
    Reg(0xC56A, "Q",     S32, 10),
    Reg(0xC56C, "S",     U32, 10),
    Reg(0xC56E, "PF",    S32, 0.001),
    Reg(0xC570, "P1",    S32, 10),
    Reg(0xC572, "P2",    S32, 10),
    Reg(0xC574, "P3",    S32, 10),
    Reg(0xC576, "Q1",    S32, 10),
    Reg(0xC578, "Q2",    S32, 10),
    Reg(0xC57A, "Q3",    S32, 10),
    Reg(0xC57C, "S1",    U32, 10),
    Reg(0xC57E, "S2",    U32, 10),
    Reg(0xC580, "S3",    U32, 10),
    Reg(0xC582, "PF1",   S32, 0.001),
    Reg(0xC584, "PF2",   S32, 0.001),
    Reg(0xC586, "PF3",   S32, 0.001),
    Reg(0xC652, "Ea+",   U32, 1000),   # kWh
    Reg(0xC654, "Er+",   U32, 1000),   # kvarh
    Reg(0xC658, "Ea-",   U32, 1000),
    Reg(0xC65A, "Er-",   U32, 1000),
)

THD_ROWS = tuple(
    Reg(0xC950 + i, "THD_" + n, U16, 0.1)
    for i, n in enumerate("U12 U23 U31 V1 V2 V3 I1 I2 I3 In".split())
)

# verified: false -- Premium only; our own layout, contiguous so that one read takes it all.
HARMONIC_ROWS = tuple(
    Reg(0xCA00 + 15 * s + (h - 3) // 2, f"H{h}_{sig}", U16, 0.1)
    for s, sig in enumerate(("V1", "V2", "V3", "I1", "I2", "I3"))
    for h in range(3, 33, 2)
)
DEMAND_ROWS = (  # verified: false
    Reg(0xC5A0, "P:avg",  S32, 10),
    Reg(0xC5A2, "P:max",  S32, 10),
    Reg(0xC5A4, "I1:max", U32, 0.001),
    Reg(0xC5A6, "I2:max", U32, 0.001),
    Reg(0xC5A8, "I3:max", U32, 0.001),
)


class EMDX3Meter(Driver):
    rows = ROWS
    max_gap = 4  # the JBUS table reads through its small holes (C656)

    def measure_rows(self):
        rows = list(ROWS)
        if self.has("thd", "harmonics"):
            rows += THD_ROWS
        if self.has("harmonics"):
            rows += HARMONIC_ROWS + DEMAND_ROWS
        return rows


FAMILY = Family(
    key="emdx3_meter",
    label="EMDX3 multifunction meter",
    addressing=MODBUS,
    driver=EMDX3Meter,
    twin=ElectricTwin,
    verified=True,
    quantities=tuple(r.name for r in ROWS + THD_ROWS + HARMONIC_ROWS + DEMAND_ROWS),
    models=models(
        ("0 046 76", "Modular multifunction meter", "three_phase"),
        ("4 120 51/48/45", "Modular multifunction meter", "three_phase"),
        ("0 146 68", "Access multifunction meter", "three_phase thd"),
        ("4 120 52/49/47", "Access multifunction meter", "three_phase thd"),
        ("0 146 69", "Premium multifunction meter", "three_phase thd harmonics"),
        ("4 120 53", "Premium multifunction meter", "three_phase thd harmonics"),
    ),
)
