"""Results the office's own verifier does not verify never look like results (issue 14 point 7): the API, the
NIST export's Status, the CSV, the printable report and the dashboard all say NOT VERIFIED, the election is not
published; an administrator may only publish them as "provisional, verification failed" with a reason, audited.
The verification fails for real: a voter is marked voted at a kiosk whose ballot never reaches the office."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest
from sqlalchemy import select

from central import pollbook
from central.closing import encrypted_tally
from central.models import AuditEntry
from central.office import Office
from devtools.kiosksim import Election, SimKiosk
from devtools.sample_election import decrypt_with
from election.manifest import WilayatCode
from election.roll import CivilNumber, RollEntry
from tests.central.https import https_office
from tests.central.staffsim import login

pytestmark = pytest.mark.integration

NIST_SCHEMA = Path(__file__).resolve().parents[2] / "config" / "standards" / "NIST_V2_election_results_reporting.json"
MU01 = "K-PC-002-1"


def test_unverified_results_say_not_verified_everywhere_and_publish_only_as_provisional(
    election: Election, office: Office, kiosks: dict[str, SimKiosk], app
) -> None:
    with office.db.transaction() as s:
        pollbook.import_roll(
            s, office.manifest, [RollEntry(CivilNumber(f"8100000{i}"), WilayatCode("MU-01"), True) for i in (1, 2)]
        )
    with https_office(app, election) as h:
        home, http = h.kiosk(MU01), h.staff()
        admin, cm1 = login(http, election.pki, "staff-admin-1"), login(http, election.pki, "staff-cm-1")
        for civil in ("81000001", "81000002"):
            answer = home.checkin(civil).json()
            if civil == "81000001":
                home.cast(answer["ballot_style_id"])
            assert home.voted(answer["checkin_token"]).json()["status"] == "recorded"  # the second ballot is lost
        assert home.send(home.make_batch()).json()["accepted"] == 1
        assert home.close().status_code == 200
        for centre in office.manifest.centres:
            assert http.post(f"/api/centres/{centre.id}/close", json={}, headers=admin).status_code == 200
        _, shares = decrypt_with(
            election.context, election.manifest, encrypted_tally(office), election.secrets, [1, 3], os.urandom
        )
        for share in shares:
            assert http.post("/api/guardian-shares", json=share.to_dict(), headers=admin).status_code == 200

        computed = http.post("/api/results", headers=admin)
        assert computed.status_code == 200, computed.text
        assert (computed.json()["verified"], computed.json()["status"]) == (False, "not_verified")
        assert http.get("/api/public/phase").json()["phase"] == "decrypting"  # not published

        def every_output_says(label: str) -> None:
            public = http.get("/api/public/results").json()
            assert public["verified"] is False and public["label"].startswith(label), public.get("label")
            nist = http.get("/api/public/results/nist.json").json()
            jsonschema.validate(nist, json.loads(NIST_SCHEMA.read_text(encoding="utf-8")))
            assert nist["Status"] == "unofficial-partial" and nist["Notes"].startswith(label)
            assert {"Type": "other", "OtherType": "verification", "Value": "NOT VERIFIED"}.items() <= nist[
                "ExternalIdentifier"
            ][0].items()
            csv = http.get("/api/public/results.csv").text
            assert csv.startswith(f"# {label}") and "(NOT VERIFIED)" in csv.splitlines()[2]
            assert label in http.get("/api/public/reports/MU-01").text
            assert "NOT VERIFIED" in http.get("/en").text

        every_output_says("NOT VERIFIED")

        # Only an administrator, only with a reason, and only as "provisional, verification failed".
        path = "/api/results/publish-unverified"
        assert http.post(path, json={"reason": "x"}, headers=cm1).status_code == 403
        assert http.post(path, json={"reason": ""}, headers=admin).status_code == 422
        reason = "verifier: turnout exceeds the cast ballots at K-PC-002-1; the commission is told"
        published = http.post(path, json={"reason": reason}, headers=admin)
        assert published.status_code == 200, published.text
        assert published.json()["status"] == "provisional_verification_failed"
        every_output_says("PROVISIONAL, VERIFICATION FAILED: NOT VERIFIED")
        assert reason in http.get("/api/public/results").json()["label"]
        assert http.get("/api/public/phase").json()["phase"] == "published"

        # Published: nothing more is accepted.
        again = http.post(path, json={"reason": reason}, headers=admin)
        assert again.status_code == 409, again.text
        assert http.post("/api/results", headers=admin).status_code == 409
        late = home.send(home.make_batch([home.encrypt("BS-MU-01")]))
        assert late.status_code == 409 and "published" in late.json()["detail"]
    with office.db.transaction() as s:
        entries = list(s.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    actions = [e.action for e in entries]
    assert "results.not_verified" in actions and "results.published" not in actions
    unverified = next(e for e in entries if e.action == "results.published_unverified")
    assert unverified.details["reason"] == reason and unverified.actor.startswith("Yousuf")
    assert entries[-1].action == "phase.changed" and entries[-1].details["to"] == "published"
    assert entries[-1].details["verified"] is False
