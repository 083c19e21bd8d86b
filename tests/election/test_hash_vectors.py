"""The hash vectors (tests/election/vectors/hash_vectors.json) against the code: regenerated, they are the same
bytes, and each value the record carries is what the election core computes (manifest and style hashes, H_B,
H_E, the proofs' challenges, confirmation codes)."""

from __future__ import annotations

import json
from pathlib import Path

from election.ballot import EncryptedBallot, verify_ballot
from election.confirmation import batch_root, confirmation_code, genesis_code
from election.context import ElectionContext
from election.manifest import BallotStyleId, Manifest
from tests.election.make_hash_vectors import vectors

VECTORS = Path(__file__).parent / "vectors" / "hash_vectors.json"


def test_hash_vectors_are_reproduced_exactly() -> None:
    stored = json.loads(VECTORS.read_text(encoding="utf-8"))
    fresh = json.loads(json.dumps(vectors()))
    assert set(fresh) == set(stored)
    for key in stored:
        assert fresh[key] == stored[key], f"hash vector {key!r} changed"


def test_the_vectors_values_are_the_codes_values() -> None:
    v = json.loads(VECTORS.read_text(encoding="utf-8"))
    manifest = Manifest.from_dict(v["manifest"])
    context = ElectionContext.from_dict(v["context"])
    assert manifest.manifest_hash == v["manifest_hash"]["sha256"] == context.manifest_hash
    style = BallotStyleId(v["style_hash"]["style_id"])
    assert manifest.style_hash(style) == v["style_hash"]["sha256"] == v["ballot"]["style_hash"]
    assert context.parameter_base_hash.hex() == v["H_B"]["output"] == v["context"]["parameter_base_hash"]
    assert context.base_hash.hex() == v["H_E"]["output"] == v["context"]["base_hash"]
    ballot = EncryptedBallot.from_dict(v["ballot"])
    verify_ballot(context, manifest, ballot)
    assert ballot.ballot_hash.hex() == v["ballot_hash"]["sha256"]
    genesis = genesis_code(context.base_hash, "K1")
    assert genesis.hex() == v["confirmation_genesis_K1"]["output"]
    code = confirmation_code(genesis, "K1", ballot)
    assert code.hex() == v["confirmation_code"]["output"] and code.short == v["confirmation_code"]["short"]
    batch = v["batch_root_K1_first"]
    codes = [bytes.fromhex(link["code"]) for link in batch["links"]]
    assert code.hex() in {link["code"] for link in batch["links"]}
    assert batch_root(genesis, "K1", codes).hex() == batch["output"]
    assert batch_root(genesis, "K1", codes[::-1]).hex() == batch["output"]  # any order: hashed sorted
    selection = next(x for x in v["ballot"]["contests"][0]["selections"] if x["candidate_id"] == "W2-C2")
    c_sum = sum(int.from_bytes(bytes.fromhex(c), "little") for c in selection["proof"]["c"])
    L = 2**252 + 27742317777372353535851937790883648493
    assert (c_sum % L).to_bytes(32, "little").hex() == v["range_proof_of_W2-C2"]["challenge"]["output"]
    assert (
        v["schnorr_guardian_1_coefficient_0"]["challenge"]["output"]
        == (v["schnorr_guardian_1_coefficient_0"]["proof"]["c"])
    )
    for share in v["decryption_shares"].values():
        assert share["challenge"]["output"] == share["proof"]["c"]
