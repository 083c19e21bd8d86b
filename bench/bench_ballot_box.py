"""Ballot box and sync benchmarks: `.venv/bin/python -m bench.bench_ballot_box`.

1. Cast latency: ``BallotBox.cast`` of a real encrypted ballot's JSON (encryption done beforehand, not
   timed): one SQLite transaction (ballot row, check-in voted, chain head, signed audit entry + signed head)
   in WAL mode with synchronous=FULL. Peer: a plain sqlite3 INSERT + COMMIT of the same bytes with the same
   pragmas (the durability floor).
2. Sync throughput over loopback mutual TLS: sealed, signed batches of 100 ballots posted by the sync worker
   to the test double of the office (signature check + dedup). Peer: the same bodies posted by the same
   HTTPS client to an endpoint that only reads the body (transport floor).

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

from election.ballot import PlaintextBallot, encrypt_ballot
from election.manifest import BallotStyleId, CandidateId, ContestId
from election.sample import run_key_ceremony
from kiosk.ballot_box import BallotBox, BallotToStore
from kiosk.states import PollsAction, StaffCard, StaffRole
from sync.client import SyncClient, TlsIdentity
from sync.signing import Signer, load_cert_public_key
from sync.worker import SyncWorker, WorkerConfig
from tests.sync.fake_office import FakeOfficeState, create_fake_office
from tests.sync.tls_server import TlsServer
from tools.sample_record import SeededRandom, build_test_manifest
from tools.test_pki import generate

OUT = Path("out/bench/ballot_box.json")
CASTS = 300
SYNC_BALLOTS = 1000
KIOSK = "K-BENCH"
CHAIR = StaffCard("bench-chair", StaffRole.COMMITTEE_MEMBER, "c" * 64)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def sample_ballot() -> dict[str, Any]:
    manifest = build_test_manifest()
    context = run_key_ceremony(manifest.manifest_hash, 3, 2, SeededRandom(1))[0]
    plain = PlaintextBallot(BallotStyleId("style-W1"), {ContestId("shura-W1"): frozenset({CandidateId("W1-C1")})})
    return encrypt_ballot(context, manifest, plain, ballot_id="template", seed=b"\x01" * 32).to_dict()


def fake_code(i: int) -> str:
    return f"{i:064x}"


def bench_cast(
    tmp: Path, signer: Signer, template: dict[str, Any], n: int, min_batch: int
) -> tuple[BallotBox, list[float]]:
    box = BallotBox.create(
        tmp / "kiosk.db", signer, kiosk_id=KIOSK, centre_id="C-1", chain_genesis=fake_code(0), min_batch=min_batch
    )
    box.apply(PollsAction.OPEN, CHAIR)
    times = []
    for i in range(n):
        token = secrets.token_urlsafe(24)
        box.record_checkin(token, "style-W1")
        ballot_id = secrets.token_hex(16)
        ballot = BallotToStore(
            ballot_id, "style-W1", fake_code(i + 1), fake_code(i), template | {"ballot_id": ballot_id}
        )
        start = time.perf_counter()
        box.cast(token, ballot)
        times.append(time.perf_counter() - start)
    return box, times


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


def main() -> None:
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        pki = generate(tmp / "pki", [], [KIOSK], now=dt.datetime.now(dt.UTC))
        pair = pki.kiosks[KIOSK]
        signer = Signer.from_pem_file(pair.key_path)
        template = sample_ballot()
        body_size = len(json.dumps(template).encode())

        (tmp / "a").mkdir()
        first, cast_times = bench_cast(tmp / "a", signer, template, CASTS, 500)
        first.close()
        floor = bench_sqlite_floor(tmp, json.dumps(template).encode(), CASTS)
        cast_median, floor_median = statistics.median(cast_times), statistics.median(floor)
        rows.append(
            {
                "what": f"cast: store + fsync + signed audit entry ({body_size} B ballot)",
                "median": cast_median * 1000,
                "unit": "ms",
                "p99": pct(cast_times, 0.99) * 1000,
                "rate_per_s": 1 / cast_median,
                "peer": "plain SQLite INSERT+COMMIT, WAL, synchronous=FULL, same bytes",
                "peer_median": floor_median * 1000,
                "ratio": cast_median / floor_median,
                "target": None,
                "meets_target": None,
            }
        )

        # Sync throughput: cast SYNC_BALLOTS, seal into batches of 100, time the worker sending them.
        (tmp / "b").mkdir()
        box, _ = bench_cast(tmp / "b", signer, template, SYNC_BALLOTS, 100)
        box.seal_batches(force=True)
        bodies = [item.body for item in box.unsent_outbox(limit=1000)]
        state = FakeOfficeState(kiosk_keys={KIOSK: load_cert_public_key(pair.cert_path)}, roll={})
        tls = TlsIdentity(pair.cert_path, pair.key_path, pki.central_ca.cert_path)
        server_cert, server_key, client_ca = (
            pki.central_server.cert_path,
            pki.central_server.key_path,
            pki.kiosk_ca.cert_path,
        )
        office = TlsServer(create_fake_office(state), cert=server_cert, key=server_key, client_ca=client_ca)
        office.start()
        client = SyncClient(office.url, tls)
        worker = SyncWorker(
            box,
            client,
            WorkerConfig("bench", "0" * 64),
            monotonic=time.monotonic,
            wall_clock=lambda: dt.datetime.now(dt.UTC),
        )
        start = time.perf_counter()
        worker._send_outbox()
        sync_seconds = time.perf_counter() - start
        client.close()
        office.stop()
        assert len(state.ballots) == SYNC_BALLOTS

        echo = TlsServer(echo_app(), cert=server_cert, key=server_key, client_ca=client_ca)
        echo.start()
        client = SyncClient(echo.url, tls)
        start = time.perf_counter()
        for body in bodies:
            client._session.post(echo.url + "/v1/batches", data=body, timeout=10).raise_for_status()
        floor_seconds = time.perf_counter() - start
        client.close()
        echo.stop()
        rate = SYNC_BALLOTS / sync_seconds
        rows.append(
            {
                "what": f"sync: signed batches of 100 over loopback mTLS ({SYNC_BALLOTS} ballots)",
                "median": sync_seconds / SYNC_BALLOTS * 1000,
                "unit": "ms per ballot",
                "p99": None,
                "rate_per_s": rate,
                "peer": "same bodies POSTed to a read-only endpoint (transport floor)",
                "peer_median": floor_seconds / SYNC_BALLOTS * 1000,
                "ratio": sync_seconds / floor_seconds,
                "target": None,
                "meets_target": None,
            }
        )
        box.close()
    notes.append(
        "Cast excludes encryption (the ballot is encrypted once beforehand; the ballot box treats it as opaque)."
    )
    notes.append(
        "Sync goes to the test double of the office (tests/sync/fake_office.py): signature check + dedup in memory."
    )
    notes.append("One run on a shared, noisy machine: compare the ratios, not the absolute figures.")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"area": "ballot_box", "rows": rows, "notes": notes}, indent=2), encoding="utf-8")
    print(f"{'what':<70} {'median':>10} {'p99':>10} {'rate/s':>10} {'peer':>10} {'ratio':>7}")
    for r in rows:
        p99 = f"{r['p99']:.2f}" if r["p99"] is not None else "-"
        figures = (
            f"{r['median']:>10.3f} {p99:>10} {r['rate_per_s']:>10.0f} {r['peer_median']:>10.3f} {r['ratio']:>7.2f}"
        )
        print(f"{r['what']:<70} {figures}")
    print(f"({rows[0]['unit']} / {rows[1]['unit']}); wrote {OUT}")


if __name__ == "__main__":
    main()
