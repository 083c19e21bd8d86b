"""Exactly-once with office instances and verification workers killed: HAProxy (TCP, TLS passed through) in front
of two ``python -m central serve`` instances on one PostgreSQL, two ``python -m central worker`` processes on the
job queue, two kiosks (real ballot boxes and the real sync client and worker, signed batches with chain heads)
voting while one instance and one worker are SIGKILLed. Afterwards the office's database holds every ballot once,
the poll book counts every voter once, each kiosk's chain head is the kiosk's own, and the encrypted tally is the
sum of exactly the cast ballots."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select

from central.jobs import conninfo
from central.models import Batch
from devtools.cluster import Cluster
from devtools.real_office import (
    CENTRE_ID,
    RealElection,
    accepted_ids,
    central_view,
    chained,
    expected_tally,
    roll,
    tally_of,
)
from kiosk.ballot_box import BallotBox
from sync.client import Backoff, SyncClient, with_retries
from sync.protocol import CheckinRequest, CheckinStatus
from sync.worker import SyncWorker
from tests.sync.worker_kit import make_worker, wait_until_drained

FIRST_VOTER = 93_000_000
KIOSKS = ("K-PC-001-1", "K-PC-001-2")


@pytest.fixture
def cluster(real_election: RealElection, pg_database: str, tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster.create(real_election, pg_database, tmp_path / "cluster")
    c.initialise(roll(100, FIRST_VOTER))
    try:
        c.start_instance()
        c.start_instance()
        c.start_worker()
        c.start_worker()
        c.start_haproxy()
        yield c
    finally:
        c.close()


def busy_jobs(cluster: Cluster) -> int:
    with psycopg.connect(conninfo(cluster.office.database_url), autocommit=True) as con:
        row = con.execute("SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing'").fetchone()
    return int(row[0]) if row else 0


def kill_when_both_workers_busy(cluster: Cluster) -> None:
    deadline = time.monotonic() + 45
    while busy_jobs(cluster) < 2:
        if time.monotonic() > deadline:
            raise AssertionError("the two workers were never busy at once")
        time.sleep(0.002)
    # the worker first, while its job is in flight (a chunk's check takes some tens of milliseconds; killing the
    # instance first left it time to finish on a loaded machine), then the instance
    cluster.kill(cluster.workers[0])
    cluster.jobs_in_flight_at_kill = busy_jobs(cluster)
    cluster.kill(next(iter(cluster.instances.values())))
    cluster.instances_killed, cluster.workers_killed = 1, 1


class Kiosk:
    def __init__(self, election: RealElection, kiosk_id: str, db: Path, url: str) -> None:
        self.election, self.kiosk_id = election, kiosk_id
        self.box: BallotBox = election.open_kiosk(db, kiosk_id, min_batch=3)
        self.client = SyncClient(url, election.tls(kiosk_id), connect_timeout=1.0, read_timeout=20)
        self.worker: SyncWorker = make_worker(self.box, self.client)
        self.worker.start()
        self.cast_ids: list[str] = []

    def vote(self, civil: str) -> None:
        request = CheckinRequest(
            kiosk_id=self.kiosk_id, centre_id=CENTRE_ID, civil_number=civil, idempotency_key=secrets.token_hex(16)
        )
        # The same request (same idempotency key) again when an instance died under it: one check-in, one token.
        answer = with_retries(lambda: self.client.checkin(request), attempts=40, backoff=Backoff(0.05, 0.3))
        assert answer.status is CheckinStatus.ELIGIBLE and answer.checkin_token and answer.ballot_style_id
        self.box.record_checkin(answer.checkin_token, answer.ballot_style_id)
        ballot = chained(self.box, self.election.encrypt(), self.kiosk_id)
        self.box.cast(answer.checkin_token, ballot)
        self.cast_ids.append(ballot.ballot_id)

    def close(self) -> None:
        self.worker.stop()
        self.client.close()
        self.box.close()


@pytest.mark.integration
def test_an_instance_and_a_worker_killed_mid_traffic_lose_and_double_nothing(
    tmp_path: Path, real_election: RealElection, cluster: Cluster
) -> None:
    kiosks = [Kiosk(real_election, k, tmp_path / f"{k}.db", cluster.url) for k in KIOSKS]
    try:
        voters = iter(roll(100, FIRST_VOTER))
        for _ in range(6):
            for k in kiosks:
                k.vote(next(voters))
        # While the kiosks go on voting: the moment both workers hold a job (so the one killed is in the middle of
        # checking ballots, and an instance is waiting for it), one instance and one worker get SIGKILL.
        killer = threading.Thread(target=kill_when_both_workers_busy, args=(cluster,), daemon=True)
        killer.start()
        for _ in range(10):
            for k in kiosks:
                k.vote(next(voters))
        killer.join(60)
        assert not killer.is_alive()
        assert cluster.instances_killed == 1 and cluster.workers_killed == 1
        for k in kiosks:
            wait_until_drained(k.worker, k.box, deadline_s=90)
    finally:
        for k in kiosks:
            k.worker.stop()

    view = central_view(cluster.office.db)
    cast_total = sum(len(k.cast_ids) for k in kiosks)
    assert cast_total == 32
    for k in kiosks:
        assert accepted_ids(view, k.kiosk_id) == set(k.cast_ids)  # every ballot held ...
        assert view.accepted_per_kiosk[k.kiosk_id] == len(k.cast_ids)  # ... once
        assert view.chain_heads[k.kiosk_id] == k.box.chain_head
    assert len(view.ballots) == cast_total  # nothing refused, nothing extra
    assert view.voted == cast_total  # the poll book is exact
    ballots = [b for k in kiosks for b in k.box.export_ballots()]
    assert tally_of(view) == expected_tally(real_election, ballots)  # the tally is the ballots' sum
    with cluster.office.db.transaction() as s:
        batches = s.scalar(select(func.count()).select_from(Batch))
    assert batches is not None and batches >= 2 * len(kiosks)  # each kiosk sent before and after the kills
    # the kill came while jobs were in flight (both workers held one a moment before): the killed worker's job is
    # never finished and its batch came again. Not asserted at the end of the test: the live worker's purge removes
    # unfinished jobs older than five minutes, which a loaded machine reaches.
    assert cluster.jobs_in_flight_at_kill >= 1
    for k in kiosks:
        k.client.close()
        k.box.close()
