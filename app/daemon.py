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
import sqlite3
import struct
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import __version__, control, sdnotify, settings
from .aio import cancel
from .backup import auto_backup, auto_backup_due
from .bus import Bus
from .db import open_config
from .messages import reason, verdict
from .installation import load_specs
from .poller import ERROR, OFF, Poller, address_label
from .rtu import PARITIES, RtuLine, SerialSettings
from .specs import IP, LOCAL, GatewaySpec

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
    def __init__(self, data_dir: Path, appliance: bool = False, port_offset: int = 0):
        self.data_dir = Path(data_dir)
        self.appliance = appliance
        base = APPLIANCE_PORTS if appliance else DEV_PORTS
        # several daemons side by side on one machine (tests, a master and a slave box)
        self.ports = {k: v if k == "host" else v + port_offset for k, v in base.items()}
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
        self.web = None          # the HTTPS pages (cheroot threads) and the HTTP redirect
        self.web_app = None
        self.gateway = None      # the Modbus TCP server (RS485 gateway and unit 247), when ON
        self.remote: dict[int, tuple] = {}   # IP and virtual gateways: id -> (key, line, bus, poller, task)
        self.pushed: dict[int, int] = {}     # frame interval last synchronised to each IP gateway (ms)
        self.background: set[asyncio.Task] = set()   # one-shot jobs (_spawn)
        self.pending = []        # slot records closed but not yet in data.db (a full disk...)
        self.record_task: asyncio.Task | None = None
        self.record_error: str | None = None
        # data.db and the CSV files are written off the loop, one job at a time: fsync on a
        # flash card may take a while, and the bus timing must not suffer from it
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="writer")

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
        self.history_dir.mkdir(exist_ok=True)
        await self._open_history()
        await self._open_bus()
        self._start_ftp()
        await self._sync_modbus_tcp()
        await self._sync_remote()
        self.control = await control.serve(self.data_dir, self.handle)
        self._start_web()
        log.info("wsmeasure %s running on %s; ports %s", __version__, self.data_dir, self.ports)
        # a version just installed by a software update is kept once it has run well (update.py)
        from .update import confirm_when_healthy

        self._spawn(confirm_when_healthy(self.data_dir, self._healthy), "update-confirm")

    def _spawn(self, job, name: str | None = None) -> None:
        """A one-shot job: referenced until done, so it is not collected; cancelled at stop."""
        task = asyncio.get_running_loop().create_task(job, name=name)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    def _healthy(self) -> bool:
        """For the update's mark good: pages started, the recording loop alive, the RS485 poll loop
        alive and past its first cycle (a box whose port is missing counts: not the version's fault)."""
        return (self.web is not None and self.record_task is not None and not self.record_task.done()
                and (self.poll_task is None or (not self.poll_task.done() and self.poller.cycles > 0)))

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):  # a SIGTERM during start-up stops cleanly after it
            loop.add_signal_handler(sig, self.stopping.set)
        # systemd (Type=notify): pings from this loop from the first moment, READY once serving
        watchdog = sdnotify.start_watchdog()
        try:
            await self.start()
            sdnotify.ready(f"serving; HTTPS on port {self.ports['https']}")
            try:
                await self.stopping.wait()
            finally:
                sdnotify.stopping()
                await self.stop()
        finally:
            await cancel(watchdog)

    async def stop(self) -> None:
        log.info("stopping")
        if getattr(self, "control", None):
            self.control.close()
            control.socket_path(self.data_dir).unlink(missing_ok=True)
        if self.web:
            await asyncio.get_running_loop().run_in_executor(None, self.web.stop)
        if self.gateway:
            await self.gateway.close()
        for task in list(self.background):
            await cancel(task)
        for gid in list(self.remote):
            await self._stop_remote(gid)
        await self._close_bus()
        await cancel(self.record_task)
        if self.ftp:
            self.ftp.close()
        self.writer.shutdown(wait=True)
        self.store.close()
        self.db.close()
        self._lock.close()

    def _start_web(self) -> None:
        """The pages, in cheroot threads; they reach this loop through Box.call."""
        from wsmeasure.web.app import make_app
        from wsmeasure.web.box import Box
        from wsmeasure.web.server import WebServer

        box = Box(self.db, self.data_dir, self.appliance, handle=self.handle,
                  loop=asyncio.get_running_loop(), version=__version__)
        self.web_app = make_app(box)
        self.web = WebServer(self.web_app, self.data_dir, self.ports["host"], self.ports["https"], self.ports["http"])
        self.web.start()

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

    # -- recording: poller -> recorder -> data.db -> CSV history ------------------------------
    def _slot_s(self) -> int:
        return int(settings.get(self.db, "recorder.slot_s")) or 60 * int(settings.get(self.db, "sample_rate_min"))

    def _device_keys(self) -> dict[int, tuple]:
        """What identifies each device's counters: a change means a new baseline (meter replaced)."""
        from .installation import all_devices

        return {d.id: (d.family, d.model, d.address, d.position, d.side, d.interface, repr(d.params))
                for d in all_devices(self.db)}

    def _moduli(self) -> dict:
        from wsmeasure.drivers.catalogue import family

        from .installation import all_devices
        from .recorder import moduli_of

        moduli = {}
        for spec in all_devices(self.db):
            try:
                moduli.update(moduli_of(spec.id, family(spec.family).driver_for(spec).measure_rows()))
            except (KeyError, ValueError):
                continue
        return moduli

    async def _open_history(self) -> None:
        from .history import History
        from .history_installation import installation_from_config
        from .recorder import Recorder
        from .store import Store
        from .store_time import zone

        self.tz_name = tz_name = settings.get(self.db, "time.zone")
        self.store = Store(self.data_dir, tz_name)
        self.recorder = Recorder(self._slot_s(), zone(tz_name), counter_state=self.store.counter_state(),
                                 moduli=self._moduli(), stored_until=self.store.stored_until())
        self.device_keys = self._device_keys()
        self.pricer = self._pricer()
        self.csv_seps = (settings.get(self.db, "csv.field_separator"), settings.get(self.db, "csv.decimal_separator"))
        self.history = History(self.history_dir, *self.csv_seps, zone(tz_name))
        self.installation = installation_from_config(self.db)
        await self._repair_history()
        self.last_retain = 0.0
        self.record_task = asyncio.get_running_loop().create_task(self._record(), name="recorder")

    def _pricer(self):
        """The tariffs and cost rules as they are now: the writer prices the next slots with them."""
        from .tariffs import Pricer, pricer

        try:
            return pricer(self.db)
        except Exception:  # noqa: BLE001 -- a broken bill configuration must not stop the recording
            log.exception("cost rules not read: the next slots are recorded without costs")
            return Pricer()

    async def _in_writer(self, func, *args):
        return await asyncio.get_running_loop().run_in_executor(self.writer, func, *args)

    async def _repair_history(self) -> None:
        """CSV files after a crash: cut a torn last line, add the slots data.db has and they lack."""
        try:
            added = await self._in_writer(self.history.repair, self.store.records_since, self.installation)
        except OSError as exc:
            log.error("CSV history not repaired: %s", exc)
            return
        if added:
            log.info("CSV history: %d lines restored from data.db", added)

    async def _record(self) -> None:
        """At each slot end: close it, write it (one transaction), then append it to the CSV files."""
        while True:
            now = time.time()
            end = self.recorder.slot_bounds(now)[1]
            await asyncio.sleep(max(0.05, end - now + 0.01))
            try:
                for start in self.recorder.due():
                    self.pending += self.recorder.close_slot(start)
                if self.pending:
                    await self._flush()
                if time.time() - self.last_retain > 86400:
                    await self._in_writer(self.store.retain)
                    await self._in_writer(self.store.checkpoint)
                    self.last_retain = time.time()
                if auto_backup_due(self.data_dir):   # System information shows its time and status
                    await self._in_writer(auto_backup, self.db, self.data_dir)
            except asyncio.CancelledError:
                raise
            except Exception:  # the recording loop never dies; its records stay pending
                log.exception("recording failed")

    async def _flush(self) -> None:
        records = list(self.pending)
        try:
            written = await self._in_writer(self.store.write_slot, records, self.recorder.counter_state(after=records),
                                            self.pricer)
        except (OSError, sqlite3.Error) as exc:
            if self.record_error is None:
                log.error("cannot write the measurements to data.db (%s); %d records wait in memory and "
                          "are written as soon as it works again", exc, len(records))
            self.record_error = str(exc)
            return
        if self.record_error is not None:
            log.warning("data.db writable again: %d waiting records written", len(records))
            self.record_error = None
        if written.too_old:  # older than the slot horizon: the clock went back a long way
            log.error("%d records older than the stored history were refused: check the date and time", written.too_old)
        self.recorder.commit(records)
        del self.pending[:len(records)]
        try:
            if self.history.dirty:
                await self._in_writer(self.history.repair, self.store.records_since, self.installation)
            await self._in_writer(self.history.append, records, self.installation)
        except OSError as exc:  # data.db has them: the files catch up when space returns
            log.error("CSV history not written: %s", exc)

    def _reload_recording(self) -> None:
        from .history import History
        from .history_installation import installation_from_config
        from .store_time import zone

        self.recorder.set_slot_s(self._slot_s())
        keys = self._device_keys()
        for ident, key in self.device_keys.items():
            if keys.get(ident) != key:
                self.recorder.rebase(ident)
            if ident not in keys:  # deleted: its statistics give their budget share back
                self.writer.submit(self.store.forget_stats, ident)
        self.device_keys = keys
        self.recorder.moduli = self._moduli()
        self.pricer = self._pricer()   # a new object: the writer keeps the one it was handed
        self.installation = installation_from_config(self.db)
        if settings.get(self.db, "time.zone") != self.tz_name:
            log.warning("time zone changed to %r: the history is cut at its midnights after the next restart",
                        settings.get(self.db, "time.zone") or "the system's")
        seps = (settings.get(self.db, "csv.field_separator"), settings.get(self.db, "csv.decimal_separator"))
        if seps != self.csv_seps:  # new files (a new version) from the next slot on
            self.csv_seps = seps
            self.history = History(self.history_dir, *seps, zone(settings.get(self.db, "time.zone")))

    # -- the Modbus TCP server (manual 7.8, 7.16.6) ------------------------------------------
    async def _sync_modbus_tcp(self) -> None:
        """Start or stop the server as the setting says; keep it pointed at the current bus."""
        from .aggregates import members_from_config

        self.local_on = self._local().enabled
        self.members = members_from_config(self.db)
        wanted = bool(settings.get(self.db, "modbus_tcp.enabled"))
        if self.gateway and not wanted:
            await self.gateway.close()
            self.gateway = None
            log.info("Modbus TCP server off")
        elif wanted and not self.gateway:
            from .mbtcp import GatewayServer
            from .slave import SLAVE_UNIT, SlaveEnergies
            from .store import Store

            reader = Store(self.data_dir, self.tz_name, readonly=True)  # WAL: reads beside the writer
            slave = SlaveEnergies(reader, lambda: self.members, self._frame_interval_from_master)
            server = GatewayServer(self.bus, self.ports["host"], self.ports["modbus_tcp"],
                                   local_enabled=lambda: self.local_on, local_units={SLAVE_UNIT: slave.answer})
            try:
                await server.start()
            except OSError as exc:
                log.error("Modbus TCP server not started on %s:%s: %s", self.ports["host"], self.ports["modbus_tcp"], exc)
                return
            self.gateway = server
            log.info("Modbus TCP server on %s:%s (RS485 gateway, slave unit %d)", self.ports["host"], server.port,
                     SLAVE_UNIT)
        if self.gateway:
            self.gateway.bus = self.bus

    def _frame_interval_from_master(self, ms: int | None) -> int:
        """A master box syncing its frame interval to this box (unit 247): store it and apply it."""
        if ms is not None and ms != settings.get(self.db, "serial.frame_interval_ms"):
            settings.set(self.db, "serial.frame_interval_ms", str(ms))
            log.info("frame interval set to %d ms by a master box", ms)
            if self.bus:
                self.bus.frame_interval = self._frame_interval(self._local()) / 1000
        return self._frame_interval(self._local())

    async def _push_frame_interval(self, gid: int, bus: Bus, ms: int) -> None:
        """Release notes: with sync ON, each IP gateway keeps max(50 ms or 200 ms with Green'Up, ours)."""
        from .bus import COMMAND
        from .rtu import BusError
        from .slave import FRAME_INTERVAL_REGISTER, SLAVE_UNIT

        try:
            await bus.request(SLAVE_UNIT, struct.pack(">BHH", 6, FRAME_INTERVAL_REGISTER, ms), COMMAND)
            log.info("gateway %d: frame interval synchronised to %d ms", gid, ms)
        except BusError as exc:  # a third-party gateway: the manual advises turning sync off for those
            log.info("gateway %d does not take the frame interval (%s): a third-party gateway?", gid, exc)

    # -- IP and virtual gateways: the same poller over Modbus TCP ----------------------------
    async def _sync_remote(self) -> None:
        """One connection, bus and poller per IP or virtual gateway that is ON."""
        from .tcpline import TcpLine, TcpSettings

        interval = float(settings.get(self.db, "poll.interval_s"))
        status_interval = float(settings.get(self.db, "poll.status_interval_s"))
        timeout = int(settings.get(self.db, "serial.timeout_ms")) / 1000
        specs = {g.id: g for g in load_specs(self.db) if g.kind != LOCAL}
        for gid, (key, *_rest) in list(self.remote.items()):
            g = specs.get(gid)
            if g is None or not g.enabled or key != (g.address, g.port):
                await self._stop_remote(gid)
        for gid, g in specs.items():
            if not g.enabled:
                continue
            if gid in self.remote:
                poller = self.remote[gid][3]
                poller.interval, poller.status_interval = interval, status_interval
                poller.configure(g)
                continue
            # the remote gateway paces its own RS485 line: no frame interval on the TCP side
            line = TcpLine(TcpSettings(g.address, g.port, max(timeout, 1.0)))
            bus = Bus(line, 0.0)
            bus.start()
            poller = Poller(bus, g, interval, status_interval)
            poller.listeners.append(self.recorder.observe)
            task = asyncio.get_running_loop().create_task(poller.run(), name=f"gateway-{gid}")
            self.remote[gid] = ((g.address, g.port), line, bus, poller, task)
        sync = bool(settings.get(self.db, "serial.frame_interval_sync"))
        user_ms = int(settings.get(self.db, "serial.frame_interval_ms"))
        for gid, (_key, _line, bus, poller, _task) in self.remote.items():
            ms = frame_interval_ms(user_ms, True, poller.gateway.has_greenup)
            if sync and specs[gid].kind == IP and self.pushed.get(gid) != ms:
                self.pushed[gid] = ms
                self._spawn(self._push_frame_interval(gid, bus, ms))

    async def _stop_remote(self, gid: int) -> None:
        _key, line, bus, _poller, task = self.remote.pop(gid)
        self.pushed.pop(gid, None)
        await cancel(task)
        await bus.stop()
        line.close()

    def _poller_of(self, gateway_id: int) -> Poller | None:
        if self.poller and self.poller.gateway.id == gateway_id:
            return self.poller
        return self.remote[gateway_id][3] if gateway_id in self.remote else None

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
        self.poller.listeners.append(self.recorder.observe)
        self.poll_task = asyncio.get_running_loop().create_task(self.poller.run(), name="poller")

    def _frame_interval(self, local: GatewaySpec) -> int:
        return frame_interval_ms(int(settings.get(self.db, "serial.frame_interval_ms")),
                                 bool(settings.get(self.db, "serial.frame_interval_sync")), local.has_greenup)

    async def _close_bus(self) -> None:
        if self.gateway:  # gateway clients get 0x0A while the port is reopened
            self.gateway.bus = None
        await cancel(self.poll_task)
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
        self._reload_recording()
        if self._serial() != self.serial_key or self.bus is None:
            log.info("serial settings changed: reopening the RS485 port")
            await self._close_bus()
            await self._open_bus()
            await self._sync_modbus_tcp()
            await self._sync_remote()
            return
        await self._sync_modbus_tcp()
        await self._sync_remote()
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
        if cmd == "optimize":  # System information's "Optimize" (manual 8.8): in the writer, between slots
            from .sysinfo import optimize

            try:
                return {"ok": True, **await self._in_writer(optimize, self.store.conn)}
            except (OSError, sqlite3.Error) as exc:
                log.error("optimize: %s", exc)
                return {"ok": False, "error": str(exc)}
        if cmd == "fault":  # virtual installation only: make a simulated device misbehave
            return self.fault(int(request["id"]), request.get("fault"))
        return {"ok": False, "error": f"unknown command {cmd!r}"}

    def status(self) -> dict:
        from .installation import all_devices

        gateways = []
        for gw in load_specs(self.db):
            poller = self._poller_of(gw.id)
            if poller is not None:
                snap = poller.snapshot()
                if gw.id in self.remote and self.remote[gw.id][1].last_error:
                    snap["status"], snap["error"] = ERROR, self.remote[gw.id][1].last_error
            else:
                snap = {"id": gw.id, "name": gw.name, "kind": gw.kind, "address": gw.address,
                        "status": OFF, "devices": []}
            live = {d["id"] for d in snap["devices"]}
            snap["devices"] += [{"id": d.id, "name": d.name, "family": d.family, "model": d.model,
                                 "address": address_label(d), "status": OFF, "values": {}}
                                for d in all_devices(self.db, gw.id) if d.id not in live]
            snap["devices"].sort(key=lambda d: d["id"])
            gateways.append(snap)
        return {"ok": True, "version": __version__, "pid": os.getpid(), "started": self.started,
                "data_dir": str(self.data_dir), "ports": self.ports,
                "ftp": "%s:%s" % self.ftp.address if self.ftp else None,
                "modbus_tcp": f"{self.ports['host']}:{self.gateway.port}" if self.gateway else None,
                "recorder": {"slot_s": self.recorder.slot_s, "pending": len(self.pending),
                             "error": self.record_error},
                "rs485": {"port": self.line.settings.port if self.line else None,
                          "settings": repr(self.line.settings) if self.line else None,
                          "virtual": self.sim is not None, "kernel_rs485": bool(self.line and self.line.rs485),
                          "frame_interval_ms": round(self.bus.frame_interval * 1000) if self.bus else None,
                          "transactions": self.bus.stats.transactions if self.bus else 0,
                          "errors": dict(self.bus.stats.errors) if self.bus else {}},
                "gateways": gateways}

    async def test(self, what: str, ident: int) -> dict:
        from wsmeasure.drivers.catalogue import family

        from .installation import device_spec
        from .rtu import BusError

        if what == "gateway":
            poller = self._poller_of(ident)
            if poller is None:
                return verdict(False, "gateway {id} is OFF, unknown, or its port could not be opened", id=ident)
            if ident in self.remote:
                line = self.remote[ident][1]
                try:
                    if line._writer is None:
                        await line.open()
                except BusError as exc:
                    return verdict(False, reason(exc))
            return await poller.test_gateway()
        spec = device_spec(self.db, ident)
        if spec is None:
            return verdict(False, "no device with ID {id}", id=ident)
        poller = self._owner(ident)
        if poller is None:
            return verdict(False, "device {id}: its gateway is OFF or not reachable", id=ident)
        return await poller.test_device(family(spec.family).driver_for(spec))

    def _owner(self, device_id: int) -> Poller | None:
        """The poller of the gateway a device is configured on."""
        from .installation import devices

        for d in devices(self.db):
            if d.id == device_id:
                return self._poller_of(d.gateway_id)
        return None

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


def run(data_dir: Path, appliance: bool = False, port_offset: int = 0) -> int:
    try:
        asyncio.run(Daemon(data_dir, appliance, port_offset).run())
    except AlreadyRunning as exc:
        log.error("%s", exc)
        return 1
    return 0
