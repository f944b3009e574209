"""The HTTPS certificate and the TLS settings of the pages (datasheet "IT security": AES-256).

A self-signed certificate is made on first start in DATA_DIR/tls/ (cert.pem, key.pem: an
ECDSA P-256 key, cheap to use on a small ARM board). An installer who has a certificate of
their own replaces both files (same names, PEM) and restarts the daemon; we never overwrite
a pair that loads. TLS 1.2 is the floor, forward-secret AEAD suites only, AES-256-GCM first.
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
import os
import socket
import ssl
from pathlib import Path

log = logging.getLogger(__name__)

CERT, KEY = "cert.pem", "key.pem"
VALID_DAYS = 20 * 365     # a box in a panel for twenty years: no surprise expiry
# TLS 1.2 suites; TLS 1.3 ones are fixed by OpenSSL, TLS_AES_256_GCM_SHA384 first
CIPHERS = ("ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
           "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
           "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256")


def _loads(cert: Path, key: Path) -> bool:
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
        return True
    except (OSError, ssl.SSLError) as exc:
        log.error("TLS: %s / %s do not load (%s): making a new self-signed certificate", cert, key, exc)
        return False


def ensure_certificate(data_dir: Path, names: tuple[str, ...] = ()) -> tuple[Path, Path]:
    """DATA_DIR/tls/cert.pem and key.pem, made self-signed unless a usable pair is there."""
    folder = Path(data_dir) / "tls"
    folder.mkdir(mode=0o700, exist_ok=True)
    cert, key = folder / CERT, folder / KEY
    if cert.exists() and key.exists() and _loads(cert, key):
        return cert, key
    cert_pem, key_pem = self_signed(names or (socket.gethostname(), "192.168.1.100", "127.0.0.1"))
    for path, data, mode in ((key, key_pem, 0o600), (cert, cert_pem, 0o644)):
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    log.info("TLS: made a self-signed certificate in %s", folder)
    return cert, key


def self_signed(names: tuple[str, ...]) -> tuple[bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    alt = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0]),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "wsmeasure")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(CIPHERS)
    ctx.options |= ssl.OP_CIPHER_SERVER_PREFERENCE | ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION
    ctx.load_cert_chain(cert, key)
    return ctx
