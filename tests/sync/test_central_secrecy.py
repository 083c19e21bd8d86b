"""The central office's secrecy duty (docs/sync-protocol.md, "Secrecy", point 3), checked on the REAL office
(``python -m central serve`` on PostgreSQL) after a voting run through the real kiosk path.

The confirmation-code chain puts each kiosk's ballots in cast order, publicly. So the office must not keep the
order of check-ins per kiosk: no kiosk id in the poll book beyond the lock's life, no precise check-in or voted
time, no request log naming the check-in path with the client, and no finer order of voters than the kiosk's
groups of voted marks. Each duty is one test; a duty the office does not meet yet is marked ``xfail(strict)``
naming the file, table and column, so the test turns red (XPASS) as soon as central/ is fixed and the mark
must go.

A table belongs to the poll book here when one of its rows holds a voter-side value: a civil number, a
check-in token or its SHA-256, or a check-in request's idempotency key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import MetaData, select, text

from central.config import load_config
from central.models import Voter, VoterState
from devtools.real_office import CENTRE_ID, KIOSK_ID, CentralOffice, RealElection, chained, roll
from kiosk.polls import PollsAction
from sync.client import SyncClient
from sync.protocol import CheckinRequest, ReleaseReason
from tests.ballot_box.kit import CHAIR
from tests.sync.worker_kit import make_worker

FIRST_VOTER = 93_000_000
VOTERS = 40
GROUP = 10
BOUND = 0.6
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?")


@dataclass
class Run:
    office: CentralOffice
    order: list[str]  # civil numbers of the voters who cast, in cast order
    released: str
    markers: set[str]  # voter-side values the office was given
    tables: dict[str, list[dict[str, Any]]]
    xmin: dict[str, int]
    log: str


@pytest.fixture(scope="module")
def run(real_election: RealElection, pg_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    work = tmp_path_factory.mktemp("central")
    office = CentralOffice(real_election, pg_database, work, workers=0)
    office.initialise(roll(VOTERS + 1, FIRST_VOTER))
    office.start()
    box = real_election.open_kiosk(work / "kiosk.db", min_batch=GROUP)
    client = SyncClient(office.url, real_election.tls(), read_timeout=30)
    worker = make_worker(box, client, window=3600, mark_group=GROUP)
    order, markers = [], set()
    for i in range(VOTERS + 1):
        civil = str(FIRST_VOTER + i)
        key = secrets.token_hex(16)
        answer = client.checkin(
            CheckinRequest(kiosk_id=KIOSK_ID, centre_id=CENTRE_ID, civil_number=civil, idempotency_key=key)
        )
        assert answer.checkin_token is not None and answer.ballot_style_id is not None
        token = answer.checkin_token
        markers |= {civil, key, token, hashlib.sha256(token.encode()).hexdigest()}
        box.record_checkin(token, answer.ballot_style_id)
        if i == VOTERS // 2:
            box.release_checkin(token, ReleaseReason.CARD_REMOVED)  # a voter who left without voting
        else:
            box.cast(token, chained(box, real_election.encrypt()))
            order.append(civil)
        assert worker.run_once()
    box.apply(PollsAction.CLOSE, CHAIR)
    assert worker.run_once()
    client.close()
    box.close()
    office.stop(kill=False)  # flushes the office's log
    tables: dict[str, list[dict[str, Any]]] = {}
    meta = MetaData()
    meta.reflect(office.db.engine)
    with office.db.transaction() as s:
        for name, table in meta.tables.items():
            tables[name] = [dict(r._mapping) for r in s.execute(select(table))]
        xmin = {c: int(x) for c, x in s.execute(text("SELECT civil_number, xmin::text FROM voters"))}
    yield Run(office, order, str(FIRST_VOTER + VOTERS // 2), markers, tables, xmin, office.log_path.read_text())
    office.close()


def as_text(value: Any) -> str:
    return json.dumps(value, default=str) if isinstance(value, dict | list) else str(value)


def poll_book_tables(r: Run) -> dict[str, list[dict[str, Any]]]:
    def voter_side(rows: list[dict[str, Any]]) -> bool:
        return any(m in as_text(v) for row in rows for v in row.values() for m in r.markers)

    return {name: rows for name, rows in r.tables.items() if voter_side(rows)}


def test_the_voting_run_reached_the_office(run: Run) -> None:
    voters = {row["civil_number"]: row for row in run.tables["voters"]}
    assert sum(1 for row in voters.values() if row["state"] == VoterState.VOTED.value) == VOTERS
    assert voters[run.released]["state"] == VoterState.NOT_VOTED.value
    assert "voters" in poll_book_tables(run)


def test_voter_rows_keep_no_kiosk_token_or_time_once_the_lock_ends(run: Run) -> None:
    for row in run.tables["voters"]:
        assert (row["lock_kiosk"], row["lock_token"], row["lock_expires_at"]) == (None, None, None)
    assert {c.name for c in Voter.__table__.columns} >= {"lock_kiosk", "lock_token", "lock_expires_at"}


def test_no_poll_book_record_names_the_kiosk_after_the_lock(run: Run) -> None:
    found = sorted(
        f"{name}.{column}"
        for name, rows in poll_book_tables(run).items()
        for row in rows
        for column, value in row.items()
        if KIOSK_ID in as_text(value)
    )
    assert not found, f"poll-book records naming kiosk {KIOSK_ID} after every lock ended: {sorted(set(found))}"


def test_no_poll_book_record_keeps_a_precise_time(run: Run) -> None:
    bucket = load_config(run.office.config_path).turnout_bucket_minutes

    def precise(value: Any) -> bool:
        if isinstance(value, dt.datetime):
            return bool(value.second or value.microsecond or value.minute % bucket)
        return any(precise(dt.datetime.fromisoformat(m.group(0))) for m in ISO_TIME.finditer(as_text(value)))

    found = sorted(
        {
            f"{name}.{column}"
            for name, rows in poll_book_tables(run).items()
            for row in rows
            for column, value in row.items()
            if value is not None and precise(value)
        }
    )
    assert not found, f"poll-book columns holding times finer than the {bucket}-minute turnout bucket: {found}"


def test_the_office_logs_no_check_in_request_with_its_client(run: Run) -> None:
    lines = [line for line in run.log.splitlines() if "/v1/checkins" in line]
    assert not lines, f"{len(lines)} request-log lines name the check-in path, e.g. {lines[:2]}"


def test_the_order_of_voter_rows_shows_no_more_than_the_kiosks_groups_of_voted_marks(run: Run) -> None:
    """PostgreSQL stamps each updated row with its transaction id (xmin), so the voters table keeps the order
    in which voted marks arrived. The kiosk sends them in shuffled groups: within a group, that order must
    say nothing about the order voters came in (Pearson of positions pooled over groups, as for batches)."""
    assert len(run.order) == VOTERS
    position: list[int] = []
    by_arrival: list[int] = []
    for start in range(0, VOTERS, GROUP):
        group = run.order[start : start + GROUP]
        arrival = sorted(group, key=lambda c: run.xmin[c])
        position += list(range(len(group)))
        by_arrival += [arrival.index(c) for c in group]
    assert abs(pearson(position, by_arrival)) < BOUND
    overall = sorted(run.order, key=lambda c: run.xmin[c])
    assert overall != run.order  # a mark per cast, sent at once, would give exactly the cast order


def pearson(xs: list[int], ys: list[int]) -> float:
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    cov = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    vx = sum((x - mx) ** 2 for x in xs) ** 0.5
    vy = sum((y - my) ** 2 for y in ys) ** 0.5
    return float(cov / (vx * vy))
