"""Messages of the core that the pages show translated: refusals, restore errors, Test verdicts.

The core speaks English; the web pages speak the user's language (web/i18n.py). So a message is
built from a TEMPLATE, the English source text that is also the gettext msgid, and named
parameters, never as a finished f-string:

    Msg('the name "{name}" is already used by device {id}', name=name, id=7)

A Msg is the English text itself (a str: logs, the CLI and tests read it unchanged) that also
remembers its template and parameters, so that `translated(_)` can say it again in another
language: `_(template).format(**params)`, where a parameter that is itself a Msg ("the Modbus
address", a family label, a reason) is translated too. Numbers, names typed by the user,
addresses and catalogue numbers are plain parameters, shown as they are.

A Msg without parameters is its text verbatim (a word or phrase to translate, or a template
kept for later, as fields.py's sentence tables). A template is a whole sentence: where a word
put into an English sentence would need another gender or case elsewhere, the core has one
sentence per case instead ("there is no device with ID...", "there is no load with ID...").

web/messages.py finds the templates in the source (the literal templates given to Msg,
ConfigError, RestoreError and verdict) for the translators: `python -m wsmeasure.web.messages
--missing-json core`.
"""

from __future__ import annotations

from typing import Any, Callable


class Msg(str):
    """English text of a message, able to say itself in another language (see the module doc)."""

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, /, **params: Any) -> Msg:
        template = str(template)
        self = super().__new__(cls, template.format(**params) if params else template)
        self.template, self.params = template, params
        return self

    @classmethod
    def of(cls, template: str, /, **params: Any) -> Msg:
        """`template` with `params` as a Msg; a ready Msg (no params) as it is."""
        return template if isinstance(template, Msg) and not params else cls(template, **params)

    def translated(self, _: Callable[[str], str]) -> str:
        """The message in the language of `_` (a gettext function); English where it lacks one."""
        if not self.params:
            return _(self.template)
        params = {k: v.translated(_) if isinstance(v, Msg) else v for k, v in self.params.items()}
        try:
            return _(self.template).format(**params)
        except (KeyError, IndexError, ValueError):   # a translation with a broken placeholder: English
            return self.template.format(**params)

    def to_json(self) -> dict:
        """{"template", "params"}: what the control socket carries (a Msg parameter nested alike)."""
        return {"template": self.template,
                "params": {k: v.to_json() if isinstance(v, Msg) else v for k, v in self.params.items()}}

    @classmethod
    def from_json(cls, data: dict) -> Msg:
        params = {k: cls.from_json(v) if isinstance(v, dict) else v for k, v in (data.get("params") or {}).items()}
        return cls(data["template"], **params)


def reason(exc: BaseException) -> str:
    """What an exception says: the Msg it was raised with (`ValueError(Msg(...))`, as the setting
    parsers do), else its English text."""
    return exc.args[0] if len(exc.args) == 1 and isinstance(exc.args[0], Msg) else str(exc)


def verdict(ok: bool, template: str, /, **params: Any) -> dict:
    """A Test verdict for the control socket: {"ok", "message" (English, what the CLI prints),
    "template", "params"} (the pages translate it: Msg.from_json). A ready Msg may be given instead."""
    msg = Msg.of(template, **params)
    return {"ok": ok, "message": str(msg), **msg.to_json()}
