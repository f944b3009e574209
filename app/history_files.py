"""Crash-safe appending of lines to CSV files.

- A new file appears whole: its header is written to a hidden temporary file, fsync'd and
  renamed into place, so a file that exists always has its complete header.
- A line is one os.write() on a descriptor opened with O_APPEND; if the write comes short or
  fails (ENOSPC, EFBIG, EIO), the file is truncated back to its size before the line and the
  error raised: a line is in the file completely or not at all.
- A SIGKILL cannot tear a small write in practice, a power cut can (the kernel may have
  written part of the last page): `fix_tail` cuts any incomplete or unreadable last line.
- The caller fsyncs once per batch (`Batch.sync`), not once per line.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)

TAIL_CHUNK = 8192
MAX_OPEN = 256   # descriptors a batch keeps open before it syncs and closes the oldest ones


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_whole(path: Path, data: bytes) -> None:
    """Replace `path` by `data` atomically (temporary file, fsync, rename, fsync of the folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)   # a short count means the next call raises the reason
        view = view[n:]


def append_line(fd: int, data: bytes) -> None:
    """All of `data` at the end of the file, or none of it and the error raised."""
    size = os.fstat(fd).st_size
    try:
        _write_all(fd, data)
    except OSError:
        try:
            os.ftruncate(fd, size)
        except OSError as exc:   # nothing more can be done here; fix_tail cuts it at start-up
            log.error("could not cut a partial line back (%s)", exc)
        raise


def fix_tail(path: Path, valid: Callable[[bytes], bool]) -> bytes | None:
    """Cut trailing bytes that are not complete, `valid` lines; return the last line kept (without
    its line end), or None when only the header (the first line) is left."""
    with open(path, "r+b") as f:
        end = f.seek(0, os.SEEK_END)
        while True:
            line_start, tail = _last_line(f, end)
            complete = tail.endswith(b"\n")
            body = tail.rstrip(b"\r\n")
            if line_start == 0:   # the header: written whole, never cut
                kept = None
            elif complete and valid(body):
                kept = body
            else:
                log.warning("%s: cutting an incomplete last line %r", path, tail[:80])
                end = line_start
                continue
            if end != f.seek(0, os.SEEK_END):
                f.truncate(end)
                f.flush()
                os.fsync(f.fileno())
            return kept


def _last_line(f, end: int) -> tuple[int, bytes]:
    """(offset, bytes) of the last line of the first `end` bytes, line end included."""
    pos, data = end, b""
    while pos > 0:
        step = min(TAIL_CHUNK, pos)
        pos -= step
        f.seek(pos)
        data = f.read(step) + data
        cut = data.rfind(b"\n", 0, len(data) - 1)   # the line end before the last line
        if cut >= 0:
            return pos + cut + 1, data[cut + 1:]
    return 0, data


class Batch:
    """The files one append or repair writes: each opened once, then fsync'd and closed together."""

    def __init__(self):
        self._fds: dict[Path, int] = {}

    def fd(self, path: Path, header: bytes) -> int:
        """A descriptor appending to `path`; a missing file is created first with `header`."""
        fd = self._fds.get(path)
        if fd is None:
            if len(self._fds) >= MAX_OPEN:
                self.sync()
            try:
                fd = os.open(path, os.O_WRONLY | os.O_APPEND)
            except FileNotFoundError:
                write_whole(path, header)
                fd = os.open(path, os.O_WRONLY | os.O_APPEND)
            self._fds[path] = fd
        return fd

    def sync(self) -> None:
        """fsync and close every file of the batch; the first error is raised after all are closed."""
        error = None
        for fd in self._fds.values():
            try:
                os.fsync(fd)
            except OSError as exc:
                error = error or exc
            finally:
                os.close(fd)
        self._fds.clear()
        if error:
            raise error

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()
