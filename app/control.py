"""The control socket: how `wsmeasure status`, `config set` and `test` talk to the running daemon.

A Unix socket in the data directory (mode 0600: only the daemon's own user), one JSON request
per connection, one JSON answer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
from pathlib import Path
from typing import Awaitable, Callable

log = logging.getLogger(__name__)

SOCKET_NAME = "control.sock"
MAX_REQUEST = 64 * 1024


class NotRunning(Exception):
    pass


def socket_path(data_dir: Path) -> Path:
    return Path(data_dir) / SOCKET_NAME


async def serve(data_dir: Path, handle: Callable[[dict], Awaitable[dict]]) -> asyncio.AbstractServer:
    path = socket_path(data_dir)
    if path.exists():
        path.unlink()  # a stale socket of a killed daemon

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), 10)
            try:
                request = json.loads(line[:MAX_REQUEST])
                if not isinstance(request, dict) or "cmd" not in request:
                    raise ValueError("a request is a JSON object with a 'cmd'")
                answer = await handle(request)
            except (ValueError, TypeError, KeyError) as exc:
                answer = {"ok": False, "error": str(exc)}
            writer.write(json.dumps(answer, default=str).encode() + b"\n")
            await writer.drain()
        except (asyncio.TimeoutError, ConnectionError):
            pass
        except Exception:
            log.exception("control request failed")
        finally:
            writer.close()

    old_umask = os.umask(0o177)
    try:
        server = await asyncio.start_unix_server(client, path=str(path), limit=MAX_REQUEST)
    finally:
        os.umask(old_umask)
    return server


def request(data_dir: Path, cmd: str, timeout: float = 10.0, **args) -> dict:
    """Ask the running daemon; raises NotRunning when nobody listens."""
    path = socket_path(data_dir)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            raise NotRunning(f"no daemon is running on {data_dir}") from exc
        sock.sendall(json.dumps({"cmd": cmd, **args}).encode() + b"\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return json.loads(b"".join(chunks))


def notify(data_dir: Path, cmd: str, **args) -> bool:
    """Tell the daemon, if one runs (e.g. "reload" after `config set`); False when none does."""
    try:
        request(data_dir, cmd, timeout=5, **args)
        return True
    except (NotRunning, OSError, ValueError):
        return False
