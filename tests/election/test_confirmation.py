from __future__ import annotations

import re

import pytest

from election.ballot import PlaintextBallot, encrypt_ballot
from election.confirmation import batch_root, confirmation_code, genesis_code
from election.manifest import BallotStyleId


def test_a_code_binds_ballot_kiosk_and_election_but_not_the_order_of_ballots(manifest, context) -> None:
    plain = PlaintextBallot(BallotStyleId("style-W3"), {})
    b1 = encrypt_ballot(context, manifest, plain, ballot_id="b1", seed=b"\x01" * 32)
    b2 = encrypt_ballot(context, manifest, plain, ballot_id="b2", seed=b"\x02" * 32)
    g1, g2 = genesis_code(context.base_hash, "K1"), genesis_code(context.base_hash, "K2")
    assert g1 != g2
    c1, c2 = confirmation_code(g1, "K1", b1), confirmation_code(g1, "K1", b2)
    assert c1.digest != c2.digest  # the ballot matters
    assert confirmation_code(g2, "K2", b1).digest != c1.digest  # kiosk (and its genesis) matter
    assert confirmation_code(genesis_code(b"\x07" * 32, "K1"), "K1", b1).digest != c1.digest  # the election matters
    # Casting b2 first gives each ballot the same code: a code says nothing about the voter's place in the queue.
    assert confirmation_code(g1, "K1", b2) == c2
    assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}", c1.short)
    assert c1.qr_payload() == f"SANDUQ1:b1:{c1.hex()}"


def test_a_batch_root_chains_batches_as_sets_of_codes() -> None:
    genesis, a, b, c = (bytes([i]) * 32 for i in range(4))
    root1 = batch_root(genesis, "K1", [b, a])
    assert root1 == batch_root(genesis, "K1", [a, b])  # the order inside a batch is not recorded
    assert root1 != batch_root(genesis, "K2", [a, b])  # the kiosk
    assert root1 != batch_root(genesis, "K1", [a])  # dropping a link
    assert root1 != batch_root(genesis, "K1", [a, b, c])  # adding one
    root2 = batch_root(root1, "K1", [c])
    assert root2 != batch_root(genesis, "K1", [c])  # each root chains from the one before
    assert batch_root(genesis, "K1", [a]) != batch_root(batch_root(genesis, "K1", [a]), "K1", [b])
    # moving a link from one batch to the next changes the roots
    assert batch_root(batch_root(genesis, "K1", [a]), "K1", [b, c]) != root2
    for bad in ([], [a, a], [b"\x00" * 31]):
        with pytest.raises(ValueError):
            batch_root(genesis, "K1", bad)
