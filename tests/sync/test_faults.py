"""Sync faults shown to staff: ballots the REAL central office refuses in a delivered batch raise a fault that
lasts until staff acknowledge it (across later successful rounds and a kiosk restart); a queued item the
office answers 4xx raises a fault that ends when that item is delivered."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from central.models import BallotStatus
from devtools.real_office import (
    CENTRE_ID,
    KIOSK_ID,
    CentralOffice,
    RealElection,
    central_view,
    chained,
    roll,
)
from election.ballot import EncryptedBallot
from kiosk.ballot_box import BallotBox
from sync.client import SyncClient, TlsIdentity
from sync.protocol import CheckinRequest
from sync.signing import Signer
from tests.ballot_box.kit import CHAIR, cast_one, open_box
from tests.sync.conftest import TestDoubleOffice
from tests.sync.worker_kit import make_worker

FIRST_VOTER = 92_000_000


@pytest.fixture(scope="module")
def central(
    real_election: RealElection, pg_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CentralOffice]:
    office = CentralOffice(real_election, pg_database, tmp_path_factory.mktemp("central"), workers=0)
    office.initialise(roll(20, FIRST_VOTER))
    office.start()
    yield office
    office.close()


def check_in(client: SyncClient, box: BallotBox, civil: int) -> str:
    answer = client.checkin(
        CheckinRequest(
            kiosk_id=KIOSK_ID, centre_id=CENTRE_ID, civil_number=str(civil), idempotency_key=secrets.token_hex(16)
        )
    )
    assert answer.checkin_token is not None and answer.ballot_style_id is not None
    box.record_checkin(answer.checkin_token, answer.ballot_style_id)
    return answer.checkin_token


def broken(election: RealElection) -> EncryptedBallot:
    """A ballot whose proofs do not verify (its id was changed after encryption: the proofs are bound to the
    original id), as a kiosk with a faulty encryption would produce it."""
    data = election.encrypt().to_dict()
    data["ballot_id"] = secrets.token_hex(16)
    return EncryptedBallot.from_dict(data)


@pytest.mark.integration
def test_ballots_refused_in_a_delivered_batch_stay_a_fault_until_staff_acknowledge(
    tmp_path: Path, real_election: RealElection, central: CentralOffice
) -> None:
    db = tmp_path / "kiosk.db"
    box = real_election.open_kiosk(db, min_batch=2)
    client = SyncClient(central.url, real_election.tls(), read_timeout=20)
    worker = make_worker(box, client)
    box.cast(check_in(client, box, FIRST_VOTER), chained(box, real_election.encrypt()))
    bad = chained(box, broken(real_election))
    box.cast(check_in(client, box, FIRST_VOTER + 1), bad)
    assert worker.run_once()  # delivered: the receipt says 1 refused; nothing is left to resend
    assert "refused 1 ballot" in (worker.status().fault or "")

    # A later round that delivers other ballots successfully does not clear it.
    for civil in (FIRST_VOTER + 2, FIRST_VOTER + 3):
        box.cast(check_in(client, box, civil), chained(box, real_election.encrypt()))
    assert worker.run_once()
    assert worker.status().online and worker.status().fault is not None

    # Nor does a kiosk restart.
    box.close()
    box = BallotBox.open(db, real_election.signer(), min_batch=2)
    worker = make_worker(box, client)
    assert worker.run_once()
    assert "refused 1 ballot" in (worker.status().fault or "")

    # Staff acknowledge it (logged with their card): cleared, and it stays cleared after another restart.
    worker.acknowledge_faults(CHAIR)
    assert worker.status().fault is None
    assert worker.run_once() and worker.status().fault is None
    box.close()
    box = BallotBox.open(db, real_election.signer(), min_batch=2)
    worker = make_worker(box, client)
    assert worker.run_once() and worker.status().fault is None
    client.close()

    view = central_view(central.db)
    assert view.ballots[bad.ballot_id][1] is BallotStatus.REFUSED  # refused at ingest
    assert sum(1 for _, st, _ in view.ballots.values() if st is BallotStatus.ACCEPTED) == 3
    kinds = [r.kind for r in box.audit_entries_after(0, 1000)]
    assert kinds.count("sync_refused") == 1 and kinds.count("sync_faults_acknowledged") == 1
    box.close()


@pytest.mark.integration
def test_a_refused_queued_batch_is_a_fault_until_it_is_delivered(
    tmp_path: Path, test_double_office: TestDoubleOffice, tls: TlsIdentity, kiosk_signer: Signer
) -> None:
    """Client behaviour against the TEST DOUBLE (it can answer 4xx on demand)."""
    box = open_box(tmp_path / "kiosk.db", kiosk_signer, min_batch=2)
    client = SyncClient(test_double_office.server.url, tls)
    worker = make_worker(box, client)
    for civil in (9_000_001, 9_000_002):
        answer = client.checkin(
            CheckinRequest(
                kiosk_id="K-001", centre_id="C-01", civil_number=str(civil), idempotency_key=secrets.token_hex(16)
            )
        )
        assert answer.checkin_token is not None
        cast_one(box, answer.checkin_token)
    test_double_office.state.refuse_next_batches = 1
    assert not worker.run_once()
    fault = worker.status().fault
    assert fault is not None and "refused a queued batch" in fault
    assert box.counts().unsent_outbox == 1  # kept, never dropped
    assert worker.run_once()  # the same batch, delivered this time
    assert worker.status().fault is None and box.counts().unsent_outbox == 0
    client.close()
    box.close()
