"""Close of polls to verified, published results: staff card login, roles, guardians' shares (one guardian
missing and compensated), two-person manual sheets, the record checked by election.verify, NIST/CSV/HTML."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest

from central import pollbook
from central.office import Office
from central.results import encrypted_tally
from election.manifest import WilayatCode
from election.roll import CivilNumber, RollEntry
from election.sample import decrypt_with
from tests.central.kiosksim import Election, SimKiosk, client_for
from tests.central.staffsim import login

pytestmark = pytest.mark.integration

NIST_SCHEMA = Path(__file__).parents[2] / ".." / "shared" / "standards" / "NIST_V2_election_results_reporting.json"


def test_results_from_close_to_verified_record(
    election: Election, office: Office, kiosks: dict[str, SimKiosk], app
) -> None:
    with office.db.transaction() as s:
        pollbook.import_roll(
            s, office.manifest, [RollEntry(CivilNumber(f"2{i:07d}"), WilayatCode("MU-01"), True) for i in range(1, 6)]
        )
    k = kiosks["K-PC-002-1"]
    for i in range(1, 5):
        answer = k.checkin(f"2{i:07d}").json()
        k.cast(answer["ballot_style_id"])
        assert k.voted(answer["checkin_token"]).status_code == 200
    assert k.send(k.make_batch()).json()["accepted"] == 4

    http = client_for(app, None)
    admin = login(http, election.pki, "staff-admin-1")
    cm1, cm2 = login(http, election.pki, "staff-cm-1"), login(http, election.pki, "staff-cm-2")
    # Roles are enforced; the public can read turnout but not act.
    assert http.post("/api/centres/PC-001/close", json={}, headers=cm1).status_code == 403
    assert http.post("/api/centres/PC-001/close", json={}).status_code == 401
    turnout = {t["wilayat"]: t for t in http.get("/api/public/turnout").json()}
    assert turnout["MU-01"]["voted"] == 4 and turnout["MU-01"]["registered"] == 5

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
    assert http.post("/api/guardian-shares", json=shares[0].to_dict(), headers=admin).status_code == 422
    for centre in office.manifest.centres:
        assert http.post(f"/api/centres/{centre.id}/close", json={}, headers=admin).status_code == 200
    for share in shares:  # guardian 2 is missing: guardians 1 and 3 compensate for it
        assert http.post("/api/guardian-shares", json=share.to_dict(), headers=admin).status_code == 200, share.missing
    published = http.post("/api/results", headers=admin)
    assert published.status_code == 200, published.text
    results = published.json()
    assert results["verified"] is True, results
    mu = results["contests"][contest]
    assert mu["electronic"]["ballots"] == 4
    assert sum(mu["electronic"]["votes"].values()) + mu["electronic"]["blank"] >= 4
    assert mu["total"]["votes"][active[0]] == mu["electronic"]["votes"][active[0]] + 5
    assert mu["manual"]["sources"] == ["embassy:EMB-LONDON"]
    assert results["pollbook_counts"]["BS-MU-01"] == 4
    record = Path(results["record_dir"])
    assert json.loads((record / "pollbook_counts.json").read_text())["ballots_per_style"]["BS-MU-01"] == 4

    nist = http.get("/api/public/results/nist.json").json()
    jsonschema.validate(nist, json.loads(NIST_SCHEMA.read_text(encoding="utf-8")))
    csv_text = http.get("/api/public/results.csv").text
    assert csv_text.splitlines()[0].startswith("wilayat,contest,candidate")
    report = http.get("/api/public/reports/MU-01")
    assert report.status_code == 200 and 'dir="rtl"' in report.text.replace("'", '"') and "@media print" in report.text
