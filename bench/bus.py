"""Poll-cycle time on a baud-accurate simulated RS485 line, against the wire-time bound.

    .venv/bin/python bench/bus.py [--devices 32] [--cycles 3] [--baud 19200] [--frame-interval 50]

The simulated installation runs in a child process (so its work does not count as ours), on a
pseudo-terminal paced at the baud rate. For every transaction of a cycle the bound is:
(request + reply bytes) x 11 bits / baud + a 3.5-character silence before the reply + the
frame interval after it. The ratio measured / bound says what our software adds (target <= 1.10).
Then, unpaced, the CPU seconds this process spends per 1,000 transactions.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import time

from wsmeasure.bus import Bus
from wsmeasure.drivers.base import DeviceSpec
from wsmeasure.poller import Poller
from wsmeasure.rtu import RtuLine, SerialSettings, char_time
from wsmeasure.specs import LOCAL, GatewaySpec

# A panel of 32 points of measure: the kinds the drivers cover, as an installer would mix them.
MIX = (
    ("emdx3_meter", "0 146 69", {}),
    ("emdx3_meter", "0 146 68", {}),
    ("emdx3_counter", "4 120 74", {}),
    ("emdx3_counter", "0 046 77", {}),
    ("dpx3", "DPX3 630 electronic with measurement", {}),
    ("generic", "GENERIC", {"fn": 4, "register": 0x48, "words": 2, "multiplier": 1000, "encoding": "F32",
                       "word_order": "high_first"}),
)


def installation(n: int) -> list[DeviceSpec]:
    from wsmeasure.drivers.catalogue import families

    mix = [m for m in MIX if m[0] in families()]
    specs = []
    for i in range(n):
        fam, model, params = mix[i % len(mix)]
        specs.append(DeviceSpec(i + 1, fam, model, i + 1, params=dict(params), name=f"dev{i + 1}"))
    return specs


def child(args) -> None:
    """The simulated bus, in its own process: prints its port, runs until stdin closes."""
    from wsmeasure.simbus import SimBus
    from wsmeasure.virtual import build_twins

    async def serve():
        sim = SimBus(build_twins(installation(args.devices)), args.baud, "E", 1, paced=args.paced)
        sim.start()
        print(sim.port, flush=True)
        loop = asyncio.get_running_loop()
        done = asyncio.Event()
        loop.add_reader(sys.stdin.fileno(), done.set)
        await done.wait()
        sim.close()

    asyncio.run(serve())


def run_against_sim(args, paced: bool):
    """Start the simulated bus in a child process, measure against it, stop it."""
    cmd = [sys.executable, __file__, "--child", "--devices", str(args.devices), "--baud", str(args.baud)]
    proc = subprocess.Popen(cmd + (["--paced"] if paced else []), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        return asyncio.run(measure(args, proc.stdout.readline().strip(), paced))
    finally:
        proc.stdin.close()
        proc.wait()


async def measure(args, port: str, paced: bool):
    line = RtuLine(SerialSettings(port, args.baud, "E", 1, timeout=0.3))
    await line.open()
    bus = Bus(line, args.frame_interval / 1000 if paced else 0.0)
    bus.start()
    poller = Poller(bus, GatewaySpec(1, "Local", LOCAL, devices=installation(args.devices)), interval=0)
    await poller.cycle()  # warm-up: imports, first encodes
    cycles, cpu0, t0, tx0 = args.cycles if paced else args.cycles * 10, time.process_time(), time.monotonic(), bus.stats.transactions
    for _ in range(cycles):
        await poller.cycle()
    elapsed, cpu, tx = time.monotonic() - t0, time.process_time() - cpu0, bus.stats.transactions - tx0
    errors = sum(s.status != "on" for s in poller.states.values())
    await bus.stop()
    line.close()
    return poller, elapsed / cycles, cpu, tx, errors


def wire_bound(poller, baud: int, frame_interval_s: float) -> tuple[float, int]:
    char = char_time(baud, "E", 1)
    total, n = 0.0, 0
    for slave in poller.slaves:
        for r in slave.measure_reads:
            total += (8 + 5 + 2 * r.count) * char + 3.5 * char + frame_interval_s
            n += 1
    return total, n


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--devices", type=int, default=32)
    p.add_argument("--cycles", type=int, default=3)
    p.add_argument("--baud", type=int, default=19200)
    p.add_argument("--frame-interval", type=float, default=50, help="ms")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--paced", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return child(args)

    poller, cycle_s, _, tx, errors = run_against_sim(args, paced=True)
    bound, n = wire_bound(poller, args.baud, args.frame_interval / 1000)
    print(f"paced line {args.baud} 8E1, frame interval {args.frame_interval:.0f} ms, {args.devices} devices, "
          f"{n} transactions per cycle, {errors} devices not answering")
    print(f"  measured poll cycle   {cycle_s * 1000:9.1f} ms   (mean of {args.cycles} cycles)")
    print(f"  wire-time bound       {bound * 1000:9.1f} ms")
    print(f"  ratio                 {cycle_s / bound:9.3f}   (target <= 1.10)")

    _, cycle_s, cpu, tx, errors = run_against_sim(args, paced=False)
    print(f"unpaced line, frame interval 0: {tx} transactions, {cycle_s * 1000:.1f} ms per cycle")
    print(f"  CPU seconds per 1,000 transactions (this process) {1000 * cpu / tx:9.3f}")
    print(f"  max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MiB, pid {os.getpid()}")


if __name__ == "__main__":
    main()
