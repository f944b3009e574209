"""Consumptions in headless Chromium (Debian's chromium): every page of the menu with the demo
installation's history draws its charts (uPlot canvases, the pie's own canvas) without a console
error, on a desktop and on a phone; the full-screen button; a screenshot of each page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from browser import save_screenshot
from test_web_consumptions import PAGES, box, history  # noqa: F401 -- the box with its history
from web import browser_login

pytestmark = pytest.mark.browser

# how many pixels of a canvas are drawn (not transparent, not white)
INK = """(c) => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && (d[i] < 250 || d[i + 1] < 250 || d[i + 2] < 250)) n++;
  return n; }"""


def log_in(page, box, name="user"):
    browser_login(page, box, name)


def drawn(page) -> dict:
    """chart id -> pixels drawn on its canvases, once every chart of the page is drawn."""
    page.wait_for_function("""() => [...document.querySelectorAll('[data-chart]')].every(b =>
        b.querySelector('.uplot canvas') || b.querySelector('canvas[data-pie]'))""")
    out = {}
    for chart in page.locator("[data-chart]").all():
        canvases = chart.locator(".uplot canvas, canvas[data-pie]").all()
        out[chart.get_attribute("data-chart")] = sum(c.evaluate(INK) for c in canvases)
    return out


@pytest.mark.parametrize("view", ["month", "day"])
def test_every_page_draws_its_charts(box, history, page, view):
    log_in(page, box)
    day = (history["today"] - timedelta(days=6)).isoformat()
    page.click("a.tile-consumptions")
    page.wait_for_url(box.https + "/consumptions")
    for key in PAGES:
        page.goto(f"{box.https}/consumptions/{key}?view={view}&date={day}")
        pixels = drawn(page)
        assert pixels and all(n > 500 for n in pixels.values()), (key, pixels)
        assert page.locator(".uplot").count() + page.locator("canvas[data-pie]").count() == len(pixels)
        save_screenshot(page, f"consumptions-{key.replace('/', '-')}-{view}")
        assert page.console_errors == [], (key, page.console_errors)


def test_navigation_full_screen_and_phone(box, history, page, phone_page):
    log_in(page, box)
    day = history["today"] - timedelta(days=6)
    page.goto(f"{box.https}/consumptions/total?view=day&date={day.isoformat()}")
    drawn(page)
    page.click("a.prev")
    page.wait_for_url(f"**date={(day - timedelta(days=1)).isoformat()}*")
    drawn(page)
    # the date chosen in the form, then the year view from the view list
    page.fill("#cons-date", f"{day.year - 1}-07-14")
    page.click(".cons-form button[type=submit]")
    page.wait_for_url(f"**date={day.year - 1}-07-14*")
    page.select_option("#cons-view", "year")
    page.wait_for_url("**view=year*")
    assert drawn(page)["total"] > 500
    # a bar under the pointer says its values
    plot = page.locator(".uplot .u-over").first
    box_ = plot.bounding_box()
    page.mouse.move(box_["x"] + box_["width"] * 0.55, box_["y"] + box_["height"] * 0.5)
    page.wait_for_function("() => document.querySelector('[data-readout]').textContent.length > 5")
    button = page.locator("[data-fullscreen]").first
    assert button.is_visible()
    button.click()
    page.wait_for_function("() => document.fullscreenElement !== null")
    save_screenshot(page, "consumptions-total-fullscreen")
    button.click()
    page.wait_for_function("() => document.fullscreenElement === null")
    page.goto(f"{box.https}/consumptions/total?view=month&date={day.isoformat()}&large=1")
    assert drawn(page)["total"] > 500
    assert page.locator(".plot").first.bounding_box()["height"] > 450
    assert page.console_errors == []
    # the phone: fits the screen
    log_in(phone_page, box)
    for key in ("total", "details", "tariffs"):
        phone_page.goto(f"{box.https}/consumptions/{key}?view=month&date={day.isoformat()}")
        assert all(n > 300 for n in drawn(phone_page).values())
        assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390, key
        save_screenshot(phone_page, f"consumptions-{key}-phone")
    assert phone_page.console_errors == []
