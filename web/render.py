"""Rendering a page: the template, plus what every page shows (user, language, CSRF token, menu)."""

from __future__ import annotations

from pathlib import Path

import bottle
from bottle import request

from wsmeasure import __version__

from . import forms
from .i18n import LANGUAGES, html_lang

VIEWS = str(Path(__file__).parent / "views")
# one list for good: bottle caches compiled templates by id(lookup), so a new list per call
# would compile every template again on every request and keep each copy (a leak)
LOOKUP = [VIEWS]
STATIC_VERSION = __version__   # static URLs carry it: browsers may cache them a day, updates still show


def render(name: str, **values) -> str:
    from .access import ctx

    c = ctx()
    flash, c.session.flash = c.session.flash, []
    common = dict(_=c._, user=c.user, pages=c.pages, may=c.may, csrf=c.session.csrf, lang=c.lang,
                  html_lang=html_lang(c.lang), languages=LANGUAGES, path=request.path, flash=flash,
                  form=forms.Form(c._, c.session.csrf, values.get("errors") or {}, values.get("data") or {}),
                  static=lambda p: f"/static/{p}?v={STATIC_VERSION}", version=__version__,
                  title="", back=None, errors={}, data={})
    common.update(values)
    return bottle.template(name, template_lookup=LOOKUP, **common)


def flash(message: str, kind: str = "ok") -> None:
    """A message for the next page this session shows (after a Post/Redirect/Get)."""
    from .access import ctx

    ctx().session.flash.append((kind, message))
