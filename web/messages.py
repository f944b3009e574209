"""The messages the pages show, found in the source, and which languages still lack some.

`python -m wsmeasure.web.messages` lists, per language, the messages without a translation
(tests/test_web_i18n.py fails on any). They come from two places:

- the pages ("pages": web/locale/<lang>/LC_MESSAGES/panel, server, system and web.po): the
  literal arguments of `_("...")` in web/*.py (read with ast, so implicit concatenation is
  understood) and web/views/*.tpl, plus the page names of users.PAGES, which are data
  translated where they are shown;
- the core ("core": core.po): the templates of its refusals and Test verdicts (app/messages.py),
  that is the literal template given to ConfigError, RestoreError, verdict or Msg in app/*.py
  and drivers/*.py, plus the labels of the driver catalogue's families and models, data the
  pages show translated.

`python -m wsmeasure.web.messages --missing-json core` prints, as JSON, the core's messages that
some language still lacks, each with one place it comes from: the translators' work list
(`--json core`: all of them; `--lang de`: lacking in that language only).
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from pathlib import Path

import wsmeasure
import wsmeasure.drivers
from wsmeasure import users
from wsmeasure.drivers.catalogue import families

from .i18n import CODES, SOURCE, read_catalog

WEB = Path(__file__).parent
TEMPLATE_CALL = re.compile(r"""\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*\)""")
# The core's message builders, and which positional argument is the template.
CORE_CALLS = {"ConfigError": 1, "RestoreError": 0, "verdict": 1, "Msg": 0}
CORE_FOLDERS = (("app", Path(wsmeasure.__file__).parent), ("drivers", Path(wsmeasure.drivers.__file__).parent))


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _from_python(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str) and _call_name(node) == "_":
            yield node.args[0].value, f"{path.name}:{node.lineno}"


def _from_template(path: Path):
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        for m in TEMPLATE_CALL.finditer(line):
            quote = '"' if m.group(1) is not None else "'"
            yield ast.literal_eval(quote + (m.group(1) or m.group(2) or "") + quote), f"{path.name}:{lineno}"


def _core_calls():
    """(template argument node, "app/fields.py:34") of every call to a core message builder."""
    for folder, root in CORE_FOLDERS:
        for path in sorted(root.glob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for node in sorted((n for n in ast.walk(tree) if isinstance(n, ast.Call)), key=lambda n: n.lineno):
                index = CORE_CALLS.get(_call_name(node))
                if index is not None and len(node.args) > index:
                    yield node.args[index], f"{folder}/{path.name}:{node.lineno}"


def _from_core():
    for arg, where in _core_calls():
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            yield arg.value, where
    for key, fam in families().items():
        yield fam.label, f"drivers catalogue: family {key}"
        for cat_no, model in fam.models.items():
            yield model.label, f"drivers catalogue: {key} {cat_no}"


def built_templates() -> list[str]:
    """Where a core message builder is given a template built at run time (an f-string, a + or a
    % of strings): such a message cannot be translated (tests/test_core_messages.py wants none).
    Names and table lookups are fine: they point at literal Msg templates found on their own."""
    return [where for arg, where in _core_calls() if isinstance(arg, (ast.JoinedStr, ast.BinOp))]


def _collect(*sources) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for source in sources:
        for msg, where in source:
            found.setdefault(msg, []).append(where)
    return found


def extract_pages() -> dict[str, list[str]]:
    """The pages' own messages: msgid -> where it is used."""
    return _collect(*(_from_python(path) for path in sorted(WEB.rglob("*.py"))),
                    *(_from_template(path) for path in sorted((WEB / "views").glob("*.tpl"))),
                    ((label, "app/users.py PAGES") for _key, label in users.PAGES))


def extract_core() -> dict[str, list[str]]:
    """The core's messages (core.po): msgid -> where it comes from."""
    return _collect(_from_core())


DOMAINS = {"pages": extract_pages, "core": extract_core}


def extract() -> dict[str, list[str]]:
    """Every message the pages show, theirs and the core's: msgid -> where it is used."""
    found = extract_pages()
    for msg, where in extract_core().items():
        found.setdefault(msg, []).extend(where)
    return found


def missing(code: str, messages: dict[str, list[str]] | None = None) -> dict[str, list[str]]:
    messages = extract() if messages is None else messages
    have = read_catalog(code)
    return {m: where for m, where in messages.items() if m not in have}


def work_list(domain: str, only_missing: bool, codes: tuple[str, ...]) -> dict[str, str]:
    """msgid -> one place it comes from, for the messages of `domain` (those some of `codes` lack)."""
    messages = DOMAINS[domain]()
    if only_missing:
        lacking = set()
        for code in codes:
            lacking |= set(missing(code, messages))
        messages = {m: where for m, where in messages.items() if m in lacking}
    return {m: where[0] for m, where in messages.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wsmeasure.web.messages", description=__doc__.split("\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--json", metavar="DOMAIN", choices=DOMAINS,
                       help="print the messages of DOMAIN (core or pages) as JSON: msgid -> one location")
    group.add_argument("--missing-json", metavar="DOMAIN", choices=DOMAINS,
                       help="the same, only the messages some language lacks")
    parser.add_argument("--lang", choices=[c for c in CODES if c != SOURCE],
                        help="with --missing-json: lacking in this language")
    args = parser.parse_args(argv)
    others = tuple(c for c in CODES if c != SOURCE)
    if args.json or args.missing_json:
        listed = work_list(args.json or args.missing_json, bool(args.missing_json),
                           (args.lang,) if args.lang else others)
        print(json.dumps(listed, ensure_ascii=False, indent=1))
        return 0
    messages = extract()
    total = 0
    for code in others:
        lacking = missing(code, messages)
        total += len(lacking)
        print(f"{code}: {len(messages) - len(lacking)}/{len(messages)} translated")
        for msg, where in sorted(lacking.items()):
            print(f"  {msg!r}  ({', '.join(where[:3])})")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
