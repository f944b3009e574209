"""Light and offline: every page a user can open is under 100 KB transferred with its assets,
compressed, and loads nothing from outside the box."""

from __future__ import annotations

import gzip
import re

from web import box, client  # noqa: F401

from wsmeasure.web.server import COMPRESSIBLE, MAX_COMPRESS, MIN_COMPRESS

LIMIT = 100 * 1024
ASSET = re.compile(r'<(?:script|link|img)\b[^>]*?\b(?:src|href)="([^"]+)"')
OUTSIDE = re.compile(r'\b(?:src|href|action)="(?:https?:)?//', re.I)


def transferred(answer) -> int:
    """Bytes on the wire: what web/server.py's compression makes of this answer (webtest hands
    tests the decoded body, so the gzip size is computed here the way the server does it)."""
    body = answer.body
    if answer.headers.get("Content-Encoding") == "gzip":
        return len(body)
    kind = answer.headers.get("Content-Type", "")
    if MIN_COMPRESS <= len(body) <= MAX_COMPRESS and kind.startswith(COMPRESSIBLE):
        return len(gzip.compress(body, compresslevel=6, mtime=0))
    return len(body)


def test_every_page_is_light_and_offline(box, client):
    web = client("greenUp")   # the user with the most pages
    weights = {}
    for route in box.app.routes:
        if route.method != "GET" or route.config["page"] == "public" or route.rule.startswith("/api/"):
            continue
        path = re.sub(r"<[^>]+>", "1", route.rule)
        page = web.get(path, expect_errors=True)
        if page.status_int != 200 or not page.content_type.startswith("text/html"):
            continue
        html = page.text
        assert not OUTSIDE.search(html), (path, OUTSIDE.search(html).group(0))
        total = transferred(page)
        for asset in set(ASSET.findall(html)):
            assert asset.startswith("/"), (path, asset)
            total += transferred(web.get(asset))
        weights[path] = total
        assert total < LIMIT, (path, total)
    assert len(weights) >= 10, weights
    print("page weights (bytes, gzip, with assets):", weights)
