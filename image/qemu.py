"""Boot the wsmeasure image in QEMU with its RS485 port wired to simulated devices on this host.

    .venv/bin/python image/qemu.py [--images DIR] [--disk IMG] [--accel auto|kvm|tcg]

boots DIR's image (the disk made by `flash.sh --image`, made here when missing) and prints the
forwarded ports; Ctrl-C stops it. tests/test_image_boot.py and bench/boot.py use `boot()`.

- Kernel and initrd come from image/build.sh's output (QEMU's -kernel/-initrd), the root is
  partition 1 of the virtio disk (mounted by label), the data partition is partition 2.
- The guest's second UART (/dev/ttyS1, the box's RS485 port) is a chardev unix socket; on this
  side wsmeasure.simsocket plays the devices that DIR/config.db declares on the Local gateway.
- User networking on 192.168.1.0/24, so the box really is 192.168.1.100; its ports 443, 80, 21
  and 502 are forwarded to free ports of 127.0.0.1.
- The disk is used with snapshot=on: every boot starts from the flashed image.
- Acceleration "auto": KVM if /dev/kvm is usable and the guest's kernel prints its first console
  line within KVM_PROBE_S (on virtualised hosts /dev/kvm may exist yet hang a stock kernel: the
  try boots without "quiet" to see that line), else software emulation (TCG).
- The kernel is image/build.sh's vmlinux (uncompressed, PVH entry) when there is one: no
  firmware, no decompressor.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
GUEST_IP = "192.168.1.100"
GUEST_PORTS = {"https": 443, "http": 80, "ftp": 21, "modbus_tcp": 502}
KVM_PROBE_S = 10.0   # a kernel under working KVM prints its banner within a second
TLS = ssl.create_default_context()
TLS.check_hostname, TLS.verify_mode = False, ssl.CERT_NONE   # the box's certificate is self-signed


def default_cache() -> Path:
    """image/build.sh's cache: base root tarballs, wheels, the image's update key pair."""
    xdg = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(os.environ.get("WSMEASURE_IMAGE_CACHE") or Path(xdg) / "wsmeasure-image")


def default_images() -> Path:
    return Path(os.environ.get("WSMEASURE_IMAGE_OUT") or default_cache() / "out")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def kvm_usable() -> bool:
    return os.path.exists("/dev/kvm") and os.access("/dev/kvm", os.R_OK | os.W_OK)


class Guest:
    """One QEMU run of the image, with the simulated devices on its RS485 port."""

    def __init__(self, images: Path, disk: Path, workdir: Path, accel: str = "tcg", memory_mb: int = 512,
                 cmdline: str | None = None, extra: tuple = ()):
        self.images, self.disk, self.workdir, self.accel = Path(images), Path(disk), Path(workdir), accel
        self.memory_mb = memory_mb
        self.extra = list(extra)
        self.cmdline = cmdline or (self.images / "cmdline").read_text().strip()
        self.console = self.workdir / f"console-{accel}.log"
        self.socket = self.workdir / f"rs485-{accel}.sock"
        self.ports = {name: free_port() for name in GUEST_PORTS}
        self.proc: subprocess.Popen | None = None
        self.sim = None
        self.started = 0.0

    def command(self) -> list[str]:
        forwards = ",".join(f"hostfwd=tcp:127.0.0.1:{self.ports[n]}-{GUEST_IP}:{p}" for n, p in GUEST_PORTS.items())
        accel = ["-accel", "kvm", "-cpu", "host"] if self.accel == "kvm" else ["-accel", "tcg"]
        return ["qemu-system-x86_64", *accel, "-smp", "2", "-m", str(self.memory_mb),
                "-nodefaults", "-display", "none", "-no-reboot",
                "-kernel", str(self.kernel()), "-initrd", str(self.images / "initrd.img"),
                "-append", self.cmdline,
                "-drive", f"file={self.disk},format=raw,if=virtio,snapshot=on",
                "-chardev", f"file,id=con,path={self.console}", "-serial", "chardev:con",          # ttyS0
                "-chardev", f"socket,id=rs485,path={self.socket},server=on,wait=off",
                "-serial", "chardev:rs485",                                                           # ttyS1
                "-netdev", f"user,id=n0,net=192.168.1.0/24,host=192.168.1.1,{forwards}",
                "-device", "virtio-net-pci,netdev=n0", *self.extra]

    def kernel(self) -> Path:
        """vmlinux (uncompressed, booted through its PVH entry) when build.sh made one."""
        vmlinux = self.images / "vmlinux"
        return vmlinux if vmlinux.exists() else self.images / "vmlinuz"

    def start(self) -> Guest:
        from wsmeasure.simsocket import Background, twins_of

        self.workdir.mkdir(parents=True, exist_ok=True)
        for path in (self.console, self.socket):
            path.unlink(missing_ok=True)
        self.started = time.monotonic()
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        # the test image's devices; a product image has none declared (and no config.db here)
        twins = twins_of(self.images) if (self.images / "config.db").exists() else []
        self.sim = Background(self.socket, twins).start()
        return self

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def console_text(self) -> str:
        try:
            return self.console.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_kernel(self, timeout: float) -> float | None:
        """Seconds from QEMU's start to the kernel's first line on the console, None if none came."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.alive():
            if "Linux version" in self.console_text():
                return self.elapsed()
            time.sleep(0.1)
        return None

    def wait_boot_report(self, timeout: float) -> str:
        """The console once the test image's boot report (boot-report.service: timings, failed
        units, the daemon's journal) is all there, or as it is after `timeout` or QEMU's end."""
        deadline = time.monotonic() + timeout
        while "end of boot report" not in (text := self.console_text()) and self.alive() \
                and time.monotonic() < deadline:
            time.sleep(1)
        return text

    def https(self, path: str = "/login", timeout: float = 10) -> tuple[int, str]:
        url = f"https://127.0.0.1:{self.ports['https']}{path}"
        with urllib.request.urlopen(url, timeout=timeout, context=TLS) as r:
            return r.status, r.read().decode("utf-8", "replace")

    def wait_https(self, timeout: float) -> float:
        """Seconds from QEMU's start to the login page answering over HTTPS."""
        deadline = time.monotonic() + timeout
        self.attempts = []
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"QEMU ended with code {self.proc.returncode}: {self.qemu_output()}")
            t0 = self.elapsed()
            try:
                status, body = self.https(timeout=30)
                if status == 200 and "pin" in body:
                    self.attempts.append((t0, self.elapsed(), "ok"))
                    return self.elapsed()
                self.attempts.append((t0, self.elapsed(), f"HTTP {status}"))
            except (OSError, urllib.error.URLError, ssl.SSLError) as exc:
                # user networking accepts the connection before anything listens, then drops it
                self.attempts.append((t0, self.elapsed(), type(exc).__name__))
            time.sleep(0.25)
        raise TimeoutError(f"no HTTPS answer within {timeout:.0f} s")

    def qemu_output(self) -> str:
        if self.proc and self.proc.poll() is not None and self.proc.stdout:
            return self.proc.stdout.read().decode(errors="replace")
        return ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.sim:
            self.sim.stop()
            self.sim = None


def verbose(cmdline: str) -> str:
    """The command line without "quiet": the kernel shows its first line at once."""
    return " ".join(w for w in cmdline.split() if w != "quiet")


def boot(images: Path, disk: Path, workdir: Path, accel: str = "auto", log=print) -> Guest:
    """A started Guest: with accel "auto", KVM if its kernel shows a line in time, else TCG."""
    if accel in ("auto", "kvm") and kvm_usable():
        cmdline = verbose((Path(images) / "cmdline").read_text().strip())
        guest = Guest(images, disk, workdir, "kvm", cmdline=cmdline).start()
        if guest.wait_kernel(KVM_PROBE_S) is not None:
            log(f"KVM: the kernel started after {guest.elapsed():.1f} s")
            return guest
        guest.stop()
        log(f"KVM: no kernel line in {KVM_PROBE_S:.0f} s (a virtualised host's KVM may hang a stock "
            "kernel): software emulation (TCG) instead")
        if accel == "kvm":
            raise RuntimeError("KVM does not boot this kernel here")
    elif accel == "kvm":
        raise RuntimeError("/dev/kvm is not usable")
    return Guest(images, disk, workdir, "tcg").start()


def ensure_disk(images: Path, disk: Path, test_installation: bool = True) -> None:
    """The partitioned image, made by flash.sh (which runs image/build.sh when needed)."""
    stale = disk.exists() and any((images / f).exists() and (images / f).stat().st_mtime > disk.stat().st_mtime
                                  for f in ("system.ext4", "data.ext4"))
    if not disk.exists() or stale:
        args = [str(REPO / "flash.sh"), "--image", str(disk), "--images", str(images)]
        subprocess.run(args + (["--test-installation"] if test_installation else []), check=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=Path, default=default_images())
    p.add_argument("--disk", type=Path, help="default: IMAGES/wsmeasure.img (made by flash.sh --image)")
    p.add_argument("--accel", choices=("auto", "kvm", "tcg"), default="auto")
    args = p.parse_args()
    disk = args.disk or args.images / "wsmeasure.img"
    ensure_disk(args.images, disk)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))   # stop QEMU on the way out, as Ctrl-C does
    workdir = Path(tempfile.mkdtemp(prefix="wsmeasure-qemu-"))
    guest = boot(args.images, disk, workdir, args.accel)
    try:
        print(f"QEMU ({guest.accel}) running; console log {guest.console}")
        for name, port in guest.ports.items():
            print(f"  {name:10} 127.0.0.1:{port} -> {GUEST_IP}:{GUEST_PORTS[name]}")
        print(f"HTTPS answered after {guest.wait_https(300):.1f} s: https://127.0.0.1:{guest.ports['https']}/ "
              "(Ctrl-C stops the box)")
        while guest.alive():
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        guest.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
