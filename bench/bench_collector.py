"""Vote collector benchmark: accepted ballots per second with full verification, and latency at a steady rate.

What is built: the national demo definition (63 wilayats, 843 candidates) with a remote-voting window, a real
2-of-3 key ceremony, the collector (collector.api over uvicorn, real TLS on loopback) in 2 forked worker
processes sharing one port (SO_REUSEPORT) on a real PostgreSQL 15 (devtools.pg), 10,000 registered credentials
(simulated voters, inserted in the database directly: registration with a card is not measured here), each
ballot a fresh national-size encryption (every style, each voter's own) signed by its credential. Full
verification per submission: the credential's Ed25519 signature, every point and proof of the ballot
(election.ballot.parse_and_verify_ballot), the sequence and idempotency rules, database transactions.

Rows: (1) accepted ballots/s, closed loop, 16 connections; (2) latency p50/p99 at a steady 50 ballots/s (open
loop: each request at its scheduled time, latency measured from that time). Peer: ``parse_and_verify_ballot``
alone in one process, same run (the ratio shows what the service costs on top of the proofs). The load generator
runs on the same 2 cores (its TLS and JSON work is counted against the collector); the machine is shared, so the
load average at the time is printed, and so is the CPU time per accepted ballot of each part (collector workers,
PostgreSQL's backends, the load generator; from /proc), which a loaded machine distorts far less than ballots/s.
A third measurement resends the closed loop's bodies (each answered from the database as a duplicate, no proof
checked): the cost of TLS, HTTP, strict JSON and one look-up.

Measured on a quiet machine (session 24, load average 0.5-1.3, three runs one after the other): accepted
173.9 / 149.6 / 193.6 ballots/s, median 173.9 (target 150: met); latency at a steady 50/s p50 12.5 ms, p99 59.8 ms
(medians); CPU per accepted ballot: collector workers 9.0 ms, PostgreSQL 0.9 ms, load generator 0.8 ms,
``parse_and_verify_ballot`` alone 6.0 ms. Session 5's figures (CPU 23.2 ms in the workers, 16/s) were taken at load
average 17-20, where CPU time itself is about 2.5 times slower; its conclusion that 150/s was out of reach on
2 cores did not hold (docs/remote-voting.md, section 9).

Run: .venv/bin/python -m bench.bench_collector [--quick]   (writes out/bench/collector.json)
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import multiprocessing
import os
import random
import socket
import ssl
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from collector.api import create_app
from collector.db import Database, migrate
from collector.election_data import ElectionData
from collector.limits import Limiter, RateLimits
from collector.models import CredentialRow
from collector.service import Collector
from devtools import test_pki
from devtools.demo_election.build import build_definition
from devtools.pg import PostgresServer
from devtools.sample_election import random_plaintext, run_key_ceremony
from election.ballot import encrypt_ballot, parse_and_verify_ballot
from election.canonical import canonical_json
from election.context import ElectionContext
from election.manifest import KioskId, Manifest
from election.remote_statement import BallotStatement, credential_hex
from election.roll import CivilNumber, RollEntry
from kiosk.card.trust import TrustAnchors

OUT = Path("out/bench/collector.json")
COLLECTOR_ID = "REMOTE-01"
VOTERS = 10_000
WORKERS = 2


def national_remote_manifest(now: dt.datetime) -> Manifest:
    data = build_definition("national", 2023).manifest.to_dict()
    data["kiosks"].append({"id": COLLECTOR_ID, "centre": data["centres"][0]["id"]})
    window = {"opens": (now - dt.timedelta(days=1)).isoformat(), "closes": (now + dt.timedelta(days=1)).isoformat()}
    data["remote_voting"] = {
        "collector_ids": [COLLECTOR_ID],
        "windows": [{"group": "abroad"} | window, {"group": "home"} | window],
    }
    return Manifest.from_dict(data)


_worker: dict[str, tuple[ElectionContext, Manifest]] = {}


def _init(context: dict[str, Any], manifest: dict[str, Any]) -> None:
    _worker["election"] = (ElectionContext.from_dict(context), Manifest.from_dict(manifest))


def _encrypt(job: tuple[str, str]) -> dict[str, Any]:
    context, manifest = _worker["election"]
    style, ballot_id = job
    plain = random_plaintext(manifest, style, os.urandom)  # type: ignore[arg-type]
    return encrypt_ballot(context, manifest, plain, ballot_id=ballot_id, seed=os.urandom(32)).to_dict()


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve_worker(collector: Collector, port: int, cert: Path, key: Path, ready: Any) -> None:
    collector.db.engine.dispose(close=False)  # a forked child opens its own connections
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    config = uvicorn.Config(
        create_app(collector),
        log_level="warning",
        lifespan="off",
        access_log=False,
        ssl_certfile=str(cert),
        ssl_keyfile=str(key),
    )
    server = uvicorn.Server(config)
    ready.set()
    server.run(sockets=[sock])


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (Linux /proc; a process gone counts 0)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")


def _postgres_pids(pg: PostgresServer) -> list[int]:
    """The postmaster and its children (the backends serving the collector's connections)."""
    postmaster = int((pg.data / "postmaster.pid").read_text().split()[0])
    pids = [postmaster]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                pids.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return pids


def _submission(manifest: Manifest, key: Ed25519PrivateKey, ballot: dict[str, Any]) -> bytes:
    statement = BallotStatement(
        str(manifest.election_id),
        COLLECTOR_ID,
        credential_hex(key),
        os.urandom(16).hex(),
        1,
        ballot["ballot_id"],
        hashlib.sha256(canonical_json(ballot)).hexdigest(),
    )
    body = {
        "submission_id": statement.submission_id,
        "credential": statement.credential,
        "sequence": 1,
        "ballot": ballot,
        "signature": statement.sign(key),
    }
    return canonical_json(body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer ballots (a smoke run)")
    args = parser.parse_args(argv)
    throughput_n, steady_seconds, rate = (120, 6, 50) if args.quick else (900, 30, 50)
    notes: list[str] = []
    rows: list[dict[str, Any]] = []
    load_before = os.getloadavg()[0]
    now = dt.datetime.now(dt.UTC)
    manifest = national_remote_manifest(now)
    context, _g, _s = run_key_ceremony(manifest.manifest_hash, 3, 2, os.urandom)
    tmp = Path(tempfile.mkdtemp(prefix="bench-collector-"))
    cards = test_pki.synthetic_voters(8, now)
    pki = test_pki.generate(tmp / "pki", cards, [], now=now)
    anchors = TrustAnchors(pki.trust_roots(), pki.intermediates(), pki.crls())
    rng = random.Random(18)
    styles = [s.id for s in manifest.ballot_styles]
    wilayat_of = {s.id: s.wilayat for s in manifest.ballot_styles}
    voters = [(f"{20_000_001 + i}", rng.choice(styles)) for i in range(VOTERS)]
    roll = {
        CivilNumber(c.civil_number): RollEntry(CivilNumber(c.civil_number), wilayat_of[styles[0]], True) for c in cards
    }
    keys = [Ed25519PrivateKey.generate() for _ in range(VOTERS)]

    total = throughput_n + steady_seconds * rate
    chosen = rng.sample(range(VOTERS), total)
    jobs = [(voters[i][1], os.urandom(16).hex()) for i in chosen]
    t = time.perf_counter()
    with ProcessPoolExecutor(
        2, mp_context=multiprocessing.get_context("fork"), initializer=_init,
        initargs=(context.to_dict(), manifest.to_dict()),
    ) as pool:  # fmt: skip
        ballots = list(pool.map(_encrypt, jobs, chunksize=16))
    notes.append(
        f"{total} national-size ballots encrypted with proofs in {time.perf_counter() - t:.1f} s (2 processes)"
    )
    bodies = [_submission(manifest, keys[i], b) for i, b in zip(chosen, ballots, strict=True)]

    # the peer: verification alone, one process
    sample = ballots[:60]
    t, cpu = time.perf_counter(), time.process_time()
    for b in sample:
        parse_and_verify_ballot(context, manifest, b)
    peer = (time.perf_counter() - t) / len(sample)
    peer_cpu = (time.process_time() - cpu) / len(sample)

    with PostgresServer.started() as pg:
        url = pg.create_database("collector_bench")
        migrate(url)
        data = ElectionData(manifest, context, anchors, roll, frozenset(), KioskId(COLLECTOR_ID))
        limits = RateLimits(client_rate=1e6, client_burst=1e6, voter_auths_per_hour=10**6)
        collector = Collector(Database(url), data, lambda: dt.datetime.now(dt.UTC), os.urandom, Limiter(limits))
        with collector.db.transaction() as s:
            s.add_all(
                CredentialRow(
                    credential=credential_hex(keys[i]), civil_number=voters[i][0], style_id=voters[i][1],
                    voter_group="home", registered_at=now,
                )
                for i in range(VOTERS)
            )  # fmt: skip
        collector.db.dispose()
        port = _port()
        ctx = multiprocessing.get_context("fork")
        events = [ctx.Event() for _ in range(WORKERS)]
        procs = [
            ctx.Process(
                target=_serve_worker,
                args=(collector, port, pki.central_server.cert_path, pki.central_server.key_path, e),
                daemon=True,
            )
            for e in events
        ]
        for p in procs:
            p.start()
        for e in events:
            e.wait(30)
        verify = ssl.create_default_context(cafile=str(pki.central_ca.cert_path))
        base = f"https://127.0.0.1:{port}"
        local = threading.local()

        def client() -> httpx.Client:
            c = getattr(local, "c", None)
            if c is None:
                c = local.c = httpx.Client(base_url=base, verify=verify, timeout=60)
            return c

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/nowhere", verify=verify, timeout=2).status_code == 404:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)

        def send(body: bytes) -> tuple[int, float]:
            t0 = time.perf_counter()
            r = client().post("/r1/ballots", content=body, headers={"content-type": "application/json"})
            return r.status_code, time.perf_counter() - t0

        try:
            # (1) closed loop throughput
            worker_pids = [p.pid for p in procs if p.pid is not None]
            # backends opened during the run did all their work in it: the set is taken again at the end
            cpu0 = (_cpu_seconds(worker_pids), _cpu_seconds(_postgres_pids(pg)), time.process_time())
            load_during = os.getloadavg()[0]
            t = time.perf_counter()
            with ThreadPoolExecutor(16) as ex:
                results = list(ex.map(send, bodies[:throughput_n]))
            wall = time.perf_counter() - t
            cpu1 = (_cpu_seconds(worker_pids), _cpu_seconds(_postgres_pids(pg)), time.process_time())
            accepted = sum(1 for code, _ in results if code == 200)
            if accepted != throughput_n:
                notes.append(f"throughput run: {throughput_n - accepted} submissions not accepted: {set(results)}")
            per_s = accepted / wall
            workers_ms, pg_ms, client_ms = ((b - a) / max(accepted, 1) * 1000 for a, b in zip(cpu0, cpu1, strict=True))
            notes.append(
                f"CPU per accepted ballot (closed loop): collector workers {workers_ms:.1f} ms, PostgreSQL {pg_ms:.1f} "
                f"ms, load generator {client_ms:.1f} ms; parse_and_verify_ballot alone {peer_cpu * 1000:.1f} ms. "
                f"Ceiling on 2 free cores with this load generator: {2000 / (workers_ms + pg_ms + client_ms):.0f}/s; "
                f"collector and PostgreSQL alone: {2000 / (workers_ms + pg_ms):.0f}/s "
                f"(load average {load_during:.1f} at the start of this row)"
            )
            # (1b) the same bodies again: each answered from the database (duplicate), no proof checked
            cpu0 = (_cpu_seconds(worker_pids), _cpu_seconds(_postgres_pids(pg)), time.process_time())
            t = time.perf_counter()
            with ThreadPoolExecutor(16) as ex:
                again = list(ex.map(send, bodies[:throughput_n]))
            resend_s = len(again) / (time.perf_counter() - t)
            cpu1 = (_cpu_seconds(worker_pids), _cpu_seconds(_postgres_pids(pg)), time.process_time())
            r_workers, r_pg, r_client = ((b - a) / len(again) * 1000 for a, b in zip(cpu0, cpu1, strict=True))
            if any(code != 200 for code, _ in again):
                notes.append(f"resend run: {sum(1 for c, _ in again if c != 200)} resends not answered 200")
            notes.append(
                f"resends (idempotent answers, no proof check): {resend_s:.0f}/s; CPU per resend: collector workers "
                f"{r_workers:.1f} ms, PostgreSQL {r_pg:.1f} ms, load generator {r_client:.1f} ms (the cost of TLS, "
                "HTTP, strict JSON, hashing and one database look-up)"
            )
            rows.append({
                "what": "accepted national-size ballots per second, full verification (2 workers, 16 connections)",
                "median": round(per_s, 1), "unit": "ballots/s", "p99": None, "rate_per_s": round(per_s, 1),
                "peer": "parse_and_verify_ballot alone, 1 process (ballots/s)", "peer_median": round(1 / peer, 1),
                "ratio": round(per_s * peer, 2), "target": ">= 150 ballots/s", "meets_target": per_s >= 150,
            })  # fmt: skip
            # (2) open loop at a steady rate
            steady = bodies[throughput_n:]
            latencies: list[float] = []
            codes: list[int] = []
            start = time.perf_counter() + 0.5
            lock = threading.Lock()

            def timed(i: int) -> None:
                scheduled = start + i / rate
                delay = scheduled - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                r = client().post("/r1/ballots", content=steady[i], headers={"content-type": "application/json"})
                with lock:
                    latencies.append(time.perf_counter() - scheduled)
                    codes.append(r.status_code)

            with ThreadPoolExecutor(64) as ex:
                list(ex.map(timed, range(len(steady))))
            latencies.sort()
            p50 = statistics.median(latencies) * 1000
            p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] * 1000
            rows.append({
                "what": f"submission latency at a steady {rate} ballots/s ({VOTERS} voters, {len(steady)} ballots)",
                "median": round(p50, 1), "unit": "ms", "p99": round(p99, 1), "rate_per_s": rate, "peer": None,
                "peer_median": None, "ratio": None, "target": None, "meets_target": None,
            })  # fmt: skip
            if any(c != 200 for c in codes):
                notes.append(f"steady run: {sum(1 for c in codes if c != 200)} not accepted")
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.join(10)

    notes.append(f"load average before {load_before:.1f}, after {os.getloadavg()[0]:.1f} (2 cores, shared)")
    notes.append("credentials inserted directly (10,000 simulated voters); registration with a card not in this run")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"area": "collector", "rows": rows, "notes": notes}, indent=2), encoding="utf-8")
    for row in rows:
        p99s = f" p99 {row['p99']}" if row["p99"] is not None else ""
        print(
            f"{row['what']}: {row['median']} {row['unit']}{p99s}"
            + (f" (peer {row['peer_median']})" if row["peer"] else "")
        )
    for note in notes:
        print("note:", note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
