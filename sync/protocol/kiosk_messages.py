"""What the kiosk sends: check-ins, voted marks and releases, ballot batches with their signed chain statements,
provisional ballots, the chain close, audit segments and heartbeats (the office's answers: ``office_answers``).

Secrecy rule: nothing that travels with a voter (check-in, voted mark, release) carries a ballot id, a
confirmation code or a precise time, and nothing that travels with a ballot carries a voter, a check-in token or
a cast time.
"""

from __future__ import annotations

import enum
from typing import Annotated, Final, Literal

from pydantic import Field, model_validator

from election.chain_statement import ChainStatement, SignedStatement, StatementKind
from sync.protocol.fields import (
    MAX_AUDIT_ENTRIES,
    MAX_BATCH_BALLOTS,
    AuditPayload,
    AwareDatetime,
    BallotId,
    Base64Signature,
    CivilNumber,
    ConfirmationCode,
    Count,
    IdempotencyKey,
    Identifier,
    OpaqueBallot,
    SealedEnvelope,
    Sha256Hex,
    ShortText,
    _Message,
    _Model,
)

# ---- check-in (poll book) -------------------------------------------------------------------------


class CheckinRequest(_Message):
    """POST /v1/checkins: is this voter eligible here, and if so lock them to this kiosk."""

    kiosk_id: Identifier
    centre_id: Identifier
    civil_number: CivilNumber
    idempotency_key: IdempotencyKey


class VotedMark(_Message):
    """POST /v1/checkins/{token}/voted. Carries NO ballot id and no time: see the secrecy rule."""

    kiosk_id: Identifier


class ReleaseReason(enum.Enum):
    CARD_REMOVED = "card_removed"
    VOTER_LEFT = "voter_left"
    TIMED_OUT = "timed_out"
    STAFF_CANCELLED = "staff_cancelled"


class CheckinRelease(_Message):
    """POST /v1/checkins/{token}/release: the voter left without casting; the lock is freed."""

    kiosk_id: Identifier
    reason: ReleaseReason


# ---- ballots ---------------------------------------------------------------------------------------


class BallotDisposition(enum.Enum):
    CAST = "cast"
    CHALLENGED = "challenged"
    """Benaloh challenge: spoiled, published with its revealed nonces, never tallied."""


class BatchBallot(_Model):
    """One encrypted ballot as it leaves the kiosk: no voter, no token, no time, no local sequence."""

    ballot_id: BallotId
    ballot_style_id: Identifier
    disposition: BallotDisposition
    confirmation_code: ConfirmationCode
    """``H("confirmation"; genesis(H_E, kiosk), kiosk, ballot hash)``, hex (v1.3: no previous code: nothing in a
    batch orders its ballots)."""
    encrypted_ballot: OpaqueBallot


class SignedChainHead(_Model):
    """The kiosk-signed head of its batch chain once this batch is in it (v1.3): the batch's root and the links so
    far by disposition. The statement and its signature are defined in ``election.chain_statement`` (signed bytes:
    ``b"sanduq/chain-head/v2\x00" + canonical JSON`` of these fields without ``signature``); it is published in
    the record as the kiosk's last head."""

    statement: Literal["chain-head"]
    kiosk_id: Identifier
    genesis: Sha256Hex
    root: Sha256Hex
    cast: Count
    challenged: Count
    provisional: Count
    signature: Base64Signature

    def signed(self) -> SignedStatement:
        """The core's value (raises ``election.chain_statement.StatementError`` if inconsistent)."""
        return SignedStatement.from_dict(self.model_dump(mode="json"), StatementKind.HEAD)


class SignedChainClose(_Model):
    """The kiosk-signed close of its batch chain, made in the same transaction as the polls close (v1.3): the last
    batch's root, links by disposition and ``close_seq`` (a later close of a reopened kiosk has a higher one and
    supersedes)."""

    statement: Literal["chain-close"]
    kiosk_id: Identifier
    genesis: Sha256Hex
    root: Sha256Hex
    cast: Count
    challenged: Count
    provisional: Count
    close_seq: Annotated[int, Field(ge=1, le=10**9, strict=True)]
    signature: Base64Signature

    def signed(self) -> SignedStatement:
        return SignedStatement.from_dict(self.model_dump(mode="json"), StatementKind.CLOSE)


def signed_head(statement: ChainStatement, signature: str) -> SignedChainHead:
    return SignedChainHead.model_validate({**statement.to_dict(), "signature": signature})


def signed_close(statement: ChainStatement, signature: str) -> SignedChainClose:
    return SignedChainClose.model_validate({**statement.to_dict(), "signature": signature})


class BallotBatch(_Message):
    """POST /v1/batches. ``batch_id`` is the idempotency key; ``ballots`` are in shuffled order.

    ``signature`` is the kiosk key's signature over ``signing_bytes(batch)`` (canonical JSON of every
    field except ``signature``). ``chain_head`` (v1.2, required) is the kiosk's signed chain head after this batch:
    its root is ``batch_root(previous root, kiosk, the codes of ballots + provisional_codes)`` (v1.3).
    ``provisional_codes`` (v1.3) are the confirmation codes of the kiosk's provisional ballots (sent before, one by
    one, with their identity envelopes) that this batch links, ascending; the batch may carry no ballot when it
    links only provisional ones (the last batch before a close).
    """

    kiosk_id: Identifier
    batch_id: IdempotencyKey
    ballots: Annotated[list[BatchBallot], Field(max_length=MAX_BATCH_BALLOTS)]
    provisional_codes: Annotated[list[Sha256Hex], Field(max_length=MAX_BATCH_BALLOTS)]
    chain_head: SignedChainHead
    signature: Base64Signature

    @model_validator(mode="after")
    def _unique_ballots(self) -> BallotBatch:
        ids = [b.ballot_id for b in self.ballots]
        if len(set(ids)) != len(ids):
            raise ValueError("a ballot id appears twice in the batch")
        if not self.ballots and not self.provisional_codes:
            raise ValueError("a batch links at least one ballot")
        if self.provisional_codes != sorted(set(self.provisional_codes)):
            raise ValueError("provisional_codes must be ascending, each once")
        codes = [b.confirmation_code for b in self.ballots] + self.provisional_codes
        if len(set(codes)) != len(codes):
            raise ValueError("a confirmation code appears twice in the batch")
        return self


# ---- provisional ballots -----------------------------------------------------------------------------


class ProvisionalReason(enum.Enum):
    CENTRAL_UNREACHABLE = "central_unreachable"
    NOT_ON_ROLL_DISPUTED = "not_on_roll_disputed"
    ALREADY_VOTED_DISPUTED = "already_voted_disputed"
    LOCKED_ELSEWHERE_DISPUTED = "locked_elsewhere_disputed"


class IdentityEnvelopeContent(_Message):
    """The plaintext inside ``ProvisionalSubmission.identity_envelope`` (PyNaCl SealedBox to the office's
    X25519 key). Only the central office can open it; it is destroyed once the committee decides."""

    envelope_id: IdempotencyKey
    civil_number: CivilNumber
    kiosk_id: Identifier
    centre_id: Identifier
    reason: ProvisionalReason
    ballot_hash: Sha256Hex
    """SHA-256 of the canonical JSON of the accompanying ``BatchBallot``: binds envelope and ballot."""


class ProvisionalSubmission(_Message):
    """POST /v1/provisional: a sealed identity envelope plus the encrypted ballot, kept apart from the
    tally until adjudication. ``envelope_id`` is the idempotency key."""

    kiosk_id: Identifier
    envelope_id: IdempotencyKey
    identity_envelope: SealedEnvelope
    ballot: BatchBallot
    signature: Base64Signature


# ---- chain close ---------------------------------------------------------------------------------------


class ChainCloseSubmission(_Message):
    """POST /v1/chain-close (v1.2): the kiosk's signed chain close, queued after its final batch. Idempotent: the
    same close again is a duplicate; a higher ``close_seq`` supersedes; a lower one, or another close with the same
    ``close_seq``, is ``409 conflict``."""

    kiosk_id: Identifier
    close: SignedChainClose


# ---- audit log ---------------------------------------------------------------------------------------


class AuditEntryWire(_Model):
    """One kiosk audit-log entry (hash and signature definitions: sync/audit_entry.py)."""

    seq: int = Field(ge=1)
    kind: ShortText
    payload: AuditPayload
    prev_hash: Sha256Hex
    entry_hash: Sha256Hex
    signature: Base64Signature


class AuditHead(_Model):
    """The signed head of a kiosk's log: ``count`` entries ending in ``head_hash``."""

    count: int = Field(ge=0)
    head_hash: Sha256Hex
    signature: Base64Signature


class AuditSegment(_Message):
    """POST /v1/audit-segments: consecutive entries ``first_seq..`` and the head at the time of sending.
    The office stores entries by (kiosk, seq); a resent identical entry is fine, a different one is
    evidence of tampering and is rejected with ``conflict``."""

    kiosk_id: Identifier
    entries: Annotated[list[AuditEntryWire], Field(min_length=1, max_length=MAX_AUDIT_ENTRIES)]
    head: AuditHead

    @model_validator(mode="after")
    def _consecutive(self) -> AuditSegment:
        first = self.entries[0].seq
        if [e.seq for e in self.entries] != list(range(first, first + len(self.entries))):
            raise ValueError("audit entries must be consecutive")
        if self.head.count < self.entries[-1].seq:
            raise ValueError("the head is older than the entries")
        return self


# ---- heartbeat ---------------------------------------------------------------------------------------


class KioskPollsState(enum.Enum):
    SETUP = "setup"
    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"


MAX_HEARTBEAT_COUNT: Final = 10**9
"""Every count in a heartbeat is at most this (the dashboard shows them publicly; no kiosk holds more)."""


class Backlog(_Model):
    unbatched_ballots: int = Field(ge=0, le=MAX_HEARTBEAT_COUNT)
    outbox_items: int = Field(ge=0, le=MAX_HEARTBEAT_COUNT)
    pending_voted_marks: int = Field(ge=0, le=MAX_HEARTBEAT_COUNT)
    pending_releases: int = Field(ge=0, le=MAX_HEARTBEAT_COUNT)


class Heartbeat(_Message):
    """POST /v1/heartbeat, every few seconds while the office is reachable."""

    kiosk_id: Identifier
    centre_id: Identifier
    polls_state: KioskPollsState
    kiosk_clock: AwareDatetime
    software_version: ShortText
    package_hash: Sha256Hex
    backlog: Backlog
    audit_count: int = Field(ge=0, le=MAX_HEARTBEAT_COUNT)
    last_sync_at: AwareDatetime | None = None
