"""Benchmark of the observer's verifier (``python -m election.verify``) on a national-mix record.

    .venv/bin/python -m bench.bench_verify [--quick] [--ballots N] [--jobs J]

The record: the national demo definition (63 wilayats, one Shura contest per ballot style, 7 to 18 candidates, 1 or
2 seats, 843 candidates), a 3-of-5 key ceremony, N cast ballots (default 50,000; ``--quick``: 400) of random
styles and random valid votes, every one encrypted on its own (distinct nonces, distinct ballots, all verify), one
in 200 challenged, chained per kiosk over 328 kiosks with each kiosk's signed close, the tally, the guardians'
shares (3 present, 2 compensated), results, poll-book counts and the office's signed audit heads (TEST MATERIAL
keys). It is generated in parallel and cached under ``out/bench/verify-record-<N>/`` (reused by the next run).

Measured, in one run:
- the full verification through the command line (``python -m election.verify RECORD --jobs J``): wall time, CPU
  time of every process (the verifier and its pool, from the kernel's accounting of waited-for children), peak
  resident memory of the whole process tree (sampled every 0.1 s from /proc), and the per-ballot rates;
- the same work split into 2 shards (``--shard i/2``) and merged (``--merge``): the merge's own time (what one
  extra step costs when the shards ran on other machines);
- the op-count floor of the ballots' proofs (bench.bench_ballots.floor_verify per contest: the ristretto255
  multiplications and additions the proofs need) at this run's measured costs of those operations; the ratio is
  the verifier's CPU time over the floor's, so a loaded machine (CPU time waiting for a core counts in neither)
  still gives a meaningful ratio;
- the extrapolation to 500,000 ballots on 2 cores: CPU time per ballot x 500,000 / 2 plus the whole-record checks
  (the parts that do not shrink with more cores), against the target of 30 minutes;
- the peer: ElectionGuard 1.4.0's verification of a ballot (its primitives, from bench/peer_electionguard.py in
  .venv-peer, the same run), on its 15-candidate vote-for-2 and 8-candidate vote-for-1 contest shapes, scaled
  per selection to this record's contest shapes (ElectionGuard 1.x verifies c + s selections with a 0/1 proof each
  plus one constant proof per contest).
Writes out/bench/verify.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from bench.bench_ballots import PEER_PYTHON, QUIET_REF_US, floor_tally, floor_verify, probe
from devtools.sample_election import decrypt_with, random_plaintext, run_key_ceremony
from devtools.sample_election.kiosks import sample_kiosk_statements
from devtools.sample_election.office import write_sample_office_part
from devtools.sample_record import SeededRandom
from election.ballot import encrypt_ballot
from election.benaloh import challenge_ballot
from election.canonical import canonical_json
from election.confirmation import batch_root, confirmation_code, genesis_code
from election.context import ElectionContext
from election.elgamal import Ciphertext
from election.manifest import BallotStyleId, ContestId, Manifest
from election.record import CHAIN_FORMAT_VERSION, ElectionRecord, write_record
from election.tally import EncryptedTally, TallyAccumulator, ballot_ids_hash
from election.verify.checks import CHECKS

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "out" / "bench"
GENERATOR_VERSION = 2  # 2: kiosk chains as batch chains (issue 15 point 2)
#: one ballot in this many is challenged (a Benaloh challenge: published with its seed, never counted)
CHALLENGE_EVERY = 200
BATCH = 10
"""Links per sealed batch of the generated kiosks (the ballot box's default ``min_batch``)."""
NATIONAL = 500_000
TARGET_MINUTES = 30.0
TARGET_FLOOR_RATIO = 1.3
TARGET_MIB = 500.0


def national_manifest() -> Manifest:
    from devtools.demo_election.build import build_definition

    return build_definition("national", 2023).manifest


# ---- the record (generated in parallel, cached) ---------------------------------------------------------------

_GEN: dict[str, Any] = {}


def _init_generator(context: dict[str, Any]) -> None:
    _GEN["manifest"] = national_manifest()
    _GEN["context"] = ElectionContext.from_dict(context)


def _write(path: Path, value: Any) -> None:
    path.write_bytes(canonical_json(value) + b"\n")


def _encrypt_kiosks(task: tuple[str, int, list[tuple[str, list[tuple[int, str, bool]]]]]) -> dict[str, Any]:
    """Encrypt and chain the ballots of some kiosks (each kiosk's chain is sequential, kiosks are independent),
    writing their files under ``root``; returns their partial tally, cast ids, links and poll-book counts."""
    root, seed, kiosks = task
    manifest: Manifest = _GEN["manifest"]
    context: ElectionContext = _GEN["context"]
    rng = SeededRandom(seed)
    acc = TallyAccumulator(context, manifest)
    cast_dir, challenged_dir = Path(root) / "ballots" / "cast", Path(root) / "ballots" / "challenged"
    links: dict[str, list[tuple[str, str]]] = {}
    pollbook: dict[str, int] = {}
    cast_ids: list[str] = []
    for kiosk, ballots in kiosks:
        genesis = genesis_code(context.base_hash, kiosk)
        chain: list[dict[str, str]] = []
        links[kiosk] = []
        for number, style, challenged in ballots:
            nonce_seed = rng(32)
            plaintext = random_plaintext(manifest, BallotStyleId(style), rng)
            ballot = encrypt_ballot(context, manifest, plaintext, ballot_id=f"{kiosk}-{number:06d}", seed=nonce_seed)
            code = confirmation_code(genesis, kiosk, ballot)
            status = "challenged" if challenged else "cast"
            if challenged:
                acc.mark_challenged(ballot.ballot_id)
                body = {"kiosk": kiosk, "confirmation_code": code.hex(),
                        "challenged": challenge_ballot(ballot, nonce_seed).to_dict()}  # fmt: skip
                _write(challenged_dir / f"{ballot.ballot_id}.json", body)
            else:
                acc.add(ballot)
                cast_ids.append(ballot.ballot_id)
                pollbook[style] = pollbook.get(style, 0) + 1
                _write(cast_dir / f"{ballot.ballot_id}.json",
                       {"kiosk": kiosk, "confirmation_code": code.hex(), "ballot": ballot.to_dict()})  # fmt: skip
            chain.append({"ballot_id": ballot.ballot_id, "code": code.hex(), "status": status})
            links[kiosk].append((code.hex(), status))
        # sealed in batches of BATCH links, in the order made, each batch's links sorted by code (as a kiosk's)
        root_code, batches = genesis, []
        for i in range(0, len(chain), BATCH):
            part = sorted(chain[i : i + BATCH], key=lambda e: e["code"])
            after = batch_root(root_code, kiosk, [bytes.fromhex(e["code"]) for e in part])
            batches.append({"previous_root": root_code.hex(), "root": after.hex(), "links": part})
            root_code = after
        _write(
            Path(root) / "kiosk_chains" / f"{kiosk}.json",
            {"format_version": CHAIN_FORMAT_VERSION, "kiosk": kiosk, "batches": batches},
        )
    return {"tally": acc.result().to_dict(), "cast": cast_ids, "links": links, "pollbook": pollbook}


def _combine(parts: Sequence[EncryptedTally], cast_ids: list[str], base_hash: bytes) -> EncryptedTally:
    first = parts[0]
    contests: dict[ContestId, dict[str, Ciphertext]] = {c: dict(row) for c, row in first.contests.items()}
    per_contest = dict(first.ballots_per_contest)
    per_style = dict(first.ballots_per_style)
    for part in parts[1:]:
        for c, row in part.contests.items():
            for sel, ct in row.items():
                contests[c][sel] = contests[c][sel] + ct
        for c, n in part.ballots_per_contest.items():
            per_contest[c] += n
        for st, n in part.ballots_per_style.items():
            per_style[st] += n
    return EncryptedTally(base_hash, contests, per_contest, per_style, ballot_ids_hash(cast_ids))


def build_record(root: Path, ballots: int, jobs: int) -> dict[str, Any]:
    """Generate the record at ``root`` (replaced if it exists); returns how long it took and what it holds."""
    started = time.perf_counter()
    manifest = national_manifest()
    rng = SeededRandom(20261202 + ballots)
    context, records, guardians = run_key_ceremony(manifest.manifest_hash, 5, 3, rng)
    kiosks = [str(k.id) for k in manifest.kiosks]
    styles = [str(s.id) for s in manifest.ballot_styles]
    pick = random.Random(ballots)
    per_kiosk: dict[str, list[tuple[int, str, bool]]] = {k: [] for k in kiosks}
    for number in range(ballots):
        per_kiosk[kiosks[number % len(kiosks)]].append(
            (number, pick.choice(styles), number % CHALLENGE_EVERY == CHALLENGE_EVERY // 2)
        )
    partial = root.with_name(root.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.rmtree(root, ignore_errors=True)
    for sub in ("ballots/cast", "ballots/challenged", "kiosk_chains"):
        (partial / "files" / sub).mkdir(parents=True)
    used = [k for k in kiosks if per_kiosk[k]]
    groups = max(1, min(len(used), jobs * 8))
    tasks = [(str(partial / "files"), 1000 + i, [(k, per_kiosk[k]) for k in used[i::groups]]) for i in range(groups)]
    with ProcessPoolExecutor(jobs, initializer=_init_generator, initargs=(context.to_dict(),)) as pool:
        results = list(pool.map(_encrypt_kiosks, tasks))
    cast_ids = [bid for r in results for bid in r["cast"]]
    tally = _combine([EncryptedTally.from_dict(r["tally"]) for r in results], cast_ids, context.base_hash)
    pollbook = dict.fromkeys(styles, 0)
    links: dict[str, list[tuple[str, str]]] = {}
    for r in results:
        for st, n in r["pollbook"].items():
            pollbook[st] += n
        links.update({k: [(x[0], x[1]) for x in v] for k, v in r["links"].items()})
    batched = {k: [v[i : i + BATCH] for i in range(0, len(v), BATCH)] for k, v in links.items()}
    result, shares = decrypt_with(context, manifest, tally, guardians, [1, 3, 5], rng)
    rest = partial / "rest"
    write_record(
        rest,
        ElectionRecord(
            manifest=manifest, context=context, guardians=tuple(records), chains={}, tally=tally,
            shares=tuple(shares), result=result, pollbook_counts=pollbook,
            kiosks=sample_kiosk_statements(context.base_hash, batched, rng),
        ),
    )  # fmt: skip
    write_sample_office_part(rest, manifest, tally, rng)
    for entry in rest.iterdir():
        entry.rename(partial / "files" / entry.name)
    (partial / "files").rename(root)
    shutil.rmtree(partial)
    summary = {
        "generator": GENERATOR_VERSION,
        "ballots": ballots,
        "cast": len(cast_ids),
        "challenged": ballots - len(cast_ids),
        "kiosks": len(used),
        "seconds": time.perf_counter() - started,
        "jobs": jobs,
    }
    root.with_name(root.name + ".json").write_text(json.dumps(summary) + "\n")
    return summary


def cached_record(ballots: int, jobs: int, notes: list[str]) -> tuple[Path, dict[str, Any]]:
    root = OUT / f"verify-record-{ballots}"
    marker = root.with_name(root.name + ".json")
    if root.is_dir() and marker.is_file():
        summary = json.loads(marker.read_text())
        if summary.get("generator") == GENERATOR_VERSION and summary.get("ballots") == ballots:
            notes.append(f"record reused from {root.relative_to(ROOT)} (generated in {summary['seconds']:.0f} s)")
            return root, summary
    print(f"generating a national-mix record of {ballots} ballots in {jobs} processes ...", flush=True)
    summary = build_record(root, ballots, jobs)
    notes.append(
        f"record generated in {summary['seconds']:.0f} s with {jobs} processes ({summary['cast']} cast, "
        f"{summary['challenged']} challenged, {summary['kiosks']} kiosks), cached at {root.relative_to(ROOT)}"
    )
    return root, summary


# ---- measuring ------------------------------------------------------------------------------------------------


def _tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        p = int(entry)
        children.setdefault(int(fields[1]), []).append(p)
        rss[p] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        total += rss.get(p, 0)
        stack.extend(children.get(p, []))
    return total


def run_cli(args: list[str]) -> dict[str, Any]:
    """``python -m election.verify ARGS``: wall seconds, CPU seconds of it and its children, peak tree RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "election.verify", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    peak = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.1):
            peak[0] = max(peak[0], _tree_rss(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = proc.communicate()
    stop.set()
    sampler.join()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"code": proc.returncode, "output": output, "wall": wall, "cpu": cpu, "peak": peak[0]}


def op_costs() -> dict[str, float]:
    """Median CPU seconds of one ristretto255 variable-base and fixed-base multiplication and one addition, and of
    the reference multiplication (bench_ballots' unit: its quiet cost is QUIET_REF_US), now."""
    return {k: probe(k, n=15, block=200 if k == "add" else 20) for k in ("var", "fixed", "add", "ref")}


def floor_seconds(manifest: Manifest, root: Path, cost: dict[str, float]) -> tuple[float, int]:
    """The op-count floor of the record's ballot proofs at ``cost``: every cast and challenged ballot's contests
    (floor_verify), plus each challenged ballot's opening (a fixed and a variable multiplication per ciphertext)."""
    per_style: dict[str, float] = {}
    for style in manifest.ballot_styles:
        total = 0.0
        for cid in style.contest_ids:
            c = manifest.contests_by_id[cid]
            ops = floor_verify(len(c.selection_ids), c.seats)
            ops["add"] += floor_tally(len(c.selection_ids))["add"]  # the verifier recomputes the tally too
            total += ops["var"] * cost["var"] + ops["fixed"] * cost["fixed"] + ops["add"] * cost["add"]
        per_style[str(style.id)] = total
    seconds, ballots = 0.0, 0
    for kind in ("cast", "challenged"):
        for path in sorted((root / "ballots" / kind).glob("*.json")):
            data = json.loads(path.read_bytes())
            ballot = data["ballot"] if kind == "cast" else data["challenged"]["ballot"]
            seconds += per_style[ballot["style_id"]]
            if kind == "challenged":
                for contest in ballot["contests"]:
                    seconds += (len(contest["selections"]) + 1) * (cost["var"] + cost["fixed"] + cost["add"])
            ballots += 1
    return seconds, ballots


def peer_per_ballot(manifest: Manifest, notes: list[str]) -> float | None:
    """ElectionGuard 1.4.0's CPU ms to verify one ballot of this record's mix (see the module docstring)."""
    if not PEER_PYTHON.exists():
        notes.append(f"peer not run: {PEER_PYTHON} missing (run `make bench-peer`)")
        return None
    done = subprocess.run(
        [str(PEER_PYTHON), str(ROOT / "bench" / "peer_electionguard.py"), "5", "2"],
        capture_output=True, text=True, check=False, timeout=1800,
    )  # fmt: skip
    if done.returncode != 0:
        notes.append(f"peer failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
        return None
    data = json.loads(done.stdout.strip().splitlines()[-1])
    # per contest shape (15, 2) and (8, 1): CPU ms = a * (c + s) + b, solved for a (per selection) and b
    (c1, s1), (c2, s2) = (15, 2), (8, 1)
    t1, t2 = (statistics.median(data["verify_contest_cpu_ms"][i]) for i in (0, 1))
    per_selection = (t1 - t2) / ((c1 + s1) - (c2 + s2))
    constant = t1 - per_selection * (c1 + s1)
    styles = [
        sum(per_selection * (len(manifest.contests_by_id[c].selection_ids) + manifest.contests_by_id[c].seats)
            + constant for c in style.contest_ids)
        for style in manifest.ballot_styles
    ]  # fmt: skip
    notes.append(
        f"peer: ElectionGuard 1.4.0 primitives, verify CPU per contest {t1:.1f} ms (15 + 2 selections) and "
        f"{t2:.1f} ms (8 + 1): {per_selection:.2f} ms per selection + {constant:.2f} ms per contest, scaled to the "
        f"record's 63 styles (mean over styles; each cast ballot of this record has one style)"
    )
    return float(statistics.mean(styles))


def row(
    what: str, median: float, unit: str, *, target: str | None = None, meets: bool | None = None,
    rate: float | None = None, peer: str | None = None, peer_median: float | None = None, ratio: float | None = None,
) -> dict[str, Any]:  # fmt: skip
    return {"what": what, "median": median, "unit": unit, "p99": None, "rate_per_s": rate, "peer": peer,
            "peer_median": peer_median, "ratio": ratio, "target": target, "meets_target": meets}  # fmt: skip


#: how each check's cost grows from this record to the national one: with the ballots and split over the cores,
#: with the ballots in one process, or not with the ballots (guardians, 63 contests' shares, 328 kiosks, audit heads)
PARALLEL = ("ballots", "challenged")
SERIAL = ("record-files", "chains", "tally", "results", "turnout", "remote")
FIXED = ("parameters", "decryption", "closes", "office-audit")
_TIMED = re.compile(r"^(PASS|FAIL)  (.+?): .* \[([0-9.]+) s, CPU ([0-9.]+) s\]$")


def check_times(output: str) -> dict[str, tuple[float, float]]:
    """check name -> (wall, CPU) seconds, from the lines of ``--timings``."""
    names = {c.title: c.name for c in CHECKS}
    out: dict[str, tuple[float, float]] = {}
    for line in output.splitlines():
        match = _TIMED.match(line)
        if match and match[2] in names:
            out[names[match[2]]] = (float(match[3]), float(match[4]))
    return out


def national_minutes(times: dict[str, tuple[float, float]], n: int, cores: int = 2) -> float:
    scale = NATIONAL / n
    parallel = sum(times[c][1] for c in PARALLEL) * scale / cores
    serial = sum(times[c][1] for c in SERIAL) * scale
    fixed = sum(times[c][1] for c in FIXED)
    return (parallel + serial + fixed) / 60


def write_report(rows: list[dict[str, Any]], notes: list[str]) -> None:
    report = {"area": "verify", "rows": rows, "notes": notes}
    (OUT / "verify.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


def print_report(rows: list[dict[str, Any]], notes: list[str]) -> None:
    from tools.console import table

    print(
        table(
            ["what", "median", "unit", "peer", "ratio", "target", "met"],
            [[r["what"], f"{r['median']:.4g}", r["unit"], "" if r["peer_median"] is None else f"{r['peer_median']:.3g}",
              "" if r["ratio"] is None else f"{r['ratio']:.3g}", r["target"] or "",
              "" if r["meets_target"] is None else ("yes" if r["meets_target"] else "NO")] for r in rows],
        )
    )  # fmt: skip
    for note in notes:
        print(f"- {note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_verify", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a record of 400 ballots")
    parser.add_argument("--ballots", type=int, default=None, help="ballots in the record (default 50,000)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-shards", action="store_true", help="skip the sharded run and its merge")
    args = parser.parse_args(argv)
    ballots = args.ballots or (400 if args.quick else 50_000)
    notes: list[str] = []
    OUT.mkdir(parents=True, exist_ok=True)
    root, summary = cached_record(ballots, args.jobs, notes)
    manifest = national_manifest()
    n = summary["ballots"]

    cost_before = op_costs()
    # the generated record carries no package/ (no commission key): check package is skipped by name (exit 0)
    full = run_cli([str(root), "--jobs", str(args.jobs), "--timings", "--skip", "package"])
    cost = {k: (v + op_costs()[k]) / 2 for k, v in cost_before.items()}
    if full["code"] != 0:
        print(full["output"])
        raise SystemExit("the generated record does not verify")
    times = check_times(full["output"])
    floor, counted = floor_seconds(manifest, root, cost)
    assert counted == n
    proofs_cpu = times["ballots"][1] + times["challenged"][1]
    ratio = proofs_cpu / floor
    national = national_minutes(times, n)
    quiet = national * QUIET_REF_US * 1e-6 / cost["ref"]  # CPU times scale with the op costs of the moment
    peak_mib = full["peak"] / 2**20
    # memory growth per ballot: the peak on this record against the peak on the small (--quick) record
    small_n = 400
    national_mib: float | None = None
    if n > small_n:
        small_root, _small = cached_record(small_n, args.jobs, notes)
        small = run_cli([str(small_root), "--jobs", str(args.jobs), "--skip", "package"])
        per_ballot_bytes = max(full["peak"] - small["peak"], 0) / (n - small_n)
        national_mib = (full["peak"] + per_ballot_bytes * (NATIONAL - n)) / 2**20
        notes.append(
            f"memory: peak {small['peak'] / 2**20:.0f} MiB with {small_n} ballots, {peak_mib:.0f} MiB with {n}: "
            f"{per_ballot_bytes:.0f} bytes per ballot, extrapolated linearly to {NATIONAL}"
        )
    peer = peer_per_ballot(manifest, notes)
    per_ballot = proofs_cpu / n * 1000
    rows = [
        row(f"full verification of {n} ballots, {args.jobs} processes (wall)", full["wall"], "s",
            rate=n / full["wall"]),
        row("  CPU time, every process", full["cpu"], "s", rate=n / full["cpu"]),
        row("  ballots' proofs: CPU per ballot", per_ballot, "ms", peer="ElectionGuard 1.4.0 verify, same shapes",
            peer_median=peer, ratio=(peer / per_ballot) if peer else None),
        row("  op-count floor per ballot (this run's op costs)", floor / n * 1000, "ms"),
        row("  ratio to the op-count floor (CPU)", ratio, "x", target=f"<= {TARGET_FLOOR_RATIO}",
            meets=ratio <= TARGET_FLOOR_RATIO),
        row("  peak memory, whole process tree", peak_mib, "MiB", target=f"< {TARGET_MIB:.0f}",
            meets=peak_mib < TARGET_MIB),
        row(f"500,000 ballots on 2 cores (extrapolated from {n}, this machine now)", national, "min"),
        row(f"  the same at the quiet machine's op costs (ref. mult {QUIET_REF_US:.0f} us)", quiet, "min",
            target=f"<= {TARGET_MINUTES:.0f}", meets=quiet <= TARGET_MINUTES),
    ]  # fmt: skip
    if national_mib is not None:  # measured at two sizes (not in --quick)
        rows.insert(6, row(f"  peak memory extrapolated to {NATIONAL:,} ballots", national_mib, "MiB",
                           target=f"< {TARGET_MIB:.0f}", meets=national_mib < TARGET_MIB))  # fmt: skip
    rows += [row(f"  check {name} (CPU)", times[name][1], "s") for name in (*PARALLEL, *SERIAL, *FIXED)]
    notes += [
        f"op costs this run (CPU us): var {cost['var'] * 1e6:.1f}, fixed {cost['fixed'] * 1e6:.1f}, "
        f"add {cost['add'] * 1e6:.2f}, reference (Ed25519) {cost['ref'] * 1e6:.1f} (quiet: {QUIET_REF_US:.0f}); "
        "floor = bench_ballots.floor_verify + floor_tally per contest of each ballot's style (the verifier "
        "recomputes the tally), plus each challenged ballot's opening",
        "peak memory: the verifier and its pool together (every process's RSS summed, sampled every 0.1 s)",
        f"extrapolation to {NATIONAL}: each check's CPU (--timings) scaled by {NATIONAL}/{n}, over 2 cores for the "
        f"ballots' proofs ({', '.join(PARALLEL)}), in one process for {', '.join(SERIAL)}, not scaled for "
        f"{', '.join(FIXED)}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (wall times include "
        "waiting for a core; CPU times do not)",
    ]
    write_report(rows, notes)
    if not args.no_shards:
        rows += shard_rows(root, args.jobs, n)
        write_report(rows, notes)
    print_report(rows, notes)
    return 0


def shard_rows(root: Path, jobs: int, n: int) -> list[dict[str, Any]]:
    shard_dir = OUT / "verify-shards"
    shutil.rmtree(shard_dir, ignore_errors=True)
    shard_dir.mkdir()
    shards = []
    for i in (1, 2):
        out = shard_dir / f"shard-{i}.json"
        shards.append(run_cli([str(root), "--jobs", str(jobs), "--shard", f"{i}/2", "--out", str(out), "--timings"]))
    results = [str(p) for p in sorted(shard_dir.glob("*.json"))]
    merged = run_cli([str(root), "--jobs", str(jobs), "--timings", "--skip", "package", "--merge", *results])
    if merged["code"] != 0 or any(s["code"] != 0 for s in shards):
        print(merged["output"])
        raise SystemExit("the sharded verification failed")
    merge_times = check_times(merged["output"])
    return [
        row("shards 1/2 and 2/2 (CPU, both)", sum(s["cpu"] for s in shards), "s"),
        row("  peak memory of a shard", max(s["peak"] for s in shards) / 2**20, "MiB"),
        row("merge of the 2 shard results (wall)", merged["wall"], "s", rate=n / merged["wall"]),
        row("  merge: taking in the shard results (CPU)", merge_times["ballots"][1], "s"),
        row("  merge peak memory", merged["peak"] / 2**20, "MiB", target=f"< {TARGET_MIB:.0f}",
            meets=merged["peak"] / 2**20 < TARGET_MIB),
    ]  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
