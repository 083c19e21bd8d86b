"""Worked examples of every hash the record uses (docs/crypto.md, "Hashes, exactly"): each one's inputs, its
exact preimage, the SHA-512 digest and the value the record carries, computed by the election core.

Regenerate deliberately (only when a hash layout changes on purpose, and say so in the commit message):

    .venv/bin/python -m tests.election.make_hash_vectors tests/election/vectors/hash_vectors.json

Each hash vector is ``{"domain", "parts": [{"type": "B"|"T"|"I"|"P"|"S", "value"}], "preimage", "sha512",
"output", "output_is"}``: ``value`` is hex for B, P and S, a string for T, a number for I; ``preimage`` is the hex
of the exact bytes hashed; ``output_is`` says how the record's value comes from the digest (``first-32-bytes``
or ``scalar-mod-L``, the 64 bytes read little-endian and reduced mod L, as 32 bytes little-endian).
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

from devtools.sample_election import run_key_ceremony
from devtools.sample_record import SeededRandom, build_test_manifest
from election.ballot import BLANK_LABEL, PlaintextBallot, encrypt_ballot
from election.canonical import canonical_json
from election.confirmation import ConfirmationCode, confirmation_code, genesis_code
from election.decryption import compute_share
from election.group import GroupElement, HashPart, Scalar, base_mul, hash_bytes, hash_to_scalar
from election.keyceremony import public_share_value
from election.manifest import BallotStyleId, CandidateId, ContestId
from election.tally import TallyAccumulator, ballot_ids_hash
from election.verify.primitives import lagrange

PREFIX = b"sanduq/v1/"


def _describe(part: HashPart) -> dict[str, Any]:
    if isinstance(part, str):
        return {"type": "T", "value": part}
    if isinstance(part, GroupElement):
        return {"type": "P", "value": part.hex()}
    if isinstance(part, bytes):
        return {"type": "B", "value": part.hex()}
    if isinstance(part, Scalar):
        return {"type": "S", "value": part.hex()}
    return {"type": "I", "value": part}


def _encode(part: HashPart) -> bytes:
    """The documented encoding, written out again here so that the vectors show it byte for byte."""
    if isinstance(part, str):
        raw = part.encode("utf-8")
        return b"T" + len(raw).to_bytes(4, "big") + raw
    if isinstance(part, GroupElement | Scalar):
        return (b"P" if isinstance(part, GroupElement) else b"S") + part.data
    if isinstance(part, bytes):
        return b"B" + len(part).to_bytes(4, "big") + part
    return b"I" + part.to_bytes(8, "big")


def hash_vector(domain: str, *parts: HashPart, scalar: bool = False) -> dict[str, Any]:
    preimage = PREFIX + _encode(domain) + b"".join(_encode(p) for p in parts)
    digest = hashlib.sha512(preimage).digest()
    if digest != hash_bytes(domain, *parts):  # the code and the written-out encoding agree
        raise AssertionError(f"encoding of {domain!r} differs from election.group")
    output = hash_to_scalar(domain, *parts).hex() if scalar else digest[:32].hex()
    return {
        "domain": domain,
        "parts": [_describe(p) for p in parts],
        "preimage": preimage.hex(),
        "sha512": digest.hex(),
        "output": output,
        "output_is": "scalar-mod-L" if scalar else "first-32-bytes",
    }


def _sha256_vector(value: Any) -> dict[str, Any]:
    text = canonical_json(value)
    return {"canonical_json": text.decode("utf-8"), "sha256": hashlib.sha256(text).hexdigest()}


def vectors() -> dict[str, Any]:
    manifest = build_test_manifest()
    n, k = 3, 2
    context, records, secrets = run_key_ceremony(manifest.manifest_hash, n, k, SeededRandom(2028))
    h_b = context.parameter_base_hash
    h_e = context.base_hash
    key = context.joint_public_key
    flat = [c for row in context.commitments for c in row]

    style = BallotStyleId("style-W2")
    plain = PlaintextBallot(style, {ContestId("shura-W2"): frozenset({CandidateId("W2-C2")})})
    seed = bytes(range(32, 64))
    ballot = encrypt_ballot(context, manifest, plain, ballot_id="K1-000007", seed=seed)
    ballot_dict = ballot.to_dict()
    contest = ballot_dict["contests"][0]
    selection = next(x for x in contest["selections"] if x["candidate_id"] == "W2-C2")  # the marked one
    genesis = genesis_code(h_e, "K1")
    code: ConfirmationCode = confirmation_code(genesis, "K1", ballot)
    # a batch of two links (the ballot above and a blank one) sealed as the kiosk's first batch
    blank = encrypt_ballot(context, manifest, PlaintextBallot(style, {}), ballot_id="K1-000008", seed=bytes(32))
    batch_codes = sorted([code.digest, confirmation_code(genesis, "K1", blank).digest])

    # one selection's 0/1 range proof: its commitments a_j = v_j G + c_j alpha, b_j = v_j K + c_j (beta - j G)
    alpha = GroupElement.parse_hex(selection["ciphertext"]["alpha"])
    beta = GroupElement.parse_hex(selection["ciphertext"]["beta"], allow_identity=True)
    commitments: list[GroupElement] = []
    for j, (c_hex, v_hex) in enumerate(zip(selection["proof"]["c"], selection["proof"]["v"], strict=True)):
        c, v = Scalar.parse_hex(c_hex), Scalar.parse_hex(v_hex)
        shifted = beta - base_mul(Scalar.from_int(j)) if j else beta
        commitments += [base_mul(v) + c * alpha, v * key + c * shifted]
    label = f"{ballot.ballot_id}/shura-W2/{selection['candidate_id']}"
    range_vector = hash_vector("range", h_e, label, key, alpha, beta, 0, 1, *commitments, scalar=True)

    # guardian 1's Schnorr proof of its coefficient 0: h = v G + c K_{1,0}
    proof = records[0].proofs[0]
    k10 = records[0].commitments[0]
    schnorr_h = base_mul(proof.response) + proof.challenge * k10
    schnorr_vector = hash_vector("schnorr", h_b, "guardian-1/coefficient-0", k10, schnorr_h, scalar=True)

    # a tally of this one ballot and guardian 1's share, direct and compensating for guardian 3
    acc = TallyAccumulator(context, manifest)
    acc.add(ballot)
    tally = acc.result()
    a_in = tally.contests[ContestId("shura-W2")][CandidateId("W2-C2")].alpha
    by_seq = {s.sequence: s for s in secrets}
    shares = {}
    for missing, secret in ((None, by_seq[1].secret), (3, by_seq[1].received[3])):
        share = compute_share(context, tally, guardian=1, secret=secret, seed=bytes(32), missing=missing)
        m_out, dproof = share.values[(ContestId("shura-W2"), CandidateId("W2-C2"))]
        verification_key = (
            records[0].commitments[0] if missing is None else public_share_value(records[2].commitments, 1)
        )
        a = base_mul(dproof.response) + dproof.challenge * verification_key
        b = dproof.response * a_in + dproof.challenge * m_out
        who = "g1" if missing is None else "g3-by-g1"
        shares[who] = {
            "guardian": 1,
            "missing": missing,
            "verification_key": verification_key.hex(),
            "A": a_in.hex(),
            "M": m_out.hex(),
            "proof": {"c": dproof.challenge.hex(), "v": dproof.response.hex()},
            "challenge": hash_vector(
                "decrypt", h_e, f"tally/shura-W2/W2-C2/{who}", verification_key, a_in, m_out, a, b, scalar=True
            ),
        }

    return {
        "about": "docs/crypto.md, 'Hashes, exactly'; regenerate with python -m tests.election.make_hash_vectors",
        "encoding_examples": {
            "T 'K1'": _encode("K1").hex(),
            "T 'مسقط' (UTF-8, length in bytes)": _encode("مسقط").hex(),
            "B 3 bytes 010203": _encode(b"\x01\x02\x03").hex(),
            "I 1": _encode(1).hex(),
            "I 2^40 + 5": _encode(2**40 + 5).hex(),
            "P G": _encode(base_mul(Scalar.from_int(1))).hex(),
            "S 7": _encode(Scalar.from_int(7)).hex(),
        },
        "manifest": manifest.to_dict(),
        "manifest_hash": {
            **_sha256_vector(manifest.to_dict()),
            "note": "SHA-256 of the canonical JSON of manifest.json's object; hashed into H_B as text (T)",
        },
        "style_hash": {
            "style_id": style,
            **_sha256_vector(
                {
                    "election_id": manifest.election_id,
                    "style_id": style,
                    "contests": [c for c in manifest.to_dict()["contests"] if c["id"] in {"shura-W2"}],
                }
            ),
        },
        "H_B": hash_vector("base", "ristretto255/libsodium", manifest.manifest_hash, n, k),
        "H_E": hash_vector("extended-base", h_b, key, n, *flat),
        "context": context.to_dict(),
        "schnorr_guardian_1_coefficient_0": {
            "proof": {"c": proof.challenge.hex(), "v": proof.response.hex()},
            "public_key": k10.hex(),
            "h": schnorr_h.hex(),
            "challenge": schnorr_vector,
        },
        "ballot": ballot_dict,
        "ballot_hash": {
            "sha256_of_canonical_json_of": "ballot",
            "sha256": hashlib.sha256(canonical_json(ballot_dict)).hexdigest(),
        },
        "selection_nonce": hash_vector(
            "selection-nonce", seed, h_e, ballot.ballot_id, "shura-W2", "W2-C2", scalar=True
        ),
        "blank_nonce": hash_vector(
            "selection-nonce", seed, h_e, ballot.ballot_id, "shura-W2", BLANK_LABEL, scalar=True
        ),
        "range_proof_of_W2-C2": {
            "label": label,
            "commitments": [c.hex() for c in commitments],
            "challenge": range_vector,
        },
        "confirmation_genesis_K1": hash_vector("confirmation-genesis", h_e, "K1"),
        "confirmation_code": {
            **hash_vector("confirmation", genesis, "K1", ballot.ballot_hash),
            "short": code.short,
            "qr": code.qr_payload(),
        },
        "batch_root_K1_first": {
            **hash_vector("batch-root", genesis, "K1", len(batch_codes), *batch_codes),
            "previous_root_is": "confirmation_genesis_K1",
            "links": [
                {"ballot_id": "K1-000007", "code": code.hex()},
                {"ballot_id": "K1-000008", "code": confirmation_code(genesis, "K1", blank).hex()},
            ],
        },
        "cast_ballot_ids_hash": {
            "ids": ["K2-000003", "K1-000007", "K1-000010"],
            "value": ballot_ids_hash(["K2-000003", "K1-000007", "K1-000010"]),
            **_sha256_vector(sorted(["K2-000003", "K1-000007", "K1-000010"])),
        },
        "lagrange": {
            "helpers": [1, 3],
            "w_1": lagrange(1, (1, 3)).hex(),
            "w_3": lagrange(3, (1, 3)).hex(),
        },
        "decryption_shares": shares,
    }


def main() -> None:
    Path(sys.argv[1]).write_bytes(canonical_json(vectors()) + b"\n")


if __name__ == "__main__":
    main()
