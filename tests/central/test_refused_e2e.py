"""A ballot with a tampered proof, end to end against PostgreSQL: the kiosk's batch is accepted except that ballot,
which is refused at ingest (status ``refused``, its reason shown to the committee through the API), never enters
the tally, and is published in the record only as a withheld link of its kiosk's chain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from central import pollbook
from central.models import Ballot, BallotStatus, PublishedResult, TallyState
from central.office import Office
from devtools.kiosksim import Election, SimKiosk, client_for, close_chains
from election.manifest import WilayatCode
from election.roll import CivilNumber, RollEntry
from tests.central.staffsim import login, publish_results

pytestmark = pytest.mark.integration

MU01 = "K-PC-002-1"
CONTEST = "shura-MU-01"


def test_a_tampered_proof_is_refused_and_never_counted_or_published_as_a_ballot(
    election: Election, office: Office, kiosks: dict[str, SimKiosk], app
) -> None:
    voters = [f"61{i:06d}" for i in range(1, 5)]  # the fourth voter's ballot is the one altered
    with office.db.transaction() as s:
        pollbook.import_roll(
            s, office.manifest, [RollEntry(CivilNumber(c), WilayatCode("MU-01"), True) for c in voters]
        )
    kiosk = kiosks[MU01]
    candidates = list(office.manifest.contests_by_id[CONTEST].selection_ids)  # type: ignore[index]
    good = []
    for n, civil in enumerate(voters[:3]):
        answer = kiosk.checkin(civil).json()
        assert answer["status"] == "eligible", answer
        good.append(kiosk.encrypt("BS-MU-01", choices={CONTEST: [candidates[0 if n < 2 else 1]]}))
        kiosk.pending.append(good[-1])
        assert kiosk.voted(answer["checkin_token"]).json()["status"] == "recorded"
        if n == 1:
            # A voter whose ballot's proofs were altered after encryption (a corrupted disk, a bad kiosk), sealed
            # by the kiosk in the batch: its code holds (a link of the batch's root), its proofs do not. It votes
            # for the third candidate. The voter is marked voted like any other.
            answer = kiosk.checkin(voters[3]).json()
            bad = kiosk.encrypt("BS-MU-01", choices={CONTEST: [candidates[2]]}, tamper=True)
            kiosk.pending.append(bad)
            assert kiosk.voted(answer["checkin_token"]).json()["status"] == "recorded"
    receipt = kiosk.send(kiosk.make_batch()).json()
    assert (receipt["accepted"], receipt["rejected"]) == (3, 1), receipt  # the others of the batch are counted

    with office.db.transaction() as s:
        stored = s.get_one(Ballot, bad.ballot_id)
        assert stored.status is BallotStatus.REFUSED and (stored.reason or "").startswith("proof check failed")
        assert s.get_one(TallyState, CONTEST).ballots == 3
        assert all(s.get_one(Ballot, b.ballot_id).status is BallotStatus.ACCEPTED for b in good)

    # The committee (and observers) see it with its reason; nothing awaits a decision; a kiosk cannot look.
    http = client_for(app, None)
    admin = login(http, election.pki, "staff-admin-1")
    cm = login(http, election.pki, "staff-cm-1")
    refused = http.get("/api/ingest/refused", headers=cm)
    assert refused.status_code == 200, refused.text
    assert [(r["ballot_id"], r["kiosk_id"], r["centre_id"], r["ballot_style_id"]) for r in refused.json()] == [
        (bad.ballot_id, MU01, "PC-002", "BS-MU-01")
    ]
    assert refused.json()[0]["reason"].startswith("proof check failed")
    assert "encrypted_ballot" not in refused.text
    assert http.get("/api/ingest/refused").status_code == 401
    assert http.get("/api/adjudication", headers=cm).json() == []

    close_chains(kiosks)  # each kiosk's signed chain close, sent when its polls close
    for centre in office.manifest.centres:
        assert http.post(f"/api/centres/{centre.id}/close", json={}, headers=admin).status_code == 200
    results = publish_results(http, office, election, admin, [1, 2])
    assert results["verified"] is True, results
    electronic = results["contests"][CONTEST]["electronic"]
    assert electronic["ballots"] == 3
    assert electronic["votes"][candidates[0]] == 2 and electronic["votes"][candidates[1]] == 1
    assert electronic["votes"][candidates[2]] == 0  # the refused ballot's vote is not in the tally
    withheld = {w["ballot_id"]: w for w in results["withheld_from_chains"]}
    assert withheld[bad.ballot_id]["category"] == "refused-at-ingest" and withheld[bad.ballot_id]["in_chain"]
    record = Path(results["record_dir"])
    batches = json.loads((record / "kiosk_chains" / f"{MU01}.json").read_text())["batches"]
    chain = [link for batch in batches for link in batch["links"]]
    entry = next(e for e in chain if e.get("ballot_id") == bad.ballot_id)
    assert entry["status"] == "withheld" and entry["reason"] == "refused-at-ingest" and "ballot" not in entry
    published_ballots = [p.name for p in record.rglob("*.json") if bad.ballot_id in p.name]
    assert published_ballots == []
    assert bad.ballot_id not in (record / "tally" / "encrypted_tally.json").read_text()
    # 4 voters marked voted, 3 ballots counted: the record says one ballot of that style is not counted, backed by
    # the withheld link, and the verifier's turnout check accepts exactly that.
    counts = json.loads((record / "pollbook_counts.json").read_text())
    assert counts["ballots_per_style"]["BS-MU-01"] == 4
    assert counts["not_counted_per_style"] == {"BS-MU-01": 1}
    assert "3 cast ballots + 1 with a ballot not counted (withheld link) = 4" in results_verifier_output(office)


def results_verifier_output(office: Office) -> str:
    with office.db.transaction() as s:
        row = s.scalars(select(PublishedResult).order_by(PublishedResult.id.desc())).first()
        assert row is not None
        return row.verifier_output
