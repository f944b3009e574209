"""`wsmeasure run`: one asyncio loop owning the RS485 port, the poller and the control socket.

When no serial device is configured, the virtual installation is attached on a
pseudo-terminal in its place: the rest of the daemon cannot tell the difference.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import signal
import time
from pathlib import Path

from . import __version__, control, settings
from .bus import Bus
from .db import open_config
from .installation import load_specs
from .poller import OFF, Poller
from .rtu import PARITIES, RtuLine, SerialSettings
from .specs import LOCAL, GatewaySpec

log = logging.getLogger(__name__)

# Where the services listen (the later issues open them): developer machine / appliance.
DEV_PORTS = {"host": "127.0.0.1", "https": 8443, "http": 8080, "ftp": 2121, "modbus_tcp": 5020}
APPLIANCE_PORTS = {"host": "0.0.0.0", "https": 443, "http": 80, "ftp": 21, "modbus_tcp": 502}

GREENUP_FRAME_INTERVAL_MS = 200
MIN_FRAME_INTERVAL_MS = 50


def frame_interval_ms(user_ms: int, sync: bool, greenup: bool) -> int:
    """Release notes: with "sync frame interval" ON, at least 50 ms, 200 ms with Green'Up stations."""
    if not sync:
        return user_ms
    return max(user_ms, GREENUP_FRAME_INTERVAL_MS if greenup else MIN_FRAME_INTERVAL_MS)


class AlreadyRunning(Exception):
    pass


class Daemon:
    def __init__(self, data_dir: Path, appliance: bool = False):
        self.data_dir = Path(data_dir)
        self.ports = APPLIANCE_PORTS if appliance else DEV_PORTS
        self.started = time.time()
        self.stopping = asyncio.Event()
        self.sim = None
        self.line = None
        self.bus = None
        self.poller: Poller | None = None
        self.poll_task: asyncio.Task | None = None
        self.serial_key = None
        self.history_dir = self.data_dir / "history"   # the CSV tree, root of the FTP share
        self.ftp = None
        self.ftp_key = None

    # -- life cycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.data_dir / "daemon.lock", "w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AlreadyRunning(f"another wsmeasure daemon is running on {self.data_dir}") from None
        self.db = open_config(self.data_dir)
        if not settings.get(self.db, "serial.port"):
            self._seed_demo()
        await self._open_bus()
        self.history_dir.mkdir(exist_ok=True)
        self._start_ftp()
        self.control = await control.serve(self.data_dir, self.handle)
        log.info("wsmeasure %s running on %s; ports %s", __version__, self.data_dir, self.ports)

    async def run(self) -> None:
        await self.start()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        try:
            await self.stopping.wait()
        finally:
            await self.stop()

    async def stop(self) -> None:
        log.info("stopping")
        if getattr(self, "control", None):
            self.control.close()
            control.socket_path(self.data_dir).unlink(missing_ok=True)
        await self._close_bus()
        if self.ftp:
            self.ftp.close()
        self.db.close()
        self._lock.close()

    def _seed_demo(self) -> None:
        from .installation import add_device, local_gateway
        from .virtual import DEMO

        if any(g.devices for g in load_specs(self.db)) or settings.get(self.db, "virtual.seeded"):
            return
        gateway = local_gateway(self.db)
        for row in DEMO:
            try:
                add_device(self.db, gateway.id, **row)
            except Exception as exc:  # a family not in this build: the demo is best effort
                log.warning("demo device %s not added: %s", row["name"], exc)
        settings.set(self.db, "virtual.seeded", "on")
        log.info("virtual installation: demo devices added on the Local gateway")

    # -- the FTP share ------------------------------------------------------------------------
    def _start_ftp(self) -> None:
        from .ftp import FtpShare

        self.ftp_key = (settings.get(self.db, "ftp.passive_ports"), settings.get(self.db, "ftp.max_connections"))
        share = FtpShare.from_settings(self.db, self.history_dir, self.history_dir, self.ports["host"], self.ports["ftp"])
        try:
            share.start()
        except OSError as exc:  # port taken: the rest of the box keeps working, the log says why
            log.error("FTP share not started on %s:%s: %s", self.ports["host"], self.ports["ftp"], exc)
            return
        self.ftp = share
        log.info("FTP share of %s on %s:%s", self.history_dir, *share.address)

    def _reload_ftp(self) -> None:
        key = (settings.get(self.db, "ftp.passive_ports"), settings.get(self.db, "ftp.max_connections"))
        if self.ftp and key == self.ftp_key:
            self.ftp.set_password(settings.get(self.db, "ftp.password"))
            return
        if self.ftp:
            self.ftp.close()
            self.ftp = None
        self._start_ftp()

    # -- the RS485 side -----------------------------------------------------------------------
    def _local(self) -> GatewaySpec:
        return next(g for g in load_specs(self.db) if g.kind == LOCAL)

    def _serial(self) -> tuple:
        get = lambda key: settings.get(self.db, key)  # noqa: E731
        return (get("serial.port"), int(get("serial.baudrate")), PARITIES[get("serial.parity")],
                int(get("serial.stopbits")), int(get("serial.timeout_ms")), bool(get("virtual.paced")))

    async def _open_bus(self) -> None:
        port, baud, parity, stop, timeout_ms, paced = self.serial_key = self._serial()
        local = self._local()
        if not port:
            from .simbus import SimBus
            from .virtual import build_twins

            self.sim = SimBus(build_twins(local.devices), baud, parity, stop, paced=paced)
            self.sim.start()
            port = self.sim.port
            log.info("no serial device configured: virtual installation on %s (%d devices%s)",
                     port, len(self.sim.twins), ", paced" if paced else "")
        self.line = RtuLine(SerialSettings(port, baud, parity, stop, timeout_ms / 1000))
        try:
            await self.line.open()
        except OSError as exc:  # a missing USB adapter must not stop the daemon: report and retry on reload
            log.error("cannot open RS485 port %s: %s", port, exc)
            self.line = None
            return
        self.bus = Bus(self.line, self._frame_interval(local) / 1000)
        self.bus.start()
        self.poller = Poller(self.bus, local, float(settings.get(self.db, "poll.interval_s")),
                             float(settings.get(self.db, "poll.status_interval_s")))
        self.poll_task = asyncio.get_running_loop().create_task(self.poller.run(), name="poller")

    def _frame_interval(self, local: GatewaySpec) -> int:
        return frame_interval_ms(int(settings.get(self.db, "serial.frame_interval_ms")),
                                 bool(settings.get(self.db, "serial.frame_interval_sync")), local.has_greenup)

    async def _close_bus(self) -> None:
        if self.poll_task:
            self.poll_task.cancel()
            try:
                await self.poll_task
            except asyncio.CancelledError:
                pass
            self.poll_task = None
        if self.bus:
            await self.bus.stop()
            self.bus = None
        if self.line:
            self.line.close()
            self.line = None
        if self.sim:
            self.sim.close()
            self.sim = None

    async def reload(self) -> None:
        """Apply configuration changes: serial parameters reopen the port, the rest is live."""
        self._reload_ftp()
        if self._serial() != self.serial_key or self.bus is None:
            log.info("serial settings changed: reopening the RS485 port")
            await self._close_bus()
            await self._open_bus()
            return
        local = self._local()
        if self.sim:
            from .virtual import build_twins

            for twin in build_twins(local.devices):
                if twin.unit not in self.sim.twins or type(self.sim.twins[twin.unit]) is not type(twin):
                    self.sim.add(twin)
        self.bus.frame_interval = self._frame_interval(local) / 1000
        self.poller.interval = float(settings.get(self.db, "poll.interval_s"))
        self.poller.status_interval = float(settings.get(self.db, "poll.status_interval_s"))
        self.poller.configure(local)

    # -- the control socket -------------------------------------------------------------------
    async def handle(self, request: dict) -> dict:
        cmd = request["cmd"]
        if cmd == "status":
            return self.status()
        if cmd == "reload":
            await self.reload()
            return {"ok": True}
        if cmd == "test":
            return await self.test(request.get("what", "device"), int(request["id"]))
        if cmd == "fault":  # virtual installation only: make a simulated device misbehave
            return self.fault(int(request["id"]), request.get("fault"))
        return {"ok": False, "error": f"unknown command {cmd!r}"}

    def status(self) -> dict:
        from .installation import all_devices

        gateways = []
        for gw in load_specs(self.db):
            if self.poller and gw.id == self.poller.gateway.id:
                snap = self.poller.snapshot()
            else:
                snap = {"id": gw.id, "name": gw.name, "kind": gw.kind, "address": gw.address,
                        "status": OFF if not gw.enabled else "unsupported", "devices": []}
            live = {d["id"] for d in snap["devices"]}
            snap["devices"] += [{"id": d.id, "name": d.name, "family": d.family, "model": d.model,
                                 "address": d.address, "status": OFF, "values": {}}
                                for d in all_devices(self.db, gw.id) if d.id not in live]
            snap["devices"].sort(key=lambda d: d["id"])
            gateways.append(snap)
        return {"ok": True, "version": __version__, "pid": os.getpid(), "started": self.started,
                "data_dir": str(self.data_dir), "ports": self.ports,
                "ftp": "%s:%s" % self.ftp.address if self.ftp else None,
                "rs485": {"port": self.line.settings.port if self.line else None,
                          "settings": repr(self.line.settings) if self.line else None,
                          "virtual": self.sim is not None, "kernel_rs485": bool(self.line and self.line.rs485),
                          "frame_interval_ms": round(self.bus.frame_interval * 1000) if self.bus else None,
                          "transactions": self.bus.stats.transactions if self.bus else 0,
                          "errors": dict(self.bus.stats.errors) if self.bus else {}},
                "gateways": gateways}

    async def test(self, what: str, ident: int) -> dict:
        if self.poller is None:
            return {"ok": False, "message": "the RS485 port is not open"}
        if what == "gateway":
            if ident != self.poller.gateway.id:
                return {"ok": False, "message": f"gateway {ident}: only the Local gateway is polled in this version"}
            return await self.poller.test_gateway()
        from wsmeasure.drivers.catalogue import family

        from .installation import device_spec

        spec = device_spec(self.db, ident)
        if spec is None:
            return {"ok": False, "message": f"no device with ID {ident}"}
        return await self.poller.test_device(family(spec.family).driver_for(spec))

    def fault(self, ident: int, fault: str | None) -> dict:
        if self.sim is None:
            return {"ok": False, "message": "faults exist only on the virtual installation"}
        from .installation import device_spec

        from wsmeasure.drivers.catalogue import family

        spec = device_spec(self.db, ident)
        twin = self.sim.twins.get(family(spec.family).driver_for(spec).unit) if spec else None
        if twin is None:
            return {"ok": False, "message": f"no simulated device for ID {ident}"}
        if fault not in (None, "silent", "garbled", "slow"):
            return {"ok": False, "message": "fault is one of silent, garbled, slow, or none"}
        twin.fault = fault
        return {"ok": True, "message": f"address {twin.unit}: fault {fault or 'none'}"}


def run(data_dir: Path, appliance: bool = False) -> int:
    try:
        asyncio.run(Daemon(data_dir, appliance).run())
    except AlreadyRunning as exc:
        log.error("%s", exc)
        return 1
    return 0
