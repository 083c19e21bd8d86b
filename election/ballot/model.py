"""The ballot's values: the format's constants, the errors, the voter's plaintext choices, the encrypted ballot
with its dictionary form (``to_dict``; ``from_dict`` is the strict parser, ``election.ballot.parse``), and the
labels every proof is bound to (so a proof cannot be moved to another ballot, contest or selection)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Final

from election.canonical import canonical_json, sha256_hex
from election.chaum_pedersen import ProofError, RangeProof
from election.elgamal import Ciphertext
from election.group import GroupElement, GroupError, point_add
from election.manifest import BallotStyleId, CandidateId, ContestId, Manifest

BALLOT_FORMAT_VERSION: Final = 1
SEED_BYTES: Final = 32
BLANK_LABEL: Final = "#blank"
MAX_BALLOT_ID_LENGTH: Final = 128


class BallotError(ValueError):
    """A plaintext ballot is not valid for its ballot style."""


class UnknownStyleError(BallotError):
    pass


class UnknownContestError(BallotError):
    pass


class UnknownCandidateError(BallotError):
    pass


class OvervoteError(BallotError):
    pass


class BallotFormatError(ValueError):
    """An encrypted ballot (or challenged ballot) in JSON form is malformed."""


class BallotVerificationError(ValueError):
    """An encrypted ballot does not verify; ``reason`` says which check failed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# ---- plaintext ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlaintextBallot:
    """The voter's choices: for each contest of the style, the set of candidates marked (absent = blank)."""

    style_id: BallotStyleId
    selections: Mapping[ContestId, frozenset[CandidateId]]

    def validate(self, manifest: Manifest) -> None:
        """Raise a BallotError subclass for an unknown style/contest/candidate (including a withdrawn
        candidate) or an overvote."""
        style = manifest.styles_by_id.get(self.style_id)
        if style is None:
            raise UnknownStyleError(f"unknown ballot style {self.style_id!r}")
        for contest_id, chosen in self.selections.items():
            if contest_id not in style.contest_ids:
                raise UnknownContestError(f"contest {contest_id!r} is not on ballot style {self.style_id!r}")
            contest = manifest.contests_by_id[contest_id]
            unknown = set(chosen) - set(contest.selection_ids)
            if unknown:
                raise UnknownCandidateError(f"contest {contest_id!r}: not on the ballot: {sorted(unknown)}")
            if len(chosen) > contest.seats:
                raise OvervoteError(f"contest {contest_id!r}: {len(chosen)} marks for {contest.seats} seat(s)")

    def chosen(self, contest_id: ContestId) -> frozenset[CandidateId]:
        return self.selections.get(contest_id, frozenset())


# ---- encrypted ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EncryptedSelection:
    candidate_id: CandidateId
    ciphertext: Ciphertext
    proof: RangeProof


@dataclass(frozen=True, slots=True)
class EncryptedContest:
    contest_id: ContestId
    selections: tuple[EncryptedSelection, ...]
    blank: Ciphertext
    blank_proof: RangeProof
    limit_proof: RangeProof

    def total(self, seats: int) -> Ciphertext:
        """Encryption of sum(selections) + seats * blank (the value the limit proof is about): 2 * (number of
        selections + seats - 1) point additions."""
        alpha, beta = self.blank.alpha.data, self.blank.beta.data
        acc_a, acc_b = alpha, beta
        for _ in range(seats - 1):
            acc_a, acc_b = point_add(acc_a, alpha), point_add(acc_b, beta)
        for s in self.selections:
            ct = s.ciphertext
            acc_a, acc_b = point_add(acc_a, ct.alpha.data), point_add(acc_b, ct.beta.data)
        return Ciphertext(GroupElement(acc_a), GroupElement(acc_b))


@dataclass(frozen=True)
class EncryptedBallot:
    ballot_id: str
    style_id: BallotStyleId
    style_hash: str
    base_hash: bytes
    contests: tuple[EncryptedContest, ...]

    @cached_property
    def ballot_hash(self) -> bytes:
        """SHA-256 of the canonical JSON form; what confirmation codes are computed over."""
        return bytes.fromhex(sha256_hex(canonical_json(self.to_dict())))

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": BALLOT_FORMAT_VERSION,
            "ballot_id": self.ballot_id,
            "style_id": self.style_id,
            "style_hash": self.style_hash,
            "base_hash": self.base_hash.hex(),
            "contests": [
                {
                    "contest_id": c.contest_id,
                    "selections": [
                        {
                            "candidate_id": s.candidate_id,
                            "ciphertext": s.ciphertext.to_dict(),
                            "proof": s.proof.to_dict(),
                        }
                        for s in c.selections
                    ],
                    "blank": c.blank.to_dict(),
                    "blank_proof": c.blank_proof.to_dict(),
                    "limit_proof": c.limit_proof.to_dict(),
                }
                for c in self.contests
            ],
        }

    @staticmethod
    def from_dict(data: Any) -> EncryptedBallot:
        """Strict parse: exact keys, lower-case hex, every point validated. Raises BallotFormatError."""
        from election.ballot.parse import parse_ballot  # the parser builds an EncryptedBallot: imported when called

        try:
            return parse_ballot(data)
        except (GroupError, ProofError) as exc:
            raise BallotFormatError(f"encrypted ballot: {exc}") from None


# ---- labels -------------------------------------------------------------------------------------


def selection_label(ballot_id: str, contest_id: str, candidate_id: str) -> str:
    return f"{ballot_id}/{contest_id}/{candidate_id}"


def contest_label(ballot_id: str, contest_id: str) -> str:
    return f"{ballot_id}/{contest_id}"
