"""``run_kiosk.py --package ...``: the polling-station kiosk, offscreen, against a running central office.

A real small election day (the fault suite's: demo election, test PKI, key ceremony, signed package, the
central office over HTTPS with mutual TLS) and an isolated pcscd with the virtual reader; the kiosk verifies
the package, opens its ballot box and its sync worker reports to the office with the package's hash.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.election_day.run import Day
from devtools.election_day.small_day import start_small_day, stop_small_day
from devtools.test_pki import load as load_pki
from devtools.virtual_card.harness import PcscHarness

pytestmark = [pytest.mark.ui, pytest.mark.slow, pytest.mark.integration]

ROOT = Path(__file__).resolve().parents[2]
KIOSK = "K-PC-001-1"


@pytest.fixture(scope="module")
def small_day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Day]:
    day, _roll = start_small_day(tmp_path_factory.mktemp("station-day"))
    try:
        yield day
    finally:
        stop_small_day(day)


def _station_argv(day: Day, db: Path, reader: str, package: Path | None = None) -> list[str]:
    pki = load_pki(day.pki_dir)
    files = pki.kiosks[KIOSK]
    return [
        sys.executable, str(ROOT / "run_kiosk.py"), "--offscreen", "--run-for", "6",
        "--package", str(package or day.day / "election-day.sanduq"),
        "--commission-key", str(pki.commission_public_path), "--kiosk-id", KIOSK,
        "--central", f"https://127.0.0.1:{day.central_port}", "--kiosk-cert", str(files.cert_path),
        "--kiosk-key", str(files.key_path), "--central-ca", str(day.pki_dir / "central" / "ca.pem"),
        "--db", str(db), "--reader", reader, "--offline-roll", str(day.definition / "roll.csv"),
    ]  # fmt: skip


def _office_kiosk(day: Day) -> tuple[object, dict[str, object]]:
    from central.config import load_config
    from central.models import Kiosk
    from central.office import Office

    office = Office.open(load_config(day.central_config))
    try:
        with office.db.transaction() as s:
            row = s.get_one(Kiosk, KIOSK)
            return row.last_seen_at, dict(row.status)
    finally:
        office.db.dispose()


def test_the_station_kiosk_starts_from_the_package_and_reports_to_the_office(
    small_day: Day, tmp_path: Path, pcsc: PcscHarness
) -> None:
    from election.package import load_package

    pki = load_pki(small_day.pki_dir)
    package = load_package((small_day.day / "election-day.sanduq").read_bytes(), pki.commission_public_key())
    db = tmp_path / "ballot-box.sqlite3"
    # This process's one harness (the fixture): a second one here would take over its socket directory.
    done = subprocess.run(
        _station_argv(small_day, db, pcsc.reader_name(0)),
        capture_output=True, text=True, timeout=120, cwd=ROOT, env={**os.environ, **pcsc.env}, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"kiosk {KIOSK} ready (polls setup)" in done.stderr  # the app's main loop ran; polls not yet opened
    assert "audio ballot ready: audio/clips.json" in done.stderr  # the package's clips drive the audio ballot
    assert db.is_file()  # the ballot box was created for this kiosk
    assert re.search(r"offline roll: [1-9]\d* voters for centre PC-001", done.stderr)
    last_seen, status = _office_kiosk(small_day)
    assert last_seen is not None, "the kiosk's sync worker never reached the office"
    assert status.get("package_hash") == package.package_hash


def test_a_tampered_package_is_refused_before_the_office_is_contacted(small_day: Day, tmp_path: Path) -> None:
    data = bytearray((small_day.day / "election-day.sanduq").read_bytes())
    data[data.find(b"IDAT") + 10] ^= 0xFF  # inside a candidate's photo
    bad = tmp_path / "tampered.sanduq"
    bad.write_bytes(bytes(data))
    db = tmp_path / "ballot-box.sqlite3"
    done = subprocess.run(
        _station_argv(small_day, db, "no reader needed", bad),
        capture_output=True, text=True, timeout=120, cwd=ROOT, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "KIOSK REFUSES TO START" in done.stderr and str(bad) in done.stderr and "photos/C-" in done.stderr
    assert "Traceback" not in done.stderr
    assert not db.exists()


def test_a_voter_votes_on_the_station_kiosk_and_the_office_counts_the_ballot(small_day: Day, tmp_path: Path) -> None:
    import json

    from sqlalchemy import select

    from central.config import load_config
    from central.models import Kiosk, Voter, VoterState
    from central.office import Office
    from devtools.virtual_card.harness import env_for_own_harness
    from election.roll import load_roll

    pki = load_pki(small_day.pki_dir)
    files = pki.kiosks[KIOSK]
    voter = next(e.civil_number for e in load_roll(small_day.definition / "roll.csv", small_day.manifest) if e.eligible)
    station = {
        "package": str(small_day.day / "election-day.sanduq"), "commission_key": str(pki.commission_public_path),
        "kiosk_id": KIOSK, "central_url": f"https://127.0.0.1:{small_day.central_port}",
        "kiosk_cert": str(files.cert_path), "kiosk_key": str(files.key_path),
        "central_ca": str(small_day.pki_dir / "central" / "ca.pem"), "db": str(tmp_path / "ballot-box.sqlite3"),
        "offline_roll": None, "batch_window": 2.0,
    }  # fmt: skip
    config = tmp_path / "station.json"
    config.write_text(json.dumps({"pki": str(small_day.pki_dir), "voter": voter, "station": station}))
    results = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "tests.ui.station_journey", str(config), str(results)],
        capture_output=True, text=True, timeout=240, cwd=ROOT, env=env_for_own_harness(), check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    r = json.loads(results.read_text())
    assert "_errors" not in r, r["_errors"]
    assert r["after_check_in"] == "accessibility" and r["ticket_provisional"] is False  # the office checked in
    assert r["code_on_screen"] and r["counts_cast"] == 1
    assert r["delivered"], (r["backlog"], r["sync"])
    office = Office.open(load_config(small_day.central_config))
    try:
        with office.db.transaction() as s:
            state = s.scalar(select(Voter.state).where(Voter.civil_number == voter))
            accepted = s.get_one(Kiosk, KIOSK).ballots_accepted
    finally:
        office.db.dispose()
    assert state is VoterState.VOTED
    assert accepted >= 1
