"""Ballot box and sync benchmarks: `.venv/bin/python -m bench.bench_ballot_box`.

1. Cast latency: ``BallotBox.cast`` of a real encrypted ballot of the small demo election (encryption done
   beforehand, not timed): one SQLite transaction (ballot row, check-in voted, chain head, signed audit entry +
   signed head) in WAL mode with synchronous=FULL. Peer: a plain sqlite3 INSERT + COMMIT of the same bytes with
   the same pragmas (the durability floor).
2. Sync throughput against the REAL central office: ``python -m central serve`` (uvicorn, mutual TLS, ballots
   verified by its process pool, PostgreSQL from devtools/pg.py) over loopback; sealed, signed batches of 100 real
   ballots posted by the sync worker; every ballot is checked accepted in the office's database afterwards.
   Peer: the same bodies posted by the same HTTPS client to an endpoint that only reads the body (transport
   floor).

Writes out/bench/ballot_box.json.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from central.crypto import default_workers
from devtools.pg import PostgresServer
from devtools.real_office import (
    KIOSK_ID,
    STYLE,
    CentralOffice,
    RealElection,
    accepted_ids,
    build_election,
    central_view,
    chained,
)
from devtools.tls_server import TlsServer
from election.ballot import EncryptedBallot
from kiosk.ballot_box import BallotBox
from sync.client import SyncClient
from sync.worker import SyncWorker, WorkerConfig

OUT = Path("out/bench/ballot_box.json")
CASTS = 300
SYNC_BALLOTS = 1000
BATCH = 100


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def cast_all(box: BallotBox, ballots: list[EncryptedBallot], *, seal: bool = False) -> list[float]:
    """Cast each ballot (timed); ``seal``: seal full batches as the sync worker does (not timed)."""
    times = []
    for ballot in ballots:
        token = secrets.token_urlsafe(24)
        box.record_checkin(token, STYLE)
        stored = chained(box, ballot)
        start = time.perf_counter()
        box.cast(token, stored)
        times.append(time.perf_counter() - start)
        if seal:
            box.seal_batches()
    return times


def bench_sqlite_floor(tmp: Path, body: bytes, n: int) -> list[float]:
    con = sqlite3.connect(tmp / "floor.db", isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("CREATE TABLE b (id TEXT PRIMARY KEY, body BLOB) WITHOUT ROWID")
    times = []
    for _ in range(n):
        start = time.perf_counter()
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT INTO b VALUES (?, ?)", (secrets.token_hex(16), body))
        con.execute("COMMIT")
        times.append(time.perf_counter() - start)
    con.close()
    return times


def echo_app() -> FastAPI:
    app = FastAPI()

    @app.post("/v1/batches")
    async def batches(request: Request) -> Response:
        await request.body()
        return Response(b"{}", media_type="application/json")

    return app


def row(
    what: str, median: float, unit: str, p99: float | None, rate: float | None, peer: str, peer_median: float
) -> dict[str, Any]:
    return {
        "what": what,
        "median": median,
        "unit": unit,
        "p99": p99,
        "rate_per_s": rate,
        "peer": peer,
        "peer_median": peer_median,
        "ratio": median / peer_median,
        "target": None,
        "meets_target": None,
    }


def bench_cast(tmp: Path, election: RealElection) -> dict[str, Any]:
    ballots = [election.encrypt() for _ in range(CASTS)]
    box = election.open_kiosk(tmp / "cast.db", min_batch=CASTS + 1)
    times = cast_all(box, ballots)
    box.close()
    body = json.dumps(ballots[0].to_dict()).encode()
    floor = bench_sqlite_floor(tmp, body, CASTS)
    median, floor_median = statistics.median(times), statistics.median(floor)
    return row(
        f"cast: store + fsync + signed audit entry ({len(body)} B ballot)",
        median * 1000,
        "ms",
        pct(times, 0.99) * 1000,
        1 / median,
        f"plain SQLite INSERT+COMMIT, WAL, synchronous=FULL, same bytes (p99 {pct(floor, 0.99) * 1000:.2f} ms)",
        floor_median * 1000,
    )


def bench_sync(tmp: Path, election: RealElection, pg: PostgresServer) -> tuple[dict[str, Any], int]:
    ballots = [election.encrypt() for _ in range(SYNC_BALLOTS)]
    box = election.open_kiosk(tmp / "sync.db", min_batch=BATCH)
    cast_all(box, ballots, seal=True)
    bodies = [item.body for item in box.unsent_outbox(limit=1000)]
    workers = default_workers()
    office = CentralOffice(election, pg.create_database(), tmp / "central", workers=workers)
    office.initialise([])
    office.start()
    tls = election.tls()
    try:
        client = SyncClient(office.url, tls, read_timeout=300)
        worker = SyncWorker(box, client, WorkerConfig("bench", "0" * 64), monotonic=time.monotonic, wall_clock=_now)
        start = time.perf_counter()
        worker._send_outbox()
        sync_seconds = time.perf_counter() - start
        client.close()
        held = accepted_ids(central_view(office.db), KIOSK_ID)
        assert held == {b.ballot_id for b in ballots}, "the office did not accept every ballot"
    finally:
        office.close()
    pki = election.pki
    echo = TlsServer(
        echo_app(), cert=pki.central_server.cert_path, key=pki.central_server.key_path, client_ca=pki.kiosk_ca.cert_path
    )
    echo.start()
    client = SyncClient(echo.url, tls)
    start = time.perf_counter()
    for body in bodies:
        client._session.post(echo.url + "/v1/batches", data=body, timeout=10).raise_for_status()
    floor_seconds = time.perf_counter() - start
    client.close()
    echo.stop()
    box.close()
    return (
        row(
            f"sync to the real office: batches of {BATCH}, proofs verified, PostgreSQL ({SYNC_BALLOTS} ballots)",
            sync_seconds / SYNC_BALLOTS * 1000,
            "ms per ballot",
            None,
            SYNC_BALLOTS / sync_seconds,
            "same bodies POSTed over the same mTLS to a read-only endpoint (transport floor)",
            floor_seconds / SYNC_BALLOTS * 1000,
        ),
        workers,
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def main() -> None:
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as tmp_name, PostgresServer.started() as pg:
        tmp = Path(tmp_name)
        election = build_election(tmp / "election")
        rows.append(bench_cast(tmp, election))
        sync_row, workers = bench_sync(tmp, election, pg)
        rows.append(sync_row)
    notes.append(
        "Cast excludes encryption (each ballot is encrypted beforehand; the ballot box treats it as opaque); "
        "ballots of the small demo election's style BS-MU-01 (one contest, three candidates)."
    )
    notes.append(
        f"Sync: python -m central serve (uvicorn + central.tls mutual TLS, {workers} verification processes, "
        "PostgreSQL with fsync off as in devtools/pg.py); includes the office's first-use start of its worker "
        "processes; every ballot checked accepted in the office's database afterwards."
    )
    notes.append("One run on a shared, noisy 2-core machine: compare the ratios, not the absolute figures.")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"area": "ballot_box", "rows": rows, "notes": notes}, indent=2), encoding="utf-8")
    print(f"{'what':<96} {'median':>8} {'p99':>8} {'rate/s':>8} {'peer':>8} {'ratio':>7}")
    for r in rows:
        p99 = f"{r['p99']:.2f}" if r["p99"] is not None else "-"
        figures = f"{r['median']:>8.3f} {p99:>8} {r['rate_per_s']:>8.1f} {r['peer_median']:>8.3f} {r['ratio']:>7.2f}"
        print(f"{r['what']:<96} {figures}")
    print(f"({rows[0]['unit']} / {rows[1]['unit']}); wrote {OUT}")


if __name__ == "__main__":
    main()
