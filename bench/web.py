"""The pages under load: latency and throughput of the HTTPS server, memory of the daemon.

    .venv/bin/python bench/web.py [--seconds 5] [--clients 1,4,8]

A real daemon (`wsmeasure run`, virtual installation, poll every 1 s) in a child process, on
its own ports. Clients in this process (threads; one keep-alive TLS connection each, logged
in as the installer) ask for, in turn: My panel board's JSON (/api/panel?device=1, what a
browser polls every 3 s), the whole My panel board page, and the Gateways and devices page.
Baseline in the same minute: a "hello" WSGI app on cheroot with the same TLS context and
thread count, in a second child, asked the same way. Printed per page and number of clients:
requests per second, median and p99 latency, and the ratio to the baseline's latency; the
daemon's RSS before and after the run; each page's gzip size with its assets. No pass/fail.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import os
import re
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

OFFSET = 30000 + os.getpid() % 1000 * 10
CTX = ssl.create_default_context()
CTX.check_hostname, CTX.verify_mode = False, ssl.CERT_NONE

HELLO = r"""
import sys, time
from pathlib import Path
from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter
from wsmeasure.web.server import THREADS
from wsmeasure.web.tls import ensure_certificate, server_context
cert, key = ensure_certificate(Path(sys.argv[1]))
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b'{"ok": true}']
server = wsgi.Server(("127.0.0.1", int(sys.argv[2])), app, numthreads=THREADS)
adapter = BuiltinSSLAdapter(str(cert), str(key)); adapter.context = server_context(cert, key)
server.ssl_adapter = adapter
server.prepare()
print("ready", flush=True)
server.serve()
"""


class Client:
    def __init__(self, port: int):
        self.port, self.cookies = port, {}
        self.conn = http.client.HTTPSConnection("127.0.0.1", port, context=CTX, timeout=30)

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes, dict]:
        headers = {"Accept-Encoding": "gzip", "Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            from urllib.parse import urlencode

            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, data, headers)
        answer = self.conn.getresponse()
        raw = answer.read()
        for value in answer.headers.get_all("Set-Cookie") or ():
            name, _, rest = value.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return answer.status, raw, dict(answer.headers)

    def text(self, path: str) -> str:
        status, raw, headers = self.request("GET", path)
        return (gzip.decompress(raw) if headers.get("Content-Encoding") == "gzip" else raw).decode()

    def login(self, pin: str = "55555", puk: str = "00000555500000") -> None:
        token = lambda html: re.search(r'name="csrf" value="([^"]+)"', html).group(1)  # noqa: E731
        page = self.text("/login")
        status, raw, _ = self.request("POST", "/login", {"csrf": token(page), "pin": pin})
        page = gzip.decompress(raw).decode() if raw[:2] == b"\x1f\x8b" else raw.decode()
        status, _, _ = self.request("POST", "/login/puk", {"csrf": token(page), "puk": puk})
        assert status == 303, status


def hammer(port: int, path: str, clients: int, seconds: float, login: bool) -> list[float]:
    latencies, lock = [], threading.Lock()
    sessions = []
    for _ in range(clients):
        c = Client(port)
        if login:
            c.login()
        sessions.append(c)
    end = time.monotonic() + seconds

    def work(c: Client):
        mine = []
        while time.monotonic() < end:
            t = time.perf_counter()
            status, _, _ = c.request("GET", path)
            mine.append(time.perf_counter() - t)
            assert status == 200, (path, status)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=work, args=(c,)) for c in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def weight(c: Client, path: str) -> int:
    status, raw, _ = c.request("GET", path)
    html = gzip.decompress(raw).decode() if raw[:2] == b"\x1f\x8b" else raw.decode()
    total = len(raw)
    for asset in set(re.findall(r'<(?:script|link)\b[^>]*?\b(?:src|href)="(/[^"]+)"', html)):
        total += len(c.request("GET", asset)[1])
    return total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--clients", default="1,4,8")
    args = ap.parse_args()
    levels = [int(x) for x in args.clients.split(",")]
    data = Path(tempfile.mkdtemp(prefix="wsm-bench-web-"))
    subprocess.run([sys.executable, "-m", "wsmeasure", "--data-dir", str(data), "config", "set",
                    "poll.interval_s", "1"], check=True, capture_output=True)
    daemon = subprocess.Popen([sys.executable, "-m", "wsmeasure", "--data-dir", str(data), "run",
                               "--port-offset", str(OFFSET)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port = 8443 + OFFSET
    hello_port = port + 1
    (data / "hello").mkdir()
    hello = subprocess.Popen([sys.executable, "-c", HELLO, str(data / "hello"), str(hello_port)],
                             stdout=subprocess.PIPE, text=True)
    try:
        if hello.stdout.readline().strip() != "ready":
            raise RuntimeError("the baseline server did not start")
        deadline = time.monotonic() + 30
        while True:
            try:
                Client(port).text("/login")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        time.sleep(3)   # a few poll cycles: live values present
        print(f"daemon pid {daemon.pid}: RSS {rss_kib(daemon.pid) / 1024:.1f} MiB before the run")
        pages = ["/api/panel?device=1", "/panel?device=1", "/system/gateways"]
        print(f"{'page':28} {'clients':>7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'p50/base':>9}")
        for clients in levels:
            base = hammer(hello_port, "/", clients, args.seconds, login=False)
            base_p50 = statistics.median(base)
            print(f"{'(baseline hello)':28} {clients:7d} {len(base) / args.seconds:8.0f} {base_p50 * 1e3:8.2f} "
                  f"{statistics.quantiles(base, n=100)[98] * 1e3:8.2f} {1.0:9.2f}")
            for path in pages:
                lat = hammer(port, path, clients, args.seconds, login=True)
                p50 = statistics.median(lat)
                print(f"{path:28} {clients:7d} {len(lat) / args.seconds:8.0f} {p50 * 1e3:8.2f} "
                      f"{statistics.quantiles(lat, n=100)[98] * 1e3:8.2f} {p50 / base_p50:9.2f}")
        print(f"daemon RSS after the run: {rss_kib(daemon.pid) / 1024:.1f} MiB")
        c = Client(port)
        c.login()
        for path in ("/", "/panel?device=1", "/system/gateways", "/server/users"):
            print(f"weight {path:24} {weight(c, path) / 1024:6.1f} KiB gzip with its CSS and JS")
    finally:
        for proc in (daemon, hello):
            proc.terminate()
            proc.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
