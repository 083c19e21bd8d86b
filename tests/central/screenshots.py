"""Screenshots of the dashboard: ``.venv/bin/python -m tests.central.screenshots [--out DIR]``
(default docs/screenshots/dashboard). Starts its own PostgreSQL, populates a demo day, serves the app with
uvicorn and captures the Arabic and English pages and the lookup in headless Chromium."""

from __future__ import annotations

import argparse
import base64
import os
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from central.api import create_app
from central.office import enrol_kiosk
from election.manifest import Manifest
from tests.central.conftest import NOW, Clock, make_office
from tests.central.kiosksim import Election, SimKiosk
from tests.central.scene import CHROMIUM_ARGS, populate, serve
from tests.pg import PostgresServer


def _election(root: Path) -> Election:
    """The small demo election with every kiosk enrolled (see ``write_election``)."""
    from tools.demo_election.build import small_manifest

    manifest = small_manifest()
    return write_election(root, manifest, [k.id for k in manifest.kiosks])


def write_election(root: Path, manifest: Manifest, kiosk_ids: list[str]) -> Election:
    """A real 3-guardian (quorum 2) key ceremony for ``manifest``, a test PKI with certificates for ``kiosk_ids``,
    the office's envelope key, and the election files the office reads, under ``root``."""
    import json

    from nacl.public import PrivateKey

    from election.sample import run_key_ceremony
    from tools.test_pki import generate

    context, guardians, secrets = run_key_ceremony(manifest.manifest_hash, 3, 2, os.urandom)
    pki = generate(root / "pki", [], kiosk_ids, now=NOW)
    envelope = PrivateKey.generate()
    (root / "election" / "guardians").mkdir(parents=True)
    (root / "election" / "manifest.json").write_text(json.dumps(manifest.to_dict()), encoding="utf-8")
    (root / "election" / "election-context.json").write_text(json.dumps(context.to_dict()), encoding="utf-8")
    for g in guardians:
        (root / "election" / "guardians" / f"guardian-{g.sequence}.json").write_text(json.dumps(g.to_dict()))
    (root / "envelope.key").write_text(bytes(envelope).hex())
    return Election(manifest, context, guardians, secrets, pki, envelope.public_key, root)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots/dashboard"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, PostgresServer.started() as pg:
        election = _election(Path(tmp))
        clock = Clock(NOW)
        office = make_office(election, pg.create_database(), Path(tmp) / "record", clock)
        app = create_app(office)
        with office.db.transaction() as s:
            for k in election.manifest.kiosks:
                enrol_kiosk(s, office, election.pki.kiosks[k.id].cert(), actor="setup", now=NOW)
        kiosks: dict[str, SimKiosk] = {k.id: SimKiosk(election, k.id, app) for k in election.manifest.kiosks}
        code = populate(office, election, kiosks, clock, publish=True)
        short = base64.b32encode(bytes.fromhex(code)[:10]).decode()
        short = "-".join(short[i : i + 4] for i in range(0, 16, 4))
        with serve(app) as base, sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            for lang in ("ar", "en"):
                page.goto(f"{base}/{lang}")
                page.screenshot(path=str(args.out / f"dashboard-{lang}.png"), full_page=True)
            page.goto(f"{base}/en/confirm?code={short}")
            page.screenshot(path=str(args.out / "lookup-en.png"))
            page.goto(f"{base}/api/public/reports/MU-01")
            page.screenshot(path=str(args.out / "report-MU-01.png"), full_page=True)
            browser.close()
        office.db.dispose()
    print(f"wrote screenshots to {args.out}")


if __name__ == "__main__":
    main()
