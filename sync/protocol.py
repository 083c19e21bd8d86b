"""The kiosk <-> central office wire protocol, version 1: one definition used by both ends.

Every request and response body is a pydantic model below; unknown fields are rejected, strings and
lists are bounded, and each top-level message carries ``protocol_version``. ``parse_message`` turns raw
bytes (or a decoded object) into a model or raises exactly one typed error (``UnsupportedVersion`` or
``MalformedMessage``, both ``ProtocolError``). The HTTP paths are in ``ENDPOINTS``; the prose (dedup
rules, lock semantics, secrecy) is in docs/sync-protocol.md, and ``python -m sync.protocol schema``
writes the JSON Schema to docs/sync-protocol.schema.json.

Secrecy rule: nothing that travels with a voter (check-in, voted mark, release) carries a ballot id,
a confirmation code or a precise time, and nothing that travels with a ballot carries a voter, a
check-in token or a cast time.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Final, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic.json_schema import models_json_schema
from pydantic_core import InitErrorDetails

from election.canonical import canonical_json
from election.chain_statement import ChainStatement, SignedStatement, StatementKind

PROTOCOL_VERSION: Final = 1
MAX_BODY_BYTES: Final = 8 * 1024 * 1024
MAX_BATCH_BALLOTS: Final = 500
MAX_ENCRYPTED_BALLOT_BYTES: Final = 256 * 1024
MAX_AUDIT_ENTRIES: Final = 1000
MAX_AUDIT_PAYLOAD_BYTES: Final = 16 * 1024

# ---- identifiers ---------------------------------------------------------------------------------

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
"""Kiosk, centre, ballot style and election ids (manifest ids)."""
CivilNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{4,12}$")]
IdempotencyKey = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]
"""128 random bits, hex (``secrets.token_hex(16)``): batch ids, provisional envelope ids."""
CheckinToken = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{22,64}$")]
"""Opaque, random, issued by the central office (``secrets.token_urlsafe(24)`` or similar)."""
BallotId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$")]
ConfirmationCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/=_-]{8,128}$")]
Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Base64Signature = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]{40,200}={0,2}$")]
"""Base64 of a DER ECDSA P-256/SHA-256 signature (or a 64-byte Ed25519 signature)."""
SealedEnvelope = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]{64,8192}={0,2}$")]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class _SizeMeasuredByCaller:
    """Validation context of ``validate_batch`` only: the opaque ballots' bound is checked by that function on the
    canonical forms it computes anyway, so the field validator does not serialise every ballot a second time."""


_SIZE_MEASURED_BY_CALLER: Final = _SizeMeasuredByCaller()


def _bound_problem(value: Any, limit: int) -> tuple[bytes | None, str | None]:
    """(canonical form, None) or (None, why it is refused): not canonicalisable, or larger than ``limit``."""
    try:
        form = canonical_json(value)
    except (TypeError, ValueError) as exc:
        return None, f"not canonical JSON ({exc})"
    if len(form) > limit:
        return None, f"object is {len(form)} bytes, the limit is {limit}"
    return form, None


def _bounded_json(limit: int) -> AfterValidator:
    def check(value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        if info.context is _SIZE_MEASURED_BY_CALLER:  # validate_batch checks the same bound right after
            return value
        _, problem = _bound_problem(value, limit)
        if problem is not None:
            raise ValueError(problem)
        return value

    return AfterValidator(check)


OpaqueBallot = Annotated[dict[str, Any], _bounded_json(MAX_ENCRYPTED_BALLOT_BYTES)]
"""``EncryptedBallot.to_dict()`` of the election core; the protocol never looks inside."""
AuditPayload = Annotated[dict[str, Any], _bounded_json(MAX_AUDIT_PAYLOAD_BYTES)]


def _aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("a time must carry a UTC offset")
    return value


AwareDatetime = Annotated[dt.datetime, AfterValidator(_aware)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_max_length=16384)


class _Message(_Model):
    protocol_version: Literal[1] = PROTOCOL_VERSION


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


class CheckinRequest(_Message):
    """POST /v1/checkins: is this voter eligible here, and if so lock them to this kiosk."""

    kiosk_id: Identifier
    centre_id: Identifier
    civil_number: CivilNumber
    idempotency_key: IdempotencyKey


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


class VotedMark(_Message):
    """POST /v1/checkins/{token}/voted. Carries NO ballot id and no time: see the secrecy rule."""

    kiosk_id: Identifier


class VotedMarkStatus(enum.Enum):
    RECORDED = "recorded"
    ALREADY_RECORDED = "already_recorded"


class VotedMarkAck(_Message):
    status: VotedMarkStatus


class ReleaseReason(enum.Enum):
    CARD_REMOVED = "card_removed"
    VOTER_LEFT = "voter_left"
    TIMED_OUT = "timed_out"
    STAFF_CANCELLED = "staff_cancelled"


class CheckinRelease(_Message):
    """POST /v1/checkins/{token}/release: the voter left without casting; the lock is freed."""

    kiosk_id: Identifier
    reason: ReleaseReason


class ReleaseAck(_Message):
    released: bool
    """False when the token was already released or voted (a retried release is harmless)."""


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


Count = Annotated[int, Field(ge=0, le=10**9, strict=True)]


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


class ProvisionalAck(_Message):
    envelope_id: IdempotencyKey
    duplicate: bool


# ---- chain close ---------------------------------------------------------------------------------------


class ChainCloseSubmission(_Message):
    """POST /v1/chain-close (v1.2): the kiosk's signed chain close, queued after its final batch. Idempotent: the
    same close again is a duplicate; a higher ``close_seq`` supersedes; a lower one, or another close with the same
    ``close_seq``, is ``409 conflict``."""

    kiosk_id: Identifier
    close: SignedChainClose


class ChainCloseAck(_Message):
    close_seq: int = Field(ge=1)
    duplicate: bool
    """True when the office already held this very close (a retry)."""


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


class AuditSegmentAck(_Message):
    stored_through: int = Field(ge=0)
    """The highest seq the office now holds contiguously from 1 for this kiosk."""


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


# ---- endpoints -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    request: type[_Message]
    response: type[_Message]


ENDPOINTS: Final[Mapping[str, Endpoint]] = {
    "checkin": Endpoint("POST", "/v1/checkins", CheckinRequest, CheckinResponse),
    "voted": Endpoint("POST", "/v1/checkins/{token}/voted", VotedMark, VotedMarkAck),
    "release": Endpoint("POST", "/v1/checkins/{token}/release", CheckinRelease, ReleaseAck),
    "batch": Endpoint("POST", "/v1/batches", BallotBatch, BatchReceipt),
    "provisional": Endpoint("POST", "/v1/provisional", ProvisionalSubmission, ProvisionalAck),
    "audit_segment": Endpoint("POST", "/v1/audit-segments", AuditSegment, AuditSegmentAck),
    "chain_close": Endpoint("POST", "/v1/chain-close", ChainCloseSubmission, ChainCloseAck),
    "heartbeat": Endpoint("POST", "/v1/heartbeat", Heartbeat, HeartbeatAck),
}

# ---- parsing and signing bytes ------------------------------------------------------------------------


class ProtocolError(ValueError):
    """A message that cannot be accepted; ``code`` is the ErrorCode to answer with."""

    code = ErrorCode.MALFORMED


class UnsupportedVersion(ProtocolError):
    code = ErrorCode.UNSUPPORTED_VERSION


class MalformedMessage(ProtocolError):
    code = ErrorCode.MALFORMED


M = TypeVar("M", bound=_Model)


def parse_message(model: type[M], raw: bytes | str | Mapping[str, Any]) -> M:
    """Parse one message; raises UnsupportedVersion or MalformedMessage naming the first problem."""
    if isinstance(raw, bytes | str):
        if len(raw) > MAX_BODY_BYTES:
            raise MalformedMessage(f"body is larger than {MAX_BODY_BYTES} bytes")
        try:
            data: Any = json.loads(raw)
        except ValueError as exc:
            raise MalformedMessage(f"not JSON: {exc}") from None
    else:
        data = raw
    if not isinstance(data, Mapping):
        raise MalformedMessage(f"{model.__name__}: expected a JSON object")
    if issubclass(model, _Message) and "protocol_version" in data and data["protocol_version"] != PROTOCOL_VERSION:
        raise UnsupportedVersion(
            f"protocol_version {data['protocol_version']!r} is not supported (this end speaks {PROTOCOL_VERSION})"
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or model.__name__
        raise MalformedMessage(f"{model.__name__}.{where}: {first['msg']}") from None


def to_wire(message: _Model) -> bytes:
    """The canonical JSON body of a message (what the kiosk sends)."""
    return canonical_json(message.model_dump(mode="json"))


def signing_bytes(message: BallotBatch | ProvisionalSubmission) -> bytes:
    """The bytes the kiosk signs: canonical JSON of the message without its ``signature`` field."""
    return canonical_json(message.model_dump(mode="json", exclude={"signature"}))


_FIELDS_BEFORE_SIGNATURE: Final = all(f < "signature" for f in BallotBatch.model_fields if f != "signature")
assert _FIELDS_BEFORE_SIGNATURE, "validate_batch appends the signature last"


@dataclass(frozen=True)
class ValidatedBatch:
    """A ``BallotBatch`` and its two canonical forms, taken from the same decoded JSON."""

    batch: BallotBatch
    body: bytes
    """= ``to_wire(batch)`` (the idempotency hash is taken over it)."""
    signed: bytes
    """= ``signing_bytes(batch)`` (what the kiosk signed)."""


def _splice(obj: Mapping[str, Any], key: str, form: bytes) -> bytes:
    """``canonical_json({**obj, key: value})`` given ``form`` = ``canonical_json(value)`` (``key`` not in ``obj``):
    sorted keys, so ``key: form`` goes between the members that sort before it and those after."""
    before = canonical_json({k: v for k, v in obj.items() if k < key})  # b"{}" when none: b"{" is kept
    after = canonical_json({k: v for k, v in obj.items() if k > key})
    head = before[:-1] + (b"," if len(before) > 2 else b"")
    tail = b"," + after[1:] if len(after) > 2 else b"}"
    return head + canonical_json(key) + b":" + form + tail


def validate_batch(data: Any) -> ValidatedBatch:
    """Validate decoded JSON (``json.loads`` of a POST /v1/batches body) as ``BallotBatch`` and compute its canonical
    forms from the same data, each opaque ballot serialised ONCE; raises ``pydantic.ValidationError`` like
    ``BallotBatch.model_validate(data, from_attributes=True)`` (what FastAPI runs for a ``BallotBatch`` body).

    The ``OpaqueBallot`` bound (canonical JSON, at most MAX_ENCRYPTED_BALLOT_BYTES) still holds for every ballot:
    validation skips it only under this function's private context, and the canonical form of each ballot's
    ``encrypted_ballot`` is then computed here from the value that validated (``dict[str, Any]`` keeps the decoded
    values as they are) and refused exactly as the field validator would refuse it (same location, same message).
    That form is the one spliced into the signed bytes, so nothing is measured on other bytes than those hashed and
    signed. The forms are byte-equal to ``to_wire``/``signing_bytes`` of the model (tests/sync/test_validate_batch.py):
    validation keeps every value as decoded (strings, enum values, opaque ballots) and forbids unknown fields,
    ``protocol_version`` is set as the model's default would be, and splicing canonical parts at their sorted place
    is what ``canonical_json`` does for the whole. One difference in reporting only: a batch with an oversize ballot AND
    another error is answered with the other error (the size is measured once the rest has validated)."""
    if not isinstance(data, dict):  # not a JSON object: the ordinary validation names the problem
        batch = BallotBatch.model_validate(data, from_attributes=True)
        return ValidatedBatch(batch, to_wire(batch), signing_bytes(batch))
    batch = BallotBatch.model_validate(data, from_attributes=True, context=_SIZE_MEASURED_BY_CALLER)
    pieces = []
    for n, ballot in enumerate(data["ballots"]):  # a list of objects with exactly BatchBallot's fields: validated
        opaque = ballot["encrypted_ballot"]
        form, problem = _bound_problem(opaque, MAX_ENCRYPTED_BALLOT_BYTES)
        if form is None:
            raise ValidationError.from_exception_data(
                BallotBatch.__name__,
                [
                    InitErrorDetails(
                        type="value_error",
                        loc=("ballots", n, "encrypted_ballot"),
                        input=opaque,
                        ctx={"error": ValueError(problem)},
                    )
                ],
            )
        pieces.append(_splice({k: v for k, v in ballot.items() if k != "encrypted_ballot"}, "encrypted_ballot", form))
    top = {k: v for k, v in data.items() if k not in ("ballots", "signature")}
    top["protocol_version"] = PROTOCOL_VERSION
    signed = _splice(top, "ballots", b"[" + b",".join(pieces) + b"]")
    body = signed[:-1] + b',"signature":' + canonical_json(data["signature"]) + b"}"  # it sorts after every field
    return ValidatedBatch(batch, body, signed)


def ballot_hash(ballot: BatchBallot) -> str:
    """SHA-256 hex of the canonical JSON of one BatchBallot (used in audit entries and envelopes)."""
    return hashlib.sha256(canonical_json(ballot.model_dump(mode="json"))).hexdigest()


ALL_MODELS: Final[tuple[type[_Model], ...]] = (
    CheckinRequest,
    CheckinResponse,
    VotedMark,
    VotedMarkAck,
    CheckinRelease,
    ReleaseAck,
    BallotBatch,
    BatchReceipt,
    IdentityEnvelopeContent,
    ProvisionalSubmission,
    ProvisionalAck,
    AuditSegment,
    AuditSegmentAck,
    ChainCloseSubmission,
    ChainCloseAck,
    Heartbeat,
    HeartbeatAck,
    ErrorBody,
)


def json_schema() -> dict[str, Any]:
    """One JSON Schema document with every message under ``$defs`` and the endpoint table."""
    _, schema = models_json_schema(
        [(m, "validation") for m in ALL_MODELS],
        title=f"Sanduq kiosk <-> central office sync protocol v{PROTOCOL_VERSION}",
    )
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["x-endpoints"] = {
        name: {"method": e.method, "path": e.path, "request": e.request.__name__, "response": e.response.__name__}
        for name, e in ENDPOINTS.items()
    }
    return schema


def main(argv: list[str]) -> int:
    if len(argv) >= 1 and argv[0] == "schema":
        out = Path(argv[2]) if len(argv) == 3 and argv[1] == "--out" else Path("docs/sync-protocol.schema.json")
        out.write_text(json.dumps(json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {out}")
        return 0
    print("usage: python -m sync.protocol schema [--out PATH]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
