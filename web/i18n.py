"""Languages of the pages (manual section 4) and their gettext catalogues.

Catalogues are plain .po files, web/locale/<code>/LC_MESSAGES/<domain>.po, one domain per
page family so each can be written on its own; all domains of a language are merged when
it is first used. English is the source text and needs no catalogue. polib reads .po files
directly, so no compiled .mo file has to be built or kept in step. The core's messages (refusals,
Test verdicts: app/messages.py) are in the "core" domain; `core_text` shows them translated.
"""

from __future__ import annotations

import gettext
import threading
from pathlib import Path

from wsmeasure.messages import Msg

LOCALE_DIR = Path(__file__).parent / "locale"

# code, name in its own language (as the language list shows it) -- manual section 4's order
LANGUAGES: tuple[tuple[str, str], ...] = (
    ("de", "Deutsch"),
    ("en", "English"),
    ("es", "Español"),
    ("fr", "Français"),
    ("fr_BE", "Français (Belgique)"),
    ("el", "Ελληνικά"),
    ("it", "Italiano"),
    ("hu", "Magyar"),
    ("nl_BE", "Nederlands (België)"),
    ("nl", "Nederlands"),
    ("pl", "Polski"),
    ("pt", "Português"),
    ("ru", "Русский"),
)
CODES = tuple(code for code, _ in LANGUAGES)
SOURCE = "en"


def html_lang(code: str) -> str:
    return code.replace("_", "-")


class Catalog(gettext.NullTranslations):
    """The merged messages of one language; a message without translation shows in English."""

    def __init__(self, messages: dict[str, str]):
        super().__init__()
        self.messages = messages

    def gettext(self, message: str) -> str:
        return self.messages.get(message) or message


_catalogs: dict[str, Catalog] = {}
_lock = threading.Lock()


def read_catalog(code: str) -> dict[str, str]:
    """msgid -> msgstr of every domain of a language (untranslated and fuzzy entries left out)."""
    import polib

    messages: dict[str, str] = {}
    for po_file in sorted((LOCALE_DIR / code / "LC_MESSAGES").glob("*.po")):
        for entry in polib.pofile(str(po_file)):
            if entry.msgstr and not entry.fuzzy and not entry.obsolete:
                messages[entry.msgid] = entry.msgstr
    return messages


def catalog(code: str) -> Catalog:
    if code not in CODES:
        code = SOURCE
    with _lock:
        if code not in _catalogs:
            _catalogs[code] = Catalog({} if code == SOURCE else read_catalog(code))
        return _catalogs[code]


def core_text(_, said) -> str:
    """A message of the core in the language of `_` (a catalogue's gettext): a refusal (ConfigError,
    RestoreError) or a Msg (app/messages.py), or a Test verdict as the control socket carries it
    ({"template", "params"}; only a "message" or "error": shown as it is). Anything else: its text."""
    if hasattr(said, "translated"):
        return said.translated(_)
    if isinstance(said, dict):
        if said.get("template"):
            return Msg.from_json(said).translated(_)
        return said.get("message") or said.get("error") or ""
    return str(said)
