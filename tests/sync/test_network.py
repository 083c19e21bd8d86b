"""Store-and-forward over real mutual-TLS HTTP: the office down for a long stretch of voting, a kiosk
restart in the middle, lost acknowledgements; afterwards every ballot is at the office exactly once."""

from __future__ import annotations

import datetime as dt
import secrets
import time
from pathlib import Path

import pytest
from nacl.public import PrivateKey

from kiosk.ballot_box import BallotBox
from sync.client import Backoff, SyncClient, TlsIdentity, Unreachable, with_retries
from sync.protocol import CheckinRequest, CheckinStatus, ProvisionalReason
from sync.signing import Signer
from sync.worker import SyncWorker, WorkerConfig
from tests.ballot_box.kit import CENTRE_ID, KIOSK_ID, chain_head, next_ballot, open_box
from tests.sync.conftest import RunningOffice


def make_worker(box: BallotBox, client: SyncClient, window: float = 0.2) -> SyncWorker:
    return SyncWorker(
        box,
        client,
        WorkerConfig("test", "0" * 64, interval=0.05, batch_window=window),
        monotonic=time.monotonic,
        wall_clock=lambda: dt.datetime.now(dt.UTC),
        backoff=Backoff(base=0.02, cap=0.2),
    )


def wait_until_drained(worker: SyncWorker, box: BallotBox, deadline_s: float = 60) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        s, c = worker.status(), box.counts()
        queued = c.unsent_ballots + c.pending_voted_marks + c.pending_releases
        if s.online and queued == 0 and box.audit_synced_through() == box.audit_head()[0]:
            return
        time.sleep(0.05)
    raise AssertionError(f"the queue did not drain: {worker.status()} {box.counts()}")


class Voting:
    def __init__(self, box: BallotBox, client: SyncClient, office_key: PrivateKey) -> None:
        self.box, self.client, self.office_key = box, client, office_key
        self.next_voter = 1_000_000
        self.regular: list[str] = []
        self.provisional: list[str] = []

    def vote(self) -> None:
        """One voter: check in (a couple of quick retries), cast; offline: a provisional ballot."""
        self.next_voter += 1
        civil = str(9_000_000 + self.next_voter % 1000)
        request = CheckinRequest(
            kiosk_id=KIOSK_ID, centre_id=CENTRE_ID, civil_number=civil, idempotency_key=secrets.token_hex(16)
        )
        ballot = None
        try:
            answer = with_retries(
                lambda: self.client.checkin(request), attempts=2, backoff=Backoff(base=0.01, cap=0.02)
            )
        except Unreachable:
            ballot = next_ballot(chain_head(self.box))
            self.box.cast_provisional(
                ballot,
                civil_number=civil,
                reason=ProvisionalReason.CENTRAL_UNREACHABLE,
                office_key=self.office_key.public_key,
            )
            self.provisional.append(ballot.ballot_id)
            return
        assert answer.status is CheckinStatus.ELIGIBLE and answer.checkin_token and answer.ballot_style_id
        self.box.record_checkin(answer.checkin_token, answer.ballot_style_id)
        ballot = next_ballot(chain_head(self.box))
        self.box.cast(answer.checkin_token, ballot)
        self.regular.append(ballot.ballot_id)


@pytest.mark.integration
def test_office_down_for_a_stretch_and_a_kiosk_restart_lose_and_double_nothing(
    tmp_path: Path, office: RunningOffice, tls: TlsIdentity, kiosk_signer: Signer
) -> None:
    db = tmp_path / "kiosk.db"
    box = open_box(db, kiosk_signer, min_batch=4)
    client = SyncClient(office.server.url, tls, connect_timeout=0.5, read_timeout=2)
    office_key = PrivateKey.generate()
    worker = make_worker(box, client)
    worker.start()
    voting = Voting(box, client, office_key)
    for _ in range(10):
        voting.vote()
    wait_until_drained(worker, box)
    assert worker.status().online

    # A voter checks in, then the office goes away: they can still cast (their voted mark waits).
    pending_voter = voting.next_voter
    office.server.stop()
    for _ in range(12):
        voting.vote()  # offline: provisional ballots
    time.sleep(0.5)
    assert not worker.status().online
    assert box.counts().unsent_outbox > 0

    # The kiosk restarts while still offline.
    worker.stop()
    box.close()
    box = BallotBox.open(db, kiosk_signer, min_batch=4)
    worker = make_worker(box, client)
    worker.start()
    voting.box = box
    for _ in range(5):
        voting.vote()
    backlog = box.counts()
    assert backlog.provisional == 17 and backlog.unsent_outbox >= 17

    # The office comes back (a lost acknowledgement on the first batch, for good measure).
    office.state.lose_next_acks = 1
    office.server.start()
    for _ in range(9):
        voting.vote()
    wait_until_drained(worker, box)
    worker.stop()
    client.close()
    del pending_voter

    state = office.state
    assert set(state.ballots) == set(voting.regular)  # every regular ballot, once
    assert state.duplicate_batches >= 1  # ... although one batch was delivered twice
    assert set(state.provisional) == set(box_envelopes(box))
    assert {p.ballot.ballot_id for p in state.provisional.values()} == set(voting.provisional)
    assert len(state.voted) == len(voting.regular)
    assert max(state.audit[KIOSK_ID]) == box.audit_head()[0]
    assert batches_sent_in_outbox_order(box, state.batch_order)


def box_envelopes(box: BallotBox) -> list[str]:
    import sqlite3

    con = sqlite3.connect(str(box._engine.url.database))
    keys = [k for (k,) in con.execute("SELECT idempotency_key FROM outbox WHERE kind = 'provisional'")]
    con.close()
    return keys


def batches_sent_in_outbox_order(box: BallotBox, received: list[str]) -> bool:
    import sqlite3

    con = sqlite3.connect(str(box._engine.url.database))
    queued = [k for (k,) in con.execute("SELECT idempotency_key FROM outbox WHERE kind = 'batch' ORDER BY seq")]
    con.close()
    return queued == received
