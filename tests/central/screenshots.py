"""Screenshots of the dashboard: ``.venv/bin/python -m tests.central.screenshots [--out DIR]``
(default docs/screenshots/dashboard). Starts its own PostgreSQL, populates a demo day (with a ballot the committee
did not count), serves the app with uvicorn and captures in headless Chromium the Arabic and English pages at
1280 px and at a phone's 390 px, the lookup of a counted ballot and of the rejected one, the printable report, and
the results of a second office whose record the verifier rejected (NOT VERIFIED)."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from central import record_writer
from central.api import create_app
from central.office import Office, enrol_kiosk
from devtools.central_office import NOW, Clock, make_office, small_election
from devtools.kiosksim import Election, SimKiosk
from devtools.pg import PostgresServer
from tests.central.dashboard_scene import committee_rejects_one, short_code
from tests.central.scene import CHROMIUM_ARGS, populate, serve


def _office(election: Election, pg: PostgresServer, root: Path, clock: Clock) -> tuple[Office, Any]:
    office = make_office(election, pg.create_database(), root, clock)
    app = create_app(office)
    with office.db.transaction() as s:
        for k in election.manifest.kiosks:
            enrol_kiosk(s, office, election.pki.kiosks[k.id].cert(), actor="setup", now=NOW)
    return office, app


def _capture(base: str, out: Path, code: str, rejected: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        desktop = browser.new_page(viewport={"width": 1280, "height": 900})
        phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, device_scale_factor=2)
        for lang in ("ar", "en"):
            desktop.goto(f"{base}/{lang}")
            desktop.screenshot(path=str(out / f"dashboard-{lang}.png"), full_page=True)
            phone.goto(f"{base}/{lang}")
            phone.screenshot(path=str(out / f"dashboard-{lang}-phone.png"), full_page=True)
            desktop.goto(f"{base}/{lang}/confirm?code={short_code(code)}")
            desktop.screenshot(path=str(out / f"lookup-{lang}.png"))
            phone.goto(f"{base}/{lang}/confirm?code={short_code(rejected)}")
            phone.screenshot(path=str(out / f"lookup-{lang}-rejected-phone.png"))
        desktop.goto(f"{base}/api/public/reports/MU-01")
        desktop.screenshot(path=str(out / "report-MU-01.png"), full_page=True)
        browser.close()


def _capture_unverified(base: str, out: Path) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        for lang in ("ar", "en"):
            page.goto(f"{base}/{lang}")
            page.locator("#results").screenshot(path=str(out / f"results-not-verified-{lang}.png"))
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots/dashboard"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, PostgresServer.started() as pg:
        election = small_election(Path(tmp))
        clock = Clock(NOW)
        office, app = _office(election, pg, Path(tmp) / "record", clock)
        kiosks: dict[str, SimKiosk] = {k.id: SimKiosk(election, k.id, app) for k in election.manifest.kiosks}
        rejected: list[str] = []
        code = populate(
            office,
            election,
            kiosks,
            clock,
            publish=True,
            before_close=lambda: rejected.append(committee_rejects_one(office, kiosks)),
        )
        with serve(app) as base:
            _capture(base, args.out, code, rejected[0])
        office.db.dispose()

        # The same day on a second office whose published record lost a cast ballot: the verifier rejects it.
        real_verifier = record_writer.run_verifier

        def drop_a_ballot(record_dir: Path, commission_key: Path | None = None) -> tuple[bool, str]:
            sorted((record_dir / "ballots" / "cast").glob("*.json"))[0].unlink()
            return real_verifier(record_dir, commission_key)

        record_writer.run_verifier = drop_a_ballot
        try:
            clock = Clock(NOW)
            office, app = _office(election, pg, Path(tmp) / "record-2", clock)
            kiosks = {k.id: SimKiosk(election, k.id, app) for k in election.manifest.kiosks}
            populate(office, election, kiosks, clock, publish=True)
        finally:
            record_writer.run_verifier = real_verifier
        with serve(app) as base:
            _capture_unverified(base, args.out)
        office.db.dispose()
    print(f"wrote screenshots to {args.out}")


if __name__ == "__main__":
    main()
