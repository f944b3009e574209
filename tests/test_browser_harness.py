"""The browser harness itself: Debian's chromium loads a self-signed HTTPS page, on a desktop
and on a phone viewport, and the page fixtures catch its console errors and page errors."""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import ssl
import threading

import pytest
from browser import save_screenshot

pytestmark = pytest.mark.browser

PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>harness</title></head>
<body>
<button id="log">log</button> <button id="throw">throw</button> <output id="out"></output>
<script>
document.getElementById("log").addEventListener("click", () => {
  console.error("harness: button clicked");
  document.getElementById("out").textContent = "clicked";
});
document.getElementById("throw").addEventListener("click", () => {
  setTimeout(() => { throw new Error("harness: uncaught"); });
});
</script>
</body></html>
"""


def self_signed_cert(directory):
    """Write a throwaway self-signed certificate for 127.0.0.1; return (cert, key) paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.split("?")[0] == "/":
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)
        else:
            self.send_error(404)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def https_url(tmp_path_factory):
    cert, key = self_signed_cert(tmp_path_factory.mktemp("tls"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.mark.parametrize(("fixture", "width"), [("page", 1280), ("phone_page", 390)])
def test_console_error_on_click(request, https_url, tmp_path, fixture, width):
    page = request.getfixturevalue(fixture)
    page.goto(https_url)
    assert page.evaluate("location.protocol") == "https:"
    assert page.evaluate("window.innerWidth") == width
    if fixture == "phone_page":
        assert page.evaluate("[devicePixelRatio, navigator.maxTouchPoints > 0]") == [3, True]
    assert page.console_errors == []

    with page.expect_console_message(lambda m: m.type == "error"):
        page.click("#log")
    assert page.locator("#out").text_content() == "clicked"
    assert len(page.console_errors) == 1
    assert page.console_errors[0].startswith("console.error: harness: button clicked")

    shot = save_screenshot(page, fixture, directory=tmp_path)
    assert shot.read_bytes().startswith(b"\x89PNG")


def test_page_error_recorded(page, https_url):
    page.goto(https_url)
    with page.expect_event("pageerror"):
        page.click("#throw")
    assert page.console_errors == ["pageerror: Error: harness: uncaught"]
