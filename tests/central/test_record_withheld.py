"""The published record keeps every kiosk chain whole: a provisional ballot the committee does not count sits in
the middle of its kiosk's chain as a `withheld` entry (no ballot content, never counted) and the record verifies."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest

from central import pollbook
from central.office import Office
from central.provisional import process_envelopes
from devtools.kiosksim import Election, SimKiosk, client_for, close_chains
from election.canonical import canonical_json
from election.manifest import WilayatCode
from election.roll import CivilNumber, RollEntry
from election.verify.__main__ import verify_record
from tests.central.staffsim import login, publish_results

pytestmark = pytest.mark.integration

KIOSK = "K-PC-002-1"


def test_a_provisional_ballot_rejected_by_the_committee_is_withheld_mid_chain_and_the_record_verifies(
    election: Election, office: Office, kiosks: dict[str, SimKiosk], app
) -> None:
    with office.db.transaction() as s:
        pollbook.import_roll(
            s, office.manifest, [RollEntry(CivilNumber(f"3{i:07d}"), WilayatCode("MU-01"), True) for i in range(1, 4)]
        )
    k = kiosks[KIOSK]

    def vote(i: int) -> None:
        answer = k.checkin(f"3{i:07d}").json()
        k.cast(answer["ballot_style_id"])
        assert k.voted(answer["checkin_token"]).status_code == 200

    vote(1)
    # The office was unreachable for a second attempt of voter 1, who has voted already: a provisional ballot,
    # linked by the kiosk's next batch, which the committee will not count.
    envelope, ack = k.provisional("30000001", "BS-MU-01")
    assert ack.status_code == 200
    vote(2)
    vote(3)
    receipt = k.send(k.make_batch()).json()
    assert (receipt["accepted"], receipt["rejected"]) == (3, 0), receipt
    assert process_envelopes(office)["adjudication"] == 1

    http = client_for(app, None)
    admin = login(http, election.pki, "staff-admin-1")
    cm1 = login(http, election.pki, "staff-cm-1")
    close_chains(kiosks)  # each kiosk's signed chain close, sent when its polls close
    for centre in office.manifest.centres:
        assert http.post(f"/api/centres/{centre.id}/close", json={}, headers=admin).status_code == 200
    decision = {"decision": "reject", "reason": "voter 30000001 voted at this centre already (sheet 7)"}
    assert http.post(f"/api/adjudication/{envelope.envelope_id}", json=decision, headers=cm1).status_code == 200

    results = publish_results(http, office, election, admin, [1, 3])
    assert results["verified"] is True, results
    assert results["contests"]["shura-MU-01"]["electronic"]["ballots"] == 3  # the withheld ballot is not counted

    record = Path(results["record_dir"])
    batches = json.loads((record / "kiosk_chains" / f"{KIOSK}.json").read_text())["batches"]
    (batch,) = batches  # the provisional ballot is a link of the batch sealed after it
    assert sorted(e["status"] for e in batch["links"]) == ["cast", "cast", "cast", "withheld"]
    assert [e["code"] for e in batch["links"]] == sorted(e["code"] for e in batch["links"])
    assert {
        "status": "withheld",
        "ballot_id": envelope.ballot.ballot_id,
        "code": envelope.ballot.confirmation_code,
        "ballot_hash": hashlib.sha256(canonical_json(envelope.ballot.encrypted_ballot)).hexdigest(),
        "reason": "provisional-not-counted",
    } in batch["links"]
    # No content of the withheld ballot anywhere in the record, and not a word of the committee's reason.
    published_files = [p.read_text() for p in record.rglob("*.json")]
    ciphertext = envelope.ballot.encrypted_ballot["contests"][0]["selections"][0]["ciphertext"]["alpha"]
    assert not any(ciphertext in text for text in published_files)
    assert not any("sheet 7" in text or "30000001" in text for text in published_files)
    assert not (record / "ballots" / "cast" / f"{envelope.ballot.ballot_id}.json").exists()

    out = io.StringIO()
    assert verify_record(record, out), out.getvalue()
    assert "1 withheld, not counted (provisional-not-counted: 1)" in out.getvalue()
    assert "3 cast ballots = 3 poll-book check-ins, per style (1 withheld not counted)" in out.getvalue()
    # Without the withheld entry the batch's root does not recompute, which the verifier catches.
    chain_file = record / "kiosk_chains" / f"{KIOSK}.json"
    batch["links"] = [e for e in batch["links"] if e["status"] != "withheld"]
    chain_file.write_text(json.dumps({"format_version": 2, "kiosk": KIOSK, "batches": [batch]}))
    out = io.StringIO()
    assert not verify_record(record, out)
    assert "FAIL  confirmation code chains:" in out.getvalue() and "its root does not recompute" in out.getvalue()
