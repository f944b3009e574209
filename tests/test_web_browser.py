"""End to end in headless Chromium (Debian's chromium): an installer logs in, adds a meter on
the Local gateway of the virtual installation, presses Test and sees its live values on My
panel board; the same on a phone-sized screen; switching the display language."""

from __future__ import annotations

import re

import pytest
from web import browser_login, box  # noqa: F401

from wsmeasure import installation

pytestmark = pytest.mark.browser


def log_in(page, box, name="installer"):
    browser_login(page, box, name)


def add_meter_and_watch_it(page, box, address: int, name: str):
    log_in(page, box)
    page.click("a.tile-system")
    page.click("a[href='/system/gateways']")
    local = installation.local_gateway(box.db)
    page.click(f"a[href='/system/gateways/{local.id}']")
    page.click(f"a[href='/system/gateways/{local.id}/devices']")
    page.click("a.button.add")
    page.click(f"a[href='/system/gateways/{local.id}/devices/new?family=emdx3_meter']")
    page.select_option("#f-model", "4 120 51")
    page.fill("#f-address", str(address))
    page.fill("#f-name", name)
    page.click("button[type=submit].primary")
    page.wait_for_url(re.compile(r"/system/devices/\d+$"))
    device_id = int(page.url.rsplit("/", 1)[1])
    assert page.locator("#f-name").input_value() == name
    page.click(f"button[formaction='/system/devices/{device_id}/test']")
    page.wait_for_load_state()
    assert "Test passed" in page.content(), page.content()
    # My panel board: its values, then newer ones without reloading the page
    page.goto(box.https + "/")
    page.click("a.tile-panel")
    page.goto(f"{box.https}/panel?device={device_id}")
    energy = page.locator('td[data-q="Ea+"]')
    page.wait_for_function("() => /\\d/.test(document.querySelector('td[data-q=\"Ea+\"]')?.textContent || '')",
                           timeout=30_000)
    voltage = page.locator('td[data-q="V1"]').text_content()
    assert re.search(r"\d", voltage) and "V" in voltage, voltage
    first = page.locator("[data-read-at]").text_content()
    page.wait_for_function("(t) => document.querySelector('[data-read-at]').textContent !== t", arg=first,
                           timeout=30_000)
    assert re.search(r"\d", energy.text_content())
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
    return device_id


def test_installer_adds_a_meter_tests_it_and_sees_live_values(box, page):
    device_id = add_meter_and_watch_it(page, box, 40, "Workshop")
    assert page.console_errors == []
    assert installation.device_spec(box.db, device_id).address == 40


def test_the_same_on_a_phone(box, phone_page):
    add_meter_and_watch_it(phone_page, box, 41, "Workshop phone")
    # the page fits the screen: nothing wider than the viewport
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    assert phone_page.console_errors == []


def test_switching_the_display_language(box, page):
    log_in(page, box, "user")
    assert page.locator("a.logout").text_content() == "Logout"
    page.select_option("#lang-select", "de")
    page.wait_for_function("() => document.documentElement.lang === 'de'")
    assert page.locator("a.logout").text_content() == "Abmelden"
    page.select_option("#lang-select", "el")
    page.wait_for_function("() => document.documentElement.lang === 'el'")
    assert page.locator("a.logout").text_content() != "Logout"
    assert page.console_errors == []
