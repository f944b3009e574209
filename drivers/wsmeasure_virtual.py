"""WSMEASURE virtual devices: an energy read from another wsmeasure box in "slave" mode.

Manual 7.16.6: a "master" box reads, from a "slave" box on its Modbus TCP server, the positive
active energy of one of the slave's devices, loads or measure groups, or of all its electrical
loads. The slave answers on Modbus unit 247; the manual shows each virtual device as
"247 - code":

    1XXXX  device with ID XXXX          (10001..19999)
    2YYYY  load with ID YYYY            (20001..29998)
    3ZZZZ  measure group with ID ZZZZ   (30001..39999)
    29999  "All": total of all electrical loads (so a load ID never is 9999)

Our layout (the slave side implements the same; nothing public describes Legrand's):
function 3, register address = the code, 4 words, U64 in Wh, high word first. Each code is a
key, not a memory layout: reading 4 words at 10005 returns device 5's energy, at 10006 device
6's. Any other count, function 4 or an unknown code is refused with exception 2 (illegal data
address). `spec.params["remote_id"]` holds the code; the unit is always 247.
"""

from __future__ import annotations

import time

from .base import VIRTUAL, Driver, Family, models
from .registers import U64, Reg
from .twins import ILLEGAL_ADDRESS, ILLEGAL_FUNCTION, Twin, load_factor

SLAVE_UNIT = 247
DEVICE, LOAD, GROUP = 1, 2, 3        # the code's first digit
ALL = 29999                          # total of all electrical loads
KINDS = {DEVICE: "device", LOAD: "load", GROUP: "group"}


def code(kind: int, ident: int) -> int:
    """remote ID of a device, load or group: code(DEVICE, 5) == 10005."""
    if kind not in KINDS or not 1 <= ident <= 9999 or (kind, ident) == (LOAD, 9999):
        raise ValueError(f"no remote ID for {KINDS.get(kind, kind)} {ident}")
    return kind * 10000 + ident


def split(remote_id: int) -> tuple[int, int]:
    """10005 -> (DEVICE, 5); 29999 -> (LOAD, 9999), which means "All"."""
    kind, ident = divmod(int(remote_id), 10000)
    if kind not in KINDS or ident == 0:
        raise ValueError(f"remote ID must be 1XXXX, 2YYYY, 3ZZZZ or {ALL}, not {remote_id}")
    return kind, ident


class VirtualDevice(Driver):
    max_count = 4  # one code per request: codes are keys, two reads must never merge
    keyed = True   # and the poller reads each virtual device on its own

    def __init__(self, spec, family):
        super().__init__(spec, family)
        if "remote_id" not in spec.params:
            raise ValueError("a WSMEASURE virtual device needs a remote ID")
        self.code = int(spec.params["remote_id"])
        split(self.code)

    @property
    def unit(self) -> int:
        return SLAVE_UNIT  # "Modbus Address is automatically filled"

    def measure_rows(self):
        return [Reg(self.code, "Ea+", U64, 1, 3)]


class SlaveBoxTwin(Twin):
    """A slave box with a few devices on loads and groups; energies grow with the day's load.

    Loads and groups are sums of their devices, "All" the sum of the loads, as on a real box.
    A code the driver asks for that the box lacks is added (a device, or a load or group of one
    new device) so that any virtual device gets an answer."""

    def __init__(self, driver=None, seed: int = 0, clock=time.time):
        super().__init__(SLAVE_UNIT, [], 0, seed or SLAVE_UNIT, clock)
        self.devices = {i: self.rng.randint(10_000, 5_000_000) * 1.0 for i in (1, 2, 3, 4)}
        self.peak_w = {i: self.rng.choice((2000, 5000, 12000)) for i in self.devices}
        self.loads = {1: (1, 2), 2: (3,), 3: (4,)}
        self.groups = {1: (1, 3), 2: (2, 4)}
        self.code = driver.code if driver is not None else ALL
        self.ensure(self.code)

    @classmethod
    def for_drivers(cls, drivers, seed=0, clock=time.time):
        """One box answers every Remote ID its master reads."""
        box = cls(drivers[0], seed, clock)
        for d in drivers[1:]:
            box.ensure(d.code)
        return box

    def ensure(self, remote_id: int) -> None:
        kind, ident = split(remote_id)
        if remote_id == ALL or self.energy(remote_id) is not None:
            return
        new = ident if kind == DEVICE else max(self.devices) + 1
        self.devices[new] = self.rng.randint(10_000, 5_000_000) * 1.0
        self.peak_w[new] = 3000
        if kind != DEVICE:
            (self.loads if kind == LOAD else self.groups)[ident] = (new,)

    def energy(self, remote_id: int) -> int | None:
        """Wh of a code, None for one the box does not have."""
        kind, ident = split(remote_id)
        if remote_id == ALL:
            members = [d for ds in self.loads.values() for d in ds]
        elif kind == DEVICE:
            members = [ident] if ident in self.devices else []
        else:
            members = (self.loads if kind == LOAD else self.groups).get(ident, ())
        if not members:
            return None
        return sum(int(self.devices[d]) for d in members)

    def values(self, now):
        """The energy of the code the twin was built for (a read may ask any code)."""
        return {"Ea+": self.energy(self.code)}

    def integrate(self, now, dt):
        for d in self.devices:
            self.devices[d] += self.peak_w[d] * load_factor(now) * dt / 3600

    def read(self, fn, address, count):
        if fn not in (3, 4):
            return ILLEGAL_FUNCTION
        self.advance(self.clock())
        try:
            wh = self.energy(address) if fn == 3 and count == 4 else None
        except ValueError:  # not a code at all
            wh = None
        return ILLEGAL_ADDRESS if wh is None else U64.encode(wh)

    def write(self, address, values):
        return ILLEGAL_ADDRESS


FAMILY = Family(
    key="wsmeasure_virtual",
    label="WSMEASURE",
    addressing=VIRTUAL,
    driver=VirtualDevice,
    twin=SlaveBoxTwin,
    verified=False,
    quantities=("Ea+",),
    models=models(
        ("WSMEASURE", "Energy read from a slave wsmeasure box", ""),
    ),
)
