"""Results the independent verifier rejected never look like results on the dashboard: the office drops a cast
ballot from the record it publishes, the real verifier (``python -m election.verify``, a subprocess) fails, and the
page in Chromium says NOT VERIFIED in its language (an alert, no winners, no report link, grey bars); published
anyway by an administrator, it says PROVISIONAL, VERIFICATION FAILED with the reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import sync_playwright

from central import record_writer, results
from central.office import Office
from devtools.kiosksim import Election, SimKiosk
from tests.central.scene import CHROMIUM_ARGS, populate, serve

pytestmark = [pytest.mark.integration, pytest.mark.ui]


def test_results_the_verifier_rejected_say_not_verified(
    office: Office, election: Election, kiosks: dict[str, SimKiosk], app: Any, clock: Any, monkeypatch: Any
) -> None:
    real_verifier = record_writer.run_verifier

    def verifier_of_a_record_missing_a_ballot(record_dir: Path, commission_key: Path | None = None) -> tuple[bool, str]:
        dropped = sorted((record_dir / "ballots" / "cast").glob("*.json"))[0]
        dropped.unlink()  # the office "loses" a cast ballot
        return real_verifier(record_dir, commission_key)

    monkeypatch.setattr(record_writer, "run_verifier", verifier_of_a_record_missing_a_ballot)
    populate(office, election, kiosks, clock, publish=True)
    latest = results.latest(office.db)
    assert latest is not None and latest.verified is False  # the real verifier caught it

    with serve(app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        for lang, words in (("en", "NOT VERIFIED"), ("ar", "لم يتحقق منها المدقق المستقل")):
            page.goto(f"{base}/{lang}")
            verdict = page.locator("#results .verdict")
            assert verdict.get_attribute("role") == "alert" and words in verdict.inner_text()
            assert page.locator("#results .contest .stamp").count() == len(election.manifest.contests)
            text = page.locator("#results").inner_text()
            assert "★" not in text and "Checked by the independent verifier" not in text
            assert "تحقق منها المدقق المستقل" not in text.replace("لم يتحقق منها المدقق المستقل", "")
            assert page.locator("#results a[href*='/reports/']").count() == 0
            fill = page.evaluate("getComputedStyle(document.querySelector('#results .bar')).backgroundColor")
            assert fill == "rgb(154, 154, 154)"  # grey, not the results' green

        results.publish_unverified(office, "verifier found a ballot missing; recount ordered", actor="admin")
        page.goto(f"{base}/en")
        verdict_text = page.locator("#results .verdict").inner_text()
        assert "PROVISIONAL, VERIFICATION FAILED: NOT VERIFIED" in verdict_text
        assert "recount ordered" in verdict_text
        assert "★" not in page.locator("#results").inner_text()
        browser.close()
