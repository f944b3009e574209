"""The `wsmeasure` command: run the daemon, look at it, configure it, test devices."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

APPLIANCE_DATA_DIR = Path("/var/lib/wsmeasure")


def default_data_dir() -> Path:
    if env := os.environ.get("WSMEASURE_DATA_DIR"):
        return Path(env)
    if APPLIANCE_DATA_DIR.is_dir() and os.access(APPLIANCE_DATA_DIR, os.W_OK):
        return APPLIANCE_DATA_DIR
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local/share")) / "wsmeasure"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="wsmeasure", description=__doc__)
    p.add_argument("--data-dir", type=Path, default=None,
                   help="where config.db, data.db and the control socket live "
                        "(default: $WSMEASURE_DATA_DIR, /var/lib/wsmeasure on the box, else ~/.local/share/wsmeasure)")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the daemon in the foreground")
    run.add_argument("--appliance", action="store_true",
                     help="listen on 443/80/21/502 on all interfaces (default: 127.0.0.1, 8443/8080/2121/5020)")
    run.add_argument("--port-offset", type=int, default=0, metavar="N",
                     help="add N to every port, to run several daemons side by side")
    run.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))

    status = sub.add_parser("status", help="gateways, devices, status and live values of the running daemon")
    status.add_argument("--json", action="store_true")

    config = sub.add_parser("config", help="read and change settings: config list | get KEY | set KEY VALUE")
    config.add_argument("args", nargs=argparse.REMAINDER)

    test = sub.add_parser("test", help='the "Test" button: test a device or a gateway by its ID')
    test.add_argument("what", choices=("device", "gateway"))
    test.add_argument("id", type=int)

    update = sub.add_parser("update", help="software update (manual 7.10): install a signed bundle, show the slots")
    update.add_argument("--root", type=Path, default=None, help="the box's root prefix (default: /)")
    actions = update.add_subparsers(dest="action", required=True)
    install = actions.add_parser("install", help="verify a bundle and install it into the inactive slot (as root)")
    install.add_argument("file", nargs="?", help='the bundle; "-": read it from standard input (over ssh)')
    install.add_argument("--queued", action="store_true",
                         help="install the bundle the Software update page queued (the root updater unit)")
    install.add_argument("--force", action="store_true", help="also install the same or an older version")
    install.add_argument("--dry-run", action="store_true", help="verify only")
    install.add_argument("--no-restart", action="store_true", help="do not restart wsmeasure.service after it")
    state = actions.add_parser("status", help="the slots, the version on trial and the last updates (JSON)")
    for action in (install, state):   # --root also after the action
        action.add_argument("--root", type=Path, default=argparse.SUPPRESS, help="the box's root prefix (default: /)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    data_dir = args.data_dir or default_data_dir()
    if args.command == "run":
        logging.basicConfig(level=args.log_level, stream=sys.stderr,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        from .daemon import run
        from .memory import tune_malloc

        tune_malloc()   # before any thread exists
        return run(data_dir, args.appliance, args.port_offset)
    if args.command == "config":
        from . import configcli

        return configcli.main(args.args, data_dir)
    if args.command == "update":
        from . import update

        return update.command(args, args.data_dir)
    from . import control

    try:
        if args.command == "status":
            answer = control.request(data_dir, "status")
            print(json.dumps(answer, indent=2, default=str) if args.json else format_status(answer))
            return 0
        answer = control.request(data_dir, "test", what=args.what, id=args.id, timeout=30)
        print(("OK: " if answer.get("ok") else "FAILED: ") + answer.get("message", answer.get("error", "")))
        for name, value in sorted((answer.get("values") or {}).items()):
            print(f"  {name:10} {value}")
        return 0 if answer.get("ok") else 1
    except control.NotRunning as exc:
        print(f"wsmeasure: {exc} (start it with: wsmeasure run)", file=sys.stderr)
        return 3


SHOWN = ("P", "Ea+", "V1", "I1", "F", "water", "gas", "breaker", "station", "in1", "in2", "out1", "out2")


def format_status(s: dict) -> str:
    rs = s["rs485"]
    lines = [f"wsmeasure {s['version']}  pid {s['pid']}  up {time.time() - s['started']:.0f} s  data {s['data_dir']}",
             f"RS485 {rs['port']}{' (virtual installation)' if rs['virtual'] else ''}  frame interval "
             f"{rs['frame_interval_ms']} ms  transactions {rs['transactions']}  errors {rs['errors'] or 0}"]
    for gw in s["gateways"]:
        cycle = f"  cycle {gw['cycle_s']:.2f} s" if gw.get("cycle_s") else ""
        lines.append(f"\n[{gw['status'].upper():5}] gateway {gw['id']} {gw['name']} ({gw['address']}){cycle}")
        for d in gw["devices"]:
            values = d.get("values") or {}
            shown = "  ".join(f"{k}={_fmt(k, values[k])}" for k in SHOWN if values.get(k) is not None)
            lines.append(f"  [{d['status'].upper():5}] {d['id']:>4} {d['address']:>6}  {d['name'][:24]:24} "
                         f"{(d.get('model') or d['family'])[:18]:18} {shown}")
            if d["status"] == "error" and d.get("error"):
                lines.append(f"{'':14}{d['error']}")
    return "\n".join(lines)


def _fmt(name: str, v) -> str:
    from wsmeasure.drivers.quantities import BREAKER_STATES, STATION_STATES

    labels = {"breaker": BREAKER_STATES, "station": STATION_STATES}.get(name)
    if labels:
        return labels.get(v, str(v))
    return f"{v:.2f}" if isinstance(v, float) else str(v)


if __name__ == "__main__":
    sys.exit(main())
