"""Software update (manual 7.10): the installed version and the application slots, and the upload
of a signed update bundle (app/bundle.py, app/update.py, docs/update.md).

A bundle may be large (UPLOAD_MAX), so it is not left to bottle, which would first spool the
whole body to /tmp (RAM on the appliance) and then copy the file part again. A before_request
hook reads this one route's multipart body itself: the small fields first (the form puts the
CSRF token before the file), then, only for a user who may open the page and with the
session's token and our origin, the file part straight into data_dir/update/incoming.tmp,
refused as soon as it passes the limit. The route (after the usual access checks) renames it
and hands it to update.install_update, which verifies it whole (signature, compatibility,
version, payload) and then:

- on a developer machine (no daemon started with --appliance, or no application slots): installs
  nothing and the page says what was verified;
- on the box, where the daemon runs as its own user and cannot write the slots: queues it for
  the root updater unit, which checks it again, installs it into the inactive slot and restarts
  the daemon; the page shows the result after the restart (state.json's history);
- where this process may write the slots: installs it and restarts the daemon two seconds later,
  once this answer is sent.

A refusal is shown in the user's language (core_text) and leaves nothing behind.
"""

from __future__ import annotations

import email.message
import hmac
import logging
import os
import threading
from pathlib import Path

import bottle
from bottle import FormsDict, request, response

from wsmeasure import __version__, bundle, update
from wsmeasure.messages import Msg
from wsmeasure.settings import ConfigError

from .access import _same_origin, ctx
from .i18n import core_text
from .pages_server_common import page_render, size_text, time_text

log = logging.getLogger(__name__)

PATH = "/server/update"
UPLOAD_MAX = bundle.BUNDLE_MAX   # bytes of the bundle
FORM_SLACK = 64 * 1024       # the other fields and the multipart framing around the file
UPDATE_DIR = "update"        # under data_dir
INCOMING = "incoming.tmp"
UPLOADED = "uploaded.bundle"
FIELD = bundle.FIELD
HISTORY_SHOWN = 5            # the last update events on the page
CHUNK = 64 * 1024
HEADER_MAX = 8 * 1024
VALUE_MAX = 4 * 1024


class _Stop(Exception):
    """The body is not read further; `reason` says why (an error code for the route)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Multipart:
    """A streaming multipart/form-data reader: parts one after the other, bodies in chunks."""

    def __init__(self, stream, boundary: bytes, length: int):
        self.stream, self.left = stream, (length if length >= 0 else None)
        self.sep = b"\r\n--" + boundary
        self.buf = b"\r\n"   # so that the first boundary, at the very start, looks like the others
        self.finished = False

    def _more(self) -> bool:
        size = CHUNK if self.left is None else min(CHUNK, self.left)
        data = self.stream.read(size) if size else b""
        if not data:
            return False
        if self.left is not None:
            self.left -= len(data)
        self.buf += data
        return True

    def _need(self, n: int) -> None:
        while len(self.buf) < n:
            if not self._more():
                raise _Stop("incomplete")

    def body(self):
        """The current part's bytes, in chunks, up to (and past) the next boundary."""
        keep = len(self.sep) - 1
        while True:
            i = self.buf.find(self.sep)
            if i >= 0:
                if i:
                    yield self.buf[:i]
                self.buf = self.buf[i + len(self.sep):]
                return
            if len(self.buf) > keep:
                yield self.buf[:-keep]
                self.buf = self.buf[-keep:]
            if not self._more():
                raise _Stop("incomplete")

    def parts(self):
        """(name, filename or None) of each part; read its body() before asking for the next."""
        for _ in self.body():   # a preamble before the first boundary is ignored
            pass
        while True:
            self._need(2)
            if self.buf.startswith(b"--"):
                self.finished = True
                return
            while b"\r\n\r\n" not in self.buf:
                if len(self.buf) > HEADER_MAX or not self._more():
                    raise _Stop("incomplete")
            head, self.buf = self.buf.split(b"\r\n\r\n", 1)
            msg = email.message.Message()
            for line in head.decode("utf-8", "replace").split("\r\n")[1:]:   # [0]: the rest of the boundary line
                if ":" in line:
                    key, value = line.split(":", 1)
                    msg[key.strip()] = value.strip()
            yield msg.get_param("name", header="content-disposition"), msg.get_filename()


def _boundary(content_type: str) -> bytes | None:
    msg = email.message.Message()
    msg["content-type"] = content_type
    value = msg.get_param("boundary")
    return value.encode("latin-1") if isinstance(value, str) and 0 < len(value) <= 70 else None


def _may_upload(box, forms) -> bool:
    c = ctx(box)
    token = forms.get("csrf") or ""
    return c.may("server") and hmac.compare_digest(token.encode(), c.session.csrf.encode()) and _same_origin()


def _receive(box, lock: threading.Lock) -> None:
    """before_request: take over the multipart body of POST /server/update (see the docstring)."""
    if request.method != "POST" or request.path != PATH:
        return
    env = request.environ
    boundary = _boundary(env.get("CONTENT_TYPE", ""))
    if not env.get("CONTENT_TYPE", "").lower().startswith("multipart/form-data") or boundary is None:
        return   # not a file upload: bottle reads it as usual (and the route says a file is missing)
    forms = FormsDict()
    env["bottle.request.forms"] = env["bottle.request.post"] = forms   # access.py reads the token here
    env["bottle.request.files"] = FormsDict()
    outcome = env["wsm.upload"] = {"path": None, "error": None, "name": ""}
    reader = Multipart(env["wsgi.input"], boundary, request.content_length)
    try:
        for name, filename in reader.parts():
            if filename is None:
                value = b""
                for chunk in reader.body():
                    value += chunk
                    if len(value) > VALUE_MAX:
                        raise _Stop("incomplete")
                forms[name or ""] = value.decode("latin-1")   # as bottle keeps them (getunicode: UTF-8)
                continue
            if name != FIELD or outcome["path"] or outcome["error"]:
                raise _Stop("incomplete")   # one file, in its field
            if not _may_upload(box, forms):
                return   # not a word more: access.py refuses the request with the right message
            if not filename:
                for _ in reader.body():   # the empty file of a form sent without choosing one
                    pass
                continue
            outcome["name"] = os.path.basename(filename.replace("\\", "/"))[:100]
            if request.content_length > UPLOAD_MAX + FORM_SLACK:
                raise _Stop("too_large")
            if not lock.acquire(blocking=False):
                raise _Stop("busy")
            env["wsm.upload_lock"] = lock   # released after the request (the route installs meanwhile)
            outcome["path"] = _store(box.data_dir / UPDATE_DIR, reader.body())
    except _Stop as stop:
        outcome["error"] = stop.reason
    except OSError as exc:   # the disk is full...
        log.error("software update upload: %s", exc)
        outcome["error"] = "io"
        outcome["detail"] = str(exc)


def _store(folder: Path, chunks) -> Path:
    """The file part into folder/incoming.tmp (synced), then renamed; _Stop past UPLOAD_MAX."""
    folder.mkdir(parents=True, exist_ok=True)
    temp = folder / INCOMING
    temp.unlink(missing_ok=True)   # a power cut in an earlier upload
    size = 0
    try:
        with open(temp, "wb") as file:
            for chunk in chunks:
                size += len(chunk)
                if size > UPLOAD_MAX:
                    raise _Stop("too_large")
                file.write(chunk)
            file.flush()
            os.fsync(file.fileno())
        target = folder / UPLOADED
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    log.info("software update: %s bytes received", size)
    return target


def _release(box) -> None:
    """after_request: the upload lock of this request, if it took it."""
    lock = request.environ.pop("wsm.upload_lock", None)
    if lock is not None:
        lock.release()


def routes(app: bottle.Bottle, box) -> None:
    lock = threading.Lock()   # one bundle at a time
    app.add_hook("before_request", lambda: _receive(box, lock))
    app.add_hook("after_request", lambda: _release(box))

    def update_page(errors=None, status=200):
        c = ctx()
        response.status = status
        state = update.status(data_dir=box.data_dir)
        return page_render("server_update.tpl", title=c._("Software update"), back="/server",
                           installed=__version__, limit=size_text(UPLOAD_MAX), errors=errors or {},
                           state=state, events=[event_text(c._, e) for e in reversed(state["history"][-HISTORY_SHOWN:])
                                                if isinstance(e, dict)],
                           developer=not box.appliance or not state["appliance"])

    def event_text(_, event: dict) -> tuple[str, str]:
        """(time, what happened) of a state.json event, in the user's language."""
        kind, get = event.get("event"), event.get
        if kind == "installed":
            text = _("Version {version} installed in {slot} (before: {previous}).").format(
                version=get("version"), slot=get("slot"), previous=get("from_version"))
        elif kind == "confirmed":
            text = _("Version {version} marked good: it started and worked normally.").format(version=get("version"))
        elif kind == "rolled_back":
            text = _("Version {failed} was not marked good after {tries} starts: the box went back to version "
                     "{version}.").format(failed=get("from_version"), tries=get("tries"), version=get("version"))
            if get("config_restored"):
                text += " " + _("The configuration from before the update was restored.")
        elif kind == "refused" and isinstance(get("message"), dict):
            text = _("An update was refused: {reason}").format(reason=core_text(_, Msg.from_json(get("message"))))
        elif kind == "interrupted":
            text = _("An update was interrupted before the switch: {slot} stays active.").format(slot=get("slot"))
        elif kind == "rollback_impossible":
            text = _("Version {version} was not marked good, but there is no previous version to go back to.").format(
                version=get("version"))
        else:
            text = str(kind)
        return time_text(box.db, get("time")), text

    @app.get(PATH, page="server")
    def update_form():
        return update_page()

    @app.post(PATH, page="server")
    def upload():
        c = ctx()
        outcome = request.environ.get("wsm.upload") or {}
        error = outcome.get("error")
        messages = {
            "too_large": (413, c._("The file is larger than {size}: refused.").format(size=size_text(UPLOAD_MAX))),
            "busy": (409, c._("Another update is being uploaded: try again later.")),
            "incomplete": (400, c._("The upload was interrupted or is not a valid form: try again.")),
            "io": (500, c._("The file could not be stored: {error}").format(error=outcome.get("detail", ""))),
        }
        if error:
            status, message = messages[error]
            log.warning("software update upload refused (%s) for %s", error, c.user.name)
            return update_page({FIELD: message}, status)
        path = outcome.get("path")
        if path is None:
            return update_page({FIELD: c._("Choose the update file first.")}, 400)
        log.info("software update %r uploaded by %s", outcome.get("name"), c.user.name)
        try:
            # a developer machine only verifies; on the box, a daemon without write access to the
            # slots queues the bundle for the root updater
            done = update.install_update(path, data_dir=box.data_dir, dry_run=not box.appliance, queue=True)
        except ConfigError as exc:
            log.warning("software update refused for %s: %s", c.user.name, exc)
            return update_page({FIELD: core_text(c._, exc)}, 400)
        finally:
            path.unlink(missing_ok=True)   # verified, installed or refused, it does not stay (a queued one moved)
        verified = c._("The bundle is verified: wsmeasure {version} for {compatible}, signed with the key "
                       "{key}.").format(version=done.version, compatible=done.compatible, key=done.key)
        if done.action == "verified":
            message = verified + " " + c._("This is a developer machine: nothing was installed.")
        elif done.action == "queued":
            message = verified + " " + c._("The box installs it now and restarts with it in about a minute: "
                                           "check the installed version on this page then.")
        else:
            update.restart_later()
            message = verified + " " + c._("It is installed; the box restarts with it. It is kept once it has worked "
                                           "for a minute; otherwise the box goes back to version {version} by "
                                           "itself.").format(version=done.installed)
        log.info("software update %s: %s", done.action, done.version)
        return page_render("server_notice.tpl", title=c._("Software update"), back="/server/update", message=message)
