"""Committee adjudication (Decision 128/2003 Art. 6) against PostgreSQL: ballots flagged at ingest and provisional
envelopes wait in one queue; results and guardians' shares are refused while anything waits, naming it; the
committee counts or does not count each flagged ballot with a reason, logged; counted ones join the tally and the
published record verifies."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from sqlalchemy import select

from central import audit, pollbook
from central.closing import encrypted_tally
from central.models import Ballot, BallotStatus, Kiosk, TallyState
from central.office import Office
from central.provisional import process_envelopes
from devtools.kiosksim import Election, SimKiosk, client_for, close_chains
from devtools.sample_election import decrypt_with
from election.canonical import canonical_json
from election.manifest import WilayatCode
from election.roll import CivilNumber, RollEntry
from tests.central.staffsim import login, publish_results

pytestmark = pytest.mark.integration

UNIFIED, MU01, MU02 = "K-PC-001-1", "K-PC-002-1", "K-PC-003-1"


def test_flagged_and_provisional_ballots_hold_results_until_the_committee_decides(
    election: Election, office: Office, kiosks: dict[str, SimKiosk], app
) -> None:
    with office.db.transaction() as s:
        pollbook.import_roll(
            s,
            office.manifest,
            [
                RollEntry(CivilNumber("51000001"), WilayatCode("MU-01"), True),
                RollEntry(CivilNumber("52000001"), WilayatCode("MU-02"), True),
            ],
        )
    home, unified, other = kiosks[MU01], kiosks[UNIFIED], kiosks[MU02]
    # A voter of Khasab (MU-01) votes at home.
    answer = home.checkin("51000001").json()
    home.cast(answer["ballot_style_id"])
    assert home.voted(answer["checkin_token"]).json()["status"] == "recorded"
    # A voter of Bukha (MU-02) is checked in at the unified centre, but the ballot arrives from the Khasab kiosk,
    # whose (non-unified) centre does not serve Bukha: flagged, held out of the tally.
    answer = unified.checkin("52000001").json()
    assert unified.voted(answer["checkin_token"]).json()["status"] == "recorded"
    counted = home.cast("BS-MU-02")
    refused = home.cast("BS-MU-02")  # a second one, with no voter behind it: the committee will not count it
    receipt = home.send(home.make_batch()).json()
    assert (receipt["accepted"], receipt["rejected"]) == (3, 0), receipt
    with office.db.transaction() as s:
        assert s.get_one(Ballot, counted.ballot_id).status is BallotStatus.FLAGGED
        assert "does not serve wilayat 'MU-02'" in (s.get_one(Ballot, counted.ballot_id).reason or "")
        assert s.get_one(TallyState, "shura-MU-02").ballots == 0
    # A provisional ballot of the Khasab voter, who has voted already: it goes to the committee too.
    envelope, ack = other.provisional("51000001", "BS-MU-01")
    assert ack.status_code == 200
    http = client_for(app, None)
    admin = login(http, election.pki, "staff-admin-1")
    cm1, cm2 = login(http, election.pki, "staff-cm-1"), login(http, election.pki, "staff-cm-2")
    close_chains(kiosks)  # each kiosk's signed chain close, sent when its polls close
    for centre in office.manifest.centres:
        assert http.post(f"/api/centres/{centre.id}/close", json={}, headers=admin).status_code == 200

    # Results are refused, naming everything that waits (the envelope is not even processed yet).
    refusal = http.post("/api/results", headers=admin)
    assert refusal.status_code == 409, refusal.text
    detail = refusal.json()["detail"]
    assert detail.startswith("adjudication pending")
    assert counted.ballot_id in detail and refused.ballot_id in detail and envelope.envelope_id in detail
    assert "not yet processed" in detail
    assert process_envelopes(office)["adjudication"] == 1
    # Guardians' shares are refused too: the tally is not final.
    tally = encrypted_tally(office)
    _, early = decrypt_with(election.context, election.manifest, tally, election.secrets, [1, 2], os.urandom)
    r = http.post("/api/guardian-shares", json=early[0].to_dict(), headers=admin)
    assert r.status_code == 409 and "flagged ballot(s) awaiting the committee" in r.json()["detail"]

    # The committee's queue: both kinds, no ballot content and no identity.
    assert http.get("/api/adjudication", headers=admin).status_code == 403
    queue = http.get("/api/adjudication", headers=cm1).json()
    assert sorted((q["kind"], q["id"]) for q in queue) == sorted(
        [("flagged", counted.ballot_id), ("flagged", refused.ballot_id), ("provisional", envelope.envelope_id)]
    )
    flagged = next(q for q in queue if q["id"] == counted.ballot_id)
    assert flagged["centre_id"] == "PC-002" and flagged["ballot_style_id"] == "BS-MU-02"
    assert "encrypted_ballot" not in flagged and "civil_number" not in str(queue)

    # Decisions: committee members only, a reason required, once each.
    decide = "/api/adjudication/ballots/{}"
    body = {"decision": "accept", "reason": "voter checked in at the unified centre (sheet 3)"}
    assert http.post(decide.format(counted.ballot_id), json=body, headers=admin).status_code == 403
    assert http.post(decide.format(counted.ballot_id), json={**body, "reason": ""}, headers=cm1).status_code == 422
    r = http.post(decide.format(counted.ballot_id), json=body, headers=cm1)
    assert r.status_code == 200 and r.json()["status"] == "accepted", r.text
    assert http.post(decide.format(counted.ballot_id), json=body, headers=cm2).status_code == 409
    no = {"decision": "reject", "reason": "no check-in for this ballot (sheet 4)"}
    assert http.post(decide.format(refused.ballot_id), json=no, headers=cm2).json()["status"] == "rejected"
    no_envelope = {"decision": "reject", "reason": "voted at Khasab (sheet 5)"}
    assert http.post(f"/api/adjudication/{envelope.envelope_id}", json=no_envelope, headers=cm1).status_code == 200
    assert http.get("/api/adjudication", headers=cm1).json() == []

    with office.db.transaction() as s:
        assert s.get_one(TallyState, "shura-MU-02").ballots == 1  # the counted one joined the tally
        assert s.get_one(Ballot, refused.ballot_id).status is BallotStatus.REJECTED
        assert s.scalar(select(Kiosk.ballots_accepted).where(Kiosk.kiosk_id == MU01)) == 2
        decided = [e for e in audit.entries(s, limit=10_000) if e.action == "ballot.decided"]
        assert [(e.details["ballot_id"], e.details["decision"]) for e in decided] == [
            (counted.ballot_id, "accept"),
            (refused.ballot_id, "reject"),
        ]
        assert decided[0].actor != decided[1].actor  # each committee member's card subject
        assert decided[0].details["reason"] == body["reason"] and "MU-02" in decided[0].details["flagged_for"]
        assert audit.verify_chain(s) > 0

    # Now the tally is final: shares, then results; the counted flagged ballot is in them and the record verifies.
    results = publish_results(http, office, election, admin, [1, 3])
    assert results["contests"]["shura-MU-02"]["electronic"]["ballots"] == 1
    assert results["contests"]["shura-MU-01"]["electronic"]["ballots"] == 1
    assert results["verified"] is True, results
    # The ballots left out are listed (ids, codes, reasons, never content) and published in their kiosks' chains
    # as `withheld` entries with the reason's category only.
    withheld = {w["ballot_id"]: w for w in results["withheld_from_chains"]}
    assert set(withheld) == {refused.ballot_id, envelope.ballot.ballot_id}
    assert withheld[refused.ballot_id]["confirmation_code"] == refused.confirmation_code
    assert "no check-in" in withheld[refused.ballot_id]["reason"]
    assert withheld[refused.ballot_id]["category"] == "flagged-not-counted"
    assert withheld[envelope.ballot.ballot_id]["category"] == "provisional-not-counted"
    assert all(w["in_chain"] for w in withheld.values())
    chain = json.loads((Path(results["record_dir"]) / "kiosk_chains" / f"{MU01}.json").read_text())["batches"]
    links = [link for batch in chain for link in batch["links"]]
    assert {
        "status": "withheld",
        "ballot_id": refused.ballot_id,
        "code": refused.confirmation_code,
        "ballot_hash": hashlib.sha256(canonical_json(refused.encrypted_ballot)).hexdigest(),
        "reason": "flagged-not-counted",
    } in links
    assert "sheet 4" not in str(chain)  # the committee's wording stays out of the record
