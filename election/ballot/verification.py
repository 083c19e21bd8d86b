"""Verifying an encrypted ballot against its election and ballot style (``verify_ballot``), and the central
office's ingest path that parses and verifies in one pass (``parse_and_verify_ballot``)."""

from __future__ import annotations

from typing import Any

from election.ballot.model import (
    BLANK_LABEL,
    BallotFormatError,
    BallotVerificationError,
    EncryptedBallot,
    contest_label,
    selection_label,
)
from election.ballot.parse import parse_ballot
from election.chaum_pedersen import ProofError, verify_range
from election.context import ElectionContext
from election.group import GroupError
from election.manifest import Manifest


def parse_and_verify_ballot(context: ElectionContext, manifest: Manifest, data: Any) -> EncryptedBallot:
    """``EncryptedBallot.from_dict`` then ``verify_ballot``, for a ballot that arrives to be checked (the
    central office's ingest): the same checks and errors, but each ciphertext point is decoded once, by the
    proof verification's own libsodium operations, instead of twice. The ballot is returned only once every
    point and proof has passed. Raises BallotFormatError or BallotVerificationError."""
    try:
        ballot = parse_ballot(data, deferred=True)
    except (GroupError, ProofError) as exc:
        raise BallotFormatError(f"encrypted ballot: {exc}") from None
    _verify(context, manifest, ballot, check_points=True)
    return ballot


def verify_ballot(context: ElectionContext, manifest: Manifest, ballot: EncryptedBallot) -> None:
    """Check that ``ballot`` is a well-formed encryption of a valid vote for its style in this election.
    Raises BallotVerificationError (one exception type for every failure)."""
    _verify(context, manifest, ballot, check_points=False)


def _verify(context: ElectionContext, manifest: Manifest, ballot: EncryptedBallot, *, check_points: bool) -> None:
    if ballot.base_hash != context.base_hash:
        raise BallotVerificationError("ballot is bound to another election (base hash differs)")
    style_hash = manifest.style_hashes.get(ballot.style_id)
    if style_hash is None:
        raise BallotVerificationError(f"unknown ballot style {ballot.style_id!r}")
    contests = manifest.contests_of_style(ballot.style_id)
    if ballot.style_hash != style_hash:
        raise BallotVerificationError("style hash does not match the manifest's ballot style")
    if tuple(c.contest_id for c in ballot.contests) != tuple(c.id for c in contests):
        raise BallotVerificationError("contests do not match the ballot style")
    key, base_hash = context.joint_public_key, context.base_hash
    for contest, enc in zip(contests, ballot.contests, strict=True):
        if tuple(s.candidate_id for s in enc.selections) != contest.selection_ids:
            raise BallotVerificationError(f"contest {contest.id!r}: selections do not match the ballot style")
        try:
            for s in enc.selections:
                label = selection_label(ballot.ballot_id, contest.id, s.candidate_id)
                verify_range(
                    s.proof, s.ciphertext, 0, 1, public_key=key, base_hash=base_hash, label=label,
                    check_points=check_points,
                )  # fmt: skip
            label = selection_label(ballot.ballot_id, contest.id, BLANK_LABEL)
            verify_range(
                enc.blank_proof, enc.blank, 0, 1, public_key=key, base_hash=base_hash, label=label,
                check_points=check_points,
            )  # fmt: skip
            verify_range(
                enc.limit_proof,
                enc.total(contest.seats),
                1,
                contest.seats,
                public_key=key,
                base_hash=base_hash,
                label=contest_label(ballot.ballot_id, contest.id),
            )
        except ProofError as exc:
            raise BallotVerificationError(str(exc)) from None
