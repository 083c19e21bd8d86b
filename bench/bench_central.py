"""Central office benchmark against a real PostgreSQL 15 (started by devtools.pg).

1. check-ins per second (check-in + voted mark over HTTP/ASGI, one kiosk at a time);
2. ballots ingested per second with full verification (proofs, chain, tally update), batches of 50, with the
   verification pool (one process per core) and inline; peer: ``verify_ballot`` alone in one process, same run;
3. national scale, last guardian share -> published, verified results (roll of 753,690 voters in PostgreSQL,
   500,000 ballots over 63 wilayats). See the notes it prints for exactly what is built and what is timed.

Run: .venv/bin/python -m bench.bench_central [--skip-national]  (writes out/bench/central.json)
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from bench.bench_ballots import QUIET_REF_US, floor_tally, floor_verify
from central import manual, pollbook, record_writer, results
from central.api import create_app
from central.config import CentralConfig
from central.crypto import CheckRequest
from central.db import migrate
from central.models import GuardianShare
from central.office import Office, enrol_kiosk
from devtools.central_office import NOW, Clock, make_office, small_election, write_election
from devtools.kiosksim import Election, SimKiosk
from devtools.pg import PostgresServer
from devtools.sample_election import random_plaintext, run_key_ceremony
from devtools.sample_election.kiosks import sample_kiosk_statements
from election.ballot import BLANK_LABEL, encrypt_ballot
from election.canonical import canonical_json
from election.context import ElectionContext
from election.decryption import PartialDecryption, compute_share, decrypt_tally, verify_share
from election.elgamal import Ciphertext, encrypt
from election.group import Scalar
from election.manifest import BallotStyleId, ContestId, Manifest, WilayatCode
from election.record import ElectionRecord, write_record
from election.roll import CivilNumber, RollEntry, load_roll
from election.tally import EncryptedTally, TallyAccumulator, ballot_ids_hash
from election.verify.checks import State, check_decryption, check_parameters
from election.verify.primitives import small
from election.verify.strict_json import load

Row = dict[str, object]


def row(what: str, median: float, unit: str, **extra: object) -> Row:
    base: Row = {
        "what": what,
        "median": median,
        "unit": unit,
        "p99": None,
        "rate_per_s": None,
        "peer": None,
        "peer_median": None,
        "ratio": None,
        "target": None,
        "meets_target": None,
    }
    base.update(extra)
    return base


# ---- 1 + 2: check-ins and ingest ------------------------------------------------------------------------


def _ops(selections: int, seats: int) -> tuple[int, int, int, int]:
    """Group operations per ballot in ingest: bench_ballots' verification and tally floors (the range proofs,
    the limit proof's ciphertext sum, 2 additions per ciphertext for the tally) plus the point checks of parsing
    (alpha and beta of each ciphertext): (fixed-base, variable-base, point validations, additions)."""
    verify, tally = floor_verify(selections, seats), floor_tally(selections)
    return verify["fixed"], verify["var"], 2 * (selections + 1), verify["add"] + tally["add"]


def _primitive_times() -> dict[str, float]:
    """Seconds per ristretto255 fixed-base and variable-base multiplication and point validation (election.group),
    and per reference multiplication (libsodium's Ed25519 variable-base one, the yardstick), measured now."""
    from nacl.bindings import crypto_scalarmult_ed25519_base_noclamp, crypto_scalarmult_ed25519_noclamp

    from election.group import is_valid_point, point_add, point_base_mul, point_mul

    scalars = [Scalar.from_uniform_bytes(os.urandom(64)).data for _ in range(200)]
    points = [point_base_mul(k) for k in scalars]
    ed_points = [crypto_scalarmult_ed25519_base_noclamp(k) for k in scalars]
    times: dict[str, float] = {}
    for name, fn in (
        ("fixed", lambda i: point_base_mul(scalars[i])),
        ("variable", lambda i: point_mul(scalars[i], points[i - 1])),
        ("validate", lambda i: is_valid_point(points[i])),
        ("add", lambda i: point_add(points[i], points[i - 1])),
        ("reference", lambda i: crypto_scalarmult_ed25519_noclamp(scalars[i], ed_points[i - 1])),
    ):
        best = []
        for _ in range(3):
            t = time.perf_counter()
            for i in range(200):
                fn(i)
            best.append((time.perf_counter() - t) / 200)
        times[name] = statistics.median(best)
    return times


def bench_checkins(pg: PostgresServer, tmp: Path, rows: list[Row]) -> None:
    election = small_election(tmp / "checkins")
    office = make_office(election, pg.create_database(), tmp / "record-checkins", Clock(NOW), workers=0)
    try:
        app = create_app(office)
        with office.db.transaction() as s:
            enrol_kiosk(s, office, election.pki.kiosks["K-PC-002-1"].cert(), actor="bench", now=NOW)
            pollbook.import_roll(
                s,
                office.manifest,
                [RollEntry(CivilNumber(f"4{i:07d}"), WilayatCode("MU-01"), True) for i in range(1, 2001)],
            )
        sim = SimKiosk(election, "K-PC-002-1", app)
        n = 400
        t0 = time.perf_counter()
        for i in range(1, n + 1):
            sim.voted(sim.checkin(f"4{i:07d}").json()["checkin_token"])
        elapsed = time.perf_counter() - t0
        rows.append(row("check-in + voted mark (HTTP, PostgreSQL)", elapsed / n * 1000, "ms", rate_per_s=n / elapsed))
    finally:
        office.close()


INGEST_STYLES = (("BS-MU-01", "K-PC-002-1"), ("BS-MA-04", "K-PC-001-1"))
BATCH = 50


@dataclass
class _Scenario:
    label: str
    election: Election
    kiosks: list[str]  # senders (the first one also sends the sequential batches)
    styles: list[str]  # each ballot's style drawn uniformly from these
    rows_label: str = ""


def _national_election(root: Path, kiosks: int) -> tuple[Election, list[str]]:
    """The national demo definition (63 wilayats, 843 candidates), a real key ceremony, kiosk certificates for
    ``kiosks`` kiosks of unified centres (they serve every wilayat, so every style is tallied, not flagged)."""
    from devtools.demo_election.build import build_definition

    manifest = build_definition("national", 2023).manifest
    unified = {c.id for c in manifest.centres if c.unified}
    chosen = [str(k.id) for k in manifest.kiosks if k.centre in unified][:kiosks]
    return write_election(root, manifest, chosen), chosen


def _office_for(election: Election, pg: PostgresServer, tmp: Path, kiosks: list[str], workers: int) -> Office:
    office = make_office(election, pg.create_database(), tmp, Clock(NOW), workers=workers)
    with office.db.transaction() as s:
        for k in kiosks:
            enrol_kiosk(s, office, election.pki.kiosks[k].cert(), actor="bench", now=NOW)
    return office


def _bodies(sim: SimKiosk, styles: list[str], batches: int, rng: random.Random) -> list[tuple[bytes, list[Any]]]:
    """Signed batches as the bytes a kiosk sends (serialised once, from its database: not the office's work)."""
    out = []
    for _ in range(batches):
        batch = sim.make_batch([sim.encrypt(rng.choice(styles)) for _ in range(BATCH)])
        out.append((canonical_json(batch.model_dump(mode="json")), list(batch.ballots)))
    return out


def _post(sim: SimKiosk, body: bytes) -> None:
    r = sim.http.post("/v1/batches", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 200 and r.json()["accepted"] == BATCH, r.text


def _post_all(sim: SimKiosk, bodies: list[bytes]) -> None:
    for body in bodies:
        _post(sim, body)


def _ceiling(office: Office, ballots: list[Any], kiosk: str) -> float:
    """Verification only (parse + proofs + codes) of the same ballots on the office's own pool: ballots/s."""
    requests = [
        CheckRequest(payload=b.encrypted_ballot, kiosk_id=kiosk, genesis=office.checker.genesis(kiosk)) for b in ballots
    ]
    t = time.perf_counter()
    for i in range(0, len(requests), BATCH):
        office.checker.check_many(requests[i : i + BATCH])
    return len(requests) / (time.perf_counter() - t)


def _probe_us(n: int = 100) -> float:
    """One reference multiplication now (us): libsodium's Ed25519 variable-base multiplication, whose quiet cost
    DOMAIN.md gives as 70 us (the group is ristretto255, but this is the machine's yardstick, the same as
    bench/bench_ballots.py's); the median of three runs of ``n`` (cheap enough per batch)."""
    from nacl.bindings import crypto_scalarmult_ed25519_base_noclamp, crypto_scalarmult_ed25519_noclamp

    k = Scalar.from_uniform_bytes(os.urandom(64)).data
    p = crypto_scalarmult_ed25519_base_noclamp(k)
    runs = []
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(n):
            crypto_scalarmult_ed25519_noclamp(k, p)
        runs.append((time.perf_counter() - t) / n * 1e6)
    return statistics.median(runs)


def _run_scenario(
    sc: _Scenario, pg: PostgresServer, tmp: Path, workers: int, concurrent: bool, profile: Path | None
) -> dict[str, Any]:
    """Per timed batch: a multiplication probe, the batch's ingest, the same ballots through the verification pool
    alone (the ceiling), another probe; so each batch's ratio and normalisation see the load of that moment."""
    rng = random.Random(7)
    office = _office_for(sc.election, pg, tmp / f"record-{sc.label}-{workers}", sc.kiosks, workers)
    try:
        app = create_app(office)
        sims = [SimKiosk(sc.election, k, app) for k in sc.kiosks]
        _post(sims[0], _bodies(sims[0], sc.styles, 1, rng)[0][0])  # starts the workers (not timed)
        seq = _bodies(sims[0], sc.styles, 6, rng)
        rates, ceilings, ratios, normalised, mults = [], [], [], [], []
        prof = cProfile.Profile() if profile is not None else None
        for body, ballots in seq:
            before = _probe_us()
            t = time.perf_counter()
            if prof is not None:
                prof.enable()
            _post(sims[0], body)
            if prof is not None:
                prof.disable()
            rate = BATCH / (time.perf_counter() - t)
            ceiling = _ceiling(office, ballots, sims[0].kiosk_id) if workers else rate
            mult = statistics.mean([before, _probe_us()])
            rates.append(rate)
            ceilings.append(ceiling)
            ratios.append(rate / ceiling)
            normalised.append(rate * mult / QUIET_REF_US)
            mults.append(mult)
        if prof is not None and profile is not None:
            prof.dump_stats(str(profile))
        result: dict[str, Any] = {
            "seq": rates,
            "ceiling": statistics.median(ceilings),
            "ratio": statistics.median(ratios),
            "normalised": statistics.median(normalised),
            "mult_us": statistics.median(mults),
            "mult_range": (min(mults), max(mults)),
        }
        if concurrent and len(sims) > 1:
            per_kiosk = {s.kiosk_id: _bodies(s, sc.styles, 3, rng) for s in sims}
            before = _probe_us()
            t = time.perf_counter()
            with ThreadPoolExecutor(len(sims)) as ex:
                list(ex.map(lambda s: _post_all(s, [b for b, _ in per_kiosk[s.kiosk_id]]), sims))
            rate = sum(len(v) for v in per_kiosk.values()) * BATCH / (time.perf_counter() - t)
            ceiling = _ceiling(office, [b for v in per_kiosk.values() for _, bs in v for b in bs], sims[0].kiosk_id)
            mult = statistics.mean([before, _probe_us()])
            result["concurrent"] = (rate, ceiling, rate * mult / QUIET_REF_US, mult)
        return result
    finally:
        office.close()


def bench_ingest(
    pg: PostgresServer, tmp: Path, rows: list[Row], notes: list[str], *, small: bool, profile: Path | None
) -> None:
    scenarios: list[_Scenario] = []
    if small:
        election = small_election(tmp / "small")
        for style, kiosk in INGEST_STYLES:
            contest = election.manifest.contests_by_id[
                election.manifest.styles_by_id[BallotStyleId(style)].contest_ids[0]
            ]
            shape = f"{style}: {len(contest.selection_ids)} candidates, vote for {contest.seats}"
            scenarios.append(_Scenario(style, election, [kiosk], [style], shape))
    national, senders = _national_election(tmp / "national", 4)
    m = national.manifest
    big = max((c for c in m.contests if c.seats == 2), key=lambda c: (len(c.selection_ids) == 15, len(c.selection_ids)))
    big_style = next(s.id for s in m.ballot_styles if big.id in s.contest_ids)
    two = sum(1 for c in m.contests if c.seats == 2)
    scenarios.append(
        _Scenario(
            "national-15", national, senders, [big_style],
            f"national {big_style}: {len(big.selection_ids)} candidates, vote for 2",
        )
    )  # fmt: skip
    scenarios.append(
        _Scenario(
            "national-mix", national, senders, [s.id for s in m.ballot_styles],
            f"national mix: {len(m.ballot_styles)} styles ({two} two-seat, {len(m.contests) - two} one-seat "
            f"wilayats, {sum(len(c.selection_ids) for c in m.contests)} candidates), each ballot's style uniform",
        )
    )  # fmt: skip
    for sc in scenarios:
        nat = sc.label.startswith("national")
        res = _run_scenario(sc, pg, tmp, 2, nat, profile if sc.label == "national-15" else None)
        inline = None if nat else _run_scenario(sc, pg, tmp, 0, False, None)
        seq = statistics.median(res["seq"])
        figures = [
            (
                "pool of 2, one kiosk sending batches one after another",
                seq, 1000 / min(res["seq"]), res["ceiling"], res["ratio"], res["normalised"], res["mult_us"],
            )
        ]  # fmt: skip
        if "concurrent" in res:
            rate, ceiling, norm, mult = res["concurrent"]
            figures.append(
                (f"pool of 2, {len(sc.kiosks)} kiosks sending at once", rate, None, ceiling, rate / ceiling, norm, mult)
            )
        for label, rate, p99, ceiling, ratio, norm, mult in figures:
            rows.append(
                row(
                    f"ingest, full verification, {label}, {sc.rows_label} (batches of {BATCH})",
                    1000 / rate,
                    "ms/ballot",
                    rate_per_s=rate,
                    p99=p99,
                    peer="verification only (same ballots, same pool of 2, right after): ceiling",
                    peer_median=1000 / ceiling,
                    ratio=ratio,
                    target=">= 150 ballots/s (as measured)",
                    meets_target=rate >= 150,
                )
            )
            rows.append(
                row(
                    f"  normalised to a quiet machine (rate x {mult:.0f} us / {QUIET_REF_US:.0f} us per reference "
                    "mult)",
                    1000 / norm,
                    "ms/ballot",
                    rate_per_s=norm,
                    peer="ceiling normalised the same way",
                    peer_median=1000 / (ceiling * mult / QUIET_REF_US),
                    ratio=ratio,
                    target=">= 150 ballots/s at quiet-machine speed",
                    meets_target=norm >= 150,
                )
            )
        if inline is not None:
            rate = statistics.median(inline["seq"])
            rows.append(
                row(
                    f"ingest, full verification, inline (one process), {sc.rows_label}",
                    1000 / rate,
                    "ms/ballot",
                    rate_per_s=rate,
                    p99=1000 / min(inline["seq"]),
                    target=">= 150 ballots/s (as measured)",
                    meets_target=rate >= 150,
                )
            )
        low, high = res["mult_range"]
        notes.append(
            f"{sc.rows_label}: reference multiplication {res['mult_us']:.0f} us (median of the per-batch probes, "
            f"{low:.0f}-{high:.0f} us; quiet machine {QUIET_REF_US:.0f} us); one sender: ingest {seq:.1f}/s, "
            f"ceiling {res['ceiling']:.1f}/s (medians over batches), median per-batch ratio {res['ratio']:.2f}, "
            f"normalised ingest {res['normalised']:.1f}/s."
        )
    prim = _primitive_times()
    for shape, sel, seats in (("15 candidates, vote for 2", 15, 2), ("6 candidates, vote for 2", 6, 2)):
        fixed, variable, valid, adds = _ops(sel, seats)
        floor = (
            fixed * prim["fixed"] + variable * prim["variable"] + valid * prim["validate"] + adds * prim["add"]
        ) / 2
        quiet = floor * QUIET_REF_US * 1e-6 / prim["reference"]
        notes.append(
            f"op-count floor, {shape}: {fixed} fixed-base + {variable} variable-base ristretto255 multiplications + "
            f"{valid} point validations + {adds} additions (proofs and tally) per ballot; at this run's "
            f"{prim['fixed'] * 1e6:.0f} / {prim['variable'] * 1e6:.0f} / {prim['validate'] * 1e6:.1f} / "
            f"{prim['add'] * 1e6:.0f} us: {floor * 1000:.2f} ms per ballot on 2 cores ({1 / floor:.0f}/s, with nothing "
            f"else: no parsing, hashing, signatures, HTTP or database); scaled to a quiet machine (reference "
            f"multiplication {prim['reference'] * 1e6:.0f} us here, 70 us there): {quiet * 1000:.2f} ms "
            f"({1 / quiet:.0f}/s)."
        )
    notes.append(
        f"ingest: 6 timed batches of {BATCH} ballots sent one after another by one kiosk (median of the per-batch "
        "rates; p99 column: the slowest batch, ms/ballot); right after each batch its ballots go through the same "
        "verification pool alone (check_many, no HTTP, no database: the ceiling), and a reference multiplication "
        "probe (libsodium's Ed25519 variable-base one) runs before and after, so each batch's ratio "
        "(ingest / ceiling) and normalised rate "
        "use the load of that moment; medians over the batches. Then, for the national rows, 4 kiosks of unified "
        "centres send 3 batches each at once from 4 threads (total ballots / wall time; its ceiling: the same 600 "
        "ballots through the pool right after). Batches are pre-serialised canonical JSON (what a kiosk sends from "
        "its database) posted through the ASGI app in this process (Starlette TestClient, no TLS, no network); "
        "PostgreSQL 15 on this machine with fsync off. Normalised = rate x (reference multiplication measured "
        f"around the batch / {QUIET_REF_US:.0f} us), the way bench/bench_ballots.py reports quiet-machine figures: "
        "it assumes the whole pipeline slows down like libsodium does (the database and Python parts may not), so "
        "it is an estimate, not a measurement on a quiet machine."
    )


# ---- 3: national results ----------------------------------------------------------------------------------

ROLL_SIZE = 753_690
BALLOTS = 500_000


def _national_totals(manifest: Manifest, per_style: dict[str, int], rng: random.Random) -> dict[str, dict[str, int]]:
    """Plausible per-candidate counts: ~2% blank ballots, the rest mark 1..seats candidates."""
    totals: dict[str, dict[str, int]] = {}
    for contest in manifest.contests:
        n = sum(v for s, v in per_style.items() if contest.id in manifest.styles_by_id[BallotStyleId(s)].contest_ids)
        blank = round(n * rng.uniform(0.01, 0.03))
        marks = (n - blank) * contest.seats - round((n - blank) * rng.uniform(0.0, 0.1) * (contest.seats - 1))
        ids = list(contest.selection_ids)
        weights = [rng.random() ** 2 + 0.05 for _ in ids]
        counts: dict[str, int] = {
            str(c): min(n - blank, round(marks * w / sum(weights))) for c, w in zip(ids, weights, strict=True)
        }
        counts[BLANK_LABEL] = blank
        totals[contest.id] = counts
    return totals


def bench_national(pg: PostgresServer, tmp: Path, rows: list[Row], notes: list[str]) -> None:
    rng = random.Random(2023)
    setup: dict[str, float] = {}
    t = time.perf_counter()
    defdir = tmp / "national-def"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "devtools.demo_election",
            "--scale",
            "national",
            "--roll-size",
            str(ROLL_SIZE),
            "--out",
            str(defdir),
            "--force",
        ],
        check=True,
        capture_output=True,
    )
    manifest = Manifest.from_dict(json.loads((defdir / "manifest.json").read_text()))
    context, guardians, secrets = run_key_ceremony(manifest.manifest_hash, 3, 2, os.urandom)
    edir = tmp / "national-election"
    (edir / "guardians").mkdir(parents=True)
    (edir / "manifest.json").write_text(json.dumps(manifest.to_dict()), encoding="utf-8")
    (edir / "election-context.json").write_text(json.dumps(context.to_dict()), encoding="utf-8")
    for g in guardians:
        (edir / "guardians" / f"guardian-{g.sequence}.json").write_text(json.dumps(g.to_dict()), encoding="utf-8")
    url = pg.create_database()
    migrate(url)
    config = CentralConfig(database_url=url, election_dir=edir, record_dir=tmp / "national-record")
    office = Office.open(config, clock=Clock(NOW))
    try:
        office.prepare()
        setup["definition + key ceremony"] = time.perf_counter() - t
        # The roll (753,690 voters) into PostgreSQL, then 500,000 of the eligible ones marked voted.
        t = time.perf_counter()
        with office.db.transaction() as s:
            loaded = pollbook.import_roll(s, manifest, load_roll(defdir / "roll.csv", manifest))
        assert loaded == ROLL_SIZE
        with office.db.transaction() as s:
            s.execute(
                text(
                    "UPDATE voters SET state = 'voted' WHERE civil_number IN (SELECT civil_number FROM voters "
                    "WHERE eligible ORDER BY md5(civil_number) LIMIT :n)"
                ),
                {"n": BALLOTS},
            )
        setup["roll import + 500,000 voted marks"] = time.perf_counter() - t
        per_style = record_writer.pollbook_counts(office.db, office.manifest)
        assert sum(per_style.values()) == BALLOTS
        # The encrypted tally, built directly: each per-contest total encrypted with a known random nonce (the
        # same ciphertext shape a homomorphic sum of 500,000 ballots has; every proof downstream is real).
        t = time.perf_counter()
        totals = _national_totals(manifest, per_style, rng)
        key = context.joint_public_key
        contests: dict[ContestId, dict[str, Ciphertext]] = {}
        for contest in manifest.contests:
            contests[contest.id] = {
                sel: encrypt(totals[contest.id][sel], Scalar.from_uniform_bytes(os.urandom(64)), key)
                for sel in (*contest.selection_ids, BLANK_LABEL)
            }
        per_contest = {
            c.id: sum(v for s, v in per_style.items() if c.id in manifest.styles_by_id[BallotStyleId(s)].contest_ids)
            for c in manifest.contests
        }
        tally = EncryptedTally(
            base_hash=context.base_hash,
            contests=contests,
            ballots_per_contest=per_contest,
            ballots_per_style={BallotStyleId(s): n for s, n in per_style.items()},
            cast_ballot_ids_hash=ballot_ids_hash([f"national-{i:06d}" for i in range(BALLOTS)]),
        )
        # Guardians 1 and 3 decrypt, guardian 2 is missing and compensated by 1 and 3 (4 shares).
        by_seq = {g.sequence: g for g in secrets}
        shares = [
            compute_share(context, tally, guardian=p, secret=by_seq[p].secret, seed=os.urandom(32)) for p in (1, 3)
        ]
        shares += [
            compute_share(context, tally, guardian=h, secret=by_seq[h].received[2], seed=os.urandom(32), missing=2)
            for h in (1, 3)
        ]
        setup["tally + guardians' shares"] = time.perf_counter() - t
        with office.db.transaction() as s:
            for sh in shares[:-1]:
                s.add(
                    GuardianShare(guardian_id=f"{sh.guardian}-{sh.missing}", payload=sh.to_dict(), uploaded_by="bench")
                )
        # ---- timed: the last share arrives -> verified results -----------------------------------------------
        steps: dict[str, float] = {}
        t0 = t = time.perf_counter()
        last = PartialDecryption.from_dict(shares[-1].to_dict())
        verify_share(context, tally, last)
        with office.db.transaction() as s:
            s.add(GuardianShare(guardian_id="last", payload=last.to_dict(), uploaded_by="bench"))
        steps["last share: parse, proofs, store"] = time.perf_counter() - t
        t = time.perf_counter()
        with office.db.transaction() as s:
            stored = [PartialDecryption.from_dict(r.payload) for r in s.scalars(select(GuardianShare))]
        plain = decrypt_tally(context, manifest, tally, stored)
        steps["decrypt (Lagrange, dlog up to the totals)"] = time.perf_counter() - t
        for contest in manifest.contests:
            assert plain.contests[contest.id].votes == {c: totals[contest.id][c] for c in contest.selection_ids}
        t = time.perf_counter()
        counts = record_writer.pollbook_counts(office.db, office.manifest)  # over the full roll
        merged = results.merge(office.manifest, plain, manual.approved_totals(office.db), counts)  # sheets, winners
        steps["merge + poll-book counts (PostgreSQL)"] = time.perf_counter() - t
        t = time.perf_counter()
        record_dir = tmp / "national-record"
        write_record(
            record_dir,
            ElectionRecord(
                manifest, context, tuple(guardians), {}, tally, tuple(stored), plain, merged["pollbook_counts"]
            ),
        )
        steps["write record (aggregate level)"] = time.perf_counter() - t
        t = time.perf_counter()
        state = State(record_dir)
        check_parameters(state, lambda _d, _t: None)  # check 1, the verifier's own code
        raw = load(record_dir / "tally" / "encrypted_tally.json")
        state.tally = {
            c: {sel: _pair(Ciphertext.from_dict(v, aggregate=True)) for sel, v in r.items()}
            for c, r in raw["contests"].items()
        }  # the published tally (there are no ballots in this record to recompute it from)
        check_decryption(state, lambda _d, _t: None)  # check 6, the verifier's own code
        published = load(record_dir / "results.json")["contests"]
        for contest in manifest.contests:  # check 7's count test, with the verifier's primitive
            r = published[contest.id]
            for sel, count in [*r["votes"].items(), (BLANK_LABEL, r["blank"])]:
                if small(count) != state.tally[contest.id][sel][1] - state.combined[(contest.id, sel)]:
                    raise RuntimeError(f"{contest.id}/{sel}: {count} is not what the tally decrypts to")
            if r["undervotes"] != r["ballots"] * contest.seats - sum(r["votes"].values()):
                raise RuntimeError(f"{contest.id}: undervotes")
        steps["verifier checks 1, 6 and 7's count test on the record"] = time.perf_counter() - t
        total = time.perf_counter() - t0
    finally:
        office.close()
    rows.append(
        row(
            "national: last guardian share -> verified results (aggregate record)",
            total,
            "s",
            target="<= 60 s",
            meets_target=total <= 60,
        )
    )
    for name, seconds in steps.items():
        rows.append(row(f"  national step: {name}", seconds, "s"))
    # The full independent verifier (subprocess, every check) on a reduced national record.
    reduced, per_ballot = _reduced_record(tmp / "reduced-record", manifest, context, guardians, secrets)
    rows.append(
        row(
            f"python -m election.verify, national manifest, {reduced} real ballots (1 per style)",
            per_ballot * reduced,
            "s",
        )
    )
    extrapolated = per_ballot * BALLOTS
    notes.append(
        "national: definition from devtools.demo_election (63 wilayats, 90 seats, 843 candidates), 3 guardians, "
        f"quorum 2; roll of {ROLL_SIZE:,} voters loaded into PostgreSQL and {BALLOTS:,} of them marked voted "
        f"(setup, not timed: {', '.join(f'{k} {v:.1f} s' for k, v in setup.items())}). The encrypted tally is "
        "built directly: each per-candidate and blank total (plausible random counts summing per contest to "
        "the ballots of its wilayat) is ElGamal-encrypted once with a known random nonce; no 500,000 individual "
        "ballots exist. The guardians' shares are real (Chaum-Pedersen proofs, guardian 2 compensated). Timed: "
        "parse + proof check + store of the last share, decryption (Lagrange, dlog up to the national totals, "
        "each checked against the known totals), merge with the poll book over the full roll, writing the "
        "record, and, in-process on that record, the verifier's own checks 1 (parameters, guardians) and 6 "
        "(every share proof, compensation) and check 7's count test (t G = B - M for every count, with the "
        "verifier's primitive; its ballots-per-contest recount needs the ballots). Note: the verifier's check 7 "
        "recounts ballots per contest by scanning every cast ballot once per contest (63 x 500,000): ~60 s in "
        "a first run of this bench; the verifier owner should count per style once."
    )
    notes.append(
        "national, what is NOT in the timed record: the 500,000 encrypted ballots and the kiosk chains, so the "
        "verifier's checks 2-5 and 8 (ballot proofs, chains, tally = sum of ballots, turnout) were not run on "
        f"it. Full `python -m election.verify` ran (subprocess) on a reduced record with the national manifest "
        f"and {reduced} real ballots and passed; at its measured per-ballot cost, re-checking 500,000 ballots "
        f"would take at most ~{extrapolated / 60:.0f} min in one process (an upper bound: the reduced run's "
        "fixed costs are spread over 63 ballots; 500,000 x verify_ballot time is nearer): the national record's "
        "full verification is an observers' job after publication, not part of the 60 s target."
    )


def _pair(ct: Ciphertext) -> tuple[Any, Any]:
    return ct.alpha, ct.beta


def _reduced_record(
    out: Path, manifest: Manifest, context: ElectionContext, guardians: Any, secrets: Any
) -> tuple[int, float]:
    """A consistent record: one real ballot per style, chained on one kiosk, real tally and shares."""
    from devtools.sample_election import decrypt_with
    from election.confirmation import confirmation_code, genesis_code

    kiosk = manifest.kiosks[0].id
    acc = TallyAccumulator(context, manifest)
    genesis = genesis_code(context.base_hash, kiosk)
    chain = []
    for i, style in enumerate(manifest.ballot_styles):
        plain = random_plaintext(manifest, style.id, os.urandom)
        ballot = encrypt_ballot(context, manifest, plain, ballot_id=f"reduced-{i:04d}", seed=os.urandom(32))
        acc.add(ballot)
        chain.append((ballot, confirmation_code(genesis, kiosk, ballot), None))
    tally = acc.result()
    plain_tally, shares = decrypt_with(context, manifest, tally, secrets, [1, 3], os.urandom)
    counts: dict[str, int] = {str(s.id): 1 for s in manifest.ballot_styles}
    closes = sample_kiosk_statements(  # TEST MATERIAL key: the kiosk's signed chain close (the verifier's closes check)
        context.base_hash, {kiosk: [[(code.hex(), "cast") for _, code, _ in chain]]}, os.urandom
    )
    write_record(
        out,
        ElectionRecord(
            manifest,
            context,
            tuple(guardians),
            {kiosk: (tuple(chain),)},  # one batch
            tally,
            tuple(shares),
            plain_tally,
            counts,
            kiosks=closes,
        ),
    )
    t = time.perf_counter()
    ok, output = record_writer.run_verifier(out)
    elapsed = time.perf_counter() - t
    if not ok:
        raise RuntimeError(f"reduced national record does not verify:\n{output}")
    return len(chain), elapsed / len(chain)


HARDENING_PAIRS = 10
HARDENING_KIOSK = "K-PC-002-1"
HARDENING_STYLE = "BS-MU-01"


def bench_hardening(pg: PostgresServer, tmp: Path, rows: list[Row], notes: list[str]) -> None:
    """Ingest through the office's app with and without ``central.api.limits.RequestLimits`` (body limits before the
    body is read, strict-JSON checks): one office, one database, one kiosk's chain, inline verification; the
    kiosk's batches go to the two apps in turn (A B B A ...), so that the machine's noise and any drift fall on both
    alike. Issue 15 asks for the hardened ingest within 5% of the other."""
    from central.api.limits import RequestLimits
    from devtools.kiosksim import client_for

    election = small_election(tmp / "hardening")
    office = _office_for(election, pg, tmp / "hardening-record", [HARDENING_KIOSK], workers=0)
    try:
        hardened = create_app(office)
        plain = create_app(office)
        plain.user_middleware = [m for m in plain.user_middleware if m.cls is not RequestLimits]
        sim = SimKiosk(election, HARDENING_KIOSK, hardened)
        clients = {"with": sim.http, "without": client_for(plain, sim.cert_pem)}
        bodies = [b for b, _ in _bodies(sim, [HARDENING_STYLE], 2 * HARDENING_PAIRS + 2, random.Random(15))]
        for k in ("with", "without"):  # warm-up: each app's first request (middleware stack, caches)
            sim.http = clients[k]
            _post(sim, bodies.pop(0))
        times: dict[str, list[float]] = {"with": [], "without": []}
        for i, body in enumerate(bodies):
            k = "with" if i % 4 in (0, 3) else "without"
            sim.http = clients[k]
            t = time.perf_counter()
            _post(sim, body)
            times[k].append(time.perf_counter() - t)
        size = statistics.median(len(b) for b in bodies)
    finally:
        office.close()
    med = {k: statistics.median(v) for k, v in times.items()}
    ratio = med["with"] / med["without"]
    rows.append(
        row(
            f"ingest with the open-network hardening (RequestLimits), batches of {BATCH}, inline verification",
            med["with"] * 1000,
            "ms/batch",
            rate_per_s=BATCH / med["with"],
            peer="the same ingest without RequestLimits, same run, same kiosk chain, batches in turn",
            peer_median=med["without"] * 1000,
            ratio=ratio,
            target="ratio <= 1.05",
            meets_target=ratio <= 1.05,
        )
    )
    notes.append(
        f"hardening: {HARDENING_PAIRS} pairs of {BATCH}-ballot batches ({size / 1024:.0f} KiB, {HARDENING_STYLE}) "
        f"from {HARDENING_KIOSK}, A B B A order; medians {med['with'] * 1000:.0f} ms (with) and "
        f"{med['without'] * 1000:.0f} ms (without) per batch, ratio {ratio:.3f}."
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_central")
    parser.add_argument("--skip-national", action="store_true", help="only check-ins and ingest")
    parser.add_argument("--only-national-ingest", action="store_true", help="only the national-size ingest rows")
    parser.add_argument("--profile", type=Path, help="cProfile of the office process, national 15-candidate rows")
    parser.add_argument("--only-hardening", action="store_true", help="only the hardening row pair (issue 15)")
    args = parser.parse_args(argv)
    rows: list[Row] = []
    notes: list[str] = [
        f"PostgreSQL 15 with fsync off (test settings); {os.cpu_count()} cores; in-process ASGI (no TLS)."
    ]
    with tempfile.TemporaryDirectory() as tmp, PostgresServer.started() as pg:
        if args.only_hardening:
            bench_hardening(pg, Path(tmp), rows, notes)
        elif not args.only_national_ingest:
            bench_hardening(pg, Path(tmp), rows, notes)
            bench_checkins(pg, Path(tmp), rows)
        if not args.only_hardening:
            bench_ingest(pg, Path(tmp), rows, notes, small=not args.only_national_ingest, profile=args.profile)
        if not (args.skip_national or args.only_national_ingest or args.only_hardening):
            bench_national(pg, Path(tmp), rows, notes)
    out = Path("out/bench")
    out.mkdir(parents=True, exist_ok=True)
    (out / "central.json").write_text(json.dumps({"area": "central", "rows": rows, "notes": notes}, indent=2))
    for r in rows:
        rate = f"rate {r['rate_per_s']:>8.1f}/s" if r["rate_per_s"] else " " * 16
        ratio = f"ratio {r['ratio']:.2f}" if r["ratio"] else ""
        print(f"{r['what']:<78} {r['median']:>9.3f} {r['unit']:<10} {rate} {ratio} {r['target'] or ''}")
    for n in notes:
        print("-", n)


if __name__ == "__main__":
    main()
