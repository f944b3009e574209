"""The web server: cheroot threads serving the bottle app over TLS, and the HTTP port that
only redirects to HTTPS (no page is ever served in clear).

Text answers are gzip-compressed when the browser accepts it (pages, CSS, JS, JSON): the
box may be reached over a slow link, and every page must stay small.
"""

from __future__ import annotations

import gzip
import logging
import threading
from pathlib import Path

log = logging.getLogger(__name__)

THREADS = 6                  # a few browsers at once on a small board
COMPRESSIBLE = ("text/", "application/json", "application/javascript", "image/svg+xml")
MIN_COMPRESS = 512
MAX_COMPRESS = 4 * 1024 * 1024   # downloads above this stream as they are


def compressed(app):
    """WSGI middleware: gzip the text answers of `app` for clients that accept it."""

    def wrapper(environ, start_response):
        if "gzip" not in environ.get("HTTP_ACCEPT_ENCODING", ""):
            return app(environ, start_response)
        captured = {}

        def capture(status, headers, exc_info=None):
            captured.update(status=status, headers=headers, exc_info=exc_info)
            return lambda data: captured.setdefault("early", []).append(data)

        body = app(environ, capture)
        try:
            data = b"".join(captured.pop("early", [])) + b"".join(body)
        finally:
            if hasattr(body, "close"):
                body.close()
        headers = [(k, v) for k, v in captured["headers"]]
        names = {k.lower(): v for k, v in headers}
        kind = names.get("content-type", "")
        if (MIN_COMPRESS <= len(data) <= MAX_COMPRESS and kind.startswith(COMPRESSIBLE)
                and "content-encoding" not in names and environ["REQUEST_METHOD"] != "HEAD"):
            data = gzip.compress(data, compresslevel=6, mtime=0)
            headers = [(k, v) for k, v in headers if k.lower() not in ("content-length", "etag", "accept-ranges")]
            headers += [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")]
            headers.append(("Content-Length", str(len(data))))
        start_response(captured["status"], headers, captured["exc_info"])
        return [data]

    return wrapper


def _host_name(host: str) -> str:
    """The Host header without its port ("[::1]:8080" -> "[::1]", "box:80" -> "box")."""
    if host.startswith("["):
        end = host.find("]")
        return host[:end + 1] if end > 0 else ""
    return host.split(":", 1)[0]


def redirect_app(https_port: int):
    """The HTTP port's whole job: send the browser to the same place over HTTPS."""

    def app(environ, start_response):
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
        name = _host_name(host)
        if not name or any(c in name for c in "/\\@?#") or len(name) > 255:
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [b"HTTPS only: use https://<address of the box>/\n"]
        port = "" if https_port == 443 else f":{https_port}"
        path = environ.get("PATH_INFO", "/") or "/"
        query = environ.get("QUERY_STRING")
        location = f"https://{name}{port}{path}{'?' + query if query else ''}"
        start_response("301 Moved Permanently", [("Location", location), ("Content-Type", "text/plain"),
                                                 ("Cache-Control", "no-store")])
        return [b"HTTPS only\n"]

    return app


def _error_log(msg: str = "", level: int = logging.INFO, traceback: bool = False) -> None:
    """cheroot's complaints into our log. A browser that drops the handshake because it does
    not trust the self-signed certificate yet is normal on this box: debug, not a journal line
    per page load."""
    if "TLS" in str(msg) or "SSL" in str(msg):
        level = logging.DEBUG
    log.log(level, "%s", msg, exc_info=traceback)


class WebServer:
    def __init__(self, app, data_dir: Path, host: str, https_port: int, http_port: int):
        self.app, self.data_dir, self.host = app, Path(data_dir), host
        self.https_port, self.http_port = https_port, http_port
        self.servers, self.threads = [], []

    def start(self) -> None:
        from cheroot import wsgi
        from cheroot.ssl.builtin import BuiltinSSLAdapter

        from .tls import ensure_certificate, server_context

        cert, key = ensure_certificate(self.data_dir)
        https = wsgi.Server((self.host, self.https_port), compressed(self.app), numthreads=THREADS,
                            server_name="wsmeasure", timeout=20)
        adapter = BuiltinSSLAdapter(str(cert), str(key))
        adapter.context = server_context(cert, key)
        https.ssl_adapter = adapter
        http = wsgi.Server((self.host, self.http_port), redirect_app(self.https_port), numthreads=1,
                           server_name="wsmeasure", timeout=10)
        for name, server in (("https", https), ("http", http)):
            server.error_log = _error_log
            server.prepare()   # binds now: a busy port fails the start, not a thread later
            thread = threading.Thread(target=server.serve, name=f"web-{name}", daemon=True)
            thread.start()
            self.servers.append(server)
            self.threads.append(thread)
        log.info("pages on https://%s:%d (http port %d redirects)", self.host, self.https_port, self.http_port)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        for thread in self.threads:
            thread.join(timeout=5)
        self.servers, self.threads = [], []
