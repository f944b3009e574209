"""`wsmeasure config list | get KEY | set KEY VALUE`: read and change settings from a shell.

It works while the daemon runs: config.db is shared (WAL, busy timeout), and after a change the
daemon is asked to reload, if one is running.
Exit codes: 0 done, 2 refused (unknown key, value not allowed, bad usage).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import settings
from .db import open_config
from .settings import ConfigError

REFUSED = 2


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="wsmeasure config", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="action", required=True)
    sub.add_parser("list", help="every setting with its value (* = changed from the default)")
    get = sub.add_parser("get", help="print one setting's value")
    get.add_argument("key")
    put = sub.add_parser("set", help='change one setting (booleans: on/off; "" for an empty value)')
    put.add_argument("key")
    put.add_argument("value")
    return p


def main(argv: list[str], data_dir: Path) -> int:
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:   # argparse printed usage or help; give the code back to the caller
        return exc.code if isinstance(exc.code, int) else REFUSED
    if args.action != "list":
        try:
            settings.row(args.key)   # an unknown key is refused before config.db is created
        except ConfigError as exc:
            print(f"wsmeasure config: {exc}", file=sys.stderr)
            return REFUSED
    db = open_config(Path(data_dir))
    try:
        if args.action == "list":
            print(format_list(settings.all(db)))
        elif args.action == "get":
            print(settings.format_value(settings.get(db, args.key)))   # raw, for $(...)
        else:
            value = settings.set(db, args.key, args.value)
            print(f"{args.key} = {shown(value)}")
            if notify_daemon(Path(data_dir)):
                print("the running daemon was told to reload", file=sys.stderr)
        return 0
    except ConfigError as exc:
        print(f"wsmeasure config: {exc}", file=sys.stderr)
        return REFUSED
    finally:
        db.close()


def format_list(values: dict) -> str:
    width = max(len(k) for k in values)
    lines = []
    for row in settings.SETTINGS:
        value = values[row.key]
        changed = "*" if value != settings.default(row.key) else " "
        lines.append(f"{row.key:{width}} {changed} {shown(value):8}  "
                     f"# {row.help} (allowed: {getattr(row.parse, 'allowed', '?')})")
    return "\n".join(lines)


def shown(value) -> str:
    """A value as `set` takes it back: "" for an empty one."""
    return settings.format_value(value) or '""'


def notify_daemon(data_dir: Path) -> bool:
    """Ask a running daemon to reload; the change is saved either way (it reads it at start)."""
    try:
        from . import control
    except ImportError:
        return False
    try:
        return bool(control.notify(data_dir, "reload"))
    except (OSError, ValueError):   # no daemon, a dead socket, a garbled answer
        return False
