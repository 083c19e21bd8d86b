"""Known-answer vectors (tests/election/vectors/ballot_vectors.json): the same seeds must always give the same
bytes, and the stored ballot must verify and open to its stated choices."""

from __future__ import annotations

import json
from pathlib import Path

from devtools.sample_record import build_test_manifest
from election.ballot import EncryptedBallot, verify_ballot
from election.benaloh import ChallengedBallot, verify_challenge
from election.context import ElectionContext
from tests.election.make_vectors import vectors

VECTORS = Path(__file__).parent / "vectors" / "ballot_vectors.json"


def test_vectors_are_reproduced_exactly() -> None:
    stored = json.loads(VECTORS.read_text())
    fresh = json.loads(json.dumps(vectors()))
    for key in stored:
        assert fresh[key] == stored[key], f"known-answer vector {key!r} changed"
    assert set(fresh) == set(stored)


def test_stored_ballot_verifies_and_opens() -> None:
    stored = json.loads(VECTORS.read_text())
    manifest = build_test_manifest()
    context = ElectionContext.from_dict(stored["context"])
    verify_ballot(context, manifest, EncryptedBallot.from_dict(stored["ballot"]))
    opened = verify_challenge(context, manifest, ChallengedBallot.from_dict(stored["challenged_ballot"]))
    assert opened.selections == {"shura-W1": frozenset({"W1-C2", "W1-C5"})}
    assert stored["confirmation_code"]["qr"] == f"SANDUQ1:K1-000001:{stored['confirmation_code']['hex']}"
