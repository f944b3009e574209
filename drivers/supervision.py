"""RS485 power supervision devices: signalling and control interface 0 261 36 (inputs, analogue
inputs, relay outputs) and programmable output module 0 288 12 (relay outputs).

verified: false -- no public register table. Our own map, one word per input or output:
input states and analogue inputs are input registers (function 4); outputs are holding
registers (function 3) a master writes with function 6 or 16 and reads back as their state;
each output's configuration (manual 8.2.1, "Configuration of digital outputs": normal state
NO/NC, command mode impulsive/blinking, ON time in seconds, 0 = maintained) is three holding
registers the "Write" button sets. The numbers of inputs and outputs (`IO`) are our assumption.
A table from the real devices replaces the rows and `IO` here.

States (inputs and outputs) are read at the status poll time; analogue inputs are measures.
Outputs are logical: 1 = commanded (active); NO/NC says what the contact does then.
"""

from __future__ import annotations

from .base import MODBUS, Driver, Family, models
from .registers import U16, Reg
from .state_twins import StateTwin, slot_rng

IR, HR = 4, 3
NORMAL = {0: "NO", 1: "NC"}
MODES = {0: "impulsive", 1: "blinking"}  # impulsive with ON time 0 = maintained
SETTINGS = ("normal", "mode", "on_time")

IO = {
    # catalogue number: (digital inputs, analogue inputs, relay outputs)
    "0 261 36": (4, 2, 4),
    "0 288 12": (0, 0, 4),
}

INPUT_ROWS = tuple(Reg(0x0000 + i, f"in{i + 1}", U16, 1, IR) for i in range(8))      # 0 off, 1 on
ANALOG_ROWS = tuple(Reg(0x0010 + i, f"ain{i + 1}", U16, 0.01, IR) for i in range(2))  # 4-20 mA
OUTPUT_ROWS = tuple(Reg(0x0100 + i, f"out{i + 1}", U16, 1, HR) for i in range(8))     # 0 off, 1 on
CONFIG_ROWS = tuple(                                                                  # per output
    Reg(0x0200 + 4 * i + k, f"out{i + 1}.{setting}", U16, 1, HR)
    for i in range(8) for k, setting in enumerate(SETTINGS)
)


class Supervision(Driver):
    def __init__(self, spec, family):
        super().__init__(spec, family)
        self.inputs, self.analogs, self.outputs = IO.get(spec.model, (0, 0, 0))

    def measure_rows(self):
        return list(ANALOG_ROWS[:self.analogs])

    def status_rows(self):
        return list(INPUT_ROWS[:self.inputs] + OUTPUT_ROWS[:self.outputs])

    def command_rows(self):
        """Rows a master writes: the outputs, and their configuration."""
        return list(OUTPUT_ROWS[:self.outputs] + CONFIG_ROWS[:3 * self.outputs])


class SupervisionTwin(StateTwin):
    """Inputs that change a few times a day, 4-20 mA sensors, relays that obey their mode."""

    def accepts(self, name, value):
        if name.endswith(".on_time"):
            return 0 <= value <= 65535
        return value in (0, 1)

    def output(self, n: int, now: float) -> int:
        value, since = self.written.get(f"out{n}", (0, 0.0))
        on_time = self.setting(f"out{n}.on_time")
        if not value or not on_time:
            return int(value)  # off, or maintained
        elapsed = now - since
        if MODES[self.setting(f"out{n}.mode")] == "impulsive":
            return int(elapsed < on_time)
        return int(elapsed // on_time % 2 == 0)  # blinking, starting on

    def state(self, now):
        v = {}
        for n in range(1, 9):
            v[f"in{n}"] = int(slot_rng(self.seed, now, 1800, salt=n).random() < 0.25)
            v[f"out{n}"] = self.output(n, now)
            for setting in SETTINGS:
                v[f"out{n}.{setting}"] = self.setting(f"out{n}.{setting}")
        for n in (1, 2):
            v[f"ain{n}"] = 4 + 16 * slot_rng(self.seed, now, 60, salt=10 + n).random()
        return v


FAMILY = Family(
    key="supervision",
    label="Power supervision system",
    addressing=MODBUS,
    driver=Supervision,
    twin=SupervisionTwin,
    verified=False,
    counter=None,
    quantities=tuple(r.name for r in INPUT_ROWS + ANALOG_ROWS + OUTPUT_ROWS),
    models=models(
        # catalogue number  label                                tags
        ("0 261 36",        "Signalling and control interface",  "inputs outputs"),
        ("0 288 12",        "Programmable output module",        "outputs"),
    ),
)
