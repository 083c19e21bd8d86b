"""The protocol's field types and limits: version, size bounds, identifiers, opaque JSON and aware times.

Every message model of the protocol derives from ``_Model`` (unknown fields rejected, frozen, strings
bounded); a top-level message derives from ``_Message``, which carries ``protocol_version``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Final, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo

from election.canonical import canonical_json

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
Count = Annotated[int, Field(ge=0, le=10**9, strict=True)]

# ---- bounded opaque JSON ---------------------------------------------------------------------------


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

# ---- times and the base models -----------------------------------------------------------------------


def _aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("a time must carry a UTC offset")
    return value


AwareDatetime = Annotated[dt.datetime, AfterValidator(_aware)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_max_length=16384)


class _Message(_Model):
    protocol_version: Literal[1] = PROTOCOL_VERSION
