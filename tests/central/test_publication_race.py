"""The committee's gate and the tally's freeze are one transaction (issue 14 point 6): a flagged ballot that
arrives while the freeze holds the phase lock waits for it and is then refused; one stored before the freeze
blocks it (the refusal names the ballot) until the committee decides. Two threads on a real PostgreSQL, the
ballot sent by a kiosk over HTTPS."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text

from central import closing, phase, pollbook
from central.models import Ballot, BallotStatus
from central.office import Office
from devtools.kiosksim import Election, SimKiosk
from election.manifest import WilayatCode
from election.roll import CivilNumber, RollEntry
from tests.central.https import https_office
from tests.central.staffsim import login

pytestmark = pytest.mark.integration

MU01 = "K-PC-002-1"  # centre PC-002 serves Khasab (MU-01) only: a Bukha (MU-02) ballot from it is flagged


def _waiting_on_a_lock(url: str, deadline_s: float = 60) -> bool:
    """Whether a connection of this database is waiting for a row lock (seen within ``deadline_s``)."""
    engine = create_engine(url)
    try:
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            with engine.connect() as c:
                n = c.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock'"
                    )
                ).scalar_one()
            if n:
                return True
            time.sleep(0.05)
        return False
    finally:
        engine.dispose()


def test_a_flagged_ballot_blocks_the_freeze_or_waits_for_it_and_is_refused(
    election: Election, office: Office, kiosks: dict[str, SimKiosk], app
) -> None:
    with office.db.transaction() as s:
        pollbook.import_roll(s, office.manifest, [RollEntry(CivilNumber("71000001"), WilayatCode("MU-01"), True)])
    with https_office(app, election) as h:
        home, http = h.kiosk(MU01), h.staff()
        admin, cm1 = login(http, election.pki, "staff-admin-1"), login(http, election.pki, "staff-cm-1")
        answer = home.checkin("71000001").json()
        home.cast(answer["ballot_style_id"])
        assert home.voted(answer["checkin_token"]).json()["status"] == "recorded"
        first = home.cast("BS-MU-02")
        assert home.send(home.make_batch()).json()["accepted"] == 2
        second = home.encrypt("BS-MU-02")  # still in the kiosk's outbox when its polls close
        late = home.make_batch([second])
        assert home.close().status_code == 200
        for centre in office.manifest.centres:
            assert http.post(f"/api/centres/{centre.id}/close", json={}, headers=admin).status_code == 200

        # A flagged ballot stored before the freeze blocks it, by name.
        refusal = http.post("/api/tally/freeze", headers=admin)
        assert refusal.status_code == 409 and first.ballot_id in refusal.json()["detail"], refusal.text
        assert http.get("/api/public/phase").json()["phase"] == "closed"
        decision = {"decision": "reject", "reason": "no voter of Bukha checked in at Khasab"}
        assert http.post(f"/api/adjudication/ballots/{first.ballot_id}", json=decision, headers=cm1).status_code == 200

        # A flagged ballot arriving while the freeze holds the lock waits for it, then is refused.
        answers: list[Any] = []
        sender = threading.Thread(target=lambda: answers.append(home.send(late)))
        with office.db.transaction() as s:
            phase.lock_for_transition(s)  # what the freeze takes first
            sender.start()
            assert _waiting_on_a_lock(office.db.url), "the batch never waited for the freeze's lock"
            frozen = closing.freeze_in(s, office, actor="staff-admin-1")
        sender.join(timeout=60)
        assert len(answers) == 1
        assert answers[0].status_code == 409 and "tally is frozen" in answers[0].json()["detail"], answers[0].text
        with office.db.transaction() as s:
            assert s.get(Ballot, second.ballot_id) is None
            assert s.get_one(Ballot, first.ballot_id).status is BallotStatus.REJECTED
            assert not list(s.scalars(select(Ballot).where(Ballot.status == BallotStatus.FLAGGED)))
        assert closing.tally_hash(closing.encrypted_tally(office)) == frozen
        assert http.get("/api/public/phase").json() == {
            "phase": "tally_frozen",
            "tally_hash": frozen,
            "centres": {c.id: "closed" for c in office.manifest.centres},
        }
        # The committee cannot change a frozen tally either.
        again = http.post(f"/api/adjudication/ballots/{first.ballot_id}", json=decision, headers=cm1)
        assert again.status_code == 409 and "frozen" in again.json()["detail"]
