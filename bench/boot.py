"""Boot to HTTPS of the firmware image in QEMU: with KVM, and with software emulation (TCG).

    .venv/bin/python bench/boot.py [--images DIR] [--runs 3] [--accel kvm,tcg]

Uses the QEMU test image (image/build.sh --test-installation and flash.sh --image, run when the
disk image is missing; the build needs root or sudo). Each run boots the image afresh (the
disk in snapshot mode) with its RS485 port wired to the simulated meters, and measures from
QEMU's start: the kernel's first console line (a run that has none within 10 s "hangs": on
virtualised hosts /dev/kvm may exist and hang a stock kernel), and the login page answering
over the forwarded HTTPS port. The test image's boot report (systemd-analyze on the console)
adds the kernel, userspace and wsmeasure.service times. Prints one line per run, then the
median per accelerator. No pass/fail; the target is under 45 s.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "image"))
import qemu  # noqa: E402

TARGET_S = 45


def report(text: str) -> str:
    """systemd's own figures from the test image's boot report."""
    finished = re.search(r"Startup finished in ([\d.]+)s \(kernel\) \+ ([\d.]+)s \(userspace\)", text)
    daemon = re.search(r"([\d.]+)s wsmeasure\.service", text)
    parts = []
    if finished:
        parts.append(f"kernel {float(finished.group(1)):5.1f} s, userspace {float(finished.group(2)):5.1f} s")
    if daemon:
        parts.append(f"wsmeasure.service {float(daemon.group(1)):5.1f} s")
    return "; ".join(parts)


def one_run(images: Path, disk: Path, workdir: Path, accel: str) -> float | None:
    cmdline = (images / "cmdline").read_text().strip()
    # KVM shows the kernel's banner to tell a hang; TCG boots as the product does (quiet)
    guest = qemu.Guest(images, disk, workdir, accel, cmdline=qemu.verbose(cmdline) if accel == "kvm" else cmdline)
    guest.start()
    try:
        if accel == "kvm":
            first = guest.wait_kernel(qemu.KVM_PROBE_S)
            if first is None:
                print(f"  {accel}: hangs (no kernel line in {qemu.KVM_PROBE_S:.0f} s)", flush=True)
                return None
        https = guest.wait_https(300)
        print(f"  {accel}: boot to HTTPS {https:5.1f} s ({report(guest.wait_boot_report(90))})", flush=True)
        return https
    except (TimeoutError, RuntimeError) as exc:
        print(f"  {accel}: failed: {exc}; console log {guest.console}", flush=True)
        return None
    finally:
        guest.stop()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=Path, default=qemu.default_images())
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--accel", default="kvm,tcg")
    args = p.parse_args()
    disk = args.images / "wsmeasure.img"
    qemu.ensure_disk(args.images, disk)
    workdir = Path(tempfile.mkdtemp(prefix="wsmeasure-boot-"))
    results = {}
    try:
        for accel in args.accel.split(","):
            if accel == "kvm" and not qemu.kvm_usable():
                print("  kvm: /dev/kvm is not usable here")
                continue
            times = []
            for _ in range(args.runs):
                t = one_run(args.images, disk, workdir, accel)
                if t is None and accel == "kvm":
                    break   # one hang says it all
                if t is not None:
                    times.append(t)
            results[accel] = times
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print()
    for accel, times in results.items():
        if times:
            median = statistics.median(times)
            print(f"{accel.upper()}: median boot to HTTPS {median:.1f} s over {len(times)} runs "
                  f"(min {min(times):.1f}, max {max(times):.1f}); {median / TARGET_S:.2f} x the {TARGET_S} s target")
        else:
            print(f"{accel.upper()}: no boot reached HTTPS")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
