"""Green'Up charging stations: "Premium" (new range, kit 0 590 56) and the old range.

verified: false -- no public register table for either range. Our own map, one block of
registers per side: input registers (function 4) for what the station reports, holding
registers (function 3, written with 6 or 16) for what a master commands: the current limit the
DLM sets (0 suspends the charge; else 6 A, the IEC 61851 minimum, up to the station's rating)
and the authorisation of the Green'Up pages' "Start / Wait" (and of the DLM's grant).
A table from the real stations replaces `STATE_ROWS`, `COMMAND_ROWS`, `MEASURE_ROWS` and
`SIDE_BLOCK` here.

Two families, because the addressing differs (section 7.16.1):
- `greenup` (Premium): one Modbus address per side; a two-sided station (tag `double`:
  0 590 11/13/15/42/44/49) is configured as two devices of the same catalogue number.
- `greenup_legacy` (old range): one Modbus address per station; on the "two-sides" models (tag
  `two_sides`) the side A/B selects the register block (block A at 0x0000, B at 0x0200);
  one-side models use block A and have no Side field.
Single-phase models (tag `single_phase`) have the "Phase" field (L1/L2/L3): their one current
is reported as I1, I2 or I3 after the phase they load, which is what the DLM balances.
Energy Ea+ only on the models of the release notes' "energy measure support" list (all the
Premium models; not the old range).

Station state and commands are read at the status poll time; currents, power and energy at
the sample rate. Their gateway's frame interval becomes 200 ms (`greenup=True`).
"""

from __future__ import annotations

import time
from dataclasses import replace

from .base import MODBUS, PHASES, SIDE, SIDES, Driver, Family, models
from .registers import U16, U32, U64, Reg
from .state_twins import StateTwin, shared_twin, slot_rng

IR, HR = 4, 3
SIDE_BLOCK = {"A": 0x0000, "B": 0x0200}
MIN_A = 6  # IEC 61851: the lowest current a pilot signal may offer

STATE_ROWS = (
    # address  name             fmt  scale fn   (side A; side B at + 0x0200)
    Reg(0x0000, "station",       U16, 1,   IR),  # 0 available, 1 waiting, 2 charging, 3 fault
    Reg(0x0001, "station_error", U16, 1,   IR),  # bit field of station and charge errors, 0 none
)
COMMAND_ROWS = (
    Reg(0x0100, "current_limit", U16, 1,   HR),  # A; 0 suspends the charge
    Reg(0x0101, "authorize",     U16, 1,   HR),  # 1 start, 0 wait
)
MEASURE_ROWS = (
    Reg(0x0002, "I1",            U16, 0.1, IR),  # A
    Reg(0x0003, "I2",            U16, 0.1, IR),
    Reg(0x0004, "I3",            U16, 0.1, IR),
    Reg(0x0005, "P",             U32, 1,   IR),  # W; a station only draws
    Reg(0x0008, "Ea+",           U64, 1,   IR),  # Wh, energy-measuring models only
)

# Release notes, "Added the energy measure support to the following Green'Up devices".
ENERGY_SUPPORT = frozenset("""
    059002 059007 058002 059003 059004 059008 059009 059010 059011 059012 059013 059030 059035
    059041 059042 059043 059044 059070 059071 058003 058004 058010 058011 058012 058013 058030
    058035 058041 058042 058043 058044 059000 059001 059005 059006 058000 058001 059014 059015
    059048 059049 058014 058015 058048 058049
""".split())


def _with_energy(table: dict) -> dict:
    return {k: replace(m, tags=m.tags | {"energy"}) if k.replace(" ", "") in ENERGY_SUPPORT else m
            for k, m in table.items()}


class Station(Driver):
    max_gap = 4

    def __init__(self, spec, family):
        super().__init__(spec, family)
        side = spec.side or "A"
        if side not in SIDES or (side == "B" and not self.has("two_sides")):
            raise ValueError(f"side {spec.side!r} does not exist on {spec.model}")
        self.block = SIDE_BLOCK[side]
        self.phase = spec.params.get("phase") or PHASES[0]
        if self.phase not in PHASES:
            raise ValueError(f"phase must be one of {PHASES}, not {self.phase!r}")

    def place(self, rows) -> list[Reg]:
        return [r._replace(address=r.address + self.block) for r in rows]

    def measure_rows(self):
        currents = ("I1",) if self.has("single_phase") else ("I1", "I2", "I3")
        return self.place(r for r in MEASURE_ROWS
                          if r.name in currents or r.name == "P" or (r.name == "Ea+" and self.has("energy")))

    def status_rows(self):
        return self.place(STATE_ROWS + COMMAND_ROWS)

    def command_rows(self):
        return self.place(COMMAND_ROWS)

    def decode(self, rows, words):
        values = super().decode(rows, words)
        if self.has("single_phase") and "I1" in values:
            values[f"I{PHASES.index(self.phase) + 1}"] = values.pop("I1")
        return values


class StationTwin(StateTwin):
    """A station where a car arrives once in each 6-hour slot, waits for its authorisation (a
    master's, or its own after `AUTO_START_S` while no master has ever written one), then draws
    what the car asks, the current limit and the rating allow, tapering in its last half hour.
    `forced` pins reported values (a fault, a state)."""

    SLOT_S = 6 * 3600
    AUTO_START_S = 60
    VOLTS = 230

    @classmethod
    def for_drivers(cls, drivers, seed=0, clock=time.time):
        """The two sides of an old-range station share its address."""
        return shared_twin(drivers, seed, clock)

    def __init__(self, driver, seed=0, clock=time.time, rated_a: int = 32):
        super().__init__(driver, seed, clock)
        self.phases = 1 if driver.has("single_phase") else 3
        self.rated_a = rated_a
        self.energy = self.rng.randint(100_000, 3_000_000) * 1.0

    def session(self, now: float) -> tuple[float, float, int]:
        """(arrival, departure, current the car asks) of the car of now's slot."""
        rng = slot_rng(self.seed, now, self.SLOT_S, salt=59)
        arrive = now // self.SLOT_S * self.SLOT_S + rng.uniform(600, 2 * 3600)
        return arrive, arrive + rng.uniform(3600, 3.5 * 3600), rng.choice((10, 16, 16, 32))

    def accepts(self, name, value):
        if name == "current_limit":
            return value == 0 or MIN_A <= value <= self.rated_a
        return value in (0, 1)

    def current(self, now: float) -> tuple[int, float]:
        """(state, current per phase in A)."""
        arrive, leave, car_a = self.session(now)
        if not arrive <= now < leave:
            return 0, 0.0
        if "authorize" in self.written:
            value, when = self.written["authorize"]
            authorized = value == 1 and when >= arrive  # a grant is for the car that waits
        else:
            authorized = now - arrive >= self.AUTO_START_S
        limit = self.setting("current_limit", self.rated_a)
        if not authorized or limit < MIN_A:
            return 1, 0.0
        taper = min(1.0, max(0.05, (leave - now) / 1800))
        return 2, round(min(car_a, limit, self.rated_a) * taper, 1)

    def integrate(self, now, dt):
        self.energy += self.VOLTS * self.current(now)[1] * self.phases * dt / 3600

    def state(self, now):
        station, amps = self.current(now)
        v = {"station": station, "station_error": 0, "P": self.VOLTS * amps * self.phases,
             "current_limit": self.setting("current_limit", self.rated_a),
             "authorize": self.setting("authorize", int(station == 2)), "Ea+": int(self.energy)}
        for i in (1, 2, 3):
            v[f"I{i}"] = amps if i <= self.phases else 0.0
        return v


_quantities = tuple(r.name for r in STATE_ROWS + COMMAND_ROWS + MEASURE_ROWS)

FAMILY = Family(
    key="greenup",
    label="Green'Up Premium charging station",
    addressing=MODBUS,
    driver=Station,
    twin=StationTwin,
    verified=False,
    greenup=True,
    fields=("phase",),
    quantities=_quantities,
    models=_with_energy(models(
        # catalogue numbers                           label                                   tags
        ("0 590 00/01/05/06",                         "Single-phase station, mode 3",          "single_phase mode3"),
        ("0 580 00/01",                               "Single-phase station, mode 3",          "single_phase mode3"),
        ("0 590 03/04/08/09/10/12/30/35/41/43/70/71", "Single-phase station, modes 2 and 3",   "single_phase mode2 mode3"),
        ("0 590 11/13/42/44",                         "Single-phase two-sided, modes 2 and 3", "single_phase mode2 mode3 double"),
        ("0 580 03/04/10/11/12/13/30/35/41/42/43/44", "Single-phase station, modes 2 and 3",   "single_phase mode2 mode3"),
        ("0 590 02/07",                               "Three-phase station, mode 3",           "three_phase mode3"),
        ("0 580 02",                                  "Three-phase station, mode 3",           "three_phase mode3"),
        ("0 590 14/48",                               "Three-phase station, modes 2 and 3",    "three_phase mode2 mode3"),
        ("0 590 15/49",                               "Three-phase two-sided, modes 2 and 3",  "three_phase mode2 mode3 double"),
        ("0 580 14/15/48/49",                         "Three-phase station, modes 2 and 3",    "three_phase mode2 mode3"),
    )),
)

LEGACY_FAMILY = Family(
    key="greenup_legacy",
    label="Green'Up charging station (old range)",
    addressing=SIDE,
    driver=Station,
    twin=StationTwin,
    verified=False,
    greenup=True,
    counter=None,  # no energy measure on the old range (release notes)
    fields=("phase",),
    quantities=tuple(n for n in _quantities if n != "Ea+"),
    models=_with_energy(models(
        ("0 590 31/33/37/76/91/93", "One-side station, single-phase, without RFiD",  "single_phase"),
        ("0 590 32/34/38/77/78",    "Two-sides station, single-phase, without RFiD", "single_phase two_sides"),
        ("0 590 61/63",             "One-side station, single-phase, with RFiD",     "single_phase rfid"),
        ("0 590 40/57/58",          "Two-sides station, single-phase, with RFiD",    "single_phase two_sides rfid"),
        ("0 590 45/94/95",          "One-side station, three-phase, without RFiD",   "three_phase"),
        ("0 590 96/97",             "Two-sides station, three-phase, without RFiD",  "three_phase two_sides"),
        ("0 590 46/64/65",          "One-side station, three-phase, with RFiD",      "three_phase rfid"),
        ("0 590 47/66/67",          "Two-sides station, three-phase, with RFiD",     "three_phase two_sides rfid"),
    )),
)

FAMILIES = (FAMILY, LEGACY_FAMILY)
