"""Plaintext and encrypted ballots: encryption with proofs, strict parsing, verification.

An encrypted ballot holds, for each contest of its ballot style (in style order):

* one ciphertext per active candidate (``Contest.selection_ids`` order) with a 0/1 range proof;
* a *blank indicator* ciphertext b (1 if the voter marked nobody in the contest) with a 0/1 proof;
* a range proof that ``sum(selections) + seats * b`` is in [1, seats]. With b in {0, 1} this holds exactly
  when either b = 1 and nobody is marked, or b = 0 and 1..seats candidates are marked: it is the contest
  limit proof (the sum is in [0, seats]) and proves the blank indicator honest, so blank ballots can be
  counted homomorphically and reported separately.

Every nonce is derived from a per-ballot secret ``seed`` (passed in by the caller; the core draws no
randomness): xi = H("selection-nonce"; seed, H_E, ballot id, contest id, candidate id). Revealing the seed of a
challenged ballot therefore lets anyone re-encrypt it (``election.benaloh``). All proofs are bound to H_E
and to a label naming the ballot, contest and selection, so a proof cannot be moved to another ballot.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Final

from election.canonical import canonical_json, sha256_hex
from election.chaum_pedersen import ProofError, RangeProof, prove_range, verify_range
from election.context import ElectionContext
from election.elgamal import Ciphertext, encrypt
from election.group import (
    GroupElement,
    GroupError,
    Scalar,
    base_mul,
    extended,
    hash_bytes,
    hash_to_scalar,
    hasher,
    point_add,
    small_multiple,
    state_to_scalar,
)
from election.manifest import BallotStyleId, CandidateId, Contest, ContestId, Manifest

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
        try:
            return _parse_ballot(data)
        except (GroupError, ProofError) as exc:
            raise BallotFormatError(f"encrypted ballot: {exc}") from None


def _obj(data: Any, keys: set[str], what: str) -> dict[str, Any]:
    if not isinstance(data, dict) or set(data) != keys:
        raise BallotFormatError(f"{what}: expected an object with exactly {sorted(keys)}")
    return data


def _str(value: Any, what: str, max_length: int = MAX_BALLOT_ID_LENGTH) -> str:
    if not isinstance(value, str) or not value or len(value) > max_length:
        raise BallotFormatError(f"{what}: expected a non-empty string of at most {max_length} characters")
    return value


def _parse_ballot(data: Any, *, deferred: bool = False) -> EncryptedBallot:
    d = _obj(data, {"format_version", "ballot_id", "style_id", "style_hash", "base_hash", "contests"}, "ballot")
    if d["format_version"] != BALLOT_FORMAT_VERSION or type(d["format_version"]) is not int:
        raise BallotFormatError(f"ballot: unsupported format_version {d['format_version']!r}")
    base_hash = d["base_hash"]
    if not isinstance(base_hash, str) or len(base_hash) != 64 or base_hash != base_hash.lower():
        raise BallotFormatError("ballot.base_hash: expected 64 lower-case hex digits")
    try:
        base = bytes.fromhex(base_hash)
    except ValueError:
        raise BallotFormatError("ballot.base_hash: not hexadecimal") from None
    if not isinstance(d["contests"], list):
        raise BallotFormatError("ballot.contests: expected a list")
    contests = []
    for i, c in enumerate(d["contests"]):
        cd = _obj(c, {"contest_id", "selections", "blank", "blank_proof", "limit_proof"}, f"contests[{i}]")
        if not isinstance(cd["selections"], list):
            raise BallotFormatError(f"contests[{i}].selections: expected a list")
        selections = []
        for j, s in enumerate(cd["selections"]):
            sd = _obj(s, {"candidate_id", "ciphertext", "proof"}, f"contests[{i}].selections[{j}]")
            selections.append(
                EncryptedSelection(
                    CandidateId(_str(sd["candidate_id"], "candidate_id")),
                    Ciphertext.from_dict(sd["ciphertext"], deferred=deferred),
                    RangeProof.from_dict(sd["proof"]),
                )
            )
        contests.append(
            EncryptedContest(
                ContestId(_str(cd["contest_id"], "contest_id")),
                tuple(selections),
                Ciphertext.from_dict(cd["blank"], deferred=deferred),
                RangeProof.from_dict(cd["blank_proof"]),
                RangeProof.from_dict(cd["limit_proof"]),
            )
        )
    return EncryptedBallot(
        ballot_id=_str(d["ballot_id"], "ballot_id"),
        style_id=BallotStyleId(_str(d["style_id"], "style_id")),
        style_hash=_str(d["style_hash"], "style_hash", 64),
        base_hash=base,
        contests=tuple(contests),
    )


# ---- encryption ---------------------------------------------------------------------------------


def selection_nonce(seed: bytes, base_hash: bytes, ballot_id: str, contest_id: str, candidate_id: str) -> Scalar:
    """The ElGamal nonce of one selection (or of the blank indicator, candidate_id = '#blank')."""
    return hash_to_scalar("selection-nonce", seed, base_hash, ballot_id, contest_id, candidate_id)


def _proof_seed(seed: bytes, ballot_id: str) -> bytes:
    return hash_bytes("proof-seed", seed, ballot_id)


def selection_label(ballot_id: str, contest_id: str, candidate_id: str) -> str:
    return f"{ballot_id}/{contest_id}/{candidate_id}"


def contest_label(ballot_id: str, contest_id: str) -> str:
    return f"{ballot_id}/{contest_id}"


def encrypt_ballot(
    context: ElectionContext, manifest: Manifest, plaintext: PlaintextBallot, *, ballot_id: str, seed: bytes
) -> EncryptedBallot:
    """Encrypt a validated plaintext ballot. ``seed`` is 32 fresh random bytes from the caller, kept secret
    unless the voter challenges the ballot."""
    if len(seed) != SEED_BYTES:
        raise ValueError(f"the ballot seed must be {SEED_BYTES} bytes")
    if not ballot_id or len(ballot_id) > MAX_BALLOT_ID_LENGTH:
        raise ValueError("ballot_id must be a non-empty string of at most 128 characters")
    plaintext.validate(manifest)
    base_hash = context.base_hash
    key = context.joint_public_key
    proof_seed = _proof_seed(seed, ballot_id)
    contests = []
    for contest in manifest.contests_of_style(plaintext.style_id):
        contests.append(
            _encrypt_contest(contest, plaintext.chosen(contest.id), base_hash, key, ballot_id, seed, proof_seed)
        )
    return EncryptedBallot(
        ballot_id=ballot_id,
        style_id=plaintext.style_id,
        style_hash=manifest.style_hashes[plaintext.style_id],
        base_hash=base_hash,
        contests=tuple(contests),
    )


def _encrypt_contest(
    contest: Contest,
    chosen: frozenset[CandidateId],
    base_hash: bytes,
    key: GroupElement,
    ballot_id: str,
    seed: bytes,
    proof_seed: bytes,
) -> EncryptedContest:
    selections = []
    nonce_sum = Scalar.from_int(0)
    # selection_nonce(seed, base_hash, ballot_id, contest.id, c) from one hash state per contest
    nonce_state = hasher("selection-nonce", seed, base_hash, ballot_id, contest.id)
    for candidate in contest.selection_ids:
        vote = 1 if candidate in chosen else 0
        nonce = state_to_scalar(extended(nonce_state, candidate))
        ct = encrypt(vote, nonce, key)
        label = selection_label(ballot_id, contest.id, candidate)
        proof = prove_range(ct, nonce, vote, 0, 1, public_key=key, base_hash=base_hash, label=label, seed=proof_seed)
        selections.append(EncryptedSelection(candidate, ct, proof))
        nonce_sum = nonce_sum + nonce
    blank_vote = 0 if chosen else 1
    blank_nonce = state_to_scalar(extended(nonce_state, BLANK_LABEL))
    blank = encrypt(blank_vote, blank_nonce, key)
    blank_proof = prove_range(
        blank,
        blank_nonce,
        blank_vote,
        0,
        1,
        public_key=key,
        base_hash=base_hash,
        label=selection_label(ballot_id, contest.id, BLANK_LABEL),
        seed=proof_seed,
    )
    # The sum of the ciphertexts, computed from the nonces the encrypting side knows (the same point as
    # ``EncryptedContest.total``, for 3 multiplications instead of 2 * (selections + seats - 1) additions).
    total_nonce = nonce_sum + Scalar.from_int(contest.seats) * blank_nonce
    total_value = len(chosen) + contest.seats * blank_vote
    total = Ciphertext(base_mul(total_nonce), small_multiple(total_value) + total_nonce * key)
    limit_proof = prove_range(
        total,
        total_nonce,
        total_value,
        1,
        contest.seats,
        public_key=key,
        base_hash=base_hash,
        label=contest_label(ballot_id, contest.id),
        seed=proof_seed,
    )
    return EncryptedContest(contest.id, tuple(selections), blank, blank_proof, limit_proof)


# ---- verification -------------------------------------------------------------------------------


def parse_and_verify_ballot(context: ElectionContext, manifest: Manifest, data: Any) -> EncryptedBallot:
    """``EncryptedBallot.from_dict`` then ``verify_ballot``, for a ballot that arrives to be checked (the
    central office's ingest): the same checks and errors, but each ciphertext point is decoded once, by the
    proof verification's own libsodium operations, instead of twice. The ballot is returned only once every
    point and proof has passed. Raises BallotFormatError or BallotVerificationError."""
    try:
        ballot = _parse_ballot(data, deferred=True)
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
