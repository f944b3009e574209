"""The FTP share (manual 8.4.2, 9): the CSV history, read-only, for the one user "wsmeasure".

pyftpdlib does the protocol; this module gives it one role per class, as pyftpdlib is built:
an authorizer (the one user, password checked against the stored scrypt hash), a filesystem
(confined to the history folder, symlinks never followed), a command table where every write
command is refused with a clear 550 (data, like pyftpdlib's own table), and a data channel that
stores the one file that may be uploaded, `database.zip` at the top (restore, manual 9.2),
atomically: hidden temporary file, size and free-space limits, zip checked, then renamed.

The server runs pyftpdlib's IO loop in one background thread of the daemon; `close()` stops it
and releases every socket, file and the thread. The loop never calls os.chdir (pyftpdlib's CWD
does; the daemon is multi-threaded) and never configures logging (pyftpdlib's loop() does): all
its messages go to the logger "wsmeasure.ftp", per-command lines at DEBUG only.
"""

from __future__ import annotations

import errno
import hmac
import logging
import os
import socket
import stat
import sys
import tempfile
import threading
import warnings
import zipfile
from pathlib import Path

with warnings.catch_warnings():
    # pyftpdlib 2.2 runs on the stdlib asyncore/asynchat, deprecated in 3.11 (on 3.12+ it
    # installs their pyasyncore/pyasynchat backports): a known fact, not news at every start
    warnings.simplefilter("ignore", DeprecationWarning)
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.exceptions import AuthenticationFailed, FilesystemError
    from pyftpdlib.filesystems import AbstractedFS
    from pyftpdlib.handlers import DTPHandler, FTPHandler
    from pyftpdlib.ioloop import AsyncChat, IOLoop
    from pyftpdlib.servers import FTPServer

from .secrets import verify_secret

log = logging.getLogger("wsmeasure.ftp")

USER = "wsmeasure"  # manual 8.4.2: not changeable
FACTORY_PASSWORD = "wsmeasure"  # used while the ftp.password setting is ""
UPLOAD_NAME = "database.zip"  # manual 9.2: the only file that may be written, at the top
TEMP_PREFIX = ".database.zip."  # upload in progress: hidden from listings, removed if incomplete
TEMP_SUFFIX = ".part"
MAX_UPLOAD = 512 * 1024 * 1024  # a ceiling well above any backup of the bounded databases
MIN_FREE = 64 * 1024 * 1024  # the real guard: an upload never takes the space recording needs
READ_ONLY = "550 Read-only share: only database.zip may be uploaded, to the top folder."
READ_ONLY_WHY = "Read-only share"  # FilesystemError text; pyftpdlib adds "550 " and "."


def port_range(text: str) -> range:
    """The ftp.passive_ports setting ("60000-60099") as a range of ports."""
    first, last = (int(x) for x in text.split("-"))
    return range(first, last + 1)


def password_ok(password: str, stored: str) -> bool:
    """`stored` is the ftp.password setting: "" for the factory password, else a scrypt hash."""
    if stored == "":
        return hmac.compare_digest(password.encode(), FACTORY_PASSWORD.encode())
    return verify_secret(password, stored)


def _size(n: int) -> str:
    return f"{n // 2 ** 20} MiB" if n % 2 ** 20 == 0 else f"{n} bytes"


class _Authorizer(DummyAuthorizer):
    """User wsmeasure only, read permissions only ("elr"); no anonymous login."""

    def __init__(self, password_hash: str):
        super().__init__()
        self.password_hash = password_hash  # replaced as a whole by FtpShare.set_password

    def validate_authentication(self, username, password, handler):
        if username == "anonymous":
            raise AuthenticationFailed("Anonymous access not allowed.")
        if username != USER or not password_ok(password, self.password_hash):
            raise AuthenticationFailed("Authentication failed.")


class UploadRefused(Exception):
    """An upload of database.zip stopped or discarded; str() is the FTP reply (code and why)."""


class _Upload:
    """database.zip being received: a hidden temporary file beside the target, renamed over it
    only when the transfer ended normally and the result is a complete zip archive."""

    def __init__(self, target: Path, max_size: int, min_free: int, on_done):
        fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=target.parent)
        self.file = os.fdopen(fd, "wb")
        self.name = str(target)  # what pyftpdlib logs and reports
        self.target, self.temp = target, Path(temp)
        self.max_size, self.min_free, self.on_done = max_size, min_free, on_done
        self.size = 0

    @property
    def closed(self) -> bool:
        return self.file.closed

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.max_size:
            raise UploadRefused(f"552 database.zip is larger than {_size(self.max_size)}; upload discarded.")
        fs = os.fstatvfs(self.file.fileno())
        if fs.f_bavail * fs.f_frsize - len(data) < self.min_free:
            raise UploadRefused("552 Not enough free space on the web server for database.zip; upload discarded.")
        self.file.write(data)
        self.file.flush()  # chunks are 64 KiB already; the free-space check then sees the truth

    def close(self) -> None:
        """Incomplete transfer: drop the temporary file, leave any previous database.zip as it was."""
        if not self.file.closed:
            try:
                self.file.close()
            finally:
                self.temp.unlink(missing_ok=True)
                self.on_done(self)

    def commit(self) -> None:
        """Complete transfer: durable, checked, then renamed over database.zip in one step."""
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            try:
                with zipfile.ZipFile(self.temp) as archive:
                    archive.infolist()  # a truncated upload has no central directory
            except (zipfile.BadZipFile, OSError, ValueError):
                raise UploadRefused("451 database.zip is not a complete zip archive; upload discarded.") from None
            os.replace(self.temp, self.target)
            dir_fd = os.open(self.target.parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dir_fd)  # the rename itself survives a power cut
            finally:
                os.close(dir_fd)
        finally:
            if not self.file.closed:
                self.file.close()
            self.temp.unlink(missing_ok=True)
            self.on_done(self)


class _CsvTree(AbstractedFS):
    """The history folder as "/": nothing outside it, no symlink followed, nothing written but
    database.zip at the top."""

    def validpath(self, path):
        # pyftpdlib resolves symlinks and accepts those landing inside the root; here a symlink
        # is never followed at all (the tree holds none of its own), so nothing needs resolving.
        # Components are checked from the root down, so no lstat() ever goes through a link.
        if "\0" in path:
            return False
        if path != self.root and not path.startswith(self.root + os.sep):
            return False
        current = self.root
        for part in path[len(self.root):].split(os.sep):
            if not part:
                continue
            current = os.path.join(current, part)
            try:
                if stat.S_ISLNK(os.lstat(current).st_mode):
                    return False
            except (FileNotFoundError, NotADirectoryError):
                return True  # nothing below exists, so no link either: the command itself fails
            except OSError as exc:
                return exc.errno == errno.ENAMETOOLONG  # idem ("File name too long"); else refuse
        return True

    def fs2ftp(self, fspath):
        # pyftpdlib answers "/" for any refused path, so its refusal would read "'/' points to a
        # path which is outside the user's root directory": name the path the client asked for
        path = os.path.normpath(os.path.join(self.root, fspath))
        if path.startswith(self.root + os.sep):
            return path[len(self.root):].replace(os.sep, "/")
        return "/"

    def open(self, filename, mode):
        if mode == "rb":
            # O_NOFOLLOW: no link even if one appeared since validpath; O_NONBLOCK: a FIFO cannot hang the loop
            fd = os.open(filename, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                os.close(fd)
                raise FilesystemError("Not a regular file")
            os.set_blocking(fd, True)
            return os.fdopen(fd, "rb")
        if mode == "wb" and filename == os.path.join(self.root, UPLOAD_NAME):
            return self.cmd_channel.share._begin_upload()
        raise FilesystemError(READ_ONLY_WHY)

    def chdir(self, path):
        # pyftpdlib's chdir() calls os.chdir: process-wide, wrong in a multi-threaded daemon
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR))
        self.cwd = self.fs2ftp(path)

    def listdir(self, path):
        with os.scandir(path) as entries:  # dot files are bookkeeping (.versions.json, partial uploads)
            return [e.name for e in entries if not e.is_symlink() and not e.name.startswith(".")]

    listdirinfo = listdir

    def mkstemp(self, *args, **kwargs):
        raise FilesystemError(READ_ONLY_WHY)


class _DataChannel(DTPHandler):
    """pyftpdlib's data channel, finishing or discarding a database.zip upload before it replies."""

    def enable_receiving(self, type, cmd):
        # a zip is binary: ASCII mode (the default of Windows' ftp.exe) would only corrupt it
        super().enable_receiving("i" if isinstance(self.file_obj, _Upload) else type, cmd)

    def handle_error(self):
        refused = sys.exc_info()[1]  # called from the IO loop's except clause
        if isinstance(refused, UploadRefused):
            self._refuse(refused)
            self.close()
        else:
            super().handle_error()

    def _refuse(self, refused: UploadRefused) -> None:
        self.transfer_finished = False
        self._resp = (str(refused), log.info)
        log.info("%s: %s", self.cmd_channel.remote_ip, str(refused)[4:])

    def close(self):
        upload = self.file_obj
        if not self._closed and isinstance(upload, _Upload) and not upload.closed:
            # In stream mode the end of the file is the client closing the data connection, which a
            # crashed client also does: the zip check in commit() is what catches a truncated file.
            if self.transfer_finished:
                try:
                    upload.commit()
                    log.info("%s: received database.zip (%d bytes)", self.cmd_channel.remote_ip, upload.size)
                except UploadRefused as refused:
                    self._refuse(refused)
                except OSError as exc:
                    self._refuse(UploadRefused(f"451 Storing database.zip failed: {exc.strerror}."))
            else:
                upload.close()
        super().close()


# The command table as data: pyftpdlib's, with every write command taken off its permission
# check (whose reply is a bare "Not enough privileges") and answered by _Session._refuse instead.
REFUSED = ("APPE", "DELE", "RNFR", "RNTO", "MKD", "XMKD", "RMD", "XRMD", "SITE CHMOD", "MFMT", "STOU")
COMMANDS = {cmd: dict(spec, perm=None) if cmd in REFUSED or cmd == "STOR" else spec
            for cmd, spec in FTPHandler.proto_cmds.items()}


class _Session(FTPHandler):
    """One control connection. Class attributes are set per FtpShare (see FtpShare.start)."""

    proto_cmds = COMMANDS
    abstracted_fs = _CsvTree
    dtp_handler = _DataChannel
    banner = "wsmeasure FTP: CSV history."
    share: FtpShare
    max_sessions = 10

    def __init__(self, conn, server, ioloop=None):
        super().__init__(conn, server, ioloop)
        self._log_debug = log.isEnabledFor(logging.DEBUG)  # pyftpdlib asks its own logger

    # -- limits and refusals
    def on_connect(self):
        # the session count, not pyftpdlib's max_cons, which counts every socket of the loop
        if len(self.server.ip_map) > self.max_sessions:
            self.handle_max_cons()

    def pre_process_command(self, line, cmd, arg):
        if "\0" in line:
            self.respond("501 NUL bytes are not allowed in commands.")
            return
        super().pre_process_command(line, cmd, arg)

    def _refuse(self, *args, **kwargs):
        self.respond(READ_ONLY)

    ftp_APPE = ftp_DELE = ftp_RNFR = ftp_RNTO = ftp_MKD = ftp_XMKD = ftp_RMD = ftp_XRMD = _refuse
    ftp_SITE_CHMOD = ftp_MFMT = ftp_STOU = _refuse

    def ftp_STOR(self, file, mode="w"):
        if mode != "w" or self.fs.ftpnorm(file) != "/" + UPLOAD_NAME:
            return self._refuse()
        if self._restart_position:
            self._restart_position = 0
            self.respond("554 Resuming an upload is not supported: send the whole database.zip.")
            return None
        if self.share._upload is not None:
            self.respond("450 Another upload of database.zip is in progress; try again later.")
            return None
        return super().ftp_STOR(self.fs.ftp2fs(file), mode)

    def flush_account(self):
        # USER/REIN drop queued transfers without closing their files: close them (and so
        # discard a queued upload's temporary file)
        for queue, index in ((self._in_dtp_queue, 0), (self._out_dtp_queue, 2)):
            if queue is not None and queue[index] is not None:
                queue[index].close()
        super().flush_account()

    # -- logging: to wsmeasure.ftp; pyftpdlib's INFO lines (every session, transfer) at DEBUG
    def log(self, msg, logfun=None):
        name = getattr(logfun, "__name__", "")
        level = logging.WARNING if name in ("warning", "error", "critical", "exception") else logging.DEBUG
        if log.isEnabledFor(level):
            log.log(level, "%s:%s-[%s] %s", self.remote_ip, self.remote_port, self.username, msg)

    def logline(self, msg, logfun=None):
        if self._log_debug:
            log.debug("%s:%s-[%s] %s", self.remote_ip, self.remote_port, self.username, msg)

    def logerror(self, msg):
        log.error("%s:%s-[%s] %s", self.remote_ip, self.remote_port, self.username, msg)

    def log_exception(self, instance):
        log.exception("FTP: unexpected error in %r", instance)

    def on_login_failed(self, username, password):
        log.info("%s: failed FTP login as %r", self.remote_ip, username)


class _Waker(AsyncChat):
    """Read end of a socket pair in the loop: close() writes a byte so poll() returns at once."""

    def handle_read(self):
        try:
            self.socket.recv(64)
        except BlockingIOError:
            pass

    def writable(self):
        return False


class FtpShare:
    """The FTP server of the box. `start()` binds and serves in a background thread; `close()`
    stops it and releases everything. `passive_ports` from the ftp.passive_ports setting (see
    port_range), `max_connections` from ftp.max_connections, `password_hash` is the ftp.password
    setting ("" = factory password). An uploaded database.zip is stored in `restore_dir`, which
    should be `root` itself (the manual: backup leaves it there, restore reads it from there)."""

    def __init__(self, root: Path, password_hash: str, host: str, port: int, passive_ports: range,
                 max_connections: int, restore_dir: Path, *, max_connections_per_ip: int | None = None,
                 max_upload: int = MAX_UPLOAD, min_free: int = MIN_FREE, failed_login_delay: float = 3.0,
                 idle_timeout: float = 300.0):
        self.root, self.restore_dir = Path(root), Path(restore_dir)
        self.host, self._bind_port = host, port
        self.port = port  # the bound port once started (port 0: the kernel picks one)
        self.passive_ports = passive_ports
        self.max_connections = max_connections
        # one PC (Explorer, FileZilla) opens a few sessions; half the slots keeps room for another
        self.max_connections_per_ip = max_connections_per_ip or max(1, (max_connections + 1) // 2)
        self.max_upload, self.min_free = max_upload, min_free
        self.failed_login_delay, self.idle_timeout = failed_login_delay, idle_timeout
        self._authorizer = _Authorizer(password_hash)
        self._upload: _Upload | None = None
        self._server: FTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake: socket.socket | None = None

    @classmethod
    def from_settings(cls, db, root: Path, restore_dir: Path, host: str, port: int, **kwargs) -> FtpShare:
        from . import settings

        return cls(root, settings.get(db, "ftp.password"), host, port,
                   port_range(settings.get(db, "ftp.passive_ports")),
                   settings.get(db, "ftp.max_connections"), restore_dir, **kwargs)

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) actually bound; valid after start()."""
        return self._server.address

    def _begin_upload(self) -> _Upload:
        """Called in the loop thread by STOR database.zip (one upload at a time, see _Session.ftp_STOR)."""
        self._upload = _Upload(self.restore_dir / UPLOAD_NAME, self.max_upload, self.min_free, self._upload_done)
        return self._upload

    def _upload_done(self, upload: _Upload) -> None:
        if self._upload is upload:
            self._upload = None

    def set_password(self, password_hash: str) -> None:
        """A changed ftp.password setting: applies to the next login, open sessions stay."""
        self._authorizer.password_hash = password_hash  # one attribute store: safe across threads

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the FTP share is already started")
        self.root.mkdir(parents=True, exist_ok=True)
        self.restore_dir.mkdir(parents=True, exist_ok=True)
        for stale in self.restore_dir.glob(TEMP_PREFIX + "*" + TEMP_SUFFIX):
            stale.unlink(missing_ok=True)  # left by a power cut during an upload
        if not self._authorizer.has_user(USER):
            self._authorizer.add_user(USER, "", str(self.root), perm="elr",
                                      msg_login="Logged in: CSV history (read-only).", msg_quit="Goodbye.")
        if logging.getLogger("pyftpdlib").level == logging.NOTSET:
            logging.getLogger("pyftpdlib").setLevel(logging.WARNING)  # its own [debug] chatter
        session = type("Session", (_Session,), dict(
            share=self, authorizer=self._authorizer, passive_ports=list(self.passive_ports),
            max_sessions=self.max_connections, auth_failed_timeout=self.failed_login_delay,
            timeout=self.idle_timeout))
        ioloop = IOLoop.factory()
        reader, self._wake = socket.socketpair()
        try:
            _Waker(reader, ioloop=ioloop)
            server = FTPServer((self.host, self._bind_port), session, ioloop=ioloop)
        except BaseException:
            ioloop.close()
            reader.close()
            self._wake.close()
            raise
        # a guard on file descriptors: each session holds at most control, data and passive sockets
        server.max_cons = 4 * self.max_connections + 2
        server.max_cons_per_ip = self.max_connections_per_ip
        self._server = server
        self.port = server.address[1]
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, name="ftp", daemon=True)
        self._thread.start()
        log.info("FTP share on %s:%d, passive ports %d-%d, root %s", self.host, self.port,
                 self.passive_ports[0], self.passive_ports[-1], self.root)

    def _serve(self) -> None:
        # pyftpdlib's own loop() would configure logging globally on first use: poll it here
        server = self._server  # close() may drop the attribute if this thread is slow to end
        ioloop = server.ioloop
        try:
            timeout = None
            while not self._stop.is_set():
                ioloop.poll(timeout)
                timeout = ioloop.sched.poll()
        except Exception:
            log.exception("FTP share stopped on an unexpected error")
        finally:
            server.close_all()  # every session, data channel, listener, the waker, epoll

    def close(self) -> None:
        """Stop serving: sessions dropped, incomplete uploads discarded, sockets closed, thread joined."""
        if self._thread is None:
            return
        self._stop.set()
        try:
            self._wake.send(b"x")
        except OSError:
            pass  # the loop already ended and closed the other end
        self._thread.join(10)
        if self._thread.is_alive():
            log.error("FTP share: the server thread did not stop")
        self._wake.close()
        self._thread = self._server = self._wake = None
