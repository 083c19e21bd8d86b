"""The dashboard in a real headless Chromium (Playwright, /usr/bin/chromium): Arabic right-to-left and English
pages with turnout, the day chart, kiosks, verified results and the confirmation-code lookup."""

from __future__ import annotations

import base64

import pytest
from playwright.sync_api import sync_playwright

from tests.central.scene import CHROMIUM_ARGS, populate, serve

pytestmark = [pytest.mark.integration, pytest.mark.ui]


def test_dashboard_in_chromium(office, election, kiosks, app, clock) -> None:
    code = populate(office, election, kiosks, clock, publish=True)
    short = base64.b32encode(bytes.fromhex(code)[:10]).decode()
    short = "-".join(short[i : i + 4] for i in range(0, 16, 4))
    with serve(app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(base + "/ar")
        assert page.locator("html").get_attribute("dir") == "rtl"
        assert page.locator("h1").inner_text() == "لوحة المكتب المركزي"
        assert page.locator("#turnout svg rect").count() == 3  # one bar per wilayat
        assert page.locator("#day svg path.line").count() == 1
        assert page.locator("#kiosks tbody tr").count() == len(election.manifest.kiosks)
        assert "تحقق منها المدقق المستقل" in page.locator("#results").inner_text()
        page.click("header a")
        assert page.locator("html").get_attribute("dir") == "ltr"
        assert "Turnout by wilayat" in page.locator("#turnout h2").inner_text()
        assert "Includes manual results" in page.locator("#results").inner_text()
        page.fill("input[name=code]", short)
        page.click("button[type=submit]")
        assert "held by the central office" in page.locator("#answer").inner_text()
        page.fill("input[name=code]", "AAAA-AAAA-AAAA-AAAA")
        page.click("button[type=submit]")
        assert "not found" in page.locator("#answer").inner_text()
        browser.close()
