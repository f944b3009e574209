"""EMS CX3 modules behind the RS485 / EMS CX3 interface 4 149 40.

verified: false -- no public register table exists for these modules. The map below is our
own, internally consistent and plausible for the modules' quantities; a table from the real
devices replaces `ROWS`, `IO_ROWS`, `ALARM`, `CLOCK_ROWS` and `BLOCK` in this one place.

Two families, as the manual lists two kinds of EMS CX3 modules and family-level settings differ:
`ems_cx3` (multifunction measuring modules: energies, "Supply" field) and `ems_cx3_state`
(state and control modules: no energy, no supply). Both: input registers (function 4),
big-endian, 32/64-bit values high word first; commands are holding registers (function 3/6/16).

Addressing (the manual's, section 7.16.1):
- local addressing: each module answers on its own Modbus address, interface address x 10 +
  module address (interface 1, module 5: unit 15); `spec.address` is that number.
- remote addressing, written "module-interface" ("2-1": module 2 on interface 1):
  `spec.address` is the module, `spec.interface` the interface. Our assumption (unverified):
  only the interface answers, on its own address, and the module selects a block of
  registers, module m at m x `BLOCK` + the module's local address. Block 0 of the interface's
  address holds the interface's own registers (its real-time clock); in local addressing the
  interface answers on interface x 10 (module 0).

Supply (section 7.16.1, "Details for Measurement modules"): "Downstream" means the current
flows against the sensor's arrow, so the module sees the load as a source: the driver inverts
the sign of active and reactive powers and swaps imported/exported energies. Power factors
keep their sign (lead/lag does not change when P and Q both flip); currents and apparent
powers have no direction. The manual marks Supply required for 4 149 19/20/23 (tag
`supply_required`); the other modules default to upstream.

Alarm word (status poll): bit 0 measure threshold, bit 1 configuration or installation error,
the events of the "Alert settings" page that the module itself detects.
"""

from __future__ import annotations

import time

from .base import EMS, SUPPLY, DeviceSpec, Driver, Family, models
from .registers import S16, S32, U16, U32, U64, Reg
from .state_twins import StateTwin, breaker_position, shared_twin, slot_rng
from .twins import ILLEGAL_VALUE, ElectricTwin

IR, HR = 4, 3           # input registers (measures, states), holding registers (commands)
BLOCK = 0x200           # remote addressing: registers of module m start at m * BLOCK
MODULES_PER_INTERFACE = 30

ROWS = (
    # address  name    fmt  scale  fn   (module-local address)
    Reg(0x0000, "V1",  U32, 0.01,  IR),
    Reg(0x0002, "V2",  U32, 0.01,  IR),
    Reg(0x0004, "V3",  U32, 0.01,  IR),
    Reg(0x0006, "U12", U32, 0.01,  IR),
    Reg(0x0008, "U23", U32, 0.01,  IR),
    Reg(0x000A, "U31", U32, 0.01,  IR),
    Reg(0x000C, "F",   U32, 0.01,  IR),
    Reg(0x000E, "I1",  U32, 0.001, IR),
    Reg(0x0010, "I2",  U32, 0.001, IR),
    Reg(0x0012, "I3",  U32, 0.001, IR),
    Reg(0x0014, "In",  U32, 0.001, IR),
    Reg(0x0016, "P",   S32, 1,     IR),   # W
    Reg(0x0018, "P1",  S32, 1,     IR),
    Reg(0x001A, "P2",  S32, 1,     IR),
    Reg(0x001C, "P3",  S32, 1,     IR),
    Reg(0x001E, "Q",   S32, 1,     IR),   # var
    Reg(0x0020, "Q1",  S32, 1,     IR),
    Reg(0x0022, "Q2",  S32, 1,     IR),
    Reg(0x0024, "Q3",  S32, 1,     IR),
    Reg(0x0026, "S",   U32, 1,     IR),   # VA
    Reg(0x0028, "S1",  U32, 1,     IR),
    Reg(0x002A, "S2",  U32, 1,     IR),
    Reg(0x002C, "S3",  U32, 1,     IR),
    Reg(0x002E, "PF",  S16, 0.001, IR),
    Reg(0x002F, "PF1", S16, 0.001, IR),
    Reg(0x0030, "PF2", S16, 0.001, IR),
    Reg(0x0031, "PF3", S16, 0.001, IR),
    Reg(0x0040, "Ea+", U64, 1,     IR),   # Wh, 64-bit: no wrap, no float rounding
    Reg(0x0044, "Ea-", U64, 1,     IR),
    Reg(0x0048, "Er+", U64, 1,     IR),   # varh
    Reg(0x004C, "Er-", U64, 1,     IR),
)
SINGLE_PHASE = frozenset("V1 F I1 P Q S PF Ea+ Ea- Er+ Er-".split())

ALARM = Reg(0x0080, "alarm", U16, 1, IR)

IO_ROWS = (
    # address  name        fmt  scale fn   (state and control modules; a model has some)
    Reg(0x0090, "breaker", U16, 1,    IR),  # 4 149 29: CA + SD contacts -> 0 open, 1 closed, 2 tripped
    Reg(0x0091, "in1",     U16, 1,    IR),  # 0 off, 1 on
    Reg(0x0092, "in2",     U16, 1,    IR),
    Reg(0x00A0, "out1",    U16, 1,    HR),  # command 0/1; reads back the relay's state
    Reg(0x00A1, "out2",    U16, 1,    HR),
)

CLOCK_ROWS = (
    # address  name       fmt  scale fn   (interface 4 149 40, block 0; set in one write of 6 words)
    Reg(0x0010, "year",   U16, 1,    HR),
    Reg(0x0011, "month",  U16, 1,    HR),
    Reg(0x0012, "day",    U16, 1,    HR),
    Reg(0x0013, "hour",   U16, 1,    HR),
    Reg(0x0014, "minute", U16, 1,    HR),
    Reg(0x0015, "second", U16, 1,    HR),
)


def parse_address(text: str) -> tuple[int, int | None]:
    """ "15" -> (15, None) local addressing; "2-1" -> (2, 1): module 2 on interface 1."""
    module, sep, interface = text.strip().partition("-")
    return int(module), (int(interface) if sep else None)


def format_address(spec: DeviceSpec) -> str:
    return f"{spec.address}-{spec.interface}" if spec.interface is not None else str(spec.address)


def interface_unit(spec: DeviceSpec) -> int:
    """The Modbus address of the interface a module is behind (where its clock is)."""
    return spec.interface if spec.interface is not None else spec.address // 10 * 10


# -- supply direction (shared with the breakers' measuring versions) ---------------------------
SIGNED = ("P", "P1", "P2", "P3", "Q", "Q1", "Q2", "Q3")
SWAPPED = (("Ea+", "Ea-"), ("Er+", "Er-"))


def invert_supply(values: dict) -> dict:
    """What a device mounted against its sensor's direction reports, or the correction of it
    (the operation is its own inverse): powers change sign, imported and exported swap."""
    out = dict(values)
    for name in SIGNED:
        if out.get(name) is not None:
            out[name] = -out[name]
    for a, b in SWAPPED:
        out.pop(a, None)
        out.pop(b, None)
        if a in values:
            out[b] = values[a]
        if b in values:
            out[a] = values[b]
    return out


class SupplyDriver(Driver):
    """A measuring device with a "Supply" setting: upstream (default) or downstream."""

    def __init__(self, spec, family):
        super().__init__(spec, family)
        supply = spec.params.get("supply", SUPPLY[0])
        if supply not in SUPPLY:
            raise ValueError(f"supply must be one of {SUPPLY}, not {supply!r}")
        self.downstream = supply == "downstream"

    def decode(self, rows, words):
        values = super().decode(rows, words)
        return invert_supply(values) if self.downstream else values


class SupplyTwin(ElectricTwin):
    """A meter on a load; mounted against its sensor when its driver is set downstream, so a
    correctly configured device reads as a consumer (pass `reversed_mount` to choose)."""

    def __init__(self, driver, seed=0, clock=time.time, peak_w=None, reversed_mount=None):
        super().__init__(driver, seed, clock, peak_w)
        self.reversed_mount = getattr(driver, "downstream", False) if reversed_mount is None else reversed_mount

    def values(self, now):
        values = super().values(now)
        return invert_supply(values) if self.reversed_mount else values


# -- drivers ------------------------------------------------------------------------------------
class EmsModule(Driver):
    max_gap = 32  # our table reads through its holes: one read per module

    def __init__(self, spec, family):
        super().__init__(spec, family)
        if spec.interface is not None:
            if not 1 <= spec.address <= MODULES_PER_INTERFACE:
                raise ValueError(f"EMS CX3 module address must be 1..{MODULES_PER_INTERFACE}, not {spec.address}")
            if not 1 <= spec.interface <= 247:
                raise ValueError(f"EMS CX3 interface address must be 1..247, not {spec.interface}")
        elif not 1 <= spec.address <= 247:
            raise ValueError(f"Modbus address must be 1..247, not {spec.address}")

    @property
    def unit(self) -> int:
        return self.spec.interface if self.spec.interface is not None else self.spec.address

    @property
    def block(self) -> int:
        return self.spec.address * BLOCK if self.spec.interface is not None else 0

    def place(self, rows) -> list[Reg]:
        return [r._replace(address=r.address + self.block) for r in rows]

    def status_rows(self):
        return self.place([ALARM])


class EmsMeter(SupplyDriver, EmsModule):
    def measure_rows(self):
        rows = [r for r in ROWS if r.name in SINGLE_PHASE] if self.has("single_phase") else ROWS
        return self.place(rows)


class EmsStateModule(EmsModule):
    def status_rows(self):
        return self.place([ALARM] + [r for r in IO_ROWS if self.has(r.name)])

    def command_rows(self):
        return [r for r in self.status_rows() if r.fn == HR]


# -- twins --------------------------------------------------------------------------------------
def _for_drivers(cls, drivers, seed=0, clock=time.time):
    """The modules of one address: in remote addressing, the interface's modules and its clock."""
    remote = drivers[0].spec.interface is not None
    return shared_twin(drivers, seed, clock, [EmsInterfaceTwin(drivers[0], seed, clock)] if remote else [])


class EmsMeterTwin(SupplyTwin):
    for_drivers = classmethod(_for_drivers)


class EmsStateTwin(StateTwin):
    """Inputs that change a few times a day, a breaker mostly closed, relays that obey."""

    for_drivers = classmethod(_for_drivers)

    def state(self, now):
        v = {"alarm": 0, "breaker": breaker_position(self.seed, now)}
        for n in (1, 2):
            v[f"out{n}"] = self.setting(f"out{n}")
            v[f"in{n}"] = int(slot_rng(self.seed, now, 3600, salt=n).random() < 0.3)
        if self.driver.has("feedback"):  # 4 149 31: the contact follows the command
            v["in1"] = v["out1"]
        return v


class EmsInterfaceTwin(StateTwin):
    """The interface's real-time clock, off by `drift_s` until a master sets it."""

    def __init__(self, driver, seed=0, clock=time.time, drift_s: float = 0.0):
        super().__init__(EmsInterface(driver.spec, driver.family), seed, clock)
        self.drift_s = drift_s

    def state(self, now):
        t = time.localtime(now + self.drift_s)
        return dict(zip((r.name for r in CLOCK_ROWS), t[:6]))

    def write(self, address, values):
        """The six words at once (function 16): a clock set field by field would be torn."""
        if address not in self.commands:
            return super().write(address, values)  # ILLEGAL_ADDRESS
        if address != CLOCK_ROWS[0].address or len(values) != len(CLOCK_ROWS):
            return ILLEGAL_VALUE
        year, month, day, hour, minute, second = values
        if not (2000 <= year <= 2099 and 1 <= month <= 12 and 1 <= day <= 31
                and hour < 24 and minute < 60 and second < 60):
            return ILLEGAL_VALUE
        self.drift_s = time.mktime((*values, 0, 0, -1)) - self.clock()
        return None


class EmsInterface(Driver):
    """The interface 4 149 40 itself, reached for its clock (release notes: hourly check,
    set when more than ten minutes off)."""

    @property
    def unit(self) -> int:
        return interface_unit(self.spec)

    def command_rows(self):
        return list(CLOCK_ROWS)

    def status_rows(self):
        return list(CLOCK_ROWS)


# -- catalogue ----------------------------------------------------------------------------------
FAMILY = Family(
    key="ems_cx3",
    label="EMS CX3 measuring module",
    addressing=EMS,
    driver=EmsMeter,
    twin=EmsMeterTwin,
    verified=False,
    alerts=True,
    fields=("supply",),
    quantities=tuple(r.name for r in ROWS + (ALARM,)),
    models=models(
        # catalogue numbers     label                                                       tags
        ("4 149 18",            "Single-phase measuring module, closed Rogowski coil",      "single_phase"),
        ("4 149 19",            "Single-phase measuring module, closed Rogowski coils",     "single_phase supply_required"),
        ("4 149 20",            "Three-phase measuring module, closed Rogowski coils",      "three_phase supply_required"),
        ("4 149 21",            "Three-phase measuring module, closed Rogowski coils",      "three_phase"),
        ("4 149 23",            "Measuring module with CT, single- or three-phase",         "three_phase configurable supply_required"),
        ("4 149 22/24/25/27",   "Three-phase measuring module, open flexible Rogowski coils", "three_phase"),
    ),
)

STATE_FAMILY = Family(
    key="ems_cx3_state",
    label="EMS CX3 state and control module",
    addressing=EMS,
    driver=EmsStateModule,
    twin=EmsStateTwin,
    verified=False,
    alerts=True,
    counter=None,
    quantities=tuple(r.name for r in (ALARM,) + IO_ROWS),
    # tags name the rows a model has (input and output counts are our assumption)
    models=models(
        ("4 149 29", "Signalling auxiliary contact (CA + SD)",                     "breaker"),
        ("4 149 30", "Universal state module",                                     "in1 in2"),
        ("4 149 31", "State and control module for latching relays and contactors", "in1 out1 feedback"),
        ("4 149 32", "Universal control module",                                   "out1 out2"),
    ),
)

FAMILIES = (FAMILY, STATE_FAMILY)
