"""'Other devices': any third-party Modbus RS485 meter, positive active energy only.

The manual's four fields (7.16.1.3): read function (3 or 4), register of the positive active
energy (hexadecimal), number of words, and a "multiplying factor to use to obtain the correct
value". We store energies in Wh, so the multiplier converts the raw register value to Wh:
1000 for a meter counting kWh, 100 for 0.1 kWh, 1 for Wh, 0.001 for mWh.

Real meters also differ in encoding and word order (NOTES.md: mbmd #325, Venus PR #5), so two
optional fields follow: `encoding`, a key of `ENCODINGS` (default by word count: U16, U32, U64),
and `word_order`, "high_first" (default, Modbus custom) or "low_first" (Carlo Gavazzi, ...).

    params = {"fn": 4, "register": 0x0048, "words": 2, "multiplier": 1000,
              "encoding": "F32", "word_order": "high_first"}      # Eastron SDM630, kWh

The register is an int, or the hexadecimal text the user typed ("C652", "0xC652").
"""

from __future__ import annotations

from .base import MODBUS, Driver, Family, models
from .counter_twins import GenericTwin
from .registers import ENCODINGS, Reg

MODEL = "GENERIC"   # pseudo catalogue number of the one model
DEFAULT_ENCODING = {1: "U16", 2: "U32", 4: "U64"}
WORD_ORDERS = ("high_first", "low_first")


def generic_row(params: dict) -> Reg:
    """The one row a generic meter is read by; ValueError says which field is wrong."""
    fn = int(params.get("fn", 3))
    if fn not in (3, 4):
        raise ValueError(f"read function must be 3 or 4, not {fn}")
    register = params.get("register")
    if isinstance(register, str):
        try:
            register = int(register.strip(), 16)
        except ValueError:
            raise ValueError(f"register must be hexadecimal, not {params['register']!r}") from None
    if not isinstance(register, int) or not 0 <= register <= 0xFFFF:
        raise ValueError(f"register must be 0000..FFFF, not {register!r}")
    words = None if params.get("words") is None else int(params["words"])
    encoding = params.get("encoding") or DEFAULT_ENCODING.get(words)
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding must be one of {', '.join(ENCODINGS)}, not {encoding!r} "
                         f"(or give words 1, 2 or 4)")
    fmt = ENCODINGS[encoding]
    if words is not None and words != fmt.words:
        raise ValueError(f"{encoding} takes {fmt.words} words, not {words}")
    if register + fmt.words > 0x10000:
        raise ValueError(f"{encoding} at {register:04X} runs past register FFFF")
    multiplier = float(params.get("multiplier", 1))
    if not multiplier > 0:
        raise ValueError(f"multiplier must be positive, not {multiplier}")
    if multiplier.is_integer():
        multiplier = int(multiplier)  # integer counters then stay exact integers
    order = params.get("word_order", "high_first")
    if order not in WORD_ORDERS:
        raise ValueError(f"word order must be one of {', '.join(WORD_ORDERS)}, not {order!r}")
    return Reg(register, "Ea+", fmt, multiplier, fn, order == "low_first")


class GenericMeter(Driver):
    def __init__(self, spec, family):
        super().__init__(spec, family)
        self.row = generic_row(spec.params)  # a bad configuration fails here, not at each poll

    def measure_rows(self):
        return [self.row]

    def decode(self, rows, words):
        values = super().decode(rows, words)
        if isinstance(values.get("Ea+"), float):  # float encodings, fractional multipliers
            values["Ea+"] = round(values["Ea+"])  # counters are integer Wh
        return values


FAMILY = Family(
    key="generic",
    label="Other devices",
    addressing=MODBUS,
    driver=GenericMeter,
    twin=GenericTwin,
    quantities=("Ea+",),
    fields=("generic",),
    verified=True,  # nothing to verify: the user gives the map
    models=models(
        (MODEL, "Generic Modbus meter", ""),
    ),
)
