"""Known-answer vectors: fixed seeds -> fixed keys, ciphertexts, proofs and confirmation codes.

Regenerate deliberately (only when the wire format or a hash layout changes on purpose, and say so in the
commit message):

    .venv/bin/python -m tests.election.make_vectors tests/election/vectors/ballot_vectors.json
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from devtools.sample_election import run_key_ceremony
from devtools.sample_record import SeededRandom, build_test_manifest
from election.ballot import PlaintextBallot, encrypt_ballot
from election.benaloh import challenge_ballot
from election.canonical import canonical_json
from election.confirmation import confirmation_code, genesis_code
from election.group import G, Scalar, base_mul, hash_to_scalar
from election.manifest import BallotStyleId, CandidateId, ContestId


def vectors() -> dict[str, Any]:
    manifest = build_test_manifest()
    context, records, _ = run_key_ceremony(manifest.manifest_hash, 3, 2, SeededRandom(2027))
    plain = PlaintextBallot(
        BallotStyleId("style-W1"), {ContestId("shura-W1"): frozenset({CandidateId("W1-C2"), CandidateId("W1-C5")})}
    )
    seed = bytes(range(32))
    ballot = encrypt_ballot(context, manifest, plain, ballot_id="K1-000001", seed=seed)
    code = confirmation_code(genesis_code(context.base_hash, "K1"), "K1", ballot)
    blank = encrypt_ballot(
        context, manifest, PlaintextBallot(BallotStyleId("style-W2"), {}), ballot_id="K1-000002", seed=bytes(32)
    )
    code2 = confirmation_code(genesis_code(context.base_hash, "K1"), "K1", blank)
    return {
        "group": {
            "G": G.hex(),
            "7G": base_mul(Scalar.from_int(7)).hex(),
            "hash_to_scalar('test', 'abc', 1)": hash_to_scalar("test", "abc", 1).hex(),
        },
        "manifest_hash": manifest.manifest_hash,
        "context": context.to_dict(),
        "guardians": [r.to_dict() for r in records],
        "ballot_seed": seed.hex(),
        "ballot": ballot.to_dict(),
        "ballot_hash": ballot.ballot_hash.hex(),
        "confirmation_code": {"hex": code.hex(), "short": code.short, "qr": code.qr_payload()},
        "challenged_ballot": challenge_ballot(ballot, seed).to_dict(),
        "blank_ballot": blank.to_dict(),
        "second_confirmation_code": code2.hex(),
    }


def main() -> None:
    Path(sys.argv[1]).write_bytes(canonical_json(vectors()) + b"\n")


if __name__ == "__main__":
    main()
