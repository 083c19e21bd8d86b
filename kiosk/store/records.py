"""The ballot box's errors and the named records it takes and returns (values only: no SQL here)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, NamedTuple, Protocol

from kiosk.polls import PollsState, Refused
from sync.protocol import BallotDisposition, BatchBallot


class StaffIdentity(Protocol):
    """What the ballot box logs of a staff member (``kiosk.polls.StaffCard`` is one)."""

    def to_dict(self) -> dict[str, str]: ...


class BallotBoxError(Exception):
    """A request the ballot box refuses; nothing was written."""


class PollsNotOpen(BallotBoxError):
    pass


class UnknownCheckin(BallotBoxError):
    pass


class CheckinNotActive(BallotBoxError):
    """The check-in was already used to vote or was released."""


class ChainMismatch(BallotBoxError):
    """The ballot's confirmation code is not a 64-digit lower-case hex code."""


class DuplicateBallot(BallotBoxError):
    pass


class TransitionRefused(BallotBoxError):
    def __init__(self, refused: Refused) -> None:
        super().__init__(f"cannot {refused.action.value} from {refused.state.value}: {refused.reason.value}")
        self.refused = refused


@dataclass(frozen=True)
class BallotToStore:
    """An encrypted ballot and its confirmation code, as the voting session hands it over."""

    ballot_id: str
    ballot_style_id: str
    confirmation_code: str
    """``H("confirmation"; genesis, kiosk, ballot hash)``, hex (``election.confirmation.confirmation_code``)."""
    encrypted_ballot: Mapping[str, Any]

    def as_wire(self, disposition: BallotDisposition) -> BatchBallot:
        return BatchBallot(
            ballot_id=self.ballot_id,
            ballot_style_id=self.ballot_style_id,
            disposition=disposition,
            confirmation_code=self.confirmation_code,
            encrypted_ballot=dict(self.encrypted_ballot),
        )


@dataclass(frozen=True)
class Counts:
    cast: int
    challenged: int
    provisional: int
    unbatched: int
    unsent_outbox: int
    """Outbox items (batches, provisional submissions) not yet acknowledged."""
    unsent_ballots: int
    """Ballots not yet acknowledged by the office: in the pool or in an unsent outbox item."""
    pending_voted_marks: int
    pending_releases: int


@dataclass(frozen=True)
class PollsReport:
    """The zero report (on open) or close report (on close): what the kiosk holds at that moment."""

    kiosk_id: str
    state: PollsState
    counts: Counts
    chain_head: str
    audit_count: int

    def to_dict(self) -> dict[str, Any]:
        c = self.counts
        return {
            "kiosk_id": self.kiosk_id,
            "state": self.state.value,
            "ballots_cast": c.cast,
            "ballots_challenged": c.challenged,
            "ballots_provisional": c.provisional,
            "ballots_pending_sync": c.unsent_ballots,
            "voted_marks_pending_sync": c.pending_voted_marks,
            "chain_head": self.chain_head,
            "audit_count": self.audit_count,
        }


@dataclass(frozen=True)
class OutboxItem:
    """A signed submission waiting for the office's acknowledgement (``kind``: batch, provisional, chain_close)."""

    seq: int
    kind: str
    idempotency_key: str
    body: bytes


class CheckinUpdate(NamedTuple):
    """A check-in's outcome the office has not acknowledged: ``status`` "voted" or "released" (with its reason)."""

    token: str
    status: str
    release_reason: str | None


class SyncRefusal(NamedTuple):
    """Ballots of a delivered batch that the office refused (its receipt), until staff acknowledge them."""

    batch_id: str
    refused: int


class AuditHead(NamedTuple):
    """The audit log's first ``seq`` entries: the hash of entry ``seq`` and the kiosk's signature over both."""

    seq: int
    head_hash: str
    signature: str


# Audit-log entry kinds and an outbox kind more than one part of the ballot box writes or reads.
SYNC_REFUSED: Final = "sync_refused"
SYNC_FAULTS_ACKNOWLEDGED: Final = "sync_faults_acknowledged"
SESSION_EVENT: Final = "session_event"
CHAIN_CLOSED: Final = "chain_closed"
CHAIN_CLOSE_OUTBOX: Final = "chain_close"
#: the audit entry of a sealed batch: it names the batch's ballots (ids and hashes, sorted), its roots and counts
BATCH_SEALED: Final = "batch_sealed"
