"""Benchmark of the verifiable-ballot core against ElectionGuard 1.4.0, same contest shape, same run.

    .venv/bin/python -m bench.bench_ballots [--quick]

Ballot: one 15-candidate vote-for-2 contest and one 8-candidate vote-for-1 contest. Measures encryption with
proofs, verification, incremental tally (timed over a chunk of additions and reported per ballot), decryption
by 3 of 5 guardians (2 compensated, every share proof verified), and peak memory. The peer runs in
.venv-peer (create it with the `bench-peer` step: see docs/crypto.md). Writes out/bench/ballots.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from election.ballot import PlaintextBallot, encrypt_ballot, verify_ballot
from election.dlog import DiscreteLog
from election.manifest import BallotStyleId, CandidateId, ContestId, Manifest
from election.sample import decrypt_with, run_key_ceremony
from election.tally import TallyAccumulator

ROOT = Path(__file__).resolve().parent.parent
PEER_PYTHON = ROOT / ".venv-peer" / "bin" / "python"


def bench_manifest() -> Manifest:
    def text(s: str) -> dict[str, str]:
        return {"ar": s, "en": s}

    contests, style = [], []
    for cid, count, seats in (("A", 15, 2), ("B", 8, 1)):
        cands = [
            {"id": f"{cid}{i}", "ballot_number": i, "name": text(f"{cid}{i}"), "photo": "p.png",
             "audio": text("a.ogg"), "withdrawn": False}
            for i in range(1, count + 1)
        ]  # fmt: skip
        contests.append(
            {"id": cid, "wilayat": "W", "kind": "shura", "name": text(cid), "seats": seats, "candidates": cands}
        )
        style.append({"contest": cid, "candidates": [c["id"] for c in cands]})
    return Manifest.from_dict(
        {
            "format_version": 1, "election_id": "bench", "kind": "shura", "name": text("bench"), "date": "2027-01-01",
            "polls_open": "07:00", "polls_close": "19:00", "timezone": "Asia/Muscat",
            "governorates": [{"code": "G", "name": text("G")}],
            "wilayats": [{"code": "W", "governorate": "G", "name": text("W")}],
            "contests": contests,
            "centres": [{"id": "C", "name": text("C"), "wilayat": "W", "unified": True, "serves": []}],
            "kiosks": [{"id": "K", "centre": "C"}],
            "ballot_styles": [{"id": "S", "wilayat": "W", "contests": style}],
        }
    )  # fmt: skip


def row(
    what: str, samples: list[float], unit: str, target: float | None, peer: dict[str, Any] | None, key: str
) -> dict[str, Any]:
    ordered = sorted(samples)
    median = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if len(ordered) > 1 else None
    scale = {"ms": 1e-3, "s": 1.0}[unit]
    peer_median = peer.get(key) if peer else None
    return {
        "what": what,
        "median": round(median, 4),
        "unit": unit,
        "p99": None if p99 is None else round(p99, 4),
        "rate_per_s": round(1 / (median * scale), 1) if median else None,
        "peer": "electionguard 1.4.0" if peer_median is not None else None,
        "peer_median": None if peer_median is None else round(peer_median, 4),
        "ratio": None if peer_median is None else round(peer_median / median, 2),
        "target": None if target is None else f"<= {target} {unit}",
        "meets_target": None if target is None else median <= target,
    }


def run_peer(ballots: int, tally_n: int, notes: list[str]) -> dict[str, Any] | None:
    if not PEER_PYTHON.exists():
        notes.append(f"peer not run: {PEER_PYTHON} missing (run the bench-peer step)")
        return None
    done = subprocess.run(
        [str(PEER_PYTHON), str(ROOT / "bench" / "peer_electionguard.py"), str(ballots), str(tally_n)],
        capture_output=True, text=True, check=False, timeout=3600,
    )  # fmt: skip
    if done.returncode != 0:
        notes.append(f"peer failed: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}")
        return None
    data: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    data["encrypt_median"] = statistics.median(data["encrypt_ms"])
    data["verify_median"] = statistics.median(data["verify_ms"])
    data["tally_median"] = data["tally_ms_per_ballot"]
    data["decrypt_median"] = data["decrypt_s"]
    data["memory_median"] = data["peak_rss_mib"]
    notes.append(
        f"peer: ElectionGuard 1.4.0 primitives, {len(data['encrypt_ms'])} ballots (15+2 and 8+1 placeholder "
        f"selections with 0/1 proofs plus a constant proof per contest), {data['tally_ballots']} tally additions"
    )
    return data


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer samples")
    parser.add_argument("--tally", type=int, default=100_000, help="ballots added to the tally")
    args = parser.parse_args()
    samples = 10 if args.quick else 40
    notes: list[str] = []
    manifest = bench_manifest()
    rnd = os.urandom
    context, _records, guardians = run_key_ceremony(manifest.manifest_hash, 5, 3, rnd)
    enc, ver, ballots = [], [], []
    for i in range(samples):
        plain = PlaintextBallot(
            BallotStyleId("S"),
            {ContestId("A"): frozenset({CandidateId(f"A{1 + i % 15}"), CandidateId(f"A{1 + (i + 4) % 15}")}),
             ContestId("B"): frozenset({CandidateId(f"B{1 + i % 8}")})},
        )  # fmt: skip
        t = time.perf_counter()
        ballot = encrypt_ballot(context, manifest, plain, ballot_id=f"b{i}", seed=rnd(32))
        enc.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        verify_ballot(context, manifest, ballot)
        ver.append((time.perf_counter() - t) * 1000)
        ballots.append(ballot)
    acc = TallyAccumulator(context, manifest)
    chunk = 1000
    tally_chunks = []
    added = 0
    while added < args.tally:
        batch = [
            dataclasses.replace(ballots[(added + j) % len(ballots)], ballot_id=f"t{added + j}") for j in range(chunk)
        ]
        t = time.perf_counter()
        for b in batch:
            acc.add(b)
        tally_chunks.append((time.perf_counter() - t) * 1000 / chunk)
        added += chunk
    notes.append(
        f"tally: {added} ballots added (copies of {len(ballots)} encrypted ballots under new ids); per-ballot time is the mean of each {chunk}-ballot chunk"  # noqa: E501
    )
    tally = acc.result()
    t = time.perf_counter()
    result, _shares = decrypt_with(context, manifest, tally, guardians, [1, 3, 5], rnd)
    decrypt_s = time.perf_counter() - t
    assert sum(result.contests[ContestId("B")].votes.values()) == added
    t = time.perf_counter()
    DiscreteLog()
    notes.append(
        f"decryption includes building the discrete-log table ({(time.perf_counter() - t) * 1000:.0f} ms) and verifying all 9 shares"  # noqa: E501
    )
    import nacl.bindings as sodium

    probe_scalar, probe_point = context.joint_public_key.data, context.joint_public_key.data
    probe = []
    for _ in range(200):
        t = time.perf_counter()
        sodium.crypto_scalarmult_ed25519_noclamp(bytes(31) + b"\x01", probe_point)
        probe.append((time.perf_counter() - t) * 1e6)
    del probe_scalar
    notes.append(
        f"calibration: one libsodium variable-base multiplication took {statistics.median(probe):.0f} us in this run "
        f"(the targets assume ~70 us); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    notes.append(
        "peak memory: ru_maxrss of this benchmark process (includes the Python interpreter and 100,000 ballot ids)"
    )
    peer = run_peer(3 if args.quick else 6, 200 if args.quick else 1000, notes)
    rows = [
        row("encrypt ballot with proofs (15 vote-for-2 + 8 vote-for-1)", enc, "ms", 10, peer, "encrypt_median"),
        row("verify ballot", ver, "ms", 10, peer, "verify_median"),
        row("tally: add one ballot", tally_chunks, "ms", 0.5, peer, "tally_median"),
        row(f"decrypt tally of {added} ballots, 3 of 5 guardians", [decrypt_s], "s", 0.5, peer, "decrypt_median"),
    ]
    mem = {"what": "peak memory", "median": round(rss, 1), "unit": "MiB", "p99": None, "rate_per_s": None,
           "peer": "electionguard 1.4.0" if peer else None, "peer_median": round(peer["memory_median"], 1) if peer else None,  # noqa: E501
           "ratio": round(peer["memory_median"] / rss, 2) if peer else None, "target": "<= 100 MiB", "meets_target": rss <= 100}  # fmt: skip  # noqa: E501
    rows.append(mem)
    notes.append("ratio = peer median / our median (above 1: we are faster or smaller)")
    out = ROOT / "out" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "ballots.json").write_text(json.dumps({"area": "ballots", "rows": rows, "notes": notes}, indent=2))
    print(f"{'what':<62} {'median':>10} {'unit':<4} {'peer':>10} {'ratio':>7} {'target':>12} ok")
    for r in rows:
        print(
            f"{r['what']:<62} {r['median']:>10} {r['unit']:<4} {r['peer_median'] or '-':>10} {r['ratio'] or '-':>7} {r['target'] or '-':>12} {r['meets_target']}"  # noqa: E501
        )
    for n in notes:
        print(f"note: {n}")


if __name__ == "__main__":
    main()
