"""Peer benchmark: ElectionGuard 1.4.0 (4096-bit group, gmpy2) on the same contest shape as bench_ballots.

Run by bench/bench_ballots.py with .venv-peer/bin/python (Python 3.10); prints one JSON object on stdout.
ElectionGuard 1.x proves a contest limit with placeholder selections: a vote-for-s contest of c candidates
encrypts c + s selections with a disjunctive 0/1 proof each, plus one constant Chaum-Pedersen proof of the sum.
This script performs exactly that work with the library's own primitives (the same calls its encrypt_ballot
makes), without the manifest plumbing.
"""

import json
import logging
import statistics
import sys
import time

# electionguard lives only in .venv-peer (Python 3.10), so the type checker of the main venv cannot see it
from electionguard.chaum_pedersen import (  # type: ignore[import-not-found]
    make_chaum_pedersen,
    make_constant_chaum_pedersen,
    make_disjunctive_chaum_pedersen,
)
from electionguard.constants import get_small_prime  # type: ignore[import-not-found]
from electionguard.discrete_log import DiscreteLog  # type: ignore[import-not-found]
from electionguard.elgamal import elgamal_add, elgamal_encrypt  # type: ignore[import-not-found]
from electionguard.group import add_q, div_p, g_pow_p, int_to_q, mult_p, pow_p, rand_q  # type: ignore[import-not-found]

try:  # the same libsodium probe as bench_ballots, so the peer's work is counted in the same units at the same moment
    from nacl._sodium import ffi as _ffi  # type: ignore[import-not-found]
    from nacl._sodium import lib as _lib
except ImportError:  # an older .venv-peer without PyNaCl: bench_ballots converts with its own probe instead
    _lib = None

logging.disable(logging.CRITICAL)  # the library logs every encryption at INFO
SHAPE = [(15, 2), (8, 1)]
Q = get_small_prime()


def encrypt_contest(key, q_hash, count, seats, chosen):
    plain = [1 if i in chosen else 0 for i in range(count)]
    plain += [1] * (seats - len(chosen)) + [0] * len(chosen)  # placeholders fill up to the limit
    cts, nonces = [], []
    for value in plain:
        r = rand_q()
        ct = elgamal_encrypt(value, r, key)
        proof = make_disjunctive_chaum_pedersen(ct, r, key, q_hash, rand_q(), value)
        cts.append((ct, proof))
        nonces.append(r)
    total = elgamal_add(*[c for c, _ in cts])
    constant = make_constant_chaum_pedersen(total, seats, add_q(*nonces), key, rand_q(), q_hash)
    return (cts, total, constant)


def verify_contest(key, q_hash, contest):
    cts, _total, constant = contest
    for ct, proof in cts:
        assert proof.is_valid(ct, key, q_hash)
    assert constant.is_valid(elgamal_add(*[c for c, _ in cts]), key, q_hash)


_PROBE_OUT = _ffi.new("unsigned char[32]") if _lib else None
_PROBE_SCALAR = bytes(range(1, 32)) + b"\x01"
_PROBE_POINT = None
if _lib:
    _lib.crypto_scalarmult_ed25519_base_noclamp(_PROBE_OUT, bytes(range(64, 95)) + b"\x01")
    _PROBE_POINT = bytes(_ffi.buffer(_PROBE_OUT))


def probe(n=7):
    """Median thread CPU seconds of one libsodium variable-base multiplication (None without PyNaCl)."""
    if _lib is None:
        return None
    times = []
    for _ in range(n):
        t = time.thread_time()
        _lib.crypto_scalarmult_ed25519_noclamp(_PROBE_OUT, _PROBE_SCALAR, _PROBE_POINT)
        times.append(time.thread_time() - t)
    return statistics.median(times)


def in_units(cpu_s, before, after):
    return None if before is None else cpu_s / ((before + after) / 2)


def encrypt_ballot(key, q_hash, votes, per_contest, per_contest_cpu, per_contest_units):
    out = []
    for ci, ((count, seats), chosen) in enumerate(zip(SHAPE, votes, strict=True)):
        before = probe()
        t, c = time.perf_counter(), time.thread_time()
        out.append(encrypt_contest(key, q_hash, count, seats, chosen))
        cpu = time.thread_time() - c
        per_contest[ci].append((time.perf_counter() - t) * 1000)
        per_contest_cpu[ci].append(cpu * 1000)
        per_contest_units[ci].append(in_units(cpu, before, probe()))
    return out


def verify_ballot(key, q_hash, ballot, per_contest, per_contest_cpu, per_contest_units):
    for ci, contest in enumerate(ballot):
        before = probe()
        t, c = time.perf_counter(), time.thread_time()
        verify_contest(key, q_hash, contest)
        cpu = time.thread_time() - c
        per_contest[ci].append((time.perf_counter() - t) * 1000)
        per_contest_cpu[ci].append(cpu * 1000)
        per_contest_units[ci].append(in_units(cpu, before, probe()))


def lagrange(x, xs):
    num, den = 1, 1
    for m in xs:
        if m != x:
            num = num * m % Q
            den = den * (m - x) % Q
    return num * pow(den, -1, Q) % Q


def main():
    ballots = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    tally_n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    # 5 guardians, quorum 3: polynomials mod q; guardian i's secret s_i = P_i(0)
    polys = [[int(rand_q()) for _ in range(3)] for _ in range(5)]
    evaluate = lambda p, x: sum(c * pow(x, j, Q) for j, c in enumerate(p)) % Q  # noqa: E731
    secrets = [p[0] for p in polys]
    key = g_pow_p(int_to_q(secrets[0]))
    for s in secrets[1:]:
        key = mult_p(key, g_pow_p(int_to_q(s)))
    q_hash = rand_q()
    enc, ver, made = [], [], []
    enc_contest: list[list[float]] = [[] for _ in SHAPE]
    ver_contest: list[list[float]] = [[] for _ in SHAPE]
    enc_cpu: list[list[float]] = [[] for _ in SHAPE]
    ver_cpu: list[list[float]] = [[] for _ in SHAPE]
    enc_units: list[list[float | None]] = [[] for _ in SHAPE]
    ver_units: list[list[float | None]] = [[] for _ in SHAPE]
    for i in range(ballots):
        votes = [{i % 15, (i + 3) % 15}, {i % 8}]
        t = time.perf_counter()
        b = encrypt_ballot(key, q_hash, votes, enc_contest, enc_cpu, enc_units)
        enc.append(time.perf_counter() - t)
        t = time.perf_counter()
        verify_ballot(key, q_hash, b, ver_contest, ver_cpu, ver_units)
        ver.append(time.perf_counter() - t)
        made.append(b)
    selections = [[c for c, _ in contest[0][:count]] for contest, (count, _s) in zip(made[0], SHAPE, strict=True)]
    pool = [[[c for c, _ in contest[0][:count]] for contest, (count, _s) in zip(b, SHAPE, strict=True)] for b in made]
    sums = [list(row) for row in selections]
    tally_contest = [0.0 for _ in SHAPE]
    tally_cpu = [0.0 for _ in SHAPE]
    tally_before = probe()
    t = time.perf_counter()
    for n in range(tally_n):
        b = pool[n % len(pool)]
        for ci, row in enumerate(b):
            tc, cc = time.perf_counter(), time.thread_time()
            for si, ct in enumerate(row):
                sums[ci][si] = elgamal_add(sums[ci][si], ct)
            tally_cpu[ci] += time.thread_time() - cc
            tally_contest[ci] += time.perf_counter() - tc
    tally_per = (time.perf_counter() - t) / tally_n
    tally_probe = probe()
    # 3 of 5 decrypt: guardians 1, 3, 5 present; 2 and 4 compensated by 1, 3, 5.
    present = [1, 3, 5]
    decrypt_before = probe()
    t, c = time.perf_counter(), time.thread_time()
    counts = []
    for row in sums:
        for ct in row:
            parts = []
            for i in range(1, 6):
                if i in present:
                    m = pow_p(ct.pad, int_to_q(secrets[i - 1]))
                    proof = make_chaum_pedersen(ct, int_to_q(secrets[i - 1]), m, rand_q(), q_hash)
                    assert proof.is_valid(ct, g_pow_p(int_to_q(secrets[i - 1])), m, q_hash)
                    parts.append(m)
                else:
                    acc = 1
                    for h in present:
                        share = evaluate(polys[i - 1], h)
                        m = pow_p(ct.pad, int_to_q(share))
                        proof = make_chaum_pedersen(ct, int_to_q(share), m, rand_q(), q_hash)
                        assert proof.is_valid(ct, g_pow_p(int_to_q(share)), m, q_hash)
                        acc = mult_p(acc, pow_p(m, int_to_q(lagrange(h, present))))
                    parts.append(acc)
            counts.append(DiscreteLog().discrete_log(div_p(ct.data, mult_p(*parts))))
    decrypt_s = time.perf_counter() - t
    decrypt_cpu_s = time.thread_time() - c
    decrypt_units = in_units(decrypt_cpu_s, decrypt_before, probe())
    import resource

    print(
        json.dumps(
            {
                "encrypt_ms": [x * 1000 for x in enc],
                "verify_ms": [x * 1000 for x in ver],
                "tally_ms_per_ballot": tally_per * 1000,
                "tally_ballots": tally_n,
                "decrypt_s": decrypt_s,
                "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "median_encrypt_ms": statistics.median(enc) * 1000,
                "encrypt_contest_ms": enc_contest,
                "verify_contest_ms": ver_contest,
                "tally_contest_ms_per_ballot": [x * 1000 / tally_n for x in tally_contest],
                # thread CPU time (the same work; robust to the machine's load, compared with ours in CPU time)
                "encrypt_contest_cpu_ms": enc_cpu,
                "verify_contest_cpu_ms": ver_cpu,
                "tally_contest_cpu_ms_per_ballot": [x * 1000 / tally_n for x in tally_cpu],
                "decrypt_cpu_s": decrypt_cpu_s,
                # the same CPU times in libsodium variable-base multiplications timed around each piece
                "encrypt_contest_units": enc_units,
                "verify_contest_units": ver_units,
                "tally_contest_units_per_ballot": [in_units(x / tally_n, tally_before, tally_probe) for x in tally_cpu],
                "decrypt_units": decrypt_units,
            }
        )
    )


if __name__ == "__main__":
    main()
