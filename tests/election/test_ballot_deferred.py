"""``parse_and_verify_ballot``: the ingest path that leaves each ciphertext point's subgroup check to the proof
verification's own libsodium multiplications. It must accept exactly what ``from_dict`` + ``verify_ballot``
accept, and refuse every bad point with the subgroup named, even when a forged proof avoids multiplying it."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import nacl.bindings as sodium
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
from election.group import IDENTITY_BYTES, G, GroupElement, GroupError
from election.manifest import BallotStyleId, CandidateId, ContestId
from tests.election.test_group import NON_CANONICAL, SMALL_ORDER

SUBGROUP = "not in the prime-order subgroup"


def _off_curve() -> str:
    """The first small y whose encoding is not a point of the curve (libsodium's addition refuses it)."""
    for y in range(2, 200):
        enc = y.to_bytes(32, "little")
        try:
            sodium.crypto_core_ed25519_add(enc, G.data)
        except Exception:
            return enc.hex()
    raise AssertionError("no off-curve encoding found")


def _with_torsion(point_hex: str) -> str:
    return bytes(sodium.crypto_core_ed25519_add(bytes.fromhex(point_hex), bytes.fromhex(SMALL_ORDER[4]))).hex()


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


@pytest.mark.parametrize(
    "bad",
    ["torsion", "small order", "non-canonical", "off curve"],
)
def test_every_bad_point_anywhere_is_refused_naming_the_subgroup(manifest, context, ballot, bad: str) -> None:
    data = ballot.to_dict()
    bad_values = {"small order": SMALL_ORDER[4], "non-canonical": NON_CANONICAL[1], "off curve": _off_curve()}
    checked = 0
    for where, _ct, _part in _points(data):
        changed = copy.deepcopy(data)
        target = next(ct for w, ct, _p in _points(changed) if w == where)
        target[_part] = _with_torsion(target[_part]) if bad == "torsion" else bad_values[bad]
        with pytest.raises(BallotVerificationError, match=SUBGROUP):
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


@pytest.mark.parametrize("bad", ["non-canonical beta", "torsion beta", "torsion alpha"])
def test_a_forged_proof_that_skips_a_multiplication_still_gets_the_point_checked(
    manifest, context, ballot, bad: str
) -> None:
    """With c_0 = 0 the first branch never multiplies beta (and with every c_j = 0 no branch multiplies
    alpha); those points are checked explicitly. A non-canonical beta would otherwise pass libsodium's
    subtraction and multiplication as beta - G and only fail later as a wrong proof."""
    data = ballot.to_dict()
    sel = data["contests"][0]["selections"][0]
    zero = "00" * 32
    if bad == "non-canonical beta":
        # y = p + 1: a second spelling of the identity; libsodium's subtraction accepts it, so beta - G = -G
        # would pass the j = 1 multiplication and the ballot would only fail later as a wrong proof
        sel["ciphertext"]["beta"] = NON_CANONICAL[1]
        sel["proof"]["c"][0] = zero
    elif bad == "torsion beta":
        sel["ciphertext"]["beta"] = _with_torsion(sel["ciphertext"]["beta"])
        sel["proof"]["c"][0] = zero
    else:
        sel["ciphertext"]["alpha"] = _with_torsion(sel["ciphertext"]["alpha"])
        sel["proof"]["c"] = [zero, zero]
    with pytest.raises(BallotVerificationError, match=SUBGROUP):
        parse_and_verify_ballot(context, manifest, data)


def test_deferred_parse_keeps_the_cheap_checks() -> None:
    with pytest.raises(GroupError):
        GroupElement.parse_hex_deferred("AB" * 32)
    with pytest.raises(GroupError):
        GroupElement.parse_hex_deferred(IDENTITY_BYTES.hex())
    assert GroupElement.parse_hex_deferred(IDENTITY_BYTES.hex(), allow_identity=True).is_identity()
