"""The messages the pages show, found in the source, and which languages still lack some.

`python -m wsmeasure.web.messages` lists, per language, the messages without a translation
(tests/test_web_i18n.py fails on any). Messages are the literal arguments of `_("...")` in
web/*.py (read with ast, so implicit concatenation is understood) and web/views/*.tpl, plus
the page names of users.PAGES, which are data translated where they are shown.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

from wsmeasure import users

from .i18n import CODES, SOURCE, read_catalog

WEB = Path(__file__).parent
TEMPLATE_CALL = re.compile(r"""\b_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*\)""")


def _from_python(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name == "_":
                yield node.args[0].value, f"{path.name}:{node.lineno}"


def _from_template(path: Path):
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        for m in TEMPLATE_CALL.finditer(line):
            quote = '"' if m.group(1) is not None else "'"
            yield ast.literal_eval(quote + (m.group(1) or m.group(2) or "") + quote), f"{path.name}:{lineno}"


def extract() -> dict[str, list[str]]:
    """msgid -> where it is used."""
    found: dict[str, list[str]] = {}
    for path in sorted(WEB.rglob("*.py")):
        for msg, where in _from_python(path):
            found.setdefault(msg, []).append(where)
    for path in sorted((WEB / "views").glob("*.tpl")):
        for msg, where in _from_template(path):
            found.setdefault(msg, []).append(where)
    for _key, label in users.PAGES:
        found.setdefault(label, []).append("app/users.py PAGES")
    return found


def missing(code: str, messages: dict[str, list[str]] | None = None) -> dict[str, list[str]]:
    messages = extract() if messages is None else messages
    have = read_catalog(code)
    return {m: where for m, where in messages.items() if m not in have}


def main() -> int:
    messages = extract()
    total = 0
    for code in CODES:
        if code == SOURCE:
            continue
        lacking = missing(code, messages)
        total += len(lacking)
        print(f"{code}: {len(messages) - len(lacking)}/{len(messages)} translated")
        for msg, where in sorted(lacking.items()):
            print(f"  {msg!r}  ({', '.join(where[:3])})")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
