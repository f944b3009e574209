"""The poller: every enabled device read at its cadence, through the bus arbiter.

Devices that share a Modbus address (positions of one pulse concentrator, sides of one
station) are one slave on the wire: their rows are merged into one read plan. A slave is tried
once per cycle, never retried inside it, so a dead device costs the others at most one timeout
per cycle; after repeated failures it is tried less and less often (back-off). Breaker and I/O
states are read at the status poll time, measures and counters every cycle.

Status per device: "on" (answering), "off" (switched off, or its gateway is), "error"
(communication error: two failed attempts in a row, so one garbled frame does not flap it).
Values are only what was read: a failed read keeps the last good values with their time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from wsmeasure.drivers.base import Driver
from wsmeasure.drivers.catalogue import family
from wsmeasure.drivers.registers import plan_reads

from .bus import INTERACTIVE, POLL, Bus
from .messages import verdict
from .rtu import BusError, DeviceException
from .specs import GatewaySpec

log = logging.getLogger(__name__)

ON, OFF, ERROR = "on", "off", "error"
FAILS_FOR_ERROR = 2       # consecutive failed attempts before "Communication error"
BACKOFF_AFTER = 3         # consecutive failures before a slave is tried less often
BACKOFF_MAX_S = 300.0


@dataclass
class DeviceState:
    id: int
    name: str
    family: str
    model: str | None
    address: str
    gateway: int
    status: str = ON
    values: dict = field(default_factory=dict)
    read_at: float | None = None   # wall-clock time of the last good read
    error: str | None = None
    failures: int = 0


class Slave:
    """One Modbus unit on a gateway's bus and the configured devices it answers for."""

    def __init__(self, unit: int, drivers: list[Driver]):
        self.unit = unit
        self.drivers = drivers
        self.failures = 0
        self.next_try = 0.0
        self.next_status = 0.0
        gap = min(d.max_gap for d in drivers)
        count = min(d.max_count for d in drivers)
        self.measure = [(d, d.measure_rows()) for d in drivers]
        self.status = [(d, d.status_rows()) for d in drivers]
        self.measure_reads = plan_reads([r for _, rows in self.measure for r in rows], gap, count)
        self.status_reads = plan_reads([r for _, rows in self.status for r in rows], gap, count)


async def read_words(bus: Bus, unit: int, reads, priority: int = POLL) -> dict[tuple[int, int], int]:
    words = {}
    for r in reads:
        for i, w in enumerate(await bus.read_registers(unit, r.fn, r.address, r.count, priority)):
            words[r.fn, r.address + i] = w
    return words


def address_label(d) -> str:
    """How the manual writes a device's address: 5, 5-2 (position), 5-A (side), 2-1 (module-interface),
    247-10005 (Remote ID of a virtual device). `d` is a DeviceSpec or a config.db Device row."""
    remote = getattr(d, "remote_id", None) or (getattr(d, "params", None) or {}).get("remote_id")
    for extra in (d.position, d.side, d.interface, remote):
        if extra is not None:
            return f"{d.address}-{extra}"
    return str(d.address)


class Poller:
    def __init__(self, bus: Bus, gateway: GatewaySpec, interval: float = 10.0, status_interval: float = 60.0):
        self.bus = bus
        self.interval = interval
        self.status_interval = status_interval
        self.cycles = 0
        self.last_cycle_s: float | None = None
        self.listeners = []   # callables(device_state) after each good read (the recorder, later)
        self.configure(gateway)

    def configure(self, gateway: GatewaySpec) -> None:
        """(Re)build slaves and states from the configuration; live values of kept devices survive."""
        old = getattr(self, "states", {})
        self.gateway = gateway
        by_unit: dict[tuple, list[Driver]] = {}
        self.drivers: dict[int, Driver] = {}
        for spec in gateway.devices:
            try:
                driver = family(spec.family).driver_for(spec)
            except (KeyError, ValueError) as exc:  # unknown family, or parameters it refuses
                log.error("device %s (%s): %s", spec.id, spec.name, exc)
                continue
            self.drivers[spec.id] = driver
            key = (driver.unit, spec.id if driver.keyed else 0)  # keyed registers: each device alone
            by_unit.setdefault(key, []).append(driver)
        self.slaves = [Slave(unit, drivers) for (unit, _), drivers in sorted(by_unit.items())]
        self.states = {}
        for spec in gateway.devices:
            st = old.get(spec.id) or DeviceState(spec.id, spec.name, spec.family, spec.model,
                                                 address_label(spec), gateway.id)
            st.name, st.address = spec.name, address_label(spec)
            st.status = st.status if gateway.enabled else OFF
            self.states[spec.id] = st

    # -- the loop -----------------------------------------------------------------------------
    async def run(self) -> None:
        while True:
            start = time.monotonic()
            try:
                await self.cycle()
            except asyncio.CancelledError:
                raise
            except Exception:  # the poll loop never dies
                log.exception("poll cycle failed")
            self.last_cycle_s = time.monotonic() - start
            self.cycles += 1
            await asyncio.sleep(max(0.0, self.interval - self.last_cycle_s))

    async def cycle(self) -> None:
        if not self.gateway.enabled:
            return
        now = time.monotonic()
        for slave in self.slaves:
            if now < slave.next_try:
                continue
            await self.poll_slave(slave, states_due=now >= slave.next_status)

    async def poll_slave(self, slave: Slave, states_due: bool) -> None:
        try:
            words = await read_words(self.bus, slave.unit, slave.measure_reads)
            if states_due and slave.status_reads:
                words.update(await read_words(self.bus, slave.unit, slave.status_reads))
                slave.next_status = time.monotonic() + self.status_interval
        except BusError as exc:
            self._failed(slave, exc)
            return
        slave.failures = 0
        slave.next_try = 0.0
        now = time.time()
        for (driver, rows), (_, srows) in zip(slave.measure, slave.status):
            st = self.states[driver.spec.id]
            values = driver.decode(rows + (srows if states_due else []), words)
            st.values.update(values)
            st.read_at, st.status, st.error, st.failures = now, ON, None, 0
            for listener in self.listeners:
                listener(st)

    def _failed(self, slave: Slave, exc: BusError) -> None:
        slave.failures += 1
        if slave.failures >= BACKOFF_AFTER:
            cycles = 2 ** (slave.failures - BACKOFF_AFTER + 1)
            slave.next_try = time.monotonic() + min(cycles * self.interval, BACKOFF_MAX_S)
        for driver in slave.drivers:
            st = self.states[driver.spec.id]
            st.failures = slave.failures
            st.error = str(exc)
            if slave.failures >= FAILS_FOR_ERROR:
                if st.status != ERROR:
                    log.warning("device %s (%s, address %s): communication error: %s", st.id, st.name, st.address, exc)
                st.status = ERROR

    # -- the "Test" buttons -------------------------------------------------------------------
    async def test_device(self, driver: Driver) -> dict:
        """Read the device once, ahead of routine polling; a clear verdict for the page."""
        rows = driver.measure_rows() + driver.status_rows()
        start = time.monotonic()
        try:
            words = await read_words(self.bus, driver.unit, driver.reads(rows), INTERACTIVE)
        except DeviceException as exc:
            return verdict(False, "the device at address {unit} answered with Modbus exception {code}: "
                                  "is the model right?", unit=driver.unit, code=f"{exc.code:#04x}")
        except BusError as exc:
            return verdict(False, "no valid answer from address {unit} ({kind}): check the address, wiring and "
                                  "serial settings", unit=driver.unit, kind=exc.kind)
        values = driver.decode(rows, words)
        return {**verdict(True, "the device answered in {ms} ms", ms=f"{1000 * (time.monotonic() - start):.0f}"),
                "values": values}

    async def test_gateway(self) -> dict:
        if not self.gateway.enabled:
            return verdict(False, "the gateway is OFF")
        results = [await self.test_device(d) for s in self.slaves for d in s.drivers[:1]]
        answering = sum(r["ok"] for r in results)
        ok = answering == len(results)
        return verdict(ok, "{answering} of {total} addresses answer", answering=answering, total=len(results))

    def snapshot(self) -> dict:
        return {
            "id": self.gateway.id, "name": self.gateway.name, "kind": self.gateway.kind,
            "address": self.gateway.address,
            "status": OFF if not self.gateway.enabled else (
                ERROR if self.states and all(s.status == ERROR for s in self.states.values()) else ON),
            "cycle_s": self.last_cycle_s,
            # values copied too: the web threads read the snapshot while the loop updates the states
            "devices": [{**vars(s), "values": dict(s.values)} for s in self.states.values()],
        }
