"""The central office's view of the election core: one small port (``BallotChecker``) that ingest depends on,
and its real implementation over ``election`` (ballot parsing and proofs, confirmation-code chain, tally).

Ingest never imports the crypto modules itself; tests of the ingest rules may pass another ``BallotChecker``,
the server and the end-to-end tests pass ``ElectionChecker``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from election.ballot import BallotFormatError, BallotVerificationError, EncryptedBallot, verify_ballot
from election.confirmation import confirmation_code, genesis_code
from election.context import ElectionContext
from election.elgamal import ZERO_CIPHERTEXT, Ciphertext
from election.manifest import ContestId, Manifest


class BallotRejected(Exception):
    """The ballot cannot be accepted; ``reason`` is kept with it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class CheckedBallot:
    """A ballot whose proofs verified: its id, style and an opaque handle for chain and tally."""

    ballot_id: str
    style_id: str
    contest_ids: tuple[str, ...]
    handle: Any


class BallotChecker(Protocol):
    def check(self, payload: dict[str, Any]) -> CheckedBallot:
        """Parse and verify every proof; raises BallotRejected."""
        ...

    def genesis(self, kiosk_id: str) -> str:
        """The hex code a kiosk's chain starts from."""
        ...

    def next_code(self, previous_hex: str, kiosk_id: str, ballot: CheckedBallot) -> str:
        """The hex confirmation code of ``ballot`` after ``previous_hex`` on this kiosk."""
        ...

    def empty_tally(self, contest_id: str) -> dict[str, Any]: ...

    def add_to_tally(self, contest_id: str, state: dict[str, Any], ballots: Iterable[CheckedBallot]) -> dict[str, Any]:
        """Add the encrypted selections of ``ballots`` for ``contest_id`` to a serialised tally state."""
        ...


class ElectionChecker:
    """``BallotChecker`` over the election core (``verify_ballot``, ``confirmation_code``, ElGamal sums).

    The tally state is, per contest, the component-wise sum of every cast ballot's selection and blank
    ciphertexts (homomorphic: it encrypts the per-candidate counts), serialised as hex points.
    """

    def __init__(self, context: ElectionContext, manifest: Manifest) -> None:
        self.context = context
        self.manifest = manifest
        self._base_hash = context.base_hash

    def check(self, payload: dict[str, Any]) -> CheckedBallot:
        try:
            ballot = EncryptedBallot.from_dict(payload)
            verify_ballot(self.context, self.manifest, ballot)
        except BallotFormatError as exc:
            raise BallotRejected(f"malformed encrypted ballot: {exc}") from None
        except BallotVerificationError as exc:
            raise BallotRejected(f"proof check failed: {exc.reason}") from None
        return CheckedBallot(ballot.ballot_id, ballot.style_id, tuple(c.contest_id for c in ballot.contests), ballot)

    def genesis(self, kiosk_id: str) -> str:
        return genesis_code(self._base_hash, kiosk_id).hex()

    def next_code(self, previous_hex: str, kiosk_id: str, ballot: CheckedBallot) -> str:
        try:
            previous = bytes.fromhex(previous_hex)
        except ValueError:
            raise BallotRejected("previous confirmation code is not hex") from None
        if len(previous) != 32:
            raise BallotRejected("previous confirmation code has the wrong length")
        return confirmation_code(previous, kiosk_id, ballot.handle).hex()

    def empty_tally(self, contest_id: str) -> dict[str, Any]:
        contest = self.manifest.contests_by_id[ContestId(contest_id)]
        zero = ZERO_CIPHERTEXT.to_dict()
        return {
            "contest_id": contest_id,
            "ballots": 0,
            "selections": dict.fromkeys(contest.selection_ids, zero),
            "blank": zero,
        }

    def add_to_tally(self, contest_id: str, state: dict[str, Any], ballots: Iterable[CheckedBallot]) -> dict[str, Any]:
        sums = {c: Ciphertext.from_dict(ct, aggregate=True) for c, ct in state["selections"].items()}
        blank = Ciphertext.from_dict(state["blank"], aggregate=True)
        count = int(state["ballots"])
        for b in ballots:
            ballot: EncryptedBallot = b.handle
            for enc in ballot.contests:
                if enc.contest_id != contest_id:
                    continue
                for sel in enc.selections:
                    sums[sel.candidate_id] = sums[sel.candidate_id] + sel.ciphertext
                blank = blank + enc.blank
                count += 1
        return {
            "contest_id": contest_id,
            "ballots": count,
            "selections": {c: ct.to_dict() for c, ct in sums.items()},
            "blank": blank.to_dict(),
        }
