"""Benchmark of the verifiable-ballot core against ElectionGuard 1.4.0, same contest shapes, same run.

    .venv/bin/python -m bench.bench_ballots [--quick] [--tally N]

Contests: A = 15 candidates, vote for 2; B = 8 candidates, vote for 1. Ballot styles: A alone, B alone, and
A + B (the combined ballot). Per contest and for the combined ballot it measures encryption with proofs,
verification, and the incremental tally (timed over chunks of additions, reported per ballot); then
decryption of the combined tally by 3 of 5 guardians (2 compensated, every share proof verified) and peak
memory. The peer runs in .venv-peer (the `bench-peer` step: see docs/crypto.md) and times the same contests.

Self-calibration: the machine is shared and its load varies from second to second, so every sample is also
expressed in *reference multiplications*: its CPU time divided by the median CPU time of one libsodium
Ed25519 variable-base multiplication (``crypto_scalarmult_ed25519_noclamp``, the operation whose quiet cost
DOMAIN.md gives as 70 us and on which the targets were set) measured right before and right after it (the
"mults" rows); units x 70 us is what the sample would take on the quiet machine. The group itself is
ristretto255 (election.group); the op-count floor of each operation (``floor_*`` below: the
multiplications and additions that the protocol needs through libsodium's ristretto255 API) is converted
into the same units with the ristretto255 costs of this run.
Writes out/bench/ballots.json.
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nacl._sodium import ffi, lib  # type: ignore[import-not-found]  # the reference probe calls libsodium directly

from devtools.sample_election import decrypt_with, run_key_ceremony
from election.ballot import EncryptedBallot, PlaintextBallot, encrypt_ballot, verify_ballot
from election.context import ElectionContext
from election.dlog import DiscreteLog
from election.group import Scalar, base_mul, point_add, point_base_mul, point_mul
from election.manifest import BallotStyleId, CandidateId, ContestId, Manifest
from election.tally import TallyAccumulator

ROOT = Path(__file__).resolve().parent.parent
PEER_PYTHON = ROOT / ".venv-peer" / "bin" / "python"
SHAPES = (("A", 15, 2), ("B", 8, 1))
#: What the targets assume on a quiet machine (DOMAIN.md): us per reference (Ed25519 variable-base) multiplication.
QUIET_REF_US = 70.0


# ---- op-count floors ------------------------------------------------------------------------------
# Counts of libsodium calls that the protocol needs (docs/crypto.md), for a contest of c candidates and s
# seats, n = c + 1 ciphertexts (selections and the blank indicator). "add" counts additions and subtractions.


def floor_verify(c: int, s: int) -> dict[str, int]:
    """Per 0/1 proof and branch j: a_j = v_j G + c_j alpha, b_j = v_j K + c_j (beta - j G): 1 fixed, 3 variable,
    2 additions (+1 subtraction for the shift). Limit proof: the ciphertext sum (2 (c + s - 1) additions), then
    s branches of 1 fixed + 3 variable + 3 additions."""
    n = c + 1
    return {"var": 6 * n + 3 * s, "fixed": 2 * n + s, "add": 5 * n + 2 * (c + s - 1) + 3 * s}


def floor_encrypt(c: int, s: int, marked: int) -> dict[str, int]:
    """Per ciphertext: xi G, xi K (+ G if it encrypts 1); its 0/1 proof: real branch u G, u K, simulated branch
    t G, t K + c (m - j) G. Limit: the sum from the nonces (X G, X K + T G), then u G, u K and s - 1
    simulated branches. Three variable-base multiplications per ciphertext is the minimum: xi K, u K and t K
    use independent secrets (any relation between them would leak xi)."""
    n = c + 1
    ones = marked if marked else 1
    return {"var": 3 * n + 1 + s, "fixed": 4 * n + 2 * s, "add": n + ones + s}


def floor_tally(c: int) -> dict[str, int]:
    """Two additions per ciphertext."""
    return {"var": 0, "fixed": 0, "add": 2 * (c + 1)}


def floor_decrypt(ciphertexts: int, shares: int, helpers: int, adds_dlog: int) -> dict[str, int]:
    """Per ciphertext and share: the guardian computes M = s A and proves it (u A, u G); the verifier recomputes
    a = v G + c K_i and b = v A + c M. Combining: one multiplication per helper (missing guardians' shares
    summed first). Plus the discrete logarithms (additions)."""
    return {
        "var": ciphertexts * (5 * shares + helpers),
        "fixed": ciphertexts * 2 * shares,
        "add": ciphertexts * (2 * shares + 2 * helpers + 2) + adds_dlog,
    }


def in_units(ops: dict[str, int], cost: dict[str, float]) -> float:
    """An op count in reference multiplications, at this run's costs."""
    return sum(ops[k] * cost[k] for k in ops) / cost["ref"]


# ---- calibration ----------------------------------------------------------------------------------

_PROBE_POINT = base_mul(Scalar.from_uniform_bytes(bytes(range(64)))).data
_PROBE_SCALAR = Scalar.from_uniform_bytes(bytes(range(64, 128))).data
_REF_OUT = ffi.new("unsigned char[32]")
lib.crypto_scalarmult_ed25519_base_noclamp(_REF_OUT, _PROBE_SCALAR)
_REF_POINT = bytes(ffi.buffer(_REF_OUT))  # an Ed25519 point for the reference probe


def probe(kind: str = "ref", n: int = 7, block: int = 1) -> float:
    """Median thread CPU seconds of one libsodium call, over ``n`` timings of ``block`` calls each (blocks keep
    the timer's own cost out of cheap calls): "ref" is the Ed25519 variable-base multiplication through PyNaCl's
    cffi binding (the unit; the peer's process probes the same call), "var", "fixed" and "add" are
    election.group's ristretto255 operations (what the floors count)."""
    calls: dict[str, Callable[[], Any]] = {
        "ref": lambda: lib.crypto_scalarmult_ed25519_noclamp(_REF_OUT, _PROBE_SCALAR, _REF_POINT),
        "var": lambda: point_mul(_PROBE_SCALAR, _PROBE_POINT),
        "fixed": lambda: point_base_mul(_PROBE_SCALAR),
        "add": lambda: point_add(_PROBE_POINT, _PROBE_POINT),
    }
    call = calls[kind]
    times = []
    for _ in range(n):
        t = time.thread_time()
        for _ in range(block):
            call()
        times.append((time.thread_time() - t) / block)
    return statistics.median(times)


def timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, float, float]:
    """(result, wall seconds, the call's thread CPU time in variable-base multiplications). The units use CPU
    time on both sides (this thread's own, measured right before and after the call), so time spent waiting
    for a CPU on the loaded machine counts in neither."""
    before = probe()
    t, c = time.perf_counter(), time.thread_time()
    result = fn(*args, **kwargs)
    cpu = time.thread_time() - c
    elapsed = time.perf_counter() - t
    return result, elapsed, cpu / ((before + probe()) / 2)


def bench_manifest(contest_ids: str = "AB") -> Manifest:
    """One ballot style "S" with the given contests of SHAPES (all by default)."""

    def text(s: str) -> dict[str, str]:
        return {"ar": s, "en": s}

    contests, style = [], []
    for cid, count, seats in (shape for shape in SHAPES if shape[0] in contest_ids):
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
    what: str,
    samples: list[float],
    unit: str,
    target: float | None = None,
    peer_median: float | None = None,
    min_ratio: float | None = None,
) -> dict[str, Any]:
    """One result row; ``target`` bounds the median, ``min_ratio`` (if given) the ratio to the peer too."""
    ordered = sorted(samples)
    median = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if len(ordered) > 1 else None
    scale = {"ms": 1e-3, "s": 1.0}.get(unit)
    ratio = None if peer_median is None or not median else peer_median / median
    meets = None
    target_text = None
    if target is not None:
        meets = median <= target and (min_ratio is None or (ratio is not None and ratio >= min_ratio))
        target_text = f"<= {target:g} {unit}" + (f", >= {min_ratio:g}x peer" if min_ratio is not None else "")
    return {
        "what": what,
        "median": round(median, 4),
        "unit": unit,
        "p99": None if p99 is None else round(p99, 4),
        "rate_per_s": round(1 / (median * scale), 1) if median and scale else None,
        "peer": "electionguard 1.4.0" if peer_median is not None else None,
        "peer_median": None if peer_median is None else round(peer_median, 4),
        "ratio": None if ratio is None else round(ratio, 2),
        "target": target_text,
        "meets_target": meets,
    }


def _flat(values: list[Any]) -> list[Any]:
    return [y for x in values for y in (x if isinstance(x, list) else [x])]


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
    notes.append(
        f"peer: ElectionGuard 1.4.0 primitives, {len(data['encrypt_ms'])} ballots (15+2 and 8+1 placeholder "
        f"selections with 0/1 proofs plus a constant proof per contest, each contest timed on its own), "
        f"{data['tally_ballots']} tally additions"
    )
    return data


def plaintext(style: str, i: int) -> PlaintextBallot:
    a = frozenset({CandidateId(f"A{1 + i % 15}"), CandidateId(f"A{1 + (i + 4) % 15}")})
    b = frozenset({CandidateId(f"B{1 + i % 8}")})
    selections = {"S": {ContestId("A"): a, ContestId("B"): b}, "SA": {ContestId("A"): a}, "SB": {ContestId("B"): b}}
    return PlaintextBallot(BallotStyleId("S"), selections[style])


def measure_ballots(
    context: ElectionContext, manifest: Manifest, style: str, samples: int
) -> tuple[list[EncryptedBallot], dict[str, list[float]]]:
    out: dict[str, list[float]] = {"enc_ms": [], "enc_units": [], "ver_ms": [], "ver_units": []}
    ballots = []
    for i in range(samples):
        plain, seed = plaintext(style, i), os.urandom(32)
        ballot, elapsed, unit = timed(encrypt_ballot, context, manifest, plain, ballot_id=f"{style}-{i}", seed=seed)
        out["enc_ms"].append(elapsed * 1000)
        out["enc_units"].append(unit)
        _none, elapsed, unit = timed(verify_ballot, context, manifest, ballot)
        out["ver_ms"].append(elapsed * 1000)
        out["ver_units"].append(unit)
        ballots.append(ballot)
    return ballots, out


def _add_all(acc: TallyAccumulator, batch: list[EncryptedBallot]) -> None:
    for b in batch:
        acc.add(b)


def measure_tally(
    context: ElectionContext, manifest: Manifest, ballots: list[EncryptedBallot], total: int, chunk: int = 1000
) -> tuple[TallyAccumulator, list[float], list[float]]:
    acc = TallyAccumulator(context, manifest)
    per_ballot_ms, per_ballot_units = [], []
    added = 0
    while added < total:
        batch = [
            dataclasses.replace(ballots[(added + j) % len(ballots)], ballot_id=f"t{added + j}") for j in range(chunk)
        ]
        _none, elapsed, units = timed(_add_all, acc, batch)
        per_ballot_ms.append(elapsed * 1000 / chunk)
        per_ballot_units.append(units / chunk)
        added += chunk
    return acc, per_ballot_ms, per_ballot_units


def _peer_decrypt_units(peer: dict[str, Any] | None, var_us: float) -> float | None:
    if peer is None:
        return None
    if peer.get("decrypt_units") is not None:
        return float(peer["decrypt_units"])
    return float(peer["decrypt_cpu_s"]) / (var_us / 1e6)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer samples")
    parser.add_argument("--tally", type=int, default=100_000, help="ballots added to the combined tally")
    args = parser.parse_args()
    samples = 12 if args.quick else 40
    tally_per_contest = max(1000, args.tally // 5)
    notes: list[str] = []
    # one election per shape: contest A alone, contest B alone, both (the combined ballot)
    elections = {}
    for style, contest_ids in (("SA", "A"), ("SB", "B"), ("S", "AB")):
        manifest = bench_manifest(contest_ids)
        elections[style] = (manifest, *run_key_ceremony(manifest.manifest_hash, 5, 3, os.urandom))

    # op costs of this run, interleaved so that load changes hit all three alike
    costs: dict[str, list[float]] = {"ref": [], "var": [], "fixed": [], "add": []}
    for _ in range(60):
        for kind, values in costs.items():
            values.append(probe(kind, 3, 1 if kind in ("ref", "var") else 5))  # CPU time, like the mults rows
    cost = {k: statistics.median(v) * 1e6 for k, v in costs.items()}

    # the peer's per-ballot medians were taken over 6 ballots and moved by +-15% from run to run: 20 ballots
    peer = run_peer(3 if args.quick else 20, 200 if args.quick else 1000, notes)
    rows: list[dict[str, Any]] = []
    shapes = [("contest A (15 candidates, vote for 2)", "SA", [0]), ("contest B (8 candidates, vote for 1)", "SB", [1]),
              ("ballot A + B", "S", [0, 1])]  # fmt: skip
    floors: dict[str, dict[str, dict[str, int]]] = {}
    tally_acc: TallyAccumulator | None = None
    added = 0
    for label, style, idx in shapes:
        manifest, context, _records, guardians = elections[style]
        ballots, m = measure_ballots(context, manifest, style, samples)
        parts = [SHAPES[i] for i in idx]
        fv = [floor_verify(c, s) for _cid, c, s in parts]
        fe = [floor_encrypt(c, s, s) for _cid, c, s in parts]
        ft = [floor_tally(c) for _cid, c, _s in parts]
        floors[style] = {
            "verify": {k: sum(f[k] for f in fv) for k in fv[0]},
            "encrypt": {k: sum(f[k] for f in fe) for k in fe[0]},
            "tally": {k: sum(f[k] for f in ft) for k in ft[0]},
        }
        n_tally = args.tally if style == "S" else tally_per_contest
        acc, t_ms, t_units = measure_tally(context, manifest, ballots, n_tally)
        if style == "S":
            tally_acc, added = acc, n_tally

        def peer_of(key: str, per_contest_key: str, idx: list[int] = idx) -> float | None:
            if peer is None:
                return None
            if len(idx) > 1:
                value = peer[key]
                return float(statistics.median(value) if isinstance(value, list) else value)
            value = peer[per_contest_key][idx[0]]
            return float(statistics.median(value) if isinstance(value, list) else value)

        def peer_units(cpu_key: str, idx: list[int] = idx) -> float | None:
            """The peer's work in reference multiplications: its own probe around each piece when its venv has
            PyNaCl, else its thread CPU time divided by this process's median reference multiplication."""
            if peer is None:
                return None
            units_key = cpu_key.replace("cpu_ms", "units")
            scale = 1.0
            if not peer.get(units_key) or None in [*_flat(peer[units_key])]:
                units_key, scale = cpu_key, cost["ref"] / 1000
            per_contest = [peer[units_key][i] for i in idx]
            if isinstance(per_contest[0], list):
                value = statistics.median(sum(x) for x in zip(*per_contest, strict=True))
            else:
                value = sum(per_contest)
            return float(value) / scale

        full = style != "S"  # the targets are per contest
        fe_u, fv_u, ft_u = (in_units(floors[style][k], cost) for k in ("encrypt", "verify", "tally"))
        rows += [
            row(f"encrypt {label}", m["enc_ms"], "ms", 10 if full else None,
                peer_of("encrypt_ms", "encrypt_contest_ms"), 17 if full else None),
            row(f"  in ref. mults (floor {fe_u:.0f})", m["enc_units"], "mults",
                round(10_000 / QUIET_REF_US, 1) if full else None, peer_units("encrypt_contest_cpu_ms"),
                17 if full else None),
            row(f"verify {label}", m["ver_ms"], "ms", 10 if full else None,
                peer_of("verify_ms", "verify_contest_ms"), 30 if full else None),
            row(f"  in ref. mults (floor {fv_u:.0f})", m["ver_units"], "mults",
                round(10_000 / QUIET_REF_US, 1) if full else None, peer_units("verify_contest_cpu_ms"),
                30 if full else None),
            row(f"tally: add one ballot, {label}", t_ms, "ms", 0.5 if full else None,
                peer_of("tally_ms_per_ballot", "tally_contest_ms_per_ballot")),
            row(f"  in ref. mults (floor {ft_u:.1f})", t_units, "mults",
                round(500 / QUIET_REF_US, 2) if full else None, peer_units("tally_contest_cpu_ms_per_ballot")),
        ]  # fmt: skip
        notes.append(
            f"{label}: op-count floors (var/fixed/add) encrypt {floors[style]['encrypt']}, verify "
            f"{floors[style]['verify']}, tally {floors[style]['tally']}; at this run's op costs "
            f"{fe_u * cost['ref'] / 1000:.2f} / {fv_u * cost['ref'] / 1000:.2f} / {ft_u * cost['ref'] / 1000:.3f} ms, "
            f"at 70 us per reference multiplication {fe_u * 0.07:.2f} / {fv_u * 0.07:.2f} / {ft_u * 0.07:.3f} ms"
        )
    notes.append(
        f"tally: {tally_per_contest} ballots per contest style and {added} combined ballots added (copies of the "
        f"encrypted ballots under new ids); per-ballot time is the mean of each 1000-ballot chunk"
    )
    assert tally_acc is not None
    tally = tally_acc.result()
    dlog_t = time.perf_counter()
    DiscreteLog()
    dlog_ms = (time.perf_counter() - dlog_t) * 1000
    (result, _shares), decrypt_s, decrypt_units = timed(
        decrypt_with, context, manifest, tally, guardians, [1, 3, 5], os.urandom
    )
    assert sum(result.contests[ContestId("B")].votes.values()) == added
    counts = [v for r in result.contests.values() for v in [*r.votes.values(), r.blank]]
    giant = sum(v // 2048 + 1 for v in counts)
    fd = floor_decrypt(len(counts), 9, 3, giant + len(counts) + 2048)
    fd_u = in_units(fd, cost)
    rows += [
        row(f"decrypt tally of {added} ballots, 3 of 5 guardians", [decrypt_s], "s", 0.5,
            float(peer["decrypt_s"]) if peer else None),
        row(f"  in ref. mults (floor {fd_u:.0f})", [decrypt_units], "mults",
            round(0.5e6 / QUIET_REF_US, 0), _peer_decrypt_units(peer, cost["ref"])),
    ]  # fmt: skip
    notes.append(
        f"decryption: computes all 9 shares (3 guardians + 2 x 3 compensating) and verifies them, combines, and takes "
        f"{len(counts)} discrete logs; the 2048-entry table ({dlog_ms:.0f} ms to build) is built once per process and "
        f"included here; floor {fd} (var/fixed/add), {fd_u * cost['ref'] / 1e6:.3f} s at this run's op costs"
    )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peer_rss = float(peer["peak_rss_mib"]) if peer else None
    mem = row("peak memory", [rss], "MiB", 100, peer_rss)
    if peer_rss is not None:
        mem["ratio"] = round(peer_rss / rss, 2)
    rows.append(mem)
    notes.append(
        "peak memory: ru_maxrss of this benchmark process (includes the Python interpreter and every ballot id)"
    )
    notes.append(
        f"calibration: median thread CPU time of one libsodium call in this run: the reference (Ed25519 "
        f"variable-base) multiplication {cost['ref']:.0f} us (quiet machine: 70 us); ristretto255 variable-base "
        f"{cost['var']:.0f} us, fixed-base {cost['fixed']:.0f} us, addition {cost['add']:.1f} us; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    notes.append(
        "mults rows: each sample's thread CPU time divided by the median CPU time of one reference (libsodium "
        "Ed25519 variable-base) multiplication timed right before and after it; the peer's pieces are converted "
        "the same way in its own process (its venv has PyNaCl; otherwise by this run's median multiplication), "
        "so their ratio compares CPU work, not waits for a CPU; "
        "their targets are the ms targets at 70 us per multiplication (10 ms = 142.9, 0.5 ms = 7.14, 0.5 s = 7143)"
    )
    notes.append("ratio = peer median / our median (above 1: we are faster or smaller)")
    out = ROOT / "out" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "ballots.json").write_text(json.dumps({"area": "ballots", "rows": rows, "notes": notes}, indent=2))
    print(f"{'what':<56} {'median':>10} {'unit':<5} {'rate/s':>8} {'peer':>10} {'ratio':>7} {'target':>22} ok")
    for r in rows:
        print(
            f"{r['what']:<56} {r['median']:>10} {r['unit']:<5} {r['rate_per_s'] or '-':>8} "
            f"{r['peer_median'] or '-':>10} {r['ratio'] or '-':>7} {r['target'] or '-':>22} {r['meets_target']}"
        )
    for n in notes:
        print(f"note: {n}")


if __name__ == "__main__":
    main()
