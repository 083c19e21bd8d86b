"""The dashboard in a real headless Chromium (Playwright, /usr/bin/chromium): Arabic right-to-left and English
pages with turnout, the day chart, polling centres, kiosks, verified results and the confirmation-code lookup;
every time in Oman's time with the zone; no chart label clipped; closed centres and their kiosks shown closed
(although the kiosks' last heartbeat said open); a ballot the committee did not count looked up without a tick,
in the page's language; and at a phone's width (390 px) no page overflows sideways."""

from __future__ import annotations

import zoneinfo

import pytest
from playwright.sync_api import Page, sync_playwright
from sqlalchemy import select

from central.dashboard.i18n import Noun, count
from central.models import Kiosk
from tests.central.dashboard_scene import (
    AXIS_OVERLAPS,
    FITS_WIDTH,
    HIDDEN_COLUMNS,
    LABELS_INSIDE,
    committee_rejects_one,
    short_code,
)
from tests.central.scene import CHROMIUM_ARGS, populate, serve

pytestmark = [pytest.mark.integration, pytest.mark.ui]

MUSCAT = zoneinfo.ZoneInfo("Asia/Muscat")


def _lookup(page: Page, base: str, lang: str, code: str) -> str:
    page.goto(f"{base}/{lang}")
    page.fill("input[name=code]", code)
    page.click("button[type=submit]")
    return page.locator("#answer").inner_text()


def test_dashboard_in_chromium(office, election, kiosks, app, clock) -> None:
    rejected: list[str] = []
    code = populate(
        office,
        election,
        kiosks,
        clock,
        publish=True,
        before_close=lambda: rejected.append(committee_rejects_one(office, kiosks)),
    )
    with office.db.transaction() as s:
        seen = {k.kiosk_id: k.last_seen_at for k in s.scalars(select(Kiosk))}
    with serve(app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(base + "/ar")
        assert page.locator("html").get_attribute("dir") == "rtl"
        assert page.locator("h1").inner_text() == "لوحة المكتب المركزي"
        assert page.locator("#turnout .bars .bar").count() == 3  # one bar per wilayat
        assert page.locator("#day svg path.line").count() == 1
        assert page.locator("#kiosks tbody tr").count() == len(election.manifest.kiosks)
        results = page.locator("#results").inner_text()
        assert page.locator("#results .verdict.good").inner_text() == "✔ تحقق منها المدقق المستقل"
        assert "لم يتحقق" not in results and page.locator("#results .stamp").count() == 0
        assert "★" in results and page.locator("#results a[href*='/reports/']").count() == len(
            election.manifest.contests
        )
        for contest in election.manifest.contests:  # 1 مقعد, 2 مقعدان
            assert count(contest.seats, Noun.SEAT, "ar") in results
        # Every centre, closed, and every kiosk closed with its centre, although each last said "open".
        assert page.locator("#centre-states tbody tr").count() == len(election.manifest.centres)
        assert all("مغلق" in s for s in page.locator("#centre-states td.state").all_inner_texts())
        assert page.locator("#kiosks td.state").all_inner_texts() == ["مغلق"] * len(election.manifest.kiosks)
        assert "توقيت عُمان" in page.locator("#kiosks thead").inner_text()
        assert page.evaluate(LABELS_INSIDE) == [] and page.evaluate(AXIS_OVERLAPS) == 0

        page.click("header a")
        assert page.locator("html").get_attribute("dir") == "ltr"
        assert "Turnout by wilayat" in page.locator("#turnout h2").inner_text()
        assert "Includes manual results" in page.locator("#results").inner_text()
        assert page.locator("#results .verdict").inner_text() == "✔ Checked by the independent verifier"
        assert "NOT VERIFIED" not in page.locator("#results").inner_text()
        assert page.locator("#kiosks td.state").all_inner_texts() == ["closed"] * len(election.manifest.kiosks)
        # "Last seen" is the heartbeat's time in Muscat (UTC+4), the zone named in the column's heading.
        assert "Last seen (Oman time, UTC+04:00)" in page.locator("#kiosks thead").inner_text()
        assert sum(at is not None for at in seen.values()) == 3  # the kiosks that voted sent heartbeats
        for kiosk_id, at in seen.items():
            cell = page.locator(f"#kiosks tr[data-kiosk='{kiosk_id}'] td.seen").inner_text()
            if at is None:
                assert cell == "—"
            else:
                local = at.replace(tzinfo=at.tzinfo or zoneinfo.ZoneInfo("UTC")).astimezone(MUSCAT)
                assert cell == local.strftime("%H:%M:%S"), (kiosk_id, cell)
        assert "Times: Oman time, UTC+04:00" in page.locator("#day").inner_text()
        last_label = page.evaluate(
            "[...document.querySelector('#day svg.chart').querySelectorAll('text.lbl')].pop().textContent"
        )
        assert len(last_label) == 5 and page.evaluate(LABELS_INSIDE) == []  # "17:30", not "17:3"

        answer = _lookup(page, base, "en", short_code(code))
        assert answer.startswith("✔") and "held by the central office and counted" in answer
        assert page.locator("#answer .st.good").count() == 1
        answer = _lookup(page, base, "en", short_code(rejected[0]))
        assert "✔" not in answer and "held" not in answer and "decided not to count" in answer
        assert page.locator("#answer .st.bad").count() == 1
        answer = _lookup(page, base, "ar", short_code(rejected[0]))
        assert "✔" not in answer and "قررت اللجنة عدم احتساب" in answer and "rejected" not in answer
        answer = _lookup(page, base, "ar", "AAAA-AAAA-AAAA-AAAA")
        assert "لم يُعثر على هذا الرمز" in answer and "✔" not in answer
        typo = page.goto(f"{base}/en/confirm?code=7935%E2%80%93D2F7%3Cb%3E")  # an en dash and markup: no code
        assert typo is not None and typo.status == 422
        assert "This is not a confirmation code" in page.locator("#answer").inner_text()
        assert page.locator("b").count() == 0

        # A phone: nothing overflows sideways, in either language, on the dashboard and the lookup.
        phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, device_scale_factor=2)
        for path in ("/ar", "/en", f"/ar/confirm?code={short_code(code)}", f"/en/confirm?code={short_code(code)}"):
            phone.goto(base + path)
            width = phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert phone.evaluate(FITS_WIDTH), (path, width)
            assert phone.evaluate(HIDDEN_COLUMNS) == [], path
            if "confirm" not in path:  # the day chart's labels at the phone's larger size: inside and apart
                assert phone.evaluate(LABELS_INSIDE) == [] and phone.evaluate(AXIS_OVERLAPS) == 0, path
                size = phone.evaluate("getComputedStyle(document.querySelector('#day svg text.lbl')).fontSize")
                assert size == "22px", size
        browser.close()
