"""Messages from and to bytes: ``parse_message`` (one typed error for any bad body), the canonical wire body
(``to_wire``), the bytes the kiosk signs (``signing_bytes``), the office's one-pass batch validation
(``validate_batch``) and the ballot hash that binds an identity envelope to its ballot."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from pydantic import ValidationError
from pydantic_core import InitErrorDetails

from election.canonical import canonical_json
from sync.protocol.fields import (
    _SIZE_MEASURED_BY_CALLER,
    MAX_BODY_BYTES,
    MAX_ENCRYPTED_BALLOT_BYTES,
    PROTOCOL_VERSION,
    _bound_problem,
    _Message,
    _Model,
)
from sync.protocol.kiosk_messages import BallotBatch, BatchBallot, ProvisionalSubmission
from sync.protocol.office_answers import ErrorCode


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
