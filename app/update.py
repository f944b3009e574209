"""Software update (manual 7.10): a signed bundle (bundle.py) installed into the inactive of two
application slots, switched, restarted, kept only once the new version has shown it works.

The layout, under a root prefix (ROOT, "/" on the box; tests use a temporary folder):

    opt/wsmeasure/slot-a, slot-b   two complete virtualenvs with wsmeasure installed (bin/wsmeasure)
    opt/wsmeasure/current          symlink to the active slot ("slot-a" or "slot-b", relative)
    var/lib/wsmeasure              the data partition: config.db, data.db, history... (every path keeps it)
    var/lib/wsmeasure/update/      state.json, the configuration snapshot, the queued bundle
    etc/wsmeasure/update-keys/     the public keys the box trusts (*.pub)
    usr/lib/wsmeasure/slot-guard   run as root before each start of the daemon (ExecStartPre=+)

install_update(): verify the bundle (bundle.verify: signature, manifest, compatibility, version,
payload hash); a refusal changes nothing. Then one of three things, said by Outcome.action:

- "verified": a developer machine (no ROOT/opt/wsmeasure/current) or a dry run: nothing installed;
- "queued": the slots are not writable by this process (the daemon runs as its own user): the
  bundle is moved to update/install.bundle, which a root unit (wsmeasure-update.path/.service)
  installs with `wsmeasure update install --queued`, checking everything again;
- "installed": a fresh virtualenv built from the payload's wheels in opt/wsmeasure/.slot-X.new
  (offline, pip run from its own wheel), renamed over the inactive slot only once complete,
  config.db snapshotted into update/config-before-update.db, state.json written
  {active: new, previous: old, pending: true, tries: 0}, then `current` switched in one
  rename. The caller restarts the daemon (restart()/restart_later()).

The new version is on trial: slot-guard counts each start of the daemon while state.json says
"pending"; the daemon calls mark_good() once healthy (confirm_when_healthy: up for
HEALTHY_AFTER_S with its web server started, the RS485 poll loop alive and past its first cycle,
the recording loop alive). After MAX_TRIES starts without that, slot-guard switches `current`
back to the previous slot, restores the configuration snapshot if the new version migrated
config.db to a newer schema, and records the rollback. A new bundle is refused while the active
slot is still on trial: the inactive slot is its way back.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import __version__, bundle
from .bundle import FIELD
from .history_files import fsync_dir
from .settings import ConfigError

log = logging.getLogger(__name__)

ROOT = Path("/")                      # the page and the CLI use this root (tests point it elsewhere)
APP_DIR = Path("opt/wsmeasure")       # under the root
SLOTS = ("slot-a", "slot-b")
CURRENT = "current"
DATA_DIR = Path("var/lib/wsmeasure")  # under the root: the data partition
STATE_DIR = "update"                  # under the data dir
STATE = "state.json"
QUEUED = "install.bundle"             # what the root updater unit installs
SNAPSHOT = "config-before-update.db"
LOCK = "install.lock"
WORK_PREFIX = ".update-work-"
MAX_TRIES = 3                         # starts of a new version before slot-guard falls back
HEALTHY_AFTER_S = 60.0                # a new version is kept once it has been healthy this long
HEALTH_RETRY_S = 10.0
HISTORY_MAX = 20                      # events kept in state.json
INSTALL_TIMEOUT_S = 1800              # pip on a slow board compiles every module
RESTART = ("systemctl", "--no-block", "restart", "wsmeasure.service")


@dataclass
class Outcome:
    """What install_update did with a verified bundle."""

    action: str              # "verified" (nothing installed), "queued" or "installed"
    version: str             # the bundle's
    compatible: str
    key: str                 # the trusted key that verified it
    installed: str           # the version running when it was checked
    slot: str | None = None  # the slot it went (or would go) into
    wheels: list[str] = field(default_factory=list)


@dataclass
class Layout:
    """The application slots under a root prefix."""

    root: Path

    @property
    def app_dir(self) -> Path:
        return self.root / APP_DIR

    @property
    def current(self) -> Path:
        return self.app_dir / CURRENT

    def present(self) -> bool:
        """Whether this is a box with slots (a developer machine has no ROOT/opt/wsmeasure/current)."""
        return self.current.is_symlink()

    def active(self) -> str | None:
        """The slot `current` points to, or None if it points elsewhere."""
        try:
            name = Path(os.readlink(self.current)).name
        except OSError:
            return None
        return name if name in SLOTS else None

    def other(self, slot: str) -> str:
        return SLOTS[1 - SLOTS.index(slot)]


# -- state.json -----------------------------------------------------------------------------------
def state_dir(data_dir: Path) -> Path:
    return Path(data_dir) / STATE_DIR


def read_state(data_dir: Path) -> dict:
    """update/state.json, or {} if there is none (a box never updated) or it is unreadable."""
    try:
        state = json.loads((state_dir(data_dir) / STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def _own_like_data(path: Path, data_dir: Path) -> None:
    """As root (the updater, slot-guard): give what we create in the data dir to its owner, the
    daemon's user, which replaces state.json in mark_good()."""
    if os.geteuid() != 0:
        return
    try:
        st = Path(data_dir).stat()
        os.chown(path, st.st_uid, st.st_gid)
    except OSError as exc:
        log.warning("cannot give %s to the data dir's owner: %s", path, exc)


def _folder(data_dir: Path) -> Path:
    folder = state_dir(data_dir)
    if not folder.is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        _own_like_data(folder, data_dir)
    return folder


def write_state(data_dir: Path, state: dict) -> None:
    """Replace state.json in one step (synced: it decides which slot boots)."""
    folder = _folder(data_dir)
    temp = folder / f".{STATE}.tmp"
    with open(temp, "w", encoding="utf-8") as file:
        json.dump(state, file, indent=2)
        file.write("\n")
        file.flush()
        os.fsync(file.fileno())
    _own_like_data(temp, data_dir)
    os.replace(temp, folder / STATE)
    fsync_dir(folder)


def add_event(state: dict, event: str, **details) -> dict:
    """Append an event ("installed", "confirmed", "refused"...) to the state's short history."""
    history = [e for e in state.get("history", []) if isinstance(e, dict)]
    history.append({"time": time.time(), "event": event, **details})
    state["history"] = history[-HISTORY_MAX:]
    return state


def status(root: Path | None = None, data_dir: Path | None = None) -> dict:
    """For the Software update page and `wsmeasure update status`: the slots and the state."""
    root = ROOT if root is None else Path(root)
    data_dir = root / DATA_DIR if data_dir is None else Path(data_dir)
    layout = Layout(root)
    state = read_state(data_dir)
    return {"appliance": layout.present(), "active": layout.active(), "running": __version__,
            "running_slot": running_slot(), "pending": bool(state.get("pending")), "tries": state.get("tries", 0),
            "max_tries": MAX_TRIES, "previous": state.get("previous"),
            "previous_version": state.get("previous_version"),
            "queued": (state_dir(data_dir) / QUEUED).exists(), "history": state.get("history", [])}


# -- installing -----------------------------------------------------------------------------------
@contextlib.contextmanager
def _locked(folder: Path):
    """One install at a time (the page, the root updater and an ssh session may try together)."""
    with open(folder / LOCK, "a") as lock:
        _own_like_data(folder / LOCK, folder.parent)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(FIELD, "another update is being installed: try again in a few minutes") from None
        yield


def install_update(path: Path, root: Path | None = None, data_dir: Path | None = None, *, force: bool = False,
                   dry_run: bool = False, queue: bool = False, installed: str | None = None,
                   python: Path | None = None, keys=None, build_slot: Callable | None = None) -> Outcome:
    """Verify the bundle at `path` and install it (see the module doc); ConfigError (field "bundle")
    when it is refused, and then nothing changed.

    `root`: the box's root prefix (default ROOT); `data_dir`: its data partition (default
    ROOT/var/lib/wsmeasure); `force`: also the same or an older version; `dry_run`: verify only;
    `queue`: hand the bundle to the root updater when the slots are not writable here (the page);
    `installed`: the version to compare with (default: the running one); `python`: the
    interpreter of the new slot (default: the one this virtualenv is made from); `keys`: trusted
    keys instead of ROOT's; `build_slot(folder, wheels, version, python)`: the slot builder."""
    root = (ROOT if root is None else Path(root)).absolute()   # the new slot's scripts name absolute paths
    data_dir = root / DATA_DIR if data_dir is None else Path(data_dir).absolute()
    installed = __version__ if installed is None else installed
    layout = Layout(root)
    if dry_run or not layout.present():
        verified = bundle.verify(path, root, installed=installed, force=force, keys=keys, work=_work_parent(data_dir))
        return _outcome("verified", verified, installed, _target(layout))
    active = layout.active()
    if active is None:
        raise ConfigError(FIELD, "the application is not installed in slots here ({current} points elsewhere): "
                                 "this box cannot be updated with a bundle", current=str(layout.current))
    if not writable(layout.app_dir):
        if not queue:
            raise ConfigError(FIELD, "{folder} is not writable: install updates as root", folder=str(layout.app_dir))
        verified = bundle.verify(path, root, installed=installed, force=force, keys=keys, work=_work_parent(data_dir))
        _check_not_pending(data_dir, active)
        _queue(Path(path), data_dir)
        return _outcome("queued", verified, installed, layout.other(active))
    # everything is checked before anything is written (the temporary folder aside)
    with tempfile.TemporaryDirectory(prefix=WORK_PREFIX, dir=_work_parent(data_dir)) as work:
        wheels = Path(work) / "wheels"
        verified = bundle.verify(path, root, installed=installed, force=force, keys=keys, work=Path(work),
                                 wheels=wheels)
        _check_not_pending(data_dir, active)
        with _locked(_folder(data_dir)):
            active = layout.active() or active
            _check_not_pending(data_dir, active)   # an install that finished meanwhile is on trial now
            target = layout.other(active)
            _install(layout, data_dir, verified, wheels, active, target, installed,
                     Path(python) if python else base_python(), build_slot or build_venv)
    return _outcome("installed", verified, installed, target)


def writable(folder: Path) -> bool:
    """Whether this process may replace the slots (root on the box; the daemon's user may not)."""
    return os.access(folder, os.W_OK)


def _work_parent(data_dir: Path) -> Path | None:
    """Temporary files beside the upload (the data partition), else the system's temporary folder."""
    folder = state_dir(data_dir)
    return folder if folder.is_dir() and os.access(folder, os.W_OK) else None


def _target(layout: Layout) -> str | None:
    active = layout.active()
    return layout.other(active) if active else None


def _outcome(action: str, verified: bundle.Verified, installed: str, slot: str | None) -> Outcome:
    return Outcome(action, verified.version, verified.compatible, verified.key, installed, slot, verified.wheels)


def _check_not_pending(data_dir: Path, active: str) -> None:
    state = read_state(data_dir)
    if state.get("pending") and state.get("active") == active:
        raise ConfigError(FIELD, "the previous update is still on trial (it is kept after {seconds} s of normal work): "
                      "try again in a few minutes", seconds=int(HEALTHY_AFTER_S))


def _queue(path: Path, data_dir: Path) -> Path:
    """Move the verified bundle to update/install.bundle, where the root updater unit takes it."""
    target = _folder(data_dir) / QUEUED
    if path.resolve() != target.resolve():
        temp = target.with_name(f".{QUEUED}.tmp")
        try:
            os.replace(path, temp)       # the page's upload: the same folder
        except OSError:
            shutil.copyfile(path, temp)  # elsewhere (another file system)
        os.replace(temp, target)
    log.info("software update: %s queued for the root updater", target)
    return target


def base_python() -> Path:
    """The interpreter virtualenvs are made from: this virtualenv's base (/usr/bin/python3 on the box)."""
    return Path(getattr(sys, "_base_executable", "") or sys.executable)


def build_venv(folder: Path, wheels: Path, version: str, python: Path) -> None:
    """A new virtualenv in `folder` with wsmeasure==version installed offline from `wheels`; pip
    runs from its wheel in the payload (the box needs neither pip nor ensurepip). Raises
    subprocess.CalledProcessError or RuntimeError."""
    pip_wheels = sorted(wheels.glob("pip-*.whl"))

    def run(*cmd):
        subprocess.run([str(c) for c in cmd], check=True, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S)

    if pip_wheels:
        run(python, "-m", "venv", "--without-pip", folder)
        pip = [folder / "bin" / "python", f"{pip_wheels[-1]}/pip"]
    else:
        run(python, "-m", "venv", folder)
        pip = [folder / "bin" / "python", "-m", "pip"]
    run(*pip, "install", "--isolated", "--no-index", "--find-links", wheels, "--disable-pip-version-check",
        "--no-cache-dir", "--no-warn-script-location", "--quiet", f"{bundle.PRODUCT}=={version}")
    check = subprocess.run([str(folder / "bin" / "python"), "-c",
                            "import wsmeasure, wsmeasure.daemon, wsmeasure.web.app; print(wsmeasure.__version__)"],
                           capture_output=True, text=True, timeout=300)
    if check.returncode or check.stdout.strip() != version or not (folder / "bin" / bundle.PRODUCT).is_file():
        raise RuntimeError(f"the new slot does not start: {(check.stderr or check.stdout).strip()[-300:]}")


def _relocate(folder: Path, final: Path) -> None:
    """Scripts made in `folder` name their interpreter by that path: point them at `final`."""
    old, new = str(folder).encode(), str(final).encode()
    for path in [*(folder / "bin").iterdir(), folder / "pyvenv.cfg"]:
        if path.is_symlink() or not path.is_file():
            continue
        data = path.read_bytes()
        if old in data:
            mode = path.stat().st_mode
            path.write_bytes(data.replace(old, new))
            path.chmod(mode)


def _schema(db: Path, data_dir: Path) -> int | None:
    """PRAGMA user_version of a database (None if missing or unreadable), through a read-write
    connection: a read-only one leaves -wal and -shm files behind, root's when the updater runs,
    which the daemon's user could not open (see _own_sidecars)."""
    if not db.is_file():
        return None
    try:
        with contextlib.closing(sqlite3.connect(db, timeout=10)) as conn:
            return conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.Error:
        return None
    finally:
        _own_sidecars(db, data_dir)


def _own_sidecars(db: Path, data_dir: Path) -> None:
    """SQLite's -wal, -shm and -journal files of `db`, if any are left, to the data dir's owner."""
    for suffix in ("-wal", "-shm", "-journal"):
        side = Path(f"{db}{suffix}")
        if side.exists():
            _own_like_data(side, data_dir)


def _snapshot_config(data_dir: Path) -> dict:
    """config.db as it is before the switch, into update/config-before-update.db (for slot-guard)."""
    from .backup import _snapshot
    from .db import CONFIG_DB

    live = Path(data_dir) / CONFIG_DB
    if not live.is_file():
        return {}
    folder = _folder(data_dir)
    temp = folder / f".{SNAPSHOT}.tmp"
    temp.unlink(missing_ok=True)
    try:
        _snapshot(live, temp)
    finally:
        _own_sidecars(live, data_dir)
    _own_like_data(temp, data_dir)
    os.replace(temp, folder / SNAPSHOT)
    fsync_dir(folder)
    return {"config_snapshot": SNAPSHOT, "config_schema": _schema(folder / SNAPSHOT, data_dir)}


def _switch(layout: Layout, slot: str) -> None:
    """Point `current` at `slot` in one rename (relative, so the tree may be mounted anywhere)."""
    link = layout.app_dir / f".{CURRENT}.new"
    link.unlink(missing_ok=True)
    os.symlink(slot, link)
    os.replace(link, layout.current)
    fsync_dir(layout.app_dir)


def _install(layout: Layout, data_dir: Path, verified: bundle.Verified, wheels: Path, active: str, target: str,
             installed: str, python: Path, build_slot: Callable) -> None:
    final = layout.app_dir / target
    temp = layout.app_dir / f".{target}.new"
    old = layout.app_dir / f".{target}.old"
    for stale in (temp, old):   # a power cut during an earlier install
        shutil.rmtree(stale, ignore_errors=True)
    log.info("software update: installing %s into %s", verified.version, final)
    try:
        build_slot(temp, wheels, verified.version, python)
        _relocate(temp, final)
    except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
        shutil.rmtree(temp, ignore_errors=True)
        detail = getattr(exc, "stderr", None) or str(exc)
        log.error("software update: %s not installed: %s", verified.version, detail)
        raise ConfigError(FIELD, "the update could not be installed ({error}); nothing was changed",
                      error=str(detail).strip().splitlines()[-1][:300] if str(detail).strip() else type(exc).__name__) \
            from None
    state = read_state(data_dir)
    snapshot = _snapshot_config(data_dir)
    # from here the inactive slot is the new one; `current` still points at the running one
    if final.exists():
        os.rename(final, old)
    os.rename(temp, final)
    fsync_dir(layout.app_dir)
    shutil.rmtree(old, ignore_errors=True)
    previous_version = state.get("version") if state.get("active") == active else None
    new_state = {"active": target, "previous": active, "pending": True, "tries": 0,
                 "version": verified.version, "previous_version": previous_version or installed,
                 "installed": time.time(), "key": verified.key, **snapshot,
                 "data_schema": _schema(Path(data_dir) / "data.db", data_dir), "history": state.get("history", [])}
    add_event(new_state, "installed", version=verified.version, slot=target, from_version=new_state["previous_version"])
    write_state(data_dir, new_state)   # first: slot-guard takes a `current` that disagrees as an interrupted switch
    _switch(layout, target)
    log.info("software update: %s installed in %s, active from the next start (on trial)", verified.version, target)


# -- after the install: restart, trial, mark good ---------------------------------------------------
def restart(run: Callable = subprocess.run) -> None:
    """Ask systemd to restart the daemon (without waiting: it may be this very process)."""
    run(list(RESTART), check=False)


def restart_later(delay_s: float = 2.0, run: Callable = subprocess.run) -> threading.Timer:
    """restart() in `delay_s`: the page's answer is sent first."""
    timer = threading.Timer(delay_s, restart, kwargs={"run": run})
    timer.daemon = True
    timer.start()
    return timer


def running_slot() -> str | None:
    """The slot this code runs from (sys.prefix is opt/wsmeasure/slot-X on the box), else None."""
    name = Path(sys.prefix).resolve().name
    return name if name in SLOTS else None


def mark_good(data_dir: Path, slot: str | None = None) -> bool:
    """Keep the new version: state.json's "pending" off, if `slot` (default: the one running) is
    the one on trial. True if it was marked now."""
    slot = running_slot() if slot is None else slot
    state = read_state(data_dir)
    if not state.get("pending") or state.get("active") != slot:
        return False
    state["pending"] = False
    add_event(state, "confirmed", version=state.get("version"), slot=slot, tries=state.get("tries", 0))
    write_state(data_dir, state)
    log.info("software update: version %s in %s marked good", state.get("version"), slot)
    return True


async def confirm_when_healthy(data_dir: Path, healthy: Callable[[], bool], *, after_s: float = HEALTHY_AFTER_S,
                               every_s: float = HEALTH_RETRY_S, slot: str | None = None) -> bool:
    """The daemon's hook: when the running slot is on trial, mark it good once it has run
    `after_s` and `healthy()` says so (checked again every `every_s`). Returns at once otherwise."""
    slot = running_slot() if slot is None else slot
    if slot is None:   # not running from a slot: a developer machine, the tests
        return False
    state = await asyncio.to_thread(read_state, data_dir)
    if not state.get("pending") or state.get("active") != slot:
        return False
    log.info("software update: version %s on trial (start %s of %s)", state.get("version"), state.get("tries"),
             MAX_TRIES)
    await asyncio.sleep(after_s)
    while not healthy():
        await asyncio.sleep(every_s)
    return await asyncio.to_thread(mark_good, data_dir, slot)


def process_queue(root: Path | None = None, data_dir: Path | None = None, *, run: Callable = subprocess.run,
                  restart_after: bool = True, **options) -> Outcome | None:
    """The root updater unit: install update/install.bundle (queued by the page) and remove it;
    a refusal is recorded in state.json for the page, then raised; the daemon is restarted after
    an install. None if nothing is queued."""
    root = ROOT if root is None else Path(root)
    data_dir = root / DATA_DIR if data_dir is None else Path(data_dir)
    path = state_dir(data_dir) / QUEUED
    if not path.exists():
        return None
    try:
        outcome = install_update(path, root, data_dir, **options)
    except ConfigError as exc:
        log.error("software update refused: %s", exc)
        write_state(data_dir, add_event(read_state(data_dir), "refused", message=exc.message.to_json()))
        raise
    finally:
        path.unlink(missing_ok=True)
    if restart_after:
        restart(run)
    return outcome


# -- `wsmeasure update` -------------------------------------------------------------------------------
def describe(outcome: Outcome, root: Path) -> str:
    head = (f"verified: wsmeasure {outcome.version} for {outcome.compatible}, signed with {outcome.key} "
            f"({len(outcome.wheels)} wheels); installed now: {outcome.installed}")
    if outcome.action == "verified":
        where = f"it would go into {outcome.slot}" if outcome.slot else f"no {root / APP_DIR / CURRENT} here"
        return f"{head}\nnothing installed ({where})"
    if outcome.action == "queued":
        return f"{head}\nqueued for the root updater (wsmeasure-update.service)"
    return f"{head}\ninstalled in {outcome.slot}, on trial until the daemon marks it good"


def _from_stdin(data_dir: Path) -> Path:
    """The bundle sent on standard input (`ssh box wsmeasure update install - < FILE`), stored in
    the update folder of the data partition."""
    folder = _folder(data_dir)
    path = folder / "stdin.bundle"
    size = 0
    with open(path, "wb") as file:
        while chunk := sys.stdin.buffer.read(bundle.CHUNK):
            size += len(chunk)
            if size > bundle.BUNDLE_MAX:
                break
            file.write(chunk)
    if size > bundle.BUNDLE_MAX:
        path.unlink()
        limit = bundle.mib(bundle.BUNDLE_MAX)
        raise ConfigError(FIELD, "the update file is {size}; a bundle is at most {limit}", size=f"> {limit}", limit=limit)
    return path


def command(args, data_dir: Path | None) -> int:
    """`wsmeasure update install FILE | - | --queued` and `wsmeasure update status` (cli.py)."""
    root = Path(args.root) if args.root else ROOT
    data_dir = Path(data_dir) if data_dir else root / DATA_DIR
    if args.action == "status":
        print(json.dumps(status(root, data_dir), indent=2))
        return 0
    if bool(args.file) == args.queued:
        print("wsmeasure update install: give FILE (or - for standard input), or --queued", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    received = None
    try:
        if args.queued:
            outcome = process_queue(root, data_dir, restart_after=not args.no_restart, force=args.force)
            if outcome is None:
                print("nothing queued")
                return 0
        else:
            path = received = _from_stdin(data_dir) if args.file == "-" else Path(args.file)
            outcome = install_update(path, root, data_dir, force=args.force, dry_run=args.dry_run)
            if outcome.action == "installed" and not args.no_restart:
                restart()
    except ConfigError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    finally:
        if received is not None and args.file == "-":
            received.unlink(missing_ok=True)
    print(describe(outcome, root))
    return 0
