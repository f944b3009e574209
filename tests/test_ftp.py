"""The FTP share with real clients (ftplib, curl) on loopback: login, confinement, read-only,
the database.zip upload, limits, passive ports, and no thread or file descriptor left behind."""

from __future__ import annotations

import ftplib
import io
import logging
import os
import random
import shutil
import socket
import subprocess
import threading
import time
import zipfile
from pathlib import Path

import pytest

from wsmeasure.ftp import UPLOAD_NAME, FtpShare, port_range
from wsmeasure.secrets import hash_secret

HOST = "127.0.0.1"
CURL = shutil.which("curl")
needs_curl = pytest.mark.skipif(CURL is None, reason="curl is not installed")

# what the recorder writes: semicolons, decimal commas, CRLF and LF, a non-ASCII name, a binary byte
FILES = {
    "devices/4/4_energy_2013-06.csv": b"Date;Ea+ (Wh)\r\n2013-06-01 00:10;1234,5\r\n",
    "devices/4/4_stat_2013-06.csv": b"Date;I1 max (A)\n2013-06-01;12,7\n" * 500,
    "energy/devices_2014-03_1.csv": bytes(range(256)) * 64,
    "gas/Chaufferie \u00e9t\u00e9_2014-03.csv": "Date;Volume (dm\u00b3)\r\n".encode(),
    "water/1_water_2014-03.csv": b"",
    "overallTotal/overallTotal_2014-03.csv": b"Date;Electricity;Gas;Water\r\n",
    "settings/devices.csv": b"ID;Name;IP;Address\r\n4;EMDX3;127.0.0.1;4\r\n",
    "eqcheck/eqcheck_2014-03_1.csv": b"Date;U1\r\n",
}
FOLDERS = ["devices", "energy", "eqcheck", "gas", "overallTotal", "settings", "water"]


# -- the fixture pyftpdlib's own test suite uses, made strict: a leak fails the test ----------
def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


@pytest.fixture(autouse=True)
def no_leaks():
    threads, fds = set(threading.enumerate()), open_fds()
    yield
    assert set(threading.enumerate()) - threads == set(), "threads left running"
    leaked = len(open_fds()) - len(fds)
    assert leaked <= 0, f"{leaked} file descriptors left open: {sorted(open_fds() - fds)}"


# -- helpers --------------------------------------------------------------------------------
def free_port_range(count: int = 10) -> range:
    """A block of loopback ports nobody listens on, below the kernel's ephemeral range."""
    for _ in range(100):
        first = random.randrange(20000, 32000)
        sockets = []
        try:
            for port in range(first, first + count):
                s = socket.socket()
                sockets.append(s)
                s.bind((HOST, port))
            return range(first, first + count)
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no free port range")


def make_zip(size: int = 50_000, seed: int = 0) -> bytes:
    rnd = random.Random(seed)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        z.writestr("config.db", b"SQLite format 3\x00" + b"\r\n\n\r" * 100)
        z.writestr("data.db", rnd.randbytes(size))
    return out.getvalue()


def snapshot(root: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None)
            for p in sorted(root.rglob("*"))}


def wait_until(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def temp_uploads(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(".database.zip.")]


@pytest.fixture
def tree(tmp_path) -> Path:
    """The history folder, and beside it (outside the share) a secret."""
    root = tmp_path / "history"
    for folder in FOLDERS:
        (root / folder).mkdir(parents=True)
    for name, data in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (tmp_path / "secret.txt").write_bytes(b"outside the share")
    return root


@pytest.fixture
def start(tree):
    """start(**overrides) -> a running FtpShare on a free loopback port; closed after the test."""
    shares = []

    def start(**kw) -> FtpShare:
        args = dict(root=tree, password_hash="", host=HOST, port=0, passive_ports=free_port_range(),
                    max_connections=10, restore_dir=tree, failed_login_delay=0.05)
        args.update(kw)
        share = FtpShare(**args)
        share.start()
        shares.append(share)
        return share

    yield start
    for share in shares:
        share.close()


@pytest.fixture
def share(start) -> FtpShare:
    return start()


def connect(share: FtpShare, user: str | None = "wsmeasure", password: str = "wsmeasure",
            source: str | None = None) -> ftplib.FTP:
    ftp = ftplib.FTP(timeout=10, source_address=(source, 0) if source else None)
    try:
        ftp.connect(HOST, share.port)
        if user is not None:
            ftp.login(user, password)
    except BaseException:
        ftp.close()  # a refused connection leaves no socket behind in the test either
        raise
    return ftp


def download(ftp: ftplib.FTP, name: str) -> bytes:
    out = io.BytesIO()
    ftp.retrbinary(f"RETR {name}", out.write)
    return out.getvalue()


def curl(share: FtpShare, path: str, *args: str,
         user: str | None = "wsmeasure:wsmeasure") -> subprocess.CompletedProcess:
    cmd = [CURL, "-sS", "--max-time", "20", *args, f"ftp://{HOST}:{share.port}/{path}"]
    if user is not None:
        cmd[1:1] = ["--user", user]
    return subprocess.run(cmd, capture_output=True, timeout=30)


# -- login ----------------------------------------------------------------------------------
def test_factory_password_logs_in(share):
    with connect(share) as ftp:
        assert ftp.getwelcome().startswith("220 wsmeasure")
        assert ftp.pwd() == "/"


@pytest.mark.parametrize("user, password", [
    ("wsmeasure", "wrong"), ("wsmeasure", ""), ("WSMEASURE", "wsmeasure"), ("root", "wsmeasure"), ("admin", "admin"),
])
def test_wrong_credentials_are_refused(share, user, password):
    with pytest.raises(ftplib.error_perm, match="530 Authentication failed"):
        connect(share, user, password)


def test_anonymous_is_refused(share):
    with connect(share, user=None) as ftp:
        with pytest.raises(ftplib.error_perm, match="530 Anonymous access not allowed"):
            ftp.login()  # ftplib's anonymous login
        for command in ("NLST", "RETR settings/devices.csv", "STOR database.zip", "CWD devices"):
            with pytest.raises(ftplib.error_perm, match="530 Log in with USER and PASS first"):
                ftp.sendcmd(command)


def test_third_failed_login_disconnects(share):
    with connect(share, user=None) as ftp:
        for _ in range(2):
            with pytest.raises(ftplib.error_perm, match="530 Authentication failed.$"):
                ftp.login("wsmeasure", "nope")
        with pytest.raises(ftplib.error_perm, match="Disconnecting"):
            ftp.login("wsmeasure", "nope")
        with pytest.raises((EOFError, OSError)):
            ftp.voidcmd("NOOP")


def test_stored_hash_is_checked(start):
    share = start(password_hash=hash_secret("Z3-secret"))
    with connect(share, password="Z3-secret") as ftp:
        assert ftp.nlst() == FOLDERS
    with pytest.raises(ftplib.error_perm, match="530"):
        connect(share, password="wsmeasure")  # the factory password no longer works


def test_password_change_applies_without_restart(share):
    with connect(share) as ftp:
        share.set_password(hash_secret("n3w-pass"))
        assert ftp.nlst() == FOLDERS, "an open session goes on"
        with pytest.raises(ftplib.error_perm, match="530"):
            connect(share)
        with connect(share, password="n3w-pass") as other:
            assert other.nlst() == FOLDERS
        share.set_password("")  # back to the factory password
        with pytest.raises(ftplib.error_perm, match="530"):
            connect(share, password="n3w-pass")
        connect(share).quit()


def test_from_settings(tree, tmp_path):
    from wsmeasure import settings
    from wsmeasure.db import open_config

    ports = free_port_range()
    db = open_config(tmp_path / "data")
    try:
        settings.set(db, "ftp.password", "from-settings")
        settings.set(db, "ftp.passive_ports", f"{ports[0]}-{ports[-1]}")
        settings.set(db, "ftp.max_connections", "4")
        share = FtpShare.from_settings(db, tree, tree, HOST, 0)
    finally:
        db.close()
    assert (share.passive_ports, share.max_connections) == (ports, 4)
    assert port_range("60000-60099") == range(60000, 60100)
    share.start()
    try:
        with connect(share, password="from-settings") as ftp:
            assert ftp.nlst() == FOLDERS
    finally:
        share.close()


# -- reading ----------------------------------------------------------------------------------
def test_lists_and_downloads_byte_exact(share):
    with connect(share) as ftp:
        assert ftp.nlst() == FOLDERS
        assert sorted(ftp.nlst("devices/4")) == ["4_energy_2013-06.csv", "4_stat_2013-06.csv"]
        listing = []
        ftp.retrlines("LIST devices/4", listing.append)
        assert any(line.endswith(" 4_energy_2013-06.csv") and line.startswith("-") for line in listing)
        facts = dict(ftp.mlsd("devices/4"))
        assert facts["4_stat_2013-06.csv"]["size"] == str(len(FILES["devices/4/4_stat_2013-06.csv"]))
        assert facts["4_stat_2013-06.csv"]["perm"] == "r", "read-only, as the client sees it"
        for name, data in FILES.items():
            assert download(ftp, name) == data, name
        ftp.cwd("devices")
        assert ftp.pwd() == "/devices"
        assert download(ftp, "4/4_energy_2013-06.csv") == FILES["devices/4/4_energy_2013-06.csv"]
        assert ftp.size("4/4_stat_2013-06.csv") == len(FILES["devices/4/4_stat_2013-06.csv"])


@needs_curl
def test_curl_lists_and_downloads(share, tmp_path):
    done = curl(share, "", "--list-only")
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().split() == FOLDERS
    for name, data in FILES.items():
        out = tmp_path / "out"
        done = curl(share, name.replace(" ", "%20"), "-o", str(out))
        assert done.returncode == 0, done.stderr
        assert out.read_bytes() == data, name
    done = curl(share, "devices/4/4_energy_2013-06.csv", "--disable-epsv")  # PASV instead of EPSV
    assert done.returncode == 0 and done.stdout == FILES["devices/4/4_energy_2013-06.csv"]


@needs_curl
def test_curl_wrong_password_and_anonymous_are_refused(share):
    assert curl(share, "", user="wsmeasure:nope").returncode == 67  # CURLE_LOGIN_DENIED
    assert curl(share, "", user=None).returncode == 67


def test_cwd_never_changes_the_process_directory(share, monkeypatch):
    # pyftpdlib's CWD calls os.chdir, which would move every thread of the daemon
    def refuse(path):
        raise AssertionError("os.chdir called")

    monkeypatch.setattr(os, "chdir", refuse)
    with connect(share) as ftp:
        ftp.cwd("devices/4")
        assert ftp.pwd() == "/devices/4"
        with pytest.raises(ftplib.error_perm, match="550 Not a directory"):
            ftp.cwd("/devices/4/4_energy_2013-06.csv")


# -- confinement ----------------------------------------------------------------------------
def test_cannot_leave_the_root(share):
    with connect(share) as ftp:
        ftp.cwd("..")
        assert ftp.pwd() == "/"
        ftp.cwd("../../../..")
        assert ftp.pwd() == "/"
        assert ftp.nlst() == FOLDERS, "still the share, not the folder above it"
        ftp.cwd("devices")
        ftp.sendcmd("CDUP")
        ftp.sendcmd("CDUP")
        assert ftp.pwd() == "/"
        for path in ("../secret.txt", "../../secret.txt", "/../secret.txt", "devices/../../secret.txt",
                     "../../etc/passwd", "/etc/passwd", "..\\secret.txt"):
            with pytest.raises(ftplib.error_perm, match="550"):
                download(ftp, path)
        for path in ("/etc", "/tmp", "../etc", "../" * 300 + "etc"):
            with pytest.raises(ftplib.error_perm, match="550 No such file"):
                ftp.cwd(path)
        ftp.cwd("/")
        assert ftp.nlst() == FOLDERS
        with pytest.raises(ftplib.error_perm, match="550"):
            ftp.size("../secret.txt")


def test_symlinks_are_never_followed(share, tree):
    (tree / "devices" / "etc").symlink_to("/etc")
    (tree / "devices" / "passwd").symlink_to("/etc/passwd")
    (tree / "energy" / "secret.txt").symlink_to(tree.parent / "secret.txt")
    (tree / "energy" / "up").symlink_to("..")  # a directory link back into the tree
    (tree / "settings" / "copy.csv").symlink_to(tree / "settings" / "devices.csv")  # inside: refused too
    with connect(share) as ftp:
        assert sorted(ftp.nlst("devices")) == ["4"], "links are not listed"
        assert "secret.txt" not in [name for name, _ in ftp.mlsd("energy")]
        listing = []
        ftp.retrlines("LIST devices", listing.append)
        assert not any("etc" in line or "passwd" in line for line in listing)
        for path in ("devices/passwd", "devices/etc/passwd", "energy/secret.txt", "energy/up/settings/devices.csv",
                     "settings/copy.csv"):
            with pytest.raises(ftplib.error_perm, match="550 '/.*' points to a path which is outside"):
                download(ftp, path)
        for command in ("CWD devices/etc", "CWD energy/up", "SIZE devices/passwd", "MDTM devices/passwd",
                        "MLST devices/passwd", "STAT devices/etc"):
            with pytest.raises(ftplib.error_perm, match="550"):
                ftp.sendcmd(command)
        with pytest.raises(ftplib.error_perm, match="550"):
            ftp.nlst("devices/etc")
        assert ftp.pwd() == "/"


@needs_curl
def test_curl_cannot_escape(share, tree):
    (tree / "devices" / "passwd").symlink_to("/etc/passwd")
    for path, args in (("devices/passwd", ()), ("../../../etc/passwd", ("--path-as-is",)),
                       ("%2Fetc/passwd", ()), ("../secret.txt", ("--path-as-is",))):
        done = curl(share, path, *args)
        assert done.returncode != 0 and done.stdout == b"", path


def test_nul_bytes_and_long_paths(share):
    with connect(share) as ftp:
        with pytest.raises(ftplib.error_perm, match="501 NUL"):
            ftp.sendcmd("RETR devices/4/4_energy_2013-06.csv\0/../../secret.txt")
        with pytest.raises(ftplib.error_perm, match="501 NUL"):
            ftp.sendcmd("CWD \0")
        with pytest.raises(ftplib.error_perm, match="550 File name too long"):
            download(ftp, "a" * 300)
        with pytest.raises(ftplib.error_perm, match="550 No such file"):
            download(ftp, "/".join(["b" * 200] * 9))
        with pytest.raises(ftplib.error_perm, match="550"):
            ftp.cwd("x/" * 600)
        assert ftp.pwd() == "/"
    # a command line longer than pyftpdlib's 2048-byte buffer is refused; the session lives on
    with socket.create_connection((HOST, share.port), timeout=10) as raw:
        raw.sendall(b"USER wsmeasure\r\nPASS wsmeasure\r\nRETR " + b"c" * 5000 + b"\r\nNOOP\r\n")
        received = b""
        while b"\r\n200 " not in received:
            chunk = raw.recv(4096)
            assert chunk, received
            received += chunk
        assert b"500 Command too long" in received


# -- read-only ------------------------------------------------------------------------------
def test_everything_but_database_zip_is_refused(share, tree):
    before = snapshot(tree)
    with connect(share) as ftp:
        refusals = [
            lambda: ftp.storbinary("STOR devices/4/4_energy_2013-06.csv", io.BytesIO(b"x")),
            lambda: ftp.storbinary("STOR new.csv", io.BytesIO(b"x")),
            lambda: ftp.storbinary("STOR database.ZIP", io.BytesIO(make_zip())),
            lambda: ftp.storbinary("STOR database.zip.csv", io.BytesIO(b"x")),
            lambda: ftp.storbinary("STOR devices/database.zip", io.BytesIO(make_zip())),
            lambda: ftp.storbinary("APPE database.zip", io.BytesIO(make_zip())),
            lambda: ftp.storbinary("APPE devices/4/4_energy_2013-06.csv", io.BytesIO(b"x")),
            lambda: ftp.storbinary("STOU", io.BytesIO(b"x")),
            lambda: ftp.delete("devices/4/4_energy_2013-06.csv"),
            lambda: ftp.rename("devices/4/4_energy_2013-06.csv", "x.csv"),
            lambda: ftp.sendcmd("RNTO x.csv"),
            lambda: ftp.mkd("newdir"),
            lambda: ftp.sendcmd("XMKD newdir"),
            lambda: ftp.rmd("water"),
            lambda: ftp.sendcmd("XRMD water"),
            lambda: ftp.sendcmd("SITE CHMOD 777 devices"),
            lambda: ftp.sendcmd("MFMT 20200101000000 settings/devices.csv"),
        ]
        for refuse in refusals:
            with pytest.raises(ftplib.error_perm, match="^550 Read-only share: only database.zip may be uploaded"):
                refuse()
        assert ftp.nlst() == FOLDERS
    assert snapshot(tree) == before


@needs_curl
def test_curl_upload_elsewhere_is_refused(share, tree, tmp_path):
    before = snapshot(tree)
    (tmp_path / "up.csv").write_bytes(b"x;y\r\n")
    for target in ("devices/x.csv", "up.csv", "settings/devices.csv"):
        assert curl(share, target, "-T", str(tmp_path / "up.csv")).returncode == 25  # CURLE_UPLOAD_FAILED
    assert snapshot(tree) == before


# -- database.zip ---------------------------------------------------------------------------
def test_database_zip_upload(share, tree):
    first, second = make_zip(seed=1), make_zip(size=300_000, seed=2)
    with connect(share) as ftp:
        assert ftp.storbinary("STOR database.zip", io.BytesIO(first)).startswith("226")
        assert (tree / UPLOAD_NAME).read_bytes() == first
        assert ftp.nlst() == sorted(FOLDERS + [UPLOAD_NAME]), "visible at the top, as in the manual"
        assert download(ftp, UPLOAD_NAME) == first
        ftp.cwd("devices")
        ftp.storbinary("STOR /database.zip", io.BytesIO(second))  # the top folder, named from elsewhere
        assert (tree / UPLOAD_NAME).read_bytes() == second
    assert temp_uploads(tree) == []


def test_upload_in_ascii_mode_is_stored_as_sent(share, tree):
    # Windows' ftp.exe uploads in ASCII mode unless told "binary"; CRLF must not become LF in a zip
    data = make_zip()
    assert b"\r\n" in data
    with connect(share) as ftp:
        ftp.voidcmd("TYPE A")
        with ftp.transfercmd("STOR database.zip") as conn:
            conn.sendall(data)
        ftp.voidresp()
    assert (tree / UPLOAD_NAME).read_bytes() == data


@needs_curl
def test_curl_uploads_database_zip(share, tree, tmp_path):
    (tmp_path / UPLOAD_NAME).write_bytes(make_zip(seed=3))
    done = curl(share, UPLOAD_NAME, "-T", str(tmp_path / UPLOAD_NAME))
    assert done.returncode == 0, done.stderr
    assert (tree / UPLOAD_NAME).read_bytes() == (tmp_path / UPLOAD_NAME).read_bytes()


def start_upload(ftp: ftplib.FTP, data: bytes, tree: Path) -> socket.socket:
    """STOR database.zip with `data` sent, the transfer still open; returns the data connection."""
    ftp.voidcmd("TYPE I")
    conn = ftp.transfercmd("STOR database.zip")
    conn.sendall(data)
    wait_until(lambda: [p.stat().st_size for p in temp_uploads(tree)] == [len(data)])
    return conn


@pytest.mark.parametrize("how", ["data connection closed early", "ABOR", "control connection lost",
                                 "server closed"])
def test_interrupted_upload_leaves_the_previous_database_zip(start, tree, how):
    share = start()
    old, new = make_zip(seed=1), make_zip(size=400_000, seed=2)
    (tree / UPLOAD_NAME).write_bytes(old)
    ftp = connect(share)
    try:
        conn = start_upload(ftp, new[: len(new) // 2], tree)
        with connect(share) as other:  # meanwhile: the old file, no partial file in sight
            assert download(other, UPLOAD_NAME) == old
            assert ".database.zip" not in " ".join(other.nlst())
        if how == "data connection closed early":  # what a crashed client does: looks like an end of file
            conn.close()
            with pytest.raises(ftplib.error_temp, match="451 database.zip is not a complete zip archive"):
                ftp.voidresp()
        elif how == "ABOR":
            ftp.abort()  # reads "426 Transfer aborted"
            conn.close()
            assert ftp.voidresp().startswith("226")
        elif how == "control connection lost":
            ftp.close()
            wait_until(lambda: not temp_uploads(tree))
            conn.close()
        else:
            share.close()
            conn.close()
        wait_until(lambda: not temp_uploads(tree))
        assert (tree / UPLOAD_NAME).read_bytes() == old
    finally:
        ftp.close()


def test_aborted_first_upload_leaves_nothing(share, tree):
    with connect(share) as ftp:
        conn = start_upload(ftp, make_zip(size=200_000)[:100_000], tree)
        ftp.abort()
        conn.close()
        ftp.voidresp()
        wait_until(lambda: not temp_uploads(tree))
        assert not (tree / UPLOAD_NAME).exists()
        assert ftp.nlst() == FOLDERS


def test_reinitialized_session_drops_its_queued_upload(share, tree):
    # pyftpdlib's REIN/USER forget a queued STOR without closing its file: the temporary file
    # would stay, and with it the "upload in progress" that refuses every later upload
    with connect(share) as ftp:
        ftp.voidcmd("TYPE I")
        ftp.sendcmd("PASV")  # a data port opened, never connected: the STOR waits in the queue
        assert ftp.sendcmd("STOR database.zip").startswith("150")
        assert len(temp_uploads(tree)) == 1
        assert ftp.sendcmd("REIN").startswith("230")
        assert temp_uploads(tree) == []
        ftp.login("wsmeasure", "wsmeasure")
        with connect(share) as other:
            assert other.storbinary("STOR database.zip", io.BytesIO(make_zip())).startswith("226")


def test_not_a_zip_is_discarded(share, tree):
    with connect(share) as ftp:
        with pytest.raises(ftplib.error_temp, match="451 database.zip is not a complete zip archive"):
            ftp.storbinary("STOR database.zip", io.BytesIO(b"PK\x03\x04 not really a zip" * 100))
    assert not (tree / UPLOAD_NAME).exists() and temp_uploads(tree) == []


def refused_upload(ftp: ftplib.FTP, data: bytes) -> None:
    """Send `data` as database.zip; the server may cut the data connection mid-way; raise its reply."""
    ftp.voidcmd("TYPE I")
    with ftp.transfercmd("STOR database.zip") as conn:
        try:
            conn.sendall(data)
        except OSError:
            pass  # the server stopped reading: the reply says why
    ftp.voidresp()


def test_upload_size_limit(start, tree):
    share = start(max_upload=100_000)
    with connect(share) as ftp:
        with pytest.raises(ftplib.error_perm, match="552 database.zip is larger than 100000 bytes"):
            refused_upload(ftp, make_zip(size=300_000))
        assert ftp.storbinary("STOR database.zip", io.BytesIO(make_zip(size=90_000))).startswith("226")
    assert len((tree / UPLOAD_NAME).read_bytes()) < 100_000
    assert temp_uploads(tree) == []


def test_upload_keeps_free_space_for_the_database(start, tree):
    share = start(min_free=2 ** 62)
    with connect(share) as ftp:
        with pytest.raises(ftplib.error_perm, match="552 Not enough free space"):
            refused_upload(ftp, make_zip())
    assert not (tree / UPLOAD_NAME).exists() and temp_uploads(tree) == []


def test_resumed_upload_is_refused(share, tree):
    with connect(share) as ftp:
        ftp.voidcmd("TYPE I")
        ftp.sendcmd("REST 10")
        with pytest.raises(ftplib.error_perm, match="554 Resuming an upload is not supported"):
            ftp.storbinary("STOR database.zip", io.BytesIO(make_zip()))
        ftp.storbinary("STOR database.zip", io.BytesIO(make_zip()))  # the REST is forgotten
    assert (tree / UPLOAD_NAME).read_bytes() == make_zip()


def test_one_upload_at_a_time(share, tree):
    data = make_zip(size=200_000)
    with connect(share) as first, connect(share) as second:
        conn = start_upload(first, data[:1000], tree)
        with pytest.raises(ftplib.error_temp, match="450 Another upload of database.zip is in progress"):
            second.storbinary("STOR database.zip", io.BytesIO(make_zip(seed=5)))
        conn.sendall(data[1000:])
        conn.close()
        first.voidresp()
        second.storbinary("STOR database.zip", io.BytesIO(make_zip(seed=5)))
    assert (tree / UPLOAD_NAME).read_bytes() == make_zip(seed=5)


def test_upload_lands_in_a_separate_restore_dir(start, tree, tmp_path):
    restore = tmp_path / "restore"
    share = start(restore_dir=restore)
    with connect(share) as ftp:
        ftp.storbinary("STOR database.zip", io.BytesIO(make_zip()))
        assert ftp.nlst() == FOLDERS, "not listed: the share shows the history folder only"
    assert (restore / UPLOAD_NAME).read_bytes() == make_zip()
    assert not (tree / UPLOAD_NAME).exists()


def test_stale_temporary_files_are_removed_at_start(tree, start):
    stale = tree / ".database.zip.abc123.part"
    stale.write_bytes(b"left by a power cut")
    start()
    assert not stale.exists()


# -- limits and passive ports ---------------------------------------------------------------
def test_connection_limits(start):
    share = start(max_connections=3, max_connections_per_ip=2)
    with connect(share) as a1, connect(share) as a2:
        with pytest.raises(ftplib.error_temp, match="421 Too many connections from the same IP"):
            connect(share)
        with connect(share, source="127.0.0.2") as b1:
            with pytest.raises(ftplib.error_temp, match="421 Too many connections"):
                connect(share, source="127.0.0.3")
            for ftp in (a1, a2, b1):
                assert ftp.nlst() == FOLDERS, "the sessions in place go on"
            a1.quit()

            def third_source_gets_in():
                try:
                    connect(share, source="127.0.0.3").quit()
                except ftplib.error_temp:
                    return False
                return True

            wait_until(third_source_gets_in)


def test_passive_ports_come_from_the_setting(start):
    ports = free_port_range(4)
    share = start(passive_ports=ports)
    with connect(share) as ftp:
        for _ in range(6):  # several transfers, PASV and EPSV
            for epsv in (False, True):
                ftp.voidcmd("TYPE I")
                if epsv:
                    port = ftplib.parse229(ftp.sendcmd("EPSV"), ftp.sock.getpeername())[1]
                else:
                    port = ftplib.parse227(ftp.sendcmd("PASV"))[1]
                assert port in ports
                with socket.create_connection((HOST, port), timeout=10) as conn:
                    ftp.sendcmd("RETR settings/devices.csv")
                    data = b""
                    while chunk := conn.recv(4096):
                        data += chunk
                ftp.voidresp()
                assert data == FILES["settings/devices.csv"]


# -- logging --------------------------------------------------------------------------------
def test_quiet_by_default(share, caplog):
    caplog.set_level(logging.INFO)
    caplog.clear()
    with connect(share) as ftp:
        ftp.nlst()
        download(ftp, "settings/devices.csv")
    with pytest.raises(ftplib.error_perm):
        connect(share, password="s3cr3t-guess")

    def ftp_records():
        return [r for r in caplog.records if r.name.startswith(("wsmeasure.ftp", "pyftpdlib"))]

    wait_until(ftp_records)  # logged by the server thread just after its 530 reply
    ftp_records = ftp_records()
    assert [(r.name, r.levelno) for r in ftp_records] == [("wsmeasure.ftp", logging.INFO)]
    assert "failed FTP login as 'wsmeasure'" in ftp_records[0].getMessage()


def test_debug_shows_commands_but_not_passwords(share, caplog):
    caplog.set_level(logging.DEBUG, logger="wsmeasure.ftp")
    with connect(share) as ftp:
        download(ftp, "settings/devices.csv")
    text = "\n".join(r.getMessage() for r in caplog.records if r.name == "wsmeasure.ftp")
    assert "<- RETR settings/devices.csv" in text
    assert "PASS ******" in text and "PASS wsmeasure" not in text


# -- start and close ------------------------------------------------------------------------
def test_close_releases_everything(start, tree):
    share = start()
    port, passive = share.port, share.passive_ports
    big = tree / "devices" / "4" / "big.csv"
    big.write_bytes(b"0123456789;" * 400_000)
    idle = connect(share)
    busy = connect(share)
    try:
        busy.voidcmd("TYPE I")
        slow = busy.transfercmd("RETR devices/4/big.csv")  # a download under way, read slowly
        assert slow.recv(1000)
        uploading = connect(share)
        upload = start_upload(uploading, make_zip()[:1000], tree)
        share.close()
        share.close()  # twice is harmless
        for ftp in (idle, busy, uploading):
            with pytest.raises((EOFError, OSError)):
                ftp.voidcmd("NOOP")
        slow.close()
        upload.close()
    finally:
        for ftp in (idle, busy, uploading):
            ftp.close()
    assert temp_uploads(tree) == [] and not (tree / UPLOAD_NAME).exists()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((HOST, port), timeout=5).close()
    for p in passive:  # no passive listener left either
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((HOST, p))
            s.listen()


def test_busy_port_fails_at_start_without_leaking(tree):
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        share = FtpShare(tree, "", HOST, taken.getsockname()[1], free_port_range(), 10, tree)
        with pytest.raises(OSError):
            share.start()
        share.close()  # nothing to do, and no error


def test_close_before_start_and_restart(tree):
    share = FtpShare(tree, "", HOST, 0, free_port_range(), 10, tree)
    share.close()
    share.start()
    with pytest.raises(RuntimeError):
        share.start()
    share.close()
    share.start()  # a stopped share can be started again (a changed port or passive range: build a new one)
    try:
        with connect(share) as ftp:
            assert ftp.nlst() == FOLDERS
    finally:
        share.close()
