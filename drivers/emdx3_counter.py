"""EMDX3 RS485 energy counters (single-phase, three-phase direct and three-phase with CT).

verified: false -- no public register table exists for these counters (REGISTER-MAPS.md,
"Nothing public was found"). The map below is our own: function 3, big-endian, high word
first, measures in one block, total energies as 64-bit Wh in another, so that a counter is two
reads. It is internally consistent and the twin is built from it; when the manufacturer's table
turns up, it replaces the rows below and nothing else.

Layout (wire addresses):
  0x5000  common block: frequency and total P, Q, S, PF
  0x5010  phase 1 block (V, I, P, Q, S, PF), 0x5020 phase 2, 0x5030 phase 3 (stride 0x10)
  0x5040  phase-to-phase voltages and neutral current (three-phase counters)
  0x6000  total energies, U64 in Wh / varh (no 32-bit float rounding above 16.7 MWh)
  0x6010  pulse input index of 4 120 81/91/41: read by the pulse families (see pulse.py)
Single-phase counters answer the common and phase 1 blocks only: the twin of a single-phase
model has no phase 2/3 rows at all.
"""

from .base import MODBUS, Driver, Family, models
from .counter_twins import CounterTwin
from .registers import S32, U32, U64, Reg

COMMON_ROWS = (
    # address  name   fmt  scale (to Hz, W, var, VA)
    Reg(0x5000, "F",  U32, 0.01),
    Reg(0x5002, "P",  S32, 1),       # negative when exporting
    Reg(0x5004, "Q",  S32, 1),
    Reg(0x5006, "S",  U32, 1),
    Reg(0x5008, "PF", S32, 0.001),   # negative = leading
)

PHASE1_ROWS = (
    Reg(0x5010, "V1",  U32, 0.01),   # V
    Reg(0x5012, "I1",  U32, 0.001),  # A
    Reg(0x5014, "P1",  S32, 1),
    Reg(0x5016, "Q1",  S32, 1),
    Reg(0x5018, "S1",  U32, 1),
    Reg(0x501A, "PF1", S32, 0.001),
)

PHASE23_ROWS = (  # three-phase counters only
    Reg(0x5020, "V2",  U32, 0.01),
    Reg(0x5022, "I2",  U32, 0.001),
    Reg(0x5024, "P2",  S32, 1),
    Reg(0x5026, "Q2",  S32, 1),
    Reg(0x5028, "S2",  U32, 1),
    Reg(0x502A, "PF2", S32, 0.001),
    Reg(0x5030, "V3",  U32, 0.01),
    Reg(0x5032, "I3",  U32, 0.001),
    Reg(0x5034, "P3",  S32, 1),
    Reg(0x5036, "Q3",  S32, 1),
    Reg(0x5038, "S3",  U32, 1),
    Reg(0x503A, "PF3", S32, 0.001),
    Reg(0x5040, "U12", U32, 0.01),
    Reg(0x5042, "U23", U32, 0.01),
    Reg(0x5044, "U31", U32, 0.01),
    Reg(0x5046, "In",  U32, 0.001),
)

ENERGY_ROWS = (
    Reg(0x6000, "Ea+", U64, 1),      # Wh
    Reg(0x6004, "Ea-", U64, 1),
    Reg(0x6008, "Er+", U64, 1),      # varh
    Reg(0x600C, "Er-", U64, 1),
)


class EMDX3Counter(Driver):
    rows = COMMON_ROWS + PHASE1_ROWS + PHASE23_ROWS + ENERGY_ROWS
    max_gap = 8  # reads through the unused words between phase blocks (they read 0)

    def measure_rows(self):
        rows = list(COMMON_ROWS + PHASE1_ROWS)
        if not self.has("single_phase"):
            rows += PHASE23_ROWS
        return rows + list(ENERGY_ROWS)


FAMILY = Family(
    key="emdx3_counter",
    label="EMDX3 energy counter RS485",
    addressing=MODBUS,
    driver=EMDX3Counter,
    twin=CounterTwin,  # an ElectricTwin that also hosts the meter on its pulse input
    verified=False,
    quantities=tuple(r.name for r in EMDX3Counter.rows),
    models=models(
        # catalogue numbers   label                                            tags                         inputs
        ("0 046 77",           "Single-phase energy counter, direct",           "single_phase"),
        ("4 120 68",           "Single-phase energy counter, direct",           "single_phase"),
        ("0 046 79",           "Single-phase energy counter, direct, MID",      "single_phase mid"),
        ("4 120 81",           "Single-phase energy counter, direct, pulse input", "single_phase pulse_input", 1),
        ("4 120 83",           "Single-phase energy counter, direct, MID",      "single_phase mid"),
        ("0 046 80",           "Three-phase energy counter, direct",            "three_phase"),
        ("0 046 83",           "Three-phase energy counter, direct, MID",       "three_phase mid"),
        ("4 120 74",           "Three-phase energy counter, direct",            "three_phase"),
        ("4 120 75",           "Three-phase energy counter, direct, MID",       "three_phase mid"),
        ("4 120 91",           "Three-phase energy counter, direct, pulse input", "three_phase pulse_input", 1),
        ("4 120 93",           "Three-phase energy counter, direct, MID",       "three_phase mid"),
        ("0 046 84",           "Three-phase energy counter, CT",                "three_phase ct"),
        ("0 046 86",           "Three-phase energy counter, CT, MID",           "three_phase ct mid"),
        ("4 120 41",           "Three-phase energy counter, CT, pulse input",   "three_phase ct pulse_input", 1),
        ("4 120 43",           "Three-phase energy counter, CT, MID",           "three_phase ct mid"),
        # release notes: "EMDX3 RS485 Counter" -- wiring not stated; three-phase is our guess
        ("7 000 43",           "EMDX3 RS485 counter",                           "three_phase"),
        ("7 000 44",           "EMDX3 RS485 counter, MID",                      "three_phase mid"),
    ),
)
