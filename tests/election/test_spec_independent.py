"""A second verifier, in miniature, written from docs/crypto.md ("Hashes, exactly") and docs/election-record.md
alone: it imports nothing of Sanduq (hashlib for the hashes, pysodium's ristretto255 for the points of the proofs)
and recomputes, from the inputs in tests/election/vectors/hash_vectors.json, the manifest and style hashes, H_B,
H_E, a Schnorr challenge, a selection's and a contest limit's range-proof challenges, a direct and a compensating
decryption-proof challenge, the opening of a selection by its nonce, a confirmation code with its short form, a
kiosk's first batch root (its links sorted by code), the cast-ids hash and Lagrange weights. If the documents leave
a value undefined or define it differently from the code, this test fails."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pysodium  # type: ignore[import-untyped]

V = json.loads((Path(__file__).parent / "vectors" / "hash_vectors.json").read_text(encoding="utf-8"))
L = 2**252 + 27742317777372353535851937790883648493
IDENTITY = bytes(32)


# ---- the encoding, as docs/crypto.md defines it -------------------------------------------------------------------


def enc(kind: str, value: Any) -> bytes:
    if kind == "T":
        raw: bytes = value.encode("utf-8")
        return b"T" + len(raw).to_bytes(4, "big") + raw
    if kind == "B":
        data: bytes = value
        return b"B" + len(data).to_bytes(4, "big") + data
    if kind == "I":
        number: int = value
        return b"I" + number.to_bytes(8, "big")
    if kind in ("P", "S"):
        encoded: bytes = value
        assert len(encoded) == 32
        return kind.encode() + encoded
    raise AssertionError(kind)


def digest(domain: str, *parts: tuple[str, Any]) -> bytes:
    return hashlib.sha512(b"sanduq/v1/" + enc("T", domain) + b"".join(enc(k, v) for k, v in parts)).digest()


def as_scalar(d: bytes) -> bytes:
    return (int.from_bytes(d, "little") % L).to_bytes(32, "little")


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def h(text: str) -> bytes:
    return bytes.fromhex(text)


def scalar(n: int) -> bytes:
    return (n % L).to_bytes(32, "little")


# ---- the group, through libsodium (the identity handled here, as libsodium refuses it) -----------------------------


def mul(s: bytes, p: bytes) -> bytes:
    if s == IDENTITY or p == IDENTITY:
        return IDENTITY
    return bytes(pysodium.crypto_scalarmult_ristretto255(s, p))


def base(s: bytes) -> bytes:
    return IDENTITY if s == IDENTITY else bytes(pysodium.crypto_scalarmult_ristretto255_base(s))


def add(p: bytes, q: bytes) -> bytes:
    if p == IDENTITY:
        return q
    if q == IDENTITY:
        return p
    return IDENTITY if p == neg(q) else bytes(pysodium.crypto_core_ristretto255_add(p, q))


def neg(p: bytes) -> bytes:
    return IDENTITY if p == IDENTITY else bytes(pysodium.crypto_scalarmult_ristretto255(scalar(L - 1), p))


def sub(p: bytes, q: bytes) -> bytes:
    return add(p, neg(q))


G = base(scalar(1))


# ---- the tests ------------------------------------------------------------------------------------------------------


def test_the_encoding_examples() -> None:
    ex = V["encoding_examples"]
    assert enc("T", "K1").hex() == ex["T 'K1'"] == "54000000024b31"
    assert enc("T", "مسقط").hex() == ex["T 'مسقط' (UTF-8, length in bytes)"]
    assert enc("B", b"\x01\x02\x03").hex() == ex["B 3 bytes 010203"]
    assert enc("I", 1).hex() == ex["I 1"] and enc("I", 2**40 + 5).hex() == ex["I 2^40 + 5"]
    assert enc("P", G).hex() == ex["P G"]
    assert enc("S", scalar(7)).hex() == ex["S 7"]


def test_manifest_and_style_hashes() -> None:
    manifest, context, ballot = V["manifest"], V["context"], V["ballot"]
    assert hashlib.sha256(canonical(manifest)).hexdigest() == context["manifest_hash"]
    style = next(s for s in manifest["ballot_styles"] if s["id"] == ballot["style_id"])
    by_id = {c["id"]: c for c in manifest["contests"]}
    contests = [by_id[c["contest"]] for c in style["contests"]]
    value = {"election_id": manifest["election_id"], "style_id": style["id"], "contests": contests}
    assert hashlib.sha256(canonical(value)).hexdigest() == ballot["style_hash"]


def test_base_hashes() -> None:
    c = V["context"]
    n, k = c["number_of_guardians"], c["quorum"]
    h_b = digest("base", ("T", "ristretto255/libsodium"), ("T", c["manifest_hash"]), ("I", n), ("I", k))[:32]
    assert h_b.hex() == c["parameter_base_hash"]
    commitments = [("P", h(x)) for row in c["commitments"] for x in row]
    assert len(commitments) == n * k
    h_e = digest("extended-base", ("B", h_b), ("P", h(c["joint_public_key"])), ("I", n), *commitments)[:32]
    assert h_e.hex() == c["base_hash"]
    key = IDENTITY
    for row in c["commitments"]:
        key = add(key, h(row[0]))
    assert key.hex() == c["joint_public_key"]


def test_a_schnorr_challenge() -> None:
    c = V["context"]
    entry = V["schnorr_guardian_1_coefficient_0"]
    k10 = h(c["commitments"][0][0])
    cc, v = h(entry["proof"]["c"]), h(entry["proof"]["v"])
    commitment = add(base(v), mul(cc, k10))
    label = "guardian-1/coefficient-0"
    challenge = as_scalar(digest("schnorr", ("B", h(c["parameter_base_hash"])), ("T", label), ("P", k10),
                                 ("P", commitment)))  # fmt: skip
    assert challenge == cc


def _range_challenge_holds(proof: dict[str, Any], alpha: bytes, beta: bytes, lo: int, hi: int, label: str) -> bool:
    c = V["context"]
    key, h_e = h(c["joint_public_key"]), h(c["base_hash"])
    assert (proof["lo"], proof["hi"]) == (lo, hi) and len(proof["c"]) == hi - lo + 1
    points: list[tuple[str, Any]] = []
    total = 0
    for j, (cj, vj) in enumerate(zip(proof["c"], proof["v"], strict=True), start=lo):
        cj_b, vj_b = h(cj), h(vj)
        shifted = sub(beta, base(scalar(j)))
        points += [("P", add(base(vj_b), mul(cj_b, alpha))), ("P", add(mul(vj_b, key), mul(cj_b, shifted)))]
        total += int.from_bytes(cj_b, "little")
    parts = [("B", h_e), ("T", label), ("P", key), ("P", alpha), ("P", beta), ("I", lo), ("I", hi), *points]
    return as_scalar(digest("range", *parts)) == scalar(total)


def test_range_proof_challenges_of_a_selection_and_of_a_contest_limit() -> None:
    ballot = V["ballot"]
    contest = ballot["contests"][0]
    seats = next(c["seats"] for c in V["manifest"]["contests"] if c["id"] == contest["contest_id"])
    for sel in contest["selections"]:
        ct = sel["ciphertext"]
        label = f"{ballot['ballot_id']}/{contest['contest_id']}/{sel['candidate_id']}"
        assert _range_challenge_holds(sel["proof"], h(ct["alpha"]), h(ct["beta"]), 0, 1, label)
    blank = contest["blank"]
    assert _range_challenge_holds(contest["blank_proof"], h(blank["alpha"]), h(blank["beta"]), 0, 1,
                                  f"{ballot['ballot_id']}/{contest['contest_id']}/#blank")  # fmt: skip
    alpha = mul(scalar(seats), h(blank["alpha"]))
    beta = mul(scalar(seats), h(blank["beta"])) if h(blank["beta"]) != IDENTITY else IDENTITY
    for sel in contest["selections"]:
        alpha, beta = add(alpha, h(sel["ciphertext"]["alpha"])), add(beta, h(sel["ciphertext"]["beta"]))
    assert _range_challenge_holds(contest["limit_proof"], alpha, beta, 1, seats,
                                  f"{ballot['ballot_id']}/{contest['contest_id']}")  # fmt: skip
    # a changed label does not verify: the labels are part of what the documents define
    sel = contest["selections"][0]
    assert not _range_challenge_holds(sel["proof"], h(sel["ciphertext"]["alpha"]), h(sel["ciphertext"]["beta"]), 0,
                                      1, f"{ballot['ballot_id']}/{contest['contest_id']}")  # fmt: skip


def test_decryption_proof_challenges_direct_and_compensating() -> None:
    c = V["context"]
    k = c["quorum"]
    for who, share in V["decryption_shares"].items():
        i, m = share["guardian"], share["missing"]
        if m is None:
            key = h(c["commitments"][i - 1][0])
            assert who == f"g{i}"
        else:
            key = IDENTITY
            for j in range(k):
                key = add(key, mul(scalar(i**j), h(c["commitments"][m - 1][j])))
            assert who == f"g{m}-by-g{i}"
        assert key.hex() == share["verification_key"]
        a_in, m_out = h(share["A"]), h(share["M"])
        cc, v = h(share["proof"]["c"]), h(share["proof"]["v"])
        a, b = add(base(v), mul(cc, key)), add(mul(v, a_in), mul(cc, m_out))
        label = f"tally/shura-W2/W2-C2/{who}"
        parts = [("B", h(c["base_hash"])), ("T", label), ("P", key), ("P", a_in), ("P", m_out), ("P", a), ("P", b)]
        assert as_scalar(digest("decrypt", *parts)) == cc


def test_a_selection_opens_with_its_nonce() -> None:
    # what a voter's own device does with a challenged ballot's seed
    c, ballot = V["context"], V["ballot"]
    seed = h(V["selection_nonce"]["parts"][0]["value"])
    contest = ballot["contests"][0]
    for sel in contest["selections"]:
        xi = as_scalar(digest("selection-nonce", ("B", seed), ("B", h(c["base_hash"])), ("T", ballot["ballot_id"]),
                              ("T", contest["contest_id"]), ("T", sel["candidate_id"])))  # fmt: skip
        assert base(xi) == h(sel["ciphertext"]["alpha"])
        vote = sub(h(sel["ciphertext"]["beta"]), mul(xi, h(c["joint_public_key"])))
        assert vote == (G if sel["candidate_id"] == "W2-C2" else IDENTITY)


def test_a_confirmation_code_and_its_short_form() -> None:
    c, ballot = V["context"], V["ballot"]
    genesis = digest("confirmation-genesis", ("B", h(c["base_hash"])), ("T", "K1"))[:32]
    ballot_hash = hashlib.sha256(canonical(ballot)).digest()
    code = digest("confirmation", ("B", genesis), ("T", "K1"), ("B", ballot_hash))[:32]
    assert code.hex() == V["confirmation_code"]["output"]
    text = base64.b32encode(code[:10]).decode()
    assert "-".join(text[i : i + 4] for i in range(0, 16, 4)) == V["confirmation_code"]["short"]
    assert V["confirmation_code"]["qr"] == f"SANDUQ1:{ballot['ballot_id']}:{code.hex()}"


def test_a_batch_root_over_its_links_sorted_by_code() -> None:
    c, batch = V["context"], V["batch_root_K1_first"]
    genesis = digest("confirmation-genesis", ("B", h(c["base_hash"])), ("T", "K1"))[:32]
    codes = sorted(h(link["code"]) for link in reversed(batch["links"]))  # the published order is irrelevant
    root = digest("batch-root", ("B", genesis), ("T", "K1"), ("I", len(codes)), *(("B", x) for x in codes))[:32]
    assert root.hex() == batch["output"]
    assert V["confirmation_code"]["output"] in {link["code"] for link in batch["links"]}


def test_cast_ids_hash_and_lagrange_weights() -> None:
    ids = V["cast_ballot_ids_hash"]
    assert hashlib.sha256(canonical(sorted(ids["ids"]))).hexdigest() == ids["value"]
    w = V["lagrange"]
    assert scalar(3 * pow(2, -1, L)).hex() == w["w_1"]  # S = {1, 3}: w_1 = 3 / (3 - 1)
    assert scalar(-1 * pow(2, -1, L)).hex() == w["w_3"]  # w_3 = 1 / (1 - 3)
