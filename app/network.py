"""Network settings of the box (manual 7.5, 7.7.1): saved together, applied by systemd-networkd.

`save_network` stores address, mask, gateway and DNS servers from the one "Network settings"
form in one transaction, or nothing. `apply_network` runs on the appliance only: it rewrites
the networkd file the image ships (rootfs/etc/systemd/network/20-ethernet.network) and asks
networkd to reload it. On a developer machine the daemon never calls it: the settings are
stored and shown, the PC's own network is left alone.

`run_command` and `write_atomic` are shared with clock.py.
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import tempfile
from pathlib import Path

from . import settings
from .messages import Msg, reason
from .models import Setting, bound
from .settings import ConfigError

# form field -> (setting, what the page calls it)
FIELDS = {
    "address": ("net.address", Msg("IP address")),
    "mask": ("net.mask", Msg("subnet mask")),
    "gateway": ("net.gateway", Msg("default gateway")),
    "dns": ("net.dns", Msg("DNS servers")),
}
NETWORK_FILE = Path("etc/systemd/network/20-ethernet.network")   # under `root`; the factory file's name
COMMAND_TIMEOUT_S = 30


class ApplyError(RuntimeError):
    """An OS command of the appliance failed; str() says which and why."""


def save_network(db, address: str, mask: str, gateway: str, dns: str) -> dict:
    """Parse, check and store the four network settings in one transaction; returns them parsed.

    A refusal raises ConfigError whose field is "address", "mask", "gateway" or "dns" (the form
    field at fault), and nothing is stored."""
    raw = {"address": address, "mask": mask, "gateway": gateway, "dns": dns}
    values = {}
    for field, (key, label) in FIELDS.items():
        try:
            values[field] = settings.row(key).parse("" if raw[field] is None else raw[field])
        except ValueError as exc:
            raise ConfigError(field, "{field}: {reason}", field=label, reason=reason(exc)) from None
    short = {key: field for field, (key, _) in FIELDS.items()}
    try:
        with bound(db), db.atomic():
            # all four written, then checked once: set one by one, each check would see a
            # half-changed network (new address, old gateway) and refuse a valid form
            for field, (key, _) in FIELDS.items():
                Setting.replace(key=key, value=settings.format_value(values[field])).execute()
            settings.network_fits(db, None)
    except ConfigError as exc:
        raise ConfigError(short.get(exc.field, exc.field), exc.message) from None   # the same Msg
    return values


def prefix_length(mask: str) -> int:
    return ipaddress.IPv4Network(f"0.0.0.0/{mask}").prefixlen


def network_file(db) -> str:
    """The text of 20-ethernet.network for the stored settings (same shape as the factory file)."""
    get = lambda key: settings.get(db, key)  # noqa: E731
    lines = [
        "# Written by wsmeasure from its network settings (manual 7.7.1); a change on the",
        "# \"Network settings\" page replaces this file. Matched by type, not by a name the",
        "# kernel may choose differently on each board.",
        "[Match]",
        "Type=ether",
        "",
        "[Network]",
        f"Address={get('net.address')}/{prefix_length(get('net.mask'))}",
    ]
    if get("net.gateway"):
        lines.append(f"Gateway={get('net.gateway')}")
    lines += [f"DNS={server}" for server in get("net.dns").split(", ") if server]
    return "\n".join(lines) + "\n"


def apply_network(db, root: Path = Path("/"), run=subprocess.run) -> Path:
    """Appliance only: write root/etc/systemd/network/20-ethernet.network, then `networkctl reload`
    (networkd reconfigures the links whose file changed). Returns the file written."""
    path = Path(root) / NETWORK_FILE
    write_atomic(path, network_file(db))
    run_command(run, "networkctl", "reload")
    return path


# -- shared with clock.py ------------------------------------------------------------------------
def write_atomic(path: Path, text: str, mode: int = 0o644) -> bool:
    """Replace `path` in one step (temporary file, fsync, rename, fsync of the folder): a power
    cut leaves the old file or the new one, never half of one. Returns False if it was the same."""
    try:
        if path.read_text() == text:
            return False
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as file:
            file.write(text)
            file.flush()
            os.fchmod(file.fileno(), mode)   # mkstemp makes 0600; networkd runs as its own user
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return True


def run_command(run, *argv: str) -> None:
    """Run one OS command through `run` (subprocess.run, or a test's recorder); ApplyError if it fails."""
    try:
        run(list(argv), check=True, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
    except subprocess.CalledProcessError as exc:
        why = (exc.stderr or exc.stdout or "").strip() or f"exit code {exc.returncode}"
        raise ApplyError(f"{' '.join(argv)}: {why}") from None
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ApplyError(f"{' '.join(argv)}: {exc}") from None
