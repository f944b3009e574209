"""The 13 languages (manual section 4): complete catalogues, placeholders kept, the display
language switch (7.11.2) and the default language (7.11.1)."""

from __future__ import annotations

import re
import string

import polib
import pytest
from web import box, browser_for, client, csrf_of, login  # noqa: F401

from wsmeasure import settings
from wsmeasure.web.i18n import CODES, LOCALE_DIR, SOURCE, read_catalog
from wsmeasure.web.messages import extract

OTHERS = [code for code in CODES if code != SOURCE]


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_thirteen_languages():
    assert len(CODES) == 13 and SOURCE in CODES


@pytest.mark.parametrize("code", OTHERS)
def test_catalogue_is_complete_and_keeps_placeholders(code):
    messages = extract()
    have = read_catalog(code)
    lacking = sorted(m for m in messages if m not in have)
    assert not lacking, f"{code}: {len(lacking)} messages without translation, e.g. {lacking[:5]} " \
                        f"(python -m wsmeasure.web.messages lists them; --missing-json core: the core's, " \
                        f"for core.po)"
    for msgid in messages:
        assert fields(have[msgid]) == fields(msgid), (code, msgid, have[msgid])


@pytest.mark.parametrize("code", OTHERS)
def test_po_files_are_well_formed(code):
    files = sorted((LOCALE_DIR / code / "LC_MESSAGES").glob("*.po"))
    assert files
    for path in files:
        po = polib.pofile(str(path))
        assert "charset=UTF-8" in po.metadata.get("Content-Type", ""), path
        assert po.metadata.get("Language") == code, path
        assert not [e for e in po if e.fuzzy], path


def test_display_language_switch_and_default_language(box):
    web = login(box.app, "user")
    page = web.get("/")
    assert 'lang="en"' in page.text and ">Logout<" in page.text
    web.post("/language", {"csrf": csrf_of(page), "lang": "de", "next": "/"}, status=303)
    german = web.get("/")
    assert 'lang="de"' in german.text and re.search(">Abmelden<", german.text)
    web.post("/language", {"csrf": csrf_of(german), "lang": "xx", "next": "//evil.example"}, status=303)
    assert 'lang="de"' in web.get("/").text   # unknown language ignored
    # the default language: a new visitor sees it; the display switch above does not change it
    assert settings.get(box.db, "language.default") == "en"
    settings.set(box.db, "language.default", "it")
    try:
        assert 'lang="it"' in browser_for(box.app).get("/login").text
    finally:
        settings.set(box.db, "language.default", "en")
