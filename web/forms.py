"""Form fields as HTML, with their label, current value and the error of the last try.

A refused form is shown again with what the user typed and the message of each wrong field
next to it (nothing was saved: the core checks everything in one transaction). Values are
escaped here; templates print the result raw.
"""

from __future__ import annotations

from html import escape
from typing import Any, Iterable


def _attrs(**attrs: Any) -> str:
    out = []
    for key, value in attrs.items():
        if value is None or value is False:
            continue
        key = key.rstrip("_").replace("_", "-")
        out.append(key if value is True else f'{key}="{escape(str(value))}"')
    return " ".join(out)


class Form:
    def __init__(self, _, csrf: str, errors: dict, data: dict):
        self._, self.csrf, self.errors, self.data = _, csrf, errors, data

    def token(self) -> str:
        return f'<input type="hidden" name="csrf" value="{escape(self.csrf)}">'

    def value(self, name: str, default: Any = "") -> Any:
        return self.data.get(name, default)

    def _wrap(self, name: str, label: str, control: str, hint: str = "") -> str:
        error = self.errors.get(name)
        err = f'<p class="error" id="{name}-error">{escape(error)}</p>' if error else ""
        hint_html = f'<p class="hint">{escape(hint)}</p>' if hint else ""
        cls = "field invalid" if error else "field"
        return f'<div class="{cls}"><label for="f-{name}">{escape(label)}</label>{control}{hint_html}{err}</div>'

    def input(self, name: str, label: str, value: Any = None, type: str = "text", hint: str = "",
              **attrs: Any) -> str:
        value = self.value(name, "" if value is None else value)
        control = "<input " + _attrs(id=f"f-{name}", name=name, type=type, value=value,
                                     aria_invalid="true" if name in self.errors else None, **attrs) + ">"
        return self._wrap(name, label, control, hint)

    def select(self, name: str, label: str, options: Iterable[tuple[Any, str]], value: Any = None,
               hint: str = "", **attrs: Any) -> str:
        current = str(self.value(name, "" if value is None else value))
        opts = "".join(f'<option value="{escape(str(v))}"{" selected" if str(v) == current else ""}>'
                       f"{escape(str(text))}</option>" for v, text in options)
        control = f'<select {_attrs(id=f"f-{name}", name=name, **attrs)}>{opts}</select>'
        return self._wrap(name, label, control, hint)

    def switch(self, name: str, label: str, on: bool, hint: str = "") -> str:
        """An ON/OFF switch: a checkbox sending "on", with a hidden "off" before it."""
        checked = self.value(name, "on" if on else "off") in ("on", True, "1", "true")
        control = (f'<input type="hidden" name="{escape(name)}" value="off">'
                   f'<input {_attrs(id=f"f-{name}", name=name, type="checkbox", value="on", checked=checked, class_="switch")}>')
        return self._wrap(name, label, control, hint)

    def checks(self, name: str, label: str, options: Iterable[tuple[Any, str]], chosen: Iterable[Any]) -> str:
        chosen = {str(c) for c in self.data.get(name, chosen)}
        boxes = "".join(f'<label class="check"><input type="checkbox" name="{escape(name)}" value="{escape(str(v))}"'
                        f'{" checked" if str(v) in chosen else ""}> {escape(text)}</label>' for v, text in options)
        error = self.errors.get(name)
        err = f'<p class="error">{escape(error)}</p>' if error else ""
        return f'<fieldset class="field"><legend>{escape(label)}</legend>{boxes}{err}</fieldset>'

    def general_error(self) -> str:
        """Errors of fields the form does not show (a cross-check), at the top of the form."""
        return "".join(f'<p class="error">{escape(msg)}</p>' for key, msg in self.errors.items()
                       if key.startswith("_"))
