"""Store-and-forward against the REAL central office (``python -m central serve``: uvicorn, mutual TLS,
PostgreSQL, ballots verified by its process pool): the office's process killed for a long stretch of voting,
a kiosk restart in the middle, a lost acknowledgement (a loopback proxy throws the office's answer to a batch
away); afterwards the office's own database holds every ballot exactly once and its encrypted tally is the
sum of exactly those ballots."""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from central.models import Batch, KioskAuditEntry
from central.provisional import process_envelopes
from devtools.real_office import (
    CENTRE_ID,
    KIOSK_ID,
    CentralOffice,
    RealElection,
    accepted_ids,
    central_view,
    chained,
    expected_tally,
    roll,
    tally_of,
)
from kiosk.ballot_box import BallotBox
from sync.client import Backoff, SyncClient, Unreachable, with_retries
from sync.protocol import CheckinRequest, CheckinStatus, ProvisionalReason
from tests.sync.outage_proxy import OutageProxy
from tests.sync.worker_kit import make_worker, wait_until_drained

FIRST_VOTER = 91_000_000


@pytest.fixture(scope="module")
def central(
    real_election: RealElection, pg_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CentralOffice]:
    office = CentralOffice(real_election, pg_database, tmp_path_factory.mktemp("central"))
    office.initialise(roll(200, FIRST_VOTER))
    office.start()
    yield office
    office.close()


class Voting:
    def __init__(self, election: RealElection, box: BallotBox, client: SyncClient) -> None:
        self.election, self.box, self.client = election, box, client
        self.next_voter = FIRST_VOTER
        self.regular: list[str] = []
        self.provisional: list[str] = []

    def check_in(self) -> tuple[str, str | None]:
        civil = str(self.next_voter)
        self.next_voter += 1
        request = CheckinRequest(
            kiosk_id=KIOSK_ID, centre_id=CENTRE_ID, civil_number=civil, idempotency_key=secrets.token_hex(16)
        )
        try:
            answer = with_retries(lambda: self.client.checkin(request), attempts=2, backoff=Backoff(0.01, 0.02))
        except Unreachable:
            return civil, None
        assert answer.status is CheckinStatus.ELIGIBLE and answer.checkin_token and answer.ballot_style_id
        self.box.record_checkin(answer.checkin_token, answer.ballot_style_id)
        return civil, answer.checkin_token

    def cast(self, token: str) -> None:
        ballot = chained(self.box, self.election.encrypt())
        self.box.cast(token, ballot)
        self.regular.append(ballot.ballot_id)

    def vote(self) -> None:
        """One voter: check in (two quick tries) and cast; office unreachable: a provisional ballot."""
        civil, token = self.check_in()
        if token is not None:
            self.cast(token)
            return
        ballot = chained(self.box, self.election.encrypt())
        self.box.cast_provisional(
            ballot,
            civil_number=civil,
            reason=ProvisionalReason.CENTRAL_UNREACHABLE,
            office_key=self.election.envelope.public_key,
        )
        self.provisional.append(ballot.ballot_id)


def outbox_keys(db: Path, kind: str) -> list[str]:
    con = sqlite3.connect(db)
    keys = [k for (k,) in con.execute("SELECT idempotency_key FROM outbox WHERE kind = ? ORDER BY seq", (kind,))]
    con.close()
    return keys


@pytest.mark.integration
def test_office_down_for_a_stretch_and_a_kiosk_restart_lose_and_double_nothing(
    tmp_path: Path, real_election: RealElection, central: CentralOffice
) -> None:
    db = tmp_path / "kiosk.db"
    box = real_election.open_kiosk(db, min_batch=4)
    proxy = OutageProxy(central.port)
    client = SyncClient(proxy.url, real_election.tls(), connect_timeout=0.5, read_timeout=20)
    worker = make_worker(box, client)
    worker.start()
    voting = Voting(real_election, box, client)
    for _ in range(10):
        voting.vote()
    wait_until_drained(worker, box)
    assert not voting.provisional

    # A voter checks in; then the office's process dies. The voter still casts (the voted mark waits).
    _, token = voting.check_in()
    assert token is not None
    central.stop()
    voting.cast(token)
    for _ in range(12):
        voting.vote()  # offline: provisional ballots
    time.sleep(0.5)
    assert not worker.status().online
    assert box.counts().unsent_outbox > 0

    # The kiosk restarts while the office is still down.
    worker.stop()
    box.close()
    box = BallotBox.open(db, real_election.signer(), min_batch=4)
    worker = make_worker(box, client)
    worker.start()
    voting.box = box
    for _ in range(5):
        voting.vote()
    assert box.counts().provisional == 17
    assert not worker.status().online

    # The office comes back; the answer to the first batch it stores is lost on the way back.
    proxy.lose_next_big_answer(8000)
    central.start()
    for _ in range(9):
        voting.vote()
    wait_until_drained(worker, box, deadline_s=120)
    worker.stop()
    client.close()
    proxy.close()
    assert len(voting.regular) == 20 and len(voting.provisional) == 17

    # Checked in the office's own database.
    view = central_view(central.db)
    assert proxy.answers_lost == 1  # one batch was delivered twice ...
    assert accepted_ids(view) == set(voting.regular)  # ... yet every regular ballot is held once
    assert len(view.ballots) == len(voting.regular)  # nothing refused, nothing extra
    assert set(view.envelopes) == set(outbox_keys(db, "provisional"))
    assert set(view.envelopes.values()) == set(voting.provisional)
    regular = [b for b in box.export_ballots() if b.ballot_id in set(voting.regular)]
    assert tally_of(view) == expected_tally(real_election, regular)  # the tally counts each exactly once
    assert view.voted == len(voting.regular)
    assert view.chain_heads[KIOSK_ID] == box.chain_head  # the office walked the chain through the envelopes
    with central.db.transaction() as s:
        batches = s.scalar(select(func.count()).select_from(Batch).where(Batch.kiosk_id == KIOSK_ID))
        audit_held = s.scalar(select(func.max(KioskAuditEntry.seq)).where(KioskAuditEntry.kiosk_id == KIOSK_ID))
    assert batches == len(outbox_keys(db, "batch"))
    assert audit_held == box.audit_head()[0]

    # The committee's step: the provisional voters had not voted, so their ballots join the tally, once.
    office = central.in_process()
    try:
        outcome = process_envelopes(office)
    finally:
        office.close()
    assert outcome["counted"] == 17
    after = central_view(central.db)
    assert tally_of(after) == expected_tally(real_election, box.export_ballots())
    assert after.voted == len(voting.regular) + len(voting.provisional)
    box.close()
