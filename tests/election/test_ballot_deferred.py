"""``parse_and_verify_ballot``: the ingest path that leaves decoding each ciphertext point to the proof
verification's own libsodium operations. It must accept exactly what ``from_dict`` + ``verify_ballot`` accept,
and refuse every bad point saying it is not a group element, even when a forged proof avoids multiplying it."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from election.ballot import (
    BallotFormatError,
    BallotVerificationError,
    EncryptedBallot,
    PlaintextBallot,
    encrypt_ballot,
    parse_and_verify_ballot,
    verify_ballot,
)
from election.group import IDENTITY_BYTES, GroupElement, GroupError
from election.manifest import BallotStyleId, CandidateId, ContestId
from tests.election.test_group import (
    ED25519_BASE,
    ED25519_ORDER_8,
    NEGATIVE,
    NEGATIVE_XY,
    NON_CANONICAL,
    NON_SQUARE,
    S_MINUS_ONE,
)

NOT_AN_ELEMENT = "not a ristretto255 group element"
BAD_VALUES = {
    "non-canonical": NON_CANONICAL[2],
    "negative": NEGATIVE[1],
    "non-square": NON_SQUARE[0],
    "negative xy": NEGATIVE_XY[0],
    "s = -1": S_MINUS_ONE[0],
    "ed25519 base point": ED25519_BASE,
    "ed25519 torsion point": ED25519_ORDER_8,
}


@pytest.fixture(scope="module")
def ballot(manifest, context) -> EncryptedBallot:
    plain = PlaintextBallot(
        BallotStyleId("style-W1"), {ContestId("shura-W1"): frozenset({CandidateId("W1-C2"), CandidateId("W1-C4")})}
    )
    return encrypt_ballot(context, manifest, plain, ballot_id="K1-7", seed=b"\x09" * 32)


def _points(data: dict[str, Any]) -> Iterator[tuple[str, dict[str, str], str]]:
    """(where, ciphertext object, 'alpha'|'beta') for every ciphertext point of the ballot's JSON."""
    for i, contest in enumerate(data["contests"]):
        for j, sel in enumerate(contest["selections"]):
            for part in ("alpha", "beta"):
                yield f"contests[{i}].selections[{j}].{part}", sel["ciphertext"], part
        for part in ("alpha", "beta"):
            yield f"contests[{i}].blank.{part}", contest["blank"], part


def test_a_good_ballot_parses_to_the_same_ballot(manifest, context, ballot) -> None:
    data = ballot.to_dict()
    assert parse_and_verify_ballot(context, manifest, copy.deepcopy(data)) == EncryptedBallot.from_dict(data)
    verify_ballot(context, manifest, ballot)


@pytest.mark.parametrize("bad", sorted(BAD_VALUES))
def test_every_bad_point_anywhere_is_refused_as_not_an_element(manifest, context, ballot, bad: str) -> None:
    data = ballot.to_dict()
    checked = 0
    for where, _ct, _part in _points(data):
        changed = copy.deepcopy(data)
        target = next(ct for w, ct, _p in _points(changed) if w == where)
        target[_part] = BAD_VALUES[bad]
        with pytest.raises(BallotVerificationError, match=NOT_AN_ELEMENT):
            parse_and_verify_ballot(context, manifest, changed)
            pytest.fail(f"{bad} point at {where} accepted")
        with pytest.raises(BallotFormatError):  # the strict parse refuses the same point up front
            EncryptedBallot.from_dict(changed)
        checked += 1
    assert checked == 2 * sum(len(c["selections"]) + 1 for c in data["contests"])


def test_identity_alpha_is_refused_at_parse(manifest, context, ballot) -> None:
    data = ballot.to_dict()
    data["contests"][0]["selections"][0]["ciphertext"]["alpha"] = IDENTITY_BYTES.hex()
    with pytest.raises(BallotFormatError, match="identity"):
        parse_and_verify_ballot(context, manifest, data)


@pytest.mark.parametrize("bad", ["non-canonical beta", "ed25519 beta", "ed25519 alpha"])
def test_a_forged_proof_that_skips_a_multiplication_still_gets_the_point_checked(
    manifest, context, ballot, bad: str
) -> None:
    """With c_0 = 0 the first branch never multiplies beta (and with every c_j = 0 no branch multiplies
    alpha); those points are still decoded (explicitly, or by the subtraction beta - G) and refused as not
    group elements, not later as a wrong proof."""
    data = ballot.to_dict()
    sel = data["contests"][0]["selections"][0]
    zero = "00" * 32
    if bad == "non-canonical beta":
        sel["ciphertext"]["beta"] = NON_CANONICAL[0]
        sel["proof"]["c"][0] = zero
    elif bad == "ed25519 beta":
        sel["ciphertext"]["beta"] = ED25519_BASE
        sel["proof"]["c"][0] = zero
    else:
        sel["ciphertext"]["alpha"] = ED25519_ORDER_8
        sel["proof"]["c"] = [zero, zero]
    with pytest.raises(BallotVerificationError, match=NOT_AN_ELEMENT):
        parse_and_verify_ballot(context, manifest, data)


def test_deferred_parse_keeps_the_cheap_checks() -> None:
    with pytest.raises(GroupError):
        GroupElement.parse_hex_deferred("AB" * 32)
    with pytest.raises(GroupError):
        GroupElement.parse_hex_deferred(IDENTITY_BYTES.hex())
    assert GroupElement.parse_hex_deferred(IDENTITY_BYTES.hex(), allow_identity=True).is_identity()
