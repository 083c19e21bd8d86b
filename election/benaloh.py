"""Benaloh challenge: the voter asks the kiosk to prove what a ballot encrypts instead of casting it.

The kiosk reveals the ballot's seed; anyone re-derives every nonce xi, checks alpha = xi*G and reads
m*G = beta - xi*K (which must be 0 or G), so the ballot is shown to encrypt exactly the voter's choices. The
ballot is then spoiled: published with its seed and never counted (the tally refuses it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from election.ballot import (
    BLANK_LABEL,
    SEED_BYTES,
    BallotFormatError,
    BallotVerificationError,
    EncryptedBallot,
    PlaintextBallot,
    selection_nonce,
    verify_ballot,
)
from election.context import ElectionContext
from election.elgamal import Ciphertext
from election.group import IDENTITY, G, GroupElement, base_mul
from election.manifest import CandidateId, ContestId, Manifest


@dataclass(frozen=True)
class ChallengedBallot:
    ballot: EncryptedBallot
    seed: bytes

    def to_dict(self) -> dict[str, Any]:
        return {"ballot": self.ballot.to_dict(), "seed": self.seed.hex()}

    @staticmethod
    def from_dict(data: Any) -> ChallengedBallot:
        if not isinstance(data, dict) or set(data) != {"ballot", "seed"}:
            raise BallotFormatError("a challenged ballot is an object with exactly 'ballot' and 'seed'")
        seed = data["seed"]
        if not isinstance(seed, str) or len(seed) != 2 * SEED_BYTES or seed != seed.lower():
            raise BallotFormatError(f"challenged ballot seed: expected {2 * SEED_BYTES} lower-case hex digits")
        try:
            raw = bytes.fromhex(seed)
        except ValueError:
            raise BallotFormatError("challenged ballot seed: not hexadecimal") from None
        return ChallengedBallot(EncryptedBallot.from_dict(data["ballot"]), raw)


def challenge_ballot(ballot: EncryptedBallot, seed: bytes) -> ChallengedBallot:
    """Spoil ``ballot`` by revealing its seed (the kiosk then discards the ballot and the voter votes again)."""
    if len(seed) != SEED_BYTES:
        raise ValueError(f"the ballot seed must be {SEED_BYTES} bytes")
    return ChallengedBallot(ballot, seed)


def _open(ct: Ciphertext, nonce_point: GroupElement, key_part: GroupElement, where: str) -> int:
    if ct.alpha != nonce_point:
        raise BallotVerificationError(f"{where}: the revealed seed does not produce this ciphertext")
    message = ct.beta - key_part
    if message == IDENTITY:
        return 0
    if message == G:
        return 1
    raise BallotVerificationError(f"{where}: does not encrypt 0 or 1 under the revealed seed")


def verify_challenge(context: ElectionContext, manifest: Manifest, challenged: ChallengedBallot) -> PlaintextBallot:
    """Check the ballot's proofs and that the seed opens it; return the choices it encrypts.
    Raises BallotVerificationError."""
    ballot = challenged.ballot
    verify_ballot(context, manifest, ballot)
    key, base_hash = context.joint_public_key, context.base_hash
    selections: dict[ContestId, frozenset[CandidateId]] = {}
    for enc in ballot.contests:
        chosen = []
        for s in enc.selections:
            xi = selection_nonce(challenged.seed, base_hash, ballot.ballot_id, enc.contest_id, s.candidate_id)
            if _open(s.ciphertext, base_mul(xi), xi * key, f"{enc.contest_id}/{s.candidate_id}"):
                chosen.append(s.candidate_id)
        xi = selection_nonce(challenged.seed, base_hash, ballot.ballot_id, enc.contest_id, BLANK_LABEL)
        blank = _open(enc.blank, base_mul(xi), xi * key, f"{enc.contest_id}/{BLANK_LABEL}")
        if blank != (0 if chosen else 1):
            raise BallotVerificationError(f"{enc.contest_id}: blank indicator disagrees with the selections")
        if chosen:
            selections[enc.contest_id] = frozenset(chosen)
    return PlaintextBallot(ballot.style_id, selections)
