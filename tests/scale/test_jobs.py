"""The verification queue's edges (central/jobs.py) against a real PostgreSQL: what an instance answers when no
worker answers, when a worker belongs to another election or sends a malformed answer (a typed
``CheckerUnavailable``, which the kiosk route answers 503 so the kiosk resends; never a crash), and that a
worker's outcome read back is the outcome the in-process check gives."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.types.json import Jsonb

from central import jobs
from central.config import ConfigError, parse_config
from central.crypto import BallotRejected, CheckedBallot, CheckerUnavailable, CheckRequest, check_ballot, sum_ballots
from devtools.pg import PostgresServer
from devtools.real_office import KIOSK_ID, RealElection


@pytest.fixture
def queue(real_election: RealElection, pg_database: str) -> Iterator[jobs.QueueChecker]:
    jobs.apply_schema(pg_database)
    checker = jobs.QueueChecker(real_election.context, real_election.manifest, pg_database, timeout=1.0)
    yield checker
    checker.close()


def _requests(election: RealElection, n: int) -> list[CheckRequest]:
    return [CheckRequest(election.encrypt().to_dict(), KIOSK_ID, election.genesis()) for _ in range(n)]


def test_queue_with_sqlite_is_refused_when_the_configuration_is_read(tmp_path: Path) -> None:
    data = {"database": {"url": "sqlite:///office.db"}, "election": {"dir": "e"}, "ingest": {"queue": True}}
    with pytest.raises(ConfigError, match="PostgreSQL"):
        parse_config(data, base=tmp_path)


def test_no_worker_means_a_typed_refusal_after_the_timeout(
    real_election: RealElection, queue: jobs.QueueChecker
) -> None:
    started = time.monotonic()
    with pytest.raises(CheckerUnavailable, match="no verification worker answered"):
        queue.check_many(_requests(real_election, 3))
    assert time.monotonic() - started < 10


def _answer_every_job(database_url: str, result: dict[str, object]) -> None:
    with psycopg.connect(jobs.conninfo(database_url), autocommit=True) as con:
        keys = [
            r[0]
            for r in con.execute("SELECT args->>'key' FROM procrastinate_jobs WHERE queue_name = %s", (jobs.QUEUE,))
        ]
        for k in keys:
            con.execute(f"INSERT INTO {jobs.RESULT_TABLE} (key, result) VALUES (%s, %s)", (k, Jsonb(result)))


@pytest.mark.parametrize(
    ("result", "message"),
    [
        ({"error": "the worker's election is not the office's (base hash differs)"}, "base hash"),
        (
            {
                "outcomes": [
                    {
                        "ballot_id": "b",
                        "style_id": "s",
                        "contest_ids": [],
                        "code": None,
                        "ciphertexts": [{"contest_id": "c", "selections": [["x", "zz", "00"]], "blank": ["00", "00"]}],
                    }
                ],
                "sums": [],
            },
            "malformed",
        ),
        ({"outcomes": "nothing"}, "malformed"),
    ],
)
def test_a_bad_worker_answer_is_a_typed_refusal(
    real_election: RealElection, pg_database: str, queue: jobs.QueueChecker, result: dict[str, object], message: str
) -> None:
    with psycopg.connect(jobs.conninfo(pg_database), autocommit=True) as con:
        con.execute("DELETE FROM procrastinate_jobs")
    pending = queue.submit_many(_requests(real_election, 2))
    _answer_every_job(pg_database, result)
    with pytest.raises(CheckerUnavailable, match=message):
        pending.outcomes()


def test_a_workers_outcomes_and_sums_read_back_equal_the_in_process_check(real_election: RealElection) -> None:
    requests = _requests(real_election, 3)
    bad = dict(requests[2].payload)
    bad["contests"] = [*bad["contests"], bad["contests"][0]]  # a contest twice
    requests.append(CheckRequest(bad, KIOSK_ID, real_election.genesis()))
    outcomes: list[CheckedBallot | BallotRejected] = []
    for r in requests:
        try:
            outcomes.append(check_ballot(real_election.context, real_election.manifest, r))
        except BallotRejected as exc:
            outcomes.append(exc)
    assert isinstance(outcomes[-1], BallotRejected)
    back = [jobs.decode_outcome(jobs.encode_outcome(o)) for o in outcomes]
    assert back[:3] == outcomes[:3]
    assert isinstance(back[3], BallotRejected) and back[3].reason == outcomes[3].reason  # type: ignore[union-attr]
    sums = sum_ballots([(i, o) for i, o in enumerate(outcomes[:3]) if isinstance(o, CheckedBallot)])
    assert [jobs.decode_sum(jobs.encode_sum(s)) for s in sums] == sums


def test_the_purge_removes_results_and_jobs_nobody_waits_for(
    real_election: RealElection, pg_database: str, queue: jobs.QueueChecker
) -> None:
    queue.submit_many(_requests(real_election, 2))  # an instance that died right after deferring
    _answer_every_job(pg_database, {"outcomes": [], "sums": []})
    with psycopg.connect(jobs.conninfo(pg_database), autocommit=True) as con:
        jobs_before = con.execute("SELECT count(*) FROM procrastinate_jobs").fetchone()
        assert jobs_before is not None and jobs_before[0] >= 1
        assert jobs.purge_results(pg_database, older_than_s=3600) == 0  # young: kept
        assert jobs.purge_results(pg_database, older_than_s=0) >= 1
        left = con.execute(f"SELECT count(*) FROM {jobs.RESULT_TABLE}").fetchone()
        jobs_after = con.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE queue_name = %s", (jobs.QUEUE,)
        ).fetchone()
    assert left == (0,) and jobs_after == (0,)


def _config(tmp_path: Path, election: RealElection, url: str) -> Path:
    path = tmp_path / "central.toml"
    path.write_text(f'[database]\nurl = "{url}"\n[election]\ndir = "{election.election_dir}"\n', encoding="utf-8")
    return path


def test_the_queue_commands(
    tmp_path: Path, real_election: RealElection, pg_server: PostgresServer, capsys: pytest.CaptureFixture[str]
) -> None:
    from central.__main__ import main

    url = pg_server.create_database()
    assert main(["queue-schema", "--config", str(_config(tmp_path, real_election, url))]) == 0
    assert main(["queue-schema", "--config", str(_config(tmp_path, real_election, url))]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "verification queue: schema created",
        "verification queue: schema present",
    ]
    # A worker cannot take jobs from a SQLite office: a refusal in words, exit status 2, no traceback.
    assert main(["worker", "--config", str(_config(tmp_path, real_election, f"sqlite:///{tmp_path}/o.db"))]) == 2
    assert "refused: [ingest] queue needs the office's database to be PostgreSQL" in capsys.readouterr().out
