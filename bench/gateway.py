"""Modbus TCP gateway throughput and latency, against the same reads made directly on the bus.

    .venv/bin/python bench/gateway.py [--requests 400] [--clients 1,8,32] [--meters 8]

Three processes: the simulated bus (EMDX3 meter twins on an unpaced pseudo-terminal, clock
frozen so every read of a register returns the same word) in a child; the gateway under test
(GatewayServer -> Bus -> RtuLine, frame interval 0) in this process; the TCP clients in another
child (raw MBAP on asyncio streams, one request in flight per connection), so neither the
devices' work nor the clients' counts as the gateway's.

For each number of concurrent clients, each client sends --requests reads (function 3, 2..56
registers, units and addresses drawn from the meters' readable spans). Baseline, in the same
run: the same reads made by as many concurrent tasks directly on the bus of this process
(`bus.read_registers`, interactive priority). Printed: requests per second, median and p99
latency per request, the latency the gateway adds over the baseline, and the replies that do
not match their request (transaction id, unit, function, byte count, or register values other
than those of a direct reference read made first; target 0). No pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import statistics
import struct
import subprocess
import sys
import time

from wsmeasure.bus import INTERACTIVE, Bus
from wsmeasure.drivers.base import DeviceSpec
from wsmeasure.drivers.catalogue import family
from wsmeasure.mbtcp import GatewayServer
from wsmeasure.rtu import BusError, RtuLine, SerialSettings

T0 = 1_750_000_000.0  # the twins' frozen clock: stable registers, checkable replies
BAUD = 19200
MBAP = struct.Struct(">HHHB")
MODEL = "0 146 68"


def meter_twin(unit: int):
    fam = family("emdx3_meter")
    return fam.twin(fam.driver_for(DeviceSpec(unit, fam.key, MODEL, unit)), seed=unit, clock=lambda: T0)


def plan(seed: int, index: int, n: int, units: int, spans: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """n reads (unit, address, count) for client/task `index`: the same in both modes."""
    rng = random.Random(seed * 10_007 + index)
    weights = [count for _, count in spans]  # the long span more often: reads up to 56 registers
    out = []
    for _ in range(n):
        start, length = rng.choices(spans, weights)[0]
        count = rng.randint(2, length)
        address = start + rng.randint(0, length - count)
        out.append((rng.randint(1, units), address, count))
    return out


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]


# -- the simulated bus (child process) -----------------------------------------------------------
def sim_child(args) -> None:
    from wsmeasure.simbus import SimBus

    async def serve():
        sim = SimBus([meter_twin(u) for u in range(1, args.meters + 1)], BAUD, "E", 1, paced=False)
        sim.start()
        print(sim.port, flush=True)
        done = asyncio.Event()
        asyncio.get_running_loop().add_reader(sys.stdin.fileno(), done.set)
        await done.wait()
        sim.close()

    asyncio.run(serve())


# -- the TCP clients (child process) -------------------------------------------------------------
def client_child() -> None:
    job = json.loads(sys.stdin.readline())
    ref = {int(u): {int(a): w for a, w in words.items()} for u, words in job["ref"].items()}
    spans = [tuple(s) for s in job["spans"]]

    async def one(reader, writer, reads, tid0, lat, bad, err):
        for i, (unit, address, count) in enumerate(reads):
            tid = (tid0 + i) & 0xFFFF
            t = time.perf_counter()
            writer.write(MBAP.pack(tid, 0, 6, unit) + struct.pack(">BHH", 3, address, count))
            try:
                async with asyncio.timeout(2.0):
                    r_tid, proto, length, r_unit = MBAP.unpack(await reader.readexactly(MBAP.size))
                    body = await reader.readexactly(length - 1)
            except (asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                err["timeout/closed"] += len(reads) - i  # the stream is out of step: give up on it
                return
            lat.append(time.perf_counter() - t)
            if body[0] & 0x80:
                err[f"exception 0x{body[1]:02X}" if len(body) > 1 else "exception"] += 1
            expected = [ref[unit][address + k] for k in range(count)]
            ok = (r_tid == tid and proto == 0 and r_unit == unit and body[0] == 3 and body[1] == 2 * count
                  and len(body) == 2 + 2 * count and list(struct.unpack(f">{count}H", body[2:])) == expected)
            bad[0] += not ok

    async def run(conns, n: int, warmup: bool):
        lat: list[float] = []
        bad = [0]
        err: dict[str, int] = {"timeout/closed": 0}
        rng = random.Random(len(conns) + warmup)
        t0 = time.perf_counter()
        await asyncio.gather(*(
            one(r, w, plan(job["seed"] + warmup, i, n, job["meters"], spans), rng.randrange(65536), lat, bad, err)
            for i, (r, w) in enumerate(conns)))
        return {"wall": time.perf_counter() - t0, "lat": lat, "bad": bad[0],
                "errors": {k: v for k, v in err.items() if v}}

    async def main():
        conns = [await asyncio.open_connection("127.0.0.1", job["port"]) for _ in range(job["clients"])]
        await run(conns, 10, True)  # warm-up on the same connections: first encodes, buffers
        print("warm", flush=True)  # the gateway process starts its CPU count, then says go
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        result = await run(conns, job["n"], False)
        for _, w in conns:
            w.close()
        for _, w in conns:
            await w.wait_closed()
        return result

    print(json.dumps(asyncio.run(main())), flush=True)


# -- the gateway under test (this process) -------------------------------------------------------
async def direct(bus, reads_per_task, ref):
    lat: list[float] = []
    bad = [0]
    errors: dict[str, int] = {}

    async def task(reads):
        for unit, address, count in reads:
            t = time.perf_counter()
            try:
                words = await bus.read_registers(unit, 3, address, count, priority=INTERACTIVE)
            except BusError as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                continue
            lat.append(time.perf_counter() - t)
            bad[0] += words != [ref[unit][address + k] for k in range(count)]

    t0 = time.perf_counter()
    await asyncio.gather(*(task(r) for r in reads_per_task))
    return {"wall": time.perf_counter() - t0, "lat": lat, "bad": bad[0], "errors": errors}


async def through_gateway(bus, job: dict):
    """The clients' result, with this process's CPU seconds and bus transactions (warm-up excluded)."""
    proc = await asyncio.create_subprocess_exec(sys.executable, __file__, "--clients-child",
                                                stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    proc.stdin.write((json.dumps(job) + "\n").encode())
    await proc.stdin.drain()
    if await proc.stdout.readline() != b"warm\n":
        raise SystemExit("the client process failed")
    tx0, cpu0 = bus.stats.transactions, time.process_time()
    proc.stdin.write(b"go\n")
    await proc.stdin.drain()
    out = await proc.stdout.read()  # the result line, once the clients are done
    cpu, tx = time.process_time() - cpu0, bus.stats.transactions - tx0
    await proc.wait()
    if proc.returncode or not out.strip():
        raise SystemExit("the client process failed")
    return json.loads(out), cpu, tx


async def measure(args, port: str):
    line = RtuLine(SerialSettings(port, BAUD, "E", 1, timeout=0.3))
    await line.open()
    bus = Bus(line, 0.0)
    bus.start()
    server = GatewayServer(bus, "127.0.0.1", 0, max_clients=max(args.clients) + 4)
    await server.start()
    try:
        spans = [(r.address, r.count) for r in meter_twin(1).spans if r.fn == 3]
        ref: dict[int, dict[int, int]] = {}
        unstable = 0
        for unit in range(1, args.meters + 1):  # the reference: every readable register, read twice
            ref[unit] = {}
            for start, count in spans:
                first = await bus.read_registers(unit, 3, start, count)
                unstable += first != await bus.read_registers(unit, 3, start, count)
                ref[unit].update({start + k: w for k, w in enumerate(first)})
        nonzero = sum(1 for words in ref.values() for w in words.values() if w)
        print(f"unpaced simulated line (pty), frame interval 0, {args.meters} EMDX3 meters ({MODEL}), "
              f"clock frozen; reads fn 3 of 2..{max(c for _, c in spans)} registers in spans "
              + ", ".join(f"{a}+{c}" for a, c in spans))
        print(f"reference: {sum(map(len, ref.values()))} registers ({nonzero} non-zero), "
              f"{unstable} spans changed between two reads (target 0)")
        print(f"{'clients':>7} {'requests':>8}  {'path':<8} {'req/s':>8} {'median ms':>10} {'p99 ms':>8}"
              f" {'mismatched':>10}  errors")
        await direct(bus, [plan(args.seed + 1, 0, 20, args.meters, spans)], ref)  # warm-up
        for clients in args.clients:
            reads = [plan(args.seed, i, args.requests, args.meters, spans) for i in range(clients)]
            d = await direct(bus, reads, ref)
            g, cpu, tx = await through_gateway(bus, {"port": server.port, "clients": clients, "n": args.requests,
                                       "seed": args.seed, "meters": args.meters, "spans": spans,
                                       "ref": ref})
            total = clients * args.requests
            rows = {}
            for name, r in (("direct", d), ("gateway", g)):
                med, p99 = statistics.median(r["lat"]) * 1000, percentile(r["lat"], 99) * 1000
                rows[name] = (total / r["wall"], med, p99)
                errs = ", ".join(f"{k} {v}" for k, v in r["errors"].items()) or "0"
                print(f"{clients:>7} {total:>8}  {name:<8} {rows[name][0]:>8.0f} {med:>10.3f} {p99:>8.3f}"
                      f" {r['bad']:>10}  {errs}")
            (dr, dm, dp), (gr, gm, gp) = rows["direct"], rows["gateway"]
            print(f"{'':>17}  added    {gr / dr:>7.2f}x {gm - dm:>+10.3f} {gp - dp:>+8.3f}"
                  f"   gateway process CPU {1000 * cpu / max(tx, 1):.3f} s per 1,000 requests"
                  f" ({tx} on the bus)")
    finally:
        await server.close()
        while bus.pending():  # see tests/test_mbtcp.py settle(): never stop the bus mid-reply
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        await bus.stop()
        line.close()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--requests", type=int, default=400, help="requests per client")
    p.add_argument("--clients", type=lambda s: [int(x) for x in s.split(",")], default=[1, 8, 32])
    p.add_argument("--meters", type=int, default=8)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--clients-child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return sim_child(args)
    if args.clients_child:
        return client_child()

    t0 = time.monotonic()
    sim = subprocess.Popen([sys.executable, __file__, "--child", "--meters", str(args.meters)],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        asyncio.run(measure(args, sim.stdout.readline().strip()))
    finally:
        sim.stdin.close()
        sim.wait()
    print("latency: request written -> whole reply read, per request; 'added' = gateway - direct, "
          f"req/s as gateway/direct")
    print(f"total {time.monotonic() - t0:.1f} s, max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
