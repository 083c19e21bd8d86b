from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from election.ballot import (
    BallotFormatError,
    BallotVerificationError,
    EncryptedBallot,
    OvervoteError,
    PlaintextBallot,
    UnknownCandidateError,
    UnknownContestError,
    UnknownStyleError,
    encrypt_ballot,
    parse_and_verify_ballot,
    verify_ballot,
)
from election.benaloh import ChallengedBallot, challenge_ballot, verify_challenge
from election.dlog import DiscreteLog
from election.elgamal import decrypt_to_element
from election.manifest import BallotStyleId, CandidateId, ContestId
from tests.election.strategies import seeds

DLOG = DiscreteLog(max_value=100, baby_steps=16)


@st.composite
def plaintexts(draw, manifest):
    style = draw(st.sampled_from(manifest.ballot_styles))
    selections = {}
    for contest in manifest.contests_of_style(style.id):
        chosen = draw(st.sets(st.sampled_from(contest.selection_ids), max_size=contest.seats))
        if chosen:
            selections[contest.id] = frozenset(chosen)
    return PlaintextBallot(style.id, selections)


def test_encryption_round_trips_and_verifies(manifest, context, secret_key) -> None:
    @given(plaintexts(manifest), seeds)
    @settings(max_examples=12, deadline=None)
    def check(plaintext, seed) -> None:
        ballot = encrypt_ballot(context, manifest, plaintext, ballot_id="b-1", seed=seed)
        verify_ballot(context, manifest, ballot)
        for enc in ballot.contests:
            chosen = plaintext.chosen(enc.contest_id)
            for sel in enc.selections:
                assert DLOG.log(decrypt_to_element(sel.ciphertext, secret_key)) == (sel.candidate_id in chosen)
            assert DLOG.log(decrypt_to_element(enc.blank, secret_key)) == (not chosen)
        assert EncryptedBallot.from_dict(copy.deepcopy(ballot.to_dict())) == ballot
        opened = verify_challenge(context, manifest, challenge_ballot(ballot, seed))
        assert opened == plaintext
        assert ChallengedBallot.from_dict(challenge_ballot(ballot, seed).to_dict()).seed == seed

    check()


def test_same_seed_same_ballot_and_different_ids_different_ciphertexts(manifest, context) -> None:
    plain = PlaintextBallot(BallotStyleId("style-W2"), {ContestId("shura-W2"): frozenset({CandidateId("W2-C1")})})
    a = encrypt_ballot(context, manifest, plain, ballot_id="a", seed=b"\x01" * 32)
    assert a == encrypt_ballot(context, manifest, plain, ballot_id="a", seed=b"\x01" * 32)
    b = encrypt_ballot(context, manifest, plain, ballot_id="b", seed=b"\x01" * 32)
    assert a.contests[0].selections[0].ciphertext != b.contests[0].selections[0].ciphertext


@pytest.mark.parametrize(
    ("selections", "error"),
    [
        ({"shura-W1": {"W1-C1", "W1-C2", "W1-C4"}}, OvervoteError),
        ({"shura-W1": {"W1-C3"}}, UnknownCandidateError),  # withdrawn
        ({"shura-W1": {"W2-C1"}}, UnknownCandidateError),
        ({"shura-W2": {"W2-C1"}}, UnknownContestError),
    ],
)
def test_invalid_plaintexts_are_refused(manifest, context, selections, error) -> None:
    plain = PlaintextBallot(BallotStyleId("style-W1"), {ContestId(c): frozenset(v) for c, v in selections.items()})
    with pytest.raises(error):
        encrypt_ballot(context, manifest, plain, ballot_id="x", seed=bytes(32))


def test_unknown_style_is_refused(manifest) -> None:
    with pytest.raises(UnknownStyleError):
        PlaintextBallot(BallotStyleId("style-XX"), {}).validate(manifest)


@pytest.fixture(scope="module")
def ballot(manifest, context):
    plain = PlaintextBallot(
        BallotStyleId("style-W1"), {ContestId("shura-W1"): frozenset({CandidateId("W1-C1"), CandidateId("W1-C5")})}
    )
    return encrypt_ballot(context, manifest, plain, ballot_id="K1-1", seed=b"\x07" * 32)


def _mutations(data):
    """(description, mutate) pairs, each changing one value of a ballot's JSON."""

    def at(path, value):
        def mutate(d):
            target = d
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value(target[path[-1]]) if callable(value) else value

        return mutate

    other_point = data["contests"][0]["selections"][1]["ciphertext"]["alpha"]
    return [
        ("ciphertext alpha", at(["contests", 0, "selections", 0, "ciphertext", "alpha"], other_point)),
        ("ciphertext beta", at(["contests", 0, "selections", 0, "ciphertext", "beta"], other_point)),
        ("blank", at(["contests", 0, "blank", "beta"], other_point)),
        ("selection proof", at(["contests", 0, "selections", 2, "proof", "v"], lambda v: [v[1], v[0]])),
        ("blank proof", at(["contests", 0, "blank_proof", "c"], lambda c: [c[1], c[0]])),
        ("limit proof", at(["contests", 0, "limit_proof", "v"], lambda v: list(reversed(v)))),
        ("ballot id", at(["ballot_id"], "K1-2")),
        ("style hash", at(["style_hash"], "0" * 64)),
        ("base hash", at(["base_hash"], "0" * 64)),
        ("candidate order", at(["contests", 0, "selections"], lambda s: [s[1], s[0], *s[2:]])),
        ("missing selection", at(["contests", 0, "selections"], lambda s: s[:-1])),
    ]


@pytest.mark.parametrize("path", ["from_dict + verify_ballot", "parse_and_verify_ballot (ingest)"])
def test_every_tampered_value_is_detected(manifest, context, ballot, path) -> None:
    def check(d):
        if path.startswith("parse_and_verify"):
            parse_and_verify_ballot(context, manifest, d)
        else:
            verify_ballot(context, manifest, EncryptedBallot.from_dict(d))

    data = ballot.to_dict()
    for what, mutate in _mutations(data):
        changed = copy.deepcopy(data)
        mutate(changed)
        with pytest.raises(BallotVerificationError):
            check(changed)
            pytest.fail(f"tampered {what} verified")


def test_ballot_for_another_style_is_rejected(manifest, context, ballot) -> None:
    data = ballot.to_dict()
    data["style_id"] = "style-W3"
    with pytest.raises(BallotVerificationError):
        verify_ballot(context, manifest, EncryptedBallot.from_dict(data))


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.pop("style_hash"),
        lambda d: d.update(extra=1),
        lambda d: d.update(format_version=2),
        lambda d: d.update(base_hash="XYZ"),
        lambda d: d["contests"][0]["selections"][0]["ciphertext"].update(alpha="01" + "00" * 31),
        lambda d: d["contests"][0]["selections"][0]["ciphertext"].update(beta="ec" + "ff" * 30 + "7f"),
        lambda d: d["contests"][0]["selections"][0]["proof"].update(c=["zz"]),
        lambda d: d.update(contests={}),
        lambda d: d.update(ballot_id=""),
    ],
)
def test_malformed_ballots_raise_one_typed_error(ballot, mutate) -> None:
    data = copy.deepcopy(ballot.to_dict())
    mutate(data)
    with pytest.raises(BallotFormatError):
        EncryptedBallot.from_dict(data)


def test_challenge_with_wrong_seed_fails(manifest, context, ballot) -> None:
    with pytest.raises(BallotVerificationError):
        verify_challenge(context, manifest, challenge_ballot(ballot, b"\x08" * 32))
