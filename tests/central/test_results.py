"""Close of polls to verified, published results: staff card login, roles, guardians' shares (one guardian
missing and compensated), two-person manual sheets, the record checked by election.verify, NIST/CSV/HTML."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from central import pollbook
from central.closing import encrypted_tally
from central.office import Office
from central.provisional import process_envelopes
from devtools.kiosksim import Election, SimKiosk, client_for, close_chains
from devtools.sample_election import decrypt_with
from election.manifest import WilayatCode
from election.roll import CivilNumber, RollEntry
from tests.central.staffsim import login

pytestmark = pytest.mark.integration

NIST_SCHEMA = Path(__file__).resolve().parents[2] / "config" / "standards" / "NIST_V2_election_results_reporting.json"


def test_results_from_close_to_verified_record(
    election: Election, office: Office, kiosks: dict[str, SimKiosk], app
) -> None:
    with office.db.transaction() as s:
        pollbook.import_roll(
            s, office.manifest, [RollEntry(CivilNumber(f"2{i:07d}"), WilayatCode("MU-01"), True) for i in range(1, 7)]
        )
    k = kiosks["K-PC-002-1"]

    def vote(i: int) -> None:
        answer = k.checkin(f"2{i:07d}").json()
        k.cast(answer["ballot_style_id"])
        assert k.voted(answer["checkin_token"]).status_code == 200

    # One chain through every kind of ballot the kiosk makes: cast, challenged (Benaloh), provisional.
    vote(1)
    spoiled = k.challenge("BS-MU-01")  # the voter checks the kiosk, then votes for real
    vote(2)
    provisional, ack = k.provisional("20000006", "BS-MU-01")  # the office was unreachable for this voter
    assert ack.status_code == 200
    vote(3)
    vote(4)
    receipt = k.send(k.make_batch()).json()  # the batch chain passes through the provisional ballot
    assert (receipt["accepted"], receipt["rejected"]) == (5, 0), receipt
    assert process_envelopes(office)["counted"] == 1

    http = client_for(app, None)
    admin = login(http, election.pki, "staff-admin-1")
    cm1, cm2 = login(http, election.pki, "staff-cm-1"), login(http, election.pki, "staff-cm-2")
    # Roles are enforced; the public can read turnout but not act.
    assert http.post("/api/centres/PC-001/close", json={}, headers=cm1).status_code == 403
    assert http.post("/api/centres/PC-001/close", json={}).status_code == 401
    turnout = {t["wilayat"]: t for t in http.get("/api/public/turnout").json()}
    assert turnout["MU-01"]["voted"] == 5 and turnout["MU-01"]["registered"] == 6

    # Art. 9: an embassy's sheet, entered by one committee member and approved by another.
    contest = "shura-MU-01"
    active = [c.id for c in office.manifest.contests_by_id[contest].active_candidates]  # type: ignore[index]
    withdrawn = next(c.id for c in office.manifest.contests_by_id[contest].candidates if c.withdrawn)  # type: ignore[index]
    sheet = {
        "source_kind": "embassy",
        "source_id": "EMB-LONDON",
        "contest_id": contest,
        "voters": 7,
        "blank": 1,
        "counts": {active[0]: 5, active[1]: 1},
    }
    bad = http.post("/api/manual-sheets", json={**sheet, "counts": {active[0]: 8}}, headers=cm1)
    assert bad.status_code == 422 and "exceed" in bad.json()["detail"]
    bad = http.post("/api/manual-sheets", json={**sheet, "counts": {withdrawn: 1}}, headers=cm1)
    assert bad.status_code == 422 and "withdrawn" in bad.json()["detail"]
    sheet_id = http.post("/api/manual-sheets", json=sheet, headers=cm1).json()["sheet_id"]
    assert http.post(f"/api/manual-sheets/{sheet_id}/approve", headers=cm1).status_code == 409
    assert http.post(f"/api/manual-sheets/{sheet_id}/approve", headers=cm2).status_code == 200

    # Shares before the polls close are refused; then close every centre.
    tally = encrypted_tally(office)
    _, shares = decrypt_with(election.context, election.manifest, tally, election.secrets, [1, 3], os.urandom)
    early = http.post("/api/guardian-shares", json=shares[0].to_dict(), headers=admin)
    assert early.status_code == 409 and "polls are not closed at every centre" in early.json()["detail"]
    close_chains(kiosks)  # each kiosk's signed chain close, sent when its polls close
    for centre in office.manifest.centres:
        assert http.post(f"/api/centres/{centre.id}/close", json={}, headers=admin).status_code == 200
    for share in shares:  # guardian 2 is missing: guardians 1 and 3 compensate for it
        assert http.post("/api/guardian-shares", json=share.to_dict(), headers=admin).status_code == 200, share.missing
    published = http.post("/api/results", headers=admin)
    assert published.status_code == 200, published.text
    results = published.json()
    assert results["verified"] is True, results
    mu = results["contests"][contest]
    assert mu["electronic"]["ballots"] == 5  # 4 regular + 1 provisional; the challenged ballot is not counted
    assert sum(mu["electronic"]["votes"].values()) + mu["electronic"]["blank"] >= 5
    assert mu["total"]["votes"][active[0]] == mu["electronic"]["votes"][active[0]] + 5
    assert mu["manual"]["sources"] == ["embassy:EMB-LONDON"]
    assert results["pollbook_counts"]["BS-MU-01"] == 5
    record = Path(results["record_dir"])
    assert json.loads((record / "pollbook_counts.json").read_text())["ballots_per_style"]["BS-MU-01"] == 5
    # The challenged ballot is published with its seed, the provisional one as cast, both in the kiosk's batch chain.
    assert json.loads((record / "ballots" / "challenged" / f"{spoiled.ballot_id}.json").read_text())["challenged"][
        "seed"
    ]
    assert (record / "ballots" / "cast" / f"{provisional.ballot.ballot_id}.json").exists()
    batches = json.loads((record / "kiosk_chains" / "K-PC-002-1.json").read_text())["batches"]
    chain = [link for batch in batches for link in batch["links"]]
    assert sorted(e["status"] for e in chain) == ["cast", "cast", "cast", "cast", "cast", "challenged"]
    assert provisional.ballot.ballot_id in {e["ballot_id"] for e in chain}
    assert sorted(p.name for p in (record / "kiosk_chains").iterdir()) == ["K-PC-002-1.json"]

    nist = http.get("/api/public/results/nist.json").json()
    jsonschema.validate(nist, json.loads(NIST_SCHEMA.read_text(encoding="utf-8")))
    csv_text = http.get("/api/public/results.csv").text
    assert csv_text.splitlines()[0].startswith("wilayat,contest,candidate")
    report = http.get("/api/public/reports/MU-01")
    assert report.status_code == 200 and 'dir="rtl"' in report.text.replace("'", '"') and "@media print" in report.text


def test_staff_login_refuses_a_revoked_card_and_a_stale_crl(
    election: Election, office: Office, pg_database: str, tmp_path: Path, clock
) -> None:
    """server.staff_crl is loaded at start; a card on it cannot log in; an expired CRL refuses everyone."""
    from datetime import timedelta

    from cryptography.hazmat.primitives.serialization import Encoding

    from central.api import create_app
    from devtools.central_office import make_office
    from devtools.test_pki import issue_crl
    from tests.central.staffsim import attempt_login

    def office_with(crl_name: str, this: object, until: object) -> tuple[Office, Any]:
        crl = issue_crl(election.pki, this_update=this, next_update=until, revoke=["staff-cm-2"], issuer="staff_ca")  # type: ignore[arg-type]
        path = tmp_path / crl_name
        path.write_bytes(crl.public_bytes(Encoding.DER))
        other = make_office(election, pg_database, tmp_path / "record", clock, workers=0, staff_crl=path)
        return other, client_for(create_app(other), None)

    fresh, http = office_with("staff.crl", clock.now - timedelta(hours=1), clock.now + timedelta(days=1))
    try:
        assert fresh.staff_crl is not None
        refused = attempt_login(http, election.pki, "staff-cm-2")
        assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
        assert attempt_login(http, election.pki, "staff-cm-1").status_code == 200
    finally:
        fresh.close()
    stale, http = office_with("stale.crl", clock.now - timedelta(days=9), clock.now - timedelta(days=2))
    try:
        refused = attempt_login(http, election.pki, "staff-cm-1")
        assert refused.status_code == 401 and "out of date" in refused.json()["detail"]
    finally:
        stale.close()
