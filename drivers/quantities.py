"""The quantities devices provide: name, unit, kind.

Kinds: `counter` values only grow (energies in Wh, water and gas in dm3, kept as 64-bit
integers); `measure` values are instantaneous (statistics are computed from them); `state`
values are small enumerations (breaker position, inputs, outputs, station state).
"""

from __future__ import annotations

from typing import NamedTuple


class Quantity(NamedTuple):
    name: str
    unit: str
    kind: str
    label: str


def _rows(kind: str, unit: str, names: str, label: str) -> list[Quantity]:
    return [Quantity(n, unit, kind, label.format(n=n)) for n in names.split()]


QUANTITIES: dict[str, Quantity] = {q.name: q for q in [
    Quantity("Ea+", "Wh", "counter", "Active energy imported"),
    Quantity("Ea-", "Wh", "counter", "Active energy exported"),
    Quantity("Er+", "varh", "counter", "Reactive energy imported"),
    Quantity("Er-", "varh", "counter", "Reactive energy exported"),
    Quantity("water", "dm3", "counter", "Water volume"),
    Quantity("gas", "dm3", "counter", "Gas volume"),
    Quantity("hours", "h", "measure", "Hour meter"),
    *_rows("measure", "W", "P P1 P2 P3", "Active power {n}"),
    *_rows("measure", "var", "Q Q1 Q2 Q3", "Reactive power {n}"),
    *_rows("measure", "VA", "S S1 S2 S3", "Apparent power {n}"),
    *_rows("measure", "", "PF PF1 PF2 PF3", "Power factor {n}"),
    *_rows("measure", "V", "U12 U23 U31", "Phase-to-phase voltage {n}"),
    *_rows("measure", "V", "V1 V2 V3", "Phase-to-neutral voltage {n}"),
    *_rows("measure", "A", "I1 I2 I3 In", "Current {n}"),
    Quantity("F", "Hz", "measure", "Frequency"),
    *_rows("measure", "%", "THD_U12 THD_U23 THD_U31 THD_V1 THD_V2 THD_V3 THD_I1 THD_I2 THD_I3 THD_In",
           "Total harmonic distortion {n}"),
    *[Quantity(f"H{h}_{s}", "%", "measure", f"Harmonic {h} of {s}")
      for s in ("V1", "V2", "V3", "I1", "I2", "I3") for h in range(3, 33, 2)],
    *[Quantity(f"{n}:{stat}", unit, "measure", f"{stat.capitalize()} {n}")
      for n, unit in (("P", "W"), ("I1", "A"), ("I2", "A"), ("I3", "A"))
      for stat in ("avg", "max")],
    Quantity("breaker", "", "state", "Breaker position (0 open, 1 closed, 2 tripped)"),
    Quantity("leakage", "mA", "measure", "Residual current"),
    *_rows("state", "", "in1 in2 in3 in4 in5 in6 in7 in8", "Input {n}"),
    *_rows("state", "", "out1 out2 out3 out4 out5 out6 out7 out8", "Output {n}"),
    Quantity("station", "", "state", "Charging station state (0 available, 1 waiting, 2 charging, 3 fault)"),
    Quantity("current_limit", "A", "measure", "Charging current allowed"),
    Quantity("authorize", "", "state", "Charge authorization (0 wait, 1 start)"),
    Quantity("station_error", "", "state", "Charging station error bits"),
    Quantity("alarm", "", "state", "Alarm bits (measure threshold, configuration error)"),
    *_rows("measure", "mA", "ain1 ain2", "Analogue input {n}"),
]}

BREAKER_STATES = {0: "open", 1: "closed", 2: "tripped"}
STATION_STATES = {0: "available", 1: "waiting", 2: "charging", 3: "fault"}
