"""Light and offline: every page a user can open is under 100 KB transferred with its assets,
compressed, and loads nothing from outside the box."""

from __future__ import annotations

import re

from web import box, client  # noqa: F401

from wsmeasure.web.server import compressed

LIMIT = 100 * 1024
ASSET = re.compile(r'<(?:script|link|img)\b[^>]*?\b(?:src|href)="([^"]+)"')
OUTSIDE = re.compile(r'\b(?:src|href|action)="(?:https?:)?//', re.I)


def test_every_page_is_light_and_offline(box, client):
    import webtest

    web = client("greenUp")   # the user with the most pages
    gz = webtest.TestApp(compressed(box.app), extra_environ=web.extra_environ, cookiejar=web.cookiejar)
    weights = {}
    for route in box.app.routes:
        if route.method != "GET" or route.config["page"] == "public" or route.rule.startswith("/api/"):
            continue
        path = re.sub(r"<[^>]+>", "1", route.rule)
        page = gz.get(path, headers={"Accept-Encoding": "gzip"}, expect_errors=True)
        if page.status_int != 200 or not page.content_type.startswith("text/html"):
            continue
        html = page.body.decode() if page.headers.get("Content-Encoding") != "gzip" else \
            __import__("gzip").decompress(page.body).decode()
        assert not OUTSIDE.search(html), (path, OUTSIDE.search(html).group(0))
        total = len(page.body)
        for asset in set(ASSET.findall(html)):
            assert asset.startswith("/"), (path, asset)
            got = gz.get(asset, headers={"Accept-Encoding": "gzip"})
            total += len(got.body)
        weights[path] = total
        assert total < LIMIT, (path, total)
    assert len(weights) >= 3, weights
    print("page weights (bytes, gzip, with assets):", weights)
