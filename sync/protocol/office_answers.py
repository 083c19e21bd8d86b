"""What the central office answers: the check-in's status and lock, acknowledgements of voted marks, releases,
batches, provisional ballots, chain closes, audit segments and heartbeats, and the one error body of every 4xx/5xx.
"""

from __future__ import annotations

import enum
from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from sync.protocol.fields import AwareDatetime, CheckinToken, IdempotencyKey, Identifier, _Message

# ---- check-in (poll book) -------------------------------------------------------------------------


class CheckinStatus(enum.Enum):
    ELIGIBLE = "eligible"
    NOT_ON_ROLL = "not_on_roll"
    ALREADY_VOTED = "already_voted"
    LOCKED_ELSEWHERE = "locked_elsewhere"
    INELIGIBLE = "ineligible"
    WRONG_CENTRE = "wrong_centre"
    """The voter is on the roll and eligible, but this centre is not unified and does not serve their wilayat
    (added in v1.1; offices answered ``ineligible`` before)."""


class CheckinResponse(_Message):
    """The poll book's answer. Only ``eligible`` carries a token, a ballot style and a lock expiry."""

    status: CheckinStatus
    ballot_style_id: Identifier | None = None
    checkin_token: CheckinToken | None = None
    lock_expires_at: AwareDatetime | None = None
    remote_vote_replaced: bool = False
    """The voter has a ballot at the vote collector, which their vote here will replace (docs/remote-voting.md)."""

    @model_validator(mode="after")
    def _eligible_has_lock(self) -> CheckinResponse:
        granted = (self.ballot_style_id, self.checkin_token, self.lock_expires_at)
        if self.status is CheckinStatus.ELIGIBLE and None in granted:
            raise ValueError("an eligible check-in needs ballot_style_id, checkin_token and lock_expires_at")
        if self.status is not CheckinStatus.ELIGIBLE and granted != (None, None, None):
            raise ValueError(f"a {self.status.value} answer carries no token, style or lock")
        return self


class VotedMarkStatus(enum.Enum):
    RECORDED = "recorded"
    ALREADY_RECORDED = "already_recorded"


class VotedMarkAck(_Message):
    status: VotedMarkStatus


class ReleaseAck(_Message):
    released: bool
    """False when the token was already released or voted (a retried release is harmless)."""


# ---- ballots, provisional ballots, chain close ---------------------------------------------------------------


class BatchReceipt(_Message):
    batch_id: IdempotencyKey
    accepted: int = Field(ge=0)
    """Ballots newly stored by this request."""
    duplicate_ballots: int = Field(ge=0)
    """Ballots the office already held (from an earlier delivery of this or another batch)."""
    duplicate_batch: bool
    """True when this batch id was already received with the same content (a retry)."""
    rejected: int = Field(default=0, ge=0)
    """Ballots of this batch the office refused (proof, style or confirmation-chain failure); they are kept with
    their reason for the operators and are never counted (added in v1.1; absent means 0)."""


class ProvisionalAck(_Message):
    envelope_id: IdempotencyKey
    duplicate: bool


class ChainCloseAck(_Message):
    close_seq: int = Field(ge=1)
    duplicate: bool
    """True when the office already held this very close (a retry)."""


# ---- audit log and heartbeat ---------------------------------------------------------------------------


class AuditSegmentAck(_Message):
    stored_through: int = Field(ge=0)
    """The highest seq the office now holds contiguously from 1 for this kiosk."""


class HeartbeatAck(_Message):
    server_time: AwareDatetime


# ---- errors --------------------------------------------------------------------------------------------


class ErrorCode(enum.Enum):
    MALFORMED = "malformed"
    UNSUPPORTED_VERSION = "unsupported_version"
    UNKNOWN_KIOSK = "unknown_kiosk"
    KIOSK_MISMATCH = "kiosk_mismatch"
    """The body's kiosk_id is not the kiosk named by the TLS client certificate."""
    BAD_SIGNATURE = "bad_signature"
    UNKNOWN_TOKEN = "unknown_token"  # noqa: S105 (an error code, not a secret)
    TOKEN_NOT_YOURS = "token_not_yours"  # noqa: S105
    CONFLICT = "conflict"
    """An idempotency key (batch id, envelope id, audit seq) reused with different content."""
    TOO_LARGE = "too_large"
    TOO_MANY_REQUESTS = "too_many_requests"
    """Staff login and challenges over the per-client limit (429); a kiosk never receives it."""
    INTERNAL = "internal"


class ErrorBody(_Message):
    """Every 4xx/5xx response body."""

    error: ErrorCode
    detail: Annotated[str, StringConstraints(max_length=1000)]
