"""The election's lifecycle enforced by the office (issue 14 point 5), through the real office over HTTPS: a
check-in after a centre's close, a voted mark, a ballot, an envelope or a sheet after the freeze, a ballot or a
share after publication are each refused with 409 and a reason, and nothing is stored; the frozen tally's hash
is recorded, published in the office's signed audit heads, and is the tally the record publishes (the
verifier's office-audit check)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from central import pollbook
from central.api import create_app
from central.closing import encrypted_tally, tally_hash
from central.models import AuditEntry, Ballot, ProvisionalEnvelope, TallyState, Voter, VoterState
from central.office import Office, enrol_kiosk
from devtools.central_office import NOW, Clock, make_office
from devtools.kiosksim import Election, SimKiosk, client_for
from devtools.sample_election import decrypt_with
from election.manifest import WilayatCode
from election.roll import CivilNumber, RollEntry
from tests.central.https import https_office
from tests.central.staffsim import login

pytestmark = pytest.mark.integration

MU01, MU02 = "K-PC-002-1", "K-PC-003-1"  # centres PC-002 (Khasab) and PC-003 (Bukha)


def _vote(kiosk: SimKiosk, civil: str) -> None:
    answer = kiosk.checkin(civil).json()
    assert answer["status"] == "eligible", answer
    kiosk.cast(answer["ballot_style_id"])
    assert kiosk.voted(answer["checkin_token"]).json()["status"] == "recorded"


def _refused(response: Any, *words: str) -> None:
    assert response.status_code == 409, response.text
    assert response.json()["error"] == "conflict"
    for word in words:
        assert word in response.json()["detail"], response.json()["detail"]


def _counts(office: Office) -> tuple[int, int, int, list[int]]:
    with office.db.transaction() as s:
        ballots = s.scalar(select(func.count()).select_from(Ballot)) or 0
        envelopes = s.scalar(select(func.count()).select_from(ProvisionalEnvelope)) or 0
        voted = s.scalar(select(func.count()).select_from(Voter).where(Voter.state == VoterState.VOTED)) or 0
        tallies = [t.ballots for t in s.scalars(select(TallyState).order_by(TallyState.contest_id))]
    return ballots, envelopes, voted, tallies


def test_writes_are_refused_after_close_freeze_and_publication(
    election: Election, office: Office, kiosks: dict[str, SimKiosk], app, tmp_path: Path
) -> None:
    roll = [RollEntry(CivilNumber(f"6100000{i}"), WilayatCode("MU-01"), True) for i in range(1, 7)]
    roll += [RollEntry(CivilNumber(f"6200000{i}"), WilayatCode("MU-02"), True) for i in range(1, 4)]
    with office.db.transaction() as s:
        pollbook.import_roll(s, office.manifest, roll)
    with https_office(app, election) as office_https:
        home, other = office_https.kiosk(MU01), office_https.kiosk(MU02)
        http = office_https.staff()
        admin = login(http, election.pki, "staff-admin-1")
        cm1, cm2 = login(http, election.pki, "staff-cm-1"), login(http, election.pki, "staff-cm-2")
        assert http.get("/api/public/phase").json()["phase"] == "open"

        _vote(home, "61000001")
        queue = [home.checkin(c).json() for c in ("61000002", "61000004", "61000005")]  # in the queue at close
        second, late, gone = queue

        # The close is ordered: no new check-in; the voters already checked in may finish.
        closing = http.post("/api/centres/PC-002/close", json={"final": False}, headers=admin)
        assert closing.json() == {"centre_id": "PC-002", "status": "closing"}
        _refused(home.checkin("61000003"), "polls are closed at this centre", "closing")
        home.cast(second["ballot_style_id"])
        assert home.voted(second["checkin_token"]).json()["status"] == "recorded"
        home.cast(late["ballot_style_id"])  # the last voter's ballot is in the kiosk's close; the mark comes later
        receipt = home.send(home.make_batch()).json()
        assert receipt["accepted"] == 3, receipt
        assert home.close().status_code == 200  # the kiosk's signed chain close

        # Closed: no check-in; the mark of a voter checked in before the close (ballot inside the close) is taken.
        assert http.post("/api/centres/PC-002/close", json={}, headers=admin).json()["status"] == "closed"
        before = _counts(office)
        _refused(home.checkin("61000003"), "polls are closed at this centre", "closed")
        assert _counts(office) == before
        assert home.voted(late["checkin_token"]).json()["status"] == "recorded"
        with office.db.transaction() as s:
            assert s.get_one(Voter, "61000003").state is VoterState.NOT_VOTED
            assert s.get_one(Voter, "61000003").lock_token is None
            assert s.get_one(Voter, "61000004").state is VoterState.VOTED
        # A centre cannot be reopened.
        _refused(http.post("/api/centres/PC-002/close", json={"final": False}, headers=admin), "cannot go back")

        # Bukha votes on; then every centre closes and the election is closed.
        _vote(other, "62000001")
        assert other.send(other.make_batch()).json()["accepted"] == 1
        assert other.close().status_code == 200
        for centre in ("PC-003", "PC-001"):
            assert http.post(f"/api/centres/{centre}/close", json={}, headers=admin).status_code == 200
        assert http.get("/api/public/phase").json()["phase"] == "closed"

        # Freeze: the tally's hash is recorded and published.
        frozen = http.post("/api/tally/freeze", headers=admin)
        assert frozen.status_code == 200, frozen.text
        digest = frozen.json()["tally_hash"]
        assert digest == tally_hash(encrypted_tally(office))
        shown = http.get("/api/public/phase").json()
        assert (shown["phase"], shown["tally_hash"]) == ("tally_frozen", digest)
        seen = http.get("/api/public/audit-heads").json()["heads"]  # what an observer keeps during the day
        assert [h["statement"]["phase"] for h in seen] == ["open", "closed", "tally_frozen"]
        assert seen[-1]["statement"]["tally_hash"] == digest

        # After the freeze nothing changes the count: a ballot batch, a provisional envelope, a manual sheet.
        before = _counts(office)
        unified = office_https.kiosk("K-PC-001-1")  # a kiosk that never closed its chain
        unified.cast("BS-MA-04")
        _refused(unified.send(unified.make_batch()), "tally is frozen")
        _sub, ack = unified.provisional("61000006", "BS-MU-01")
        _refused(ack, "tally is frozen")
        sheet = {"source_kind": "embassy", "source_id": "EMB-LONDON", "contest_id": "shura-MU-01", "voters": 1}
        _refused(http.post("/api/manual-sheets", json={**sheet, "counts": {}}, headers=cm1), "tally is frozen")
        _refused(home.voted(gone["checkin_token"]), "tally is frozen")  # a voted mark after the freeze
        assert _counts(office) == before
        with office.db.transaction() as s:
            assert s.get_one(Voter, "61000005").state is not VoterState.VOTED
        assert tally_hash(encrypted_tally(office)) == digest

        # Decryption and publication.
        _, shares = decrypt_with(
            election.context, election.manifest, encrypted_tally(office), election.secrets, [1, 2], os.urandom
        )
        for share in shares:
            assert http.post("/api/guardian-shares", json=share.to_dict(), headers=admin).status_code == 200
        published = http.post("/api/results", headers=admin)
        assert published.status_code == 200, published.text
        results = published.json()
        assert results["verified"] is True and results["tally_hash"] == digest, results.get("status")
        assert http.get("/api/public/phase").json()["phase"] == "published"

        # After publication: a ballot, a share, a second publication are refused; nothing is stored.
        before = _counts(office)
        _refused(unified.send(unified.make_batch([unified.encrypt("BS-MA-04")])), "published")
        _refused(http.post("/api/guardian-shares", json=shares[0].to_dict(), headers=admin), "published")
        _refused(http.post("/api/results", headers=admin), "published")
        assert _counts(office) == before
        del cm2

    # Every transition is in the audit log and the record carries the signed heads, which the verifier checks.
    with office.db.transaction() as s:
        moves = [
            (e.details["from"], e.details["to"])
            for e in s.scalars(select(AuditEntry).where(AuditEntry.action == "phase.changed").order_by(AuditEntry.seq))
        ]
    assert moves == [
        (None, "open"),
        ("open", "closed"),
        ("closed", "tally_frozen"),
        ("tally_frozen", "decrypting"),
        ("decrypting", "published"),
    ]
    record = Path(results["record_dir"])
    heads = json.loads((record / "office" / "audit_heads.json").read_text(encoding="utf-8"))["heads"]
    assert [h["statement"]["phase"] for h in heads][-1] == "published"
    assert heads[: len(seen)] == seen  # the record carries the heads the observer saw, unchanged
    ok = _verify(record)
    assert ok.returncode == 0, ok.stdout

    # An office that publishes another tally than the one it froze (or edits a signed head) fails verification.
    forged = tmp_path / "forged"
    shutil.copytree(record, forged)
    statement = heads[2]["statement"]
    statement["tally_hash"] = "0" * 64
    (forged / "office" / "audit_heads.json").write_text(json.dumps({"heads": heads}), encoding="utf-8")
    bad = _verify(forged)
    assert bad.returncode != 0
    assert "office's signed audit heads" in bad.stdout and "signature does not verify" in bad.stdout, bad.stdout


def _verify(record: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "election.verify", "--jobs", "1", "--skip", "package", str(record)],  # no commission key
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_the_phases_hold_on_sqlite_too(election: Election, tmp_path: Path) -> None:
    """The demo's embedded database: the phase check takes SQLite's write lock; the same refusals."""
    office = make_office(
        election, f"sqlite:///{tmp_path / 'central.sqlite3'}", tmp_path / "record", Clock(NOW), workers=0
    )
    try:
        app = create_app(office)
        with office.db.transaction() as s:
            pollbook.import_roll(s, office.manifest, [RollEntry(CivilNumber("63000001"), WilayatCode("MU-01"), True)])
            enrol_kiosk(s, office, election.pki.kiosks[MU01].cert(), actor="test-setup", now=NOW)
        home, http = SimKiosk(election, MU01, app), client_for(app, None)
        admin = login(http, election.pki, "staff-admin-1")
        for centre in office.manifest.centres:
            assert http.post(f"/api/centres/{centre.id}/close", json={}, headers=admin).status_code == 200
        _refused(home.checkin("63000001"), "polls are closed")
        digest = http.post("/api/tally/freeze", headers=admin).json()["tally_hash"]
        home.cast("BS-MU-01")
        _refused(home.send(home.make_batch()), "tally is frozen")
        phase = http.get("/api/public/phase").json()
        assert (phase["phase"], phase["tally_hash"]) == ("tally_frozen", digest)
        heads = http.get("/api/public/audit-heads").json()["heads"]
        assert [h["statement"]["phase"] for h in heads] == ["open", "closed", "tally_frozen"]
        assert all(h["signature"] for h in heads)
        http.close()
        home.http.close()
    finally:
        office.close()
