"""Ballot verification on other machines, through a job queue in the office's PostgreSQL (procrastinate).

Why a queue. The proof check is the office's dominant cost (pure CPU). With ``[ingest] queue = true`` an office
instance does no proof checking itself: it cuts a batch into chunks, defers one procrastinate job per chunk on
the queue ``sanduq-verify`` and waits for their results; any number of ``python -m central worker`` processes,
on any machine that reaches the database, take the jobs (procrastinate's ``SELECT ... FOR UPDATE SKIP LOCKED``:
each job goes to one worker), check the ballots with ``central.crypto.check_ballot`` and write the outcome into
``sanduq_check_result`` under the job's key. The instance reads the outcomes, deletes them, and runs the batch's
database transaction itself, as with an in-process pool.

Exactly-once does not rest on the queue. A check is a pure function of the ballot, so running a job twice is
harmless, and a job that never finishes (its worker was killed) only makes the instance give up after
``[ingest] queue_timeout`` seconds: the submission is answered 503 (``CheckerUnavailable``), nothing of the
batch is stored, and the kiosk sends the same batch again (it keeps it until a receipt; the batch's idempotency
key and chain head make a second delivery a no-op). An instance killed while it waits leaves a job and a result
row nobody reads: harmless, removed by ``purge_results`` (the worker runs it every minute).

What a worker may do. A worker decides whether a ballot's proofs hold. A dishonest worker could call a bad
ballot good: the office then stores it, and the published record fails verification (every proof is re-checked
by ``election.verify``), so the cheat is detected, not prevented; run workers on machines the office trusts as
much as itself. A worker never sees a voter: jobs hold encrypted ballots and kiosk ids, as batches do.

The result format is ``central.jobs_codec``'s.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Sequence
from typing import Any

import procrastinate
import psycopg
from sqlalchemy.engine import make_url

from central.checker import (
    BallotRejected,
    CheckedBallot,
    CheckerUnavailable,
    CheckRequest,
    ContestSum,
    PendingChecks,
    sum_ballots,
)
from central.crypto import ElectionChecker, check_ballot
from central.jobs_codec import decode_outcome, decode_sum, encode_outcome, encode_sum
from election.context import ElectionContext
from election.manifest import Manifest

__all__ = [  # the result format's functions are re-exported: callers read them as ``jobs.encode_outcome`` ...
    "CHUNK_MAX",
    "QUEUE",
    "RESULT_TABLE",
    "TASK",
    "QueueChecker",
    "QueueError",
    "apply_schema",
    "conninfo",
    "decode_outcome",
    "decode_sum",
    "encode_outcome",
    "encode_sum",
    "make_app",
    "purge_results",
    "run_worker",
]

log = logging.getLogger(__name__)

QUEUE = "sanduq-verify"
TASK = "sanduq.verify_chunk"
RESULT_TABLE = "sanduq_check_result"
RESULT_DDL = f"""
CREATE UNLOGGED TABLE IF NOT EXISTS {RESULT_TABLE} (
    key text PRIMARY KEY,
    result jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)
"""
"""Unlogged: a result is recomputable and lives for milliseconds; after a database crash the table is empty and
the waiting instances time out (503, the kiosks resend)."""

CHUNK_MAX = 16


class QueueError(RuntimeError):
    """The job queue cannot be used (not PostgreSQL, schema missing); the message says what to do."""


def conninfo(database_url: str) -> str:
    """The libpq connection string of the office's SQLAlchemy URL (``postgresql+psycopg://...``)."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise QueueError("[ingest] queue needs the office's database to be PostgreSQL (SQLite verifies in-process)")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def make_app(database_url: str, *, sync: bool) -> procrastinate.App:
    """The procrastinate app of the verification queue (``sync``: the office's side, which only defers)."""
    info = conninfo(database_url)
    connector: procrastinate.BaseConnector
    if sync:
        connector = procrastinate.SyncPsycopgConnector(conninfo=info, min_size=1, max_size=4)
    else:
        connector = procrastinate.PsycopgConnector(conninfo=info, min_size=1, max_size=4)
    app = procrastinate.App(connector=connector)
    app.task(name=TASK, queue=QUEUE)(_verify_chunk)
    return app


def apply_schema(database_url: str) -> bool:
    """procrastinate's tables (once) and the result table; True if procrastinate's schema was created now."""
    info = conninfo(database_url)
    with psycopg.connect(info, autocommit=True) as con:
        present = con.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL").fetchone()
        created = False
        if not (present and present[0]):
            app = make_app(database_url, sync=True)
            with app.open():
                app.schema_manager.apply_schema()
            created = True
        con.execute(RESULT_DDL)
    return created


# ---- the worker side --------------------------------------------------------------------------------------

_election: tuple[ElectionContext, Manifest] | None = None
_results: psycopg.Connection[Any] | None = None
_results_info = ""


def _result_connection() -> psycopg.Connection[Any]:
    global _results  # noqa: PLW0603  (one connection per worker process, reopened after a failure)
    if _results is None or _results.closed:
        _results = psycopg.connect(_results_info, autocommit=True)
    return _results


def _store(key: str, result: dict[str, Any]) -> None:
    from psycopg.types.json import Jsonb

    try:
        _result_connection().execute(
            f"INSERT INTO {RESULT_TABLE} (key, result) VALUES (%s, %s) ON CONFLICT (key) DO NOTHING",  # noqa: S608
            (key, Jsonb(result)),
        )
    except psycopg.OperationalError:
        global _results  # noqa: PLW0603
        _results = None
        raise


def _verify_chunk(key: str, base_hash: str, start: int, requests: list[dict[str, Any]]) -> None:
    """The job: check a chunk of ballots and store the outcomes under ``key``."""
    if _election is None:
        raise RuntimeError("the verification worker has no election loaded")
    context, manifest = _election
    if base_hash != context.base_hash.hex():
        _store(key, {"error": "the worker's election is not the office's (base hash differs)"})
        return
    checks = [
        CheckRequest(r["payload"], str(r["kiosk_id"]), str(r["genesis"]), bool(r["challenged"])) for r in requests
    ]
    outcomes: list[CheckedBallot | BallotRejected] = []
    for r in checks:
        try:
            outcomes.append(check_ballot(context, manifest, r))
        except BallotRejected as exc:
            outcomes.append(exc)
    cast = [
        (start + i, o)
        for i, (r, o) in enumerate(zip(checks, outcomes, strict=True))
        if isinstance(o, CheckedBallot) and not r.challenged
    ]
    sums = sum_ballots(cast) if len(cast) > 1 else []
    _store(key, {"outcomes": [encode_outcome(o) for o in outcomes], "sums": [encode_sum(s) for s in sums]})


def purge_results(database_url: str, older_than_s: float = 300.0) -> int:
    """Results nobody read (their instance died while waiting) and finished or stalled jobs, older than
    ``older_than_s``."""
    with psycopg.connect(conninfo(database_url), autocommit=True) as con:
        cur = con.execute(
            f"DELETE FROM {RESULT_TABLE} WHERE created_at < now() - make_interval(secs => %s)",  # noqa: S608
            (older_than_s,),
        )
        n = cur.rowcount
        con.execute(
            "DELETE FROM procrastinate_jobs WHERE queue_name = %s AND status IN ('doing', 'todo') AND id IN ("
            " SELECT job_id FROM procrastinate_events WHERE type = 'deferred'"
            " AND at < now() - make_interval(secs => %s))",
            (QUEUE, older_than_s),
        )
    return n


def run_worker(database_url: str, context: ElectionContext, manifest: Manifest, *, name: str = "verify") -> None:
    """Take verification jobs until SIGTERM/SIGINT (``python -m central worker``). One job at a time: the check is
    CPU-bound, so run one worker process per core."""
    global _election, _results_info  # noqa: PLW0603  (set once per worker process)
    _election = (context, manifest)
    _results_info = conninfo(database_url)
    app = make_app(database_url, sync=False)

    def purge_every_minute() -> None:
        while True:
            time.sleep(60)
            try:
                purge_results(database_url)
            except psycopg.Error as exc:
                log.warning("purging old verification results failed: %s", exc)

    threading.Thread(target=purge_every_minute, daemon=True, name="purge").start()
    app.run_worker(
        queues=[QUEUE],
        concurrency=1,
        name=name,
        delete_jobs="always",
        fetch_job_polling_interval=1.0,
        update_heartbeat_interval=2.0,
        stalled_worker_timeout=10.0,
    )


# ---- the office side ---------------------------------------------------------------------------------------


class _Queued:
    """Jobs of one batch, waited for in the results table."""

    def __init__(self, checker: QueueChecker, keys: list[str], deadline: float) -> None:
        self._checker, self._keys, self._deadline = checker, keys, deadline
        self._sums: list[ContestSum] = []

    def outcomes(self) -> list[CheckedBallot | BallotRejected]:
        found: dict[str, Any] = {}
        delay = 0.002
        try:
            with psycopg.connect(self._checker.conninfo, autocommit=True) as con:
                while len(found) < len(self._keys):
                    missing = [k for k in self._keys if k not in found]
                    rows = con.execute(
                        f"DELETE FROM {RESULT_TABLE} WHERE key = ANY(%s) RETURNING key, result",  # noqa: S608
                        (missing,),
                    ).fetchall()
                    found.update({str(k): v for k, v in rows})
                    if len(found) == len(self._keys):
                        break
                    if time.monotonic() > self._deadline:
                        raise CheckerUnavailable("no verification worker answered in time; retry the submission")
                    time.sleep(delay)
                    delay = min(0.02, delay * 1.5)
        except psycopg.Error as exc:
            raise CheckerUnavailable(f"the verification queue is unreachable ({type(exc).__name__})") from None
        out: list[CheckedBallot | BallotRejected] = []
        try:
            for k in self._keys:
                result = found[k]
                if "error" in result:
                    raise CheckerUnavailable(f"verification worker: {result['error']}")
                out.extend(decode_outcome(o) for o in result["outcomes"])
                self._sums.extend(decode_sum(s) for s in result["sums"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckerUnavailable(f"a verification worker's answer is malformed ({exc})") from None
        return out

    def cancel(self) -> None:
        self._keys = []

    def sums(self) -> list[ContestSum]:
        return self._sums


class QueueChecker(ElectionChecker):
    """``BallotChecker`` whose proof checks run in ``python -m central worker`` processes through the queue; the
    tally sums and chain codes stay in the office (``ElectionChecker``'s). Every batch goes through the queue, a
    batch of one ballot too. ``check`` (one ballot, outside a batch: the chain's links through provisional envelopes,
    ``central.ingest.links.provisional_links``) stays inline: rare, and a queue outage must not fail it."""

    def __init__(self, context: ElectionContext, manifest: Manifest, database_url: str, *, timeout: float) -> None:
        super().__init__(context, manifest, workers=0)
        self.conninfo = conninfo(database_url)
        self.timeout = timeout
        self._app = make_app(database_url, sync=True)
        self._open = False
        self._app_lock = threading.Lock()

    def _deferrer(self) -> procrastinate.App:
        with self._app_lock:
            if not self._open:
                self._app.open()
                self._open = True
        return self._app

    def check_many(self, requests: Sequence[CheckRequest]) -> list[CheckedBallot | BallotRejected]:
        return self.submit_many(requests).outcomes()

    def submit_many(self, requests: Sequence[CheckRequest]) -> PendingChecks:
        size = max(1, min(CHUNK_MAX, -(-len(requests) // 8)))
        keys: list[str] = []
        base = self.context.base_hash.hex()
        try:
            app = self._deferrer()
            task = app.tasks[TASK]
            for i in range(0, len(requests), size):
                key = uuid.uuid4().hex
                chunk = [
                    {
                        "payload": r.payload,
                        "kiosk_id": r.kiosk_id,
                        "genesis": r.genesis,
                        "challenged": r.challenged,
                    }
                    for r in requests[i : i + size]
                ]
                task.defer(key=key, base_hash=base, start=i, requests=chunk)
                keys.append(key)
        except (psycopg.Error, procrastinate.exceptions.ProcrastinateException) as exc:
            raise CheckerUnavailable(f"the verification queue is unreachable ({type(exc).__name__})") from None
        return _Queued(self, keys, time.monotonic() + self.timeout)

    def close(self) -> None:
        with self._app_lock:
            if self._open:
                self._app.close()
                self._open = False
        super().close()
