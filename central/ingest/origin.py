"""Where a kiosk submission comes from, and what the office keeps of one it refuses: the kiosk's enrolled
certificate, its signature over the submission's canonical bytes (``WireForms``), the refusal record (a row of
``rejected_submissions`` and an audit entry, in a transaction of its own) and a batch's arrival kept to the minute.
Used for batches (``central.ingest.batch``) and provisional envelopes (``central.provisional``)."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from functools import lru_cache

from cryptography import x509
from sqlalchemy import select
from sqlalchemy.orm import Session

from central import audit
from central.auth import AuthError, decode_b64, verify_signature
from central.db import Database
from central.models import Kiosk, RejectedSubmission
from sync.protocol import ErrorCode


def arrival_minute(now: dt.datetime) -> dt.datetime:
    """A batch's arrival as the office keeps it: to the minute (issue 15, point 4; migration 0008). Operations need
    no more, and a finer time would date each batch against the live check-ins (docs/sync-protocol.md, "What an
    office that records its traffic can still link")."""
    return now.replace(second=0, microsecond=0)


class IngestRefused(Exception):
    """The whole submission is refused; ``code`` is the protocol error code, the message the detail."""

    def __init__(self, code: ErrorCode, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class WireForms:
    """The two canonical byte strings of a signed submission: ``body`` (= ``sync.protocol.to_wire``, hashed for
    idempotency) and ``signed`` (= ``sync.protocol.signing_bytes``, what the kiosk signed)."""

    body: bytes
    signed: bytes


@lru_cache(maxsize=256)
def _certificate(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


def kiosk_certificate(session: Session, kiosk_id: str) -> x509.Certificate:
    pem = session.scalar(select(Kiosk.public_key_pem).where(Kiosk.kiosk_id == kiosk_id))
    if pem is None:
        raise IngestRefused(ErrorCode.UNKNOWN_KIOSK, f"kiosk {kiosk_id!r} is not enrolled")
    return _certificate(pem)


def refuse(
    db: Database, *, kind: str, kiosk_id: str | None, item_id: str | None, reason: str, body: bytes, now: dt.datetime
) -> None:
    """Keep a refused submission and log it (its own transaction: the refusal must survive)."""
    digest = hashlib.sha256(body).hexdigest()
    with db.transaction() as s:
        s.add(
            RejectedSubmission(
                kind=kind, kiosk_id=kiosk_id, item_id=item_id, reason=reason, body_sha256=digest, received_at=now
            )
        )
        audit.append(
            s,
            at=now,
            actor=f"kiosk:{kiosk_id}" if kiosk_id else "unknown",
            action=f"{kind}.refused",
            details={"id": item_id, "reason": reason, "body_sha256": digest},
        )


def signature_refusal(cert: x509.Certificate, sig: str, signed: bytes) -> IngestRefused | None:
    try:
        verify_signature(cert, decode_b64(sig), signed)
    except AuthError as exc:
        return IngestRefused(ErrorCode.BAD_SIGNATURE, f"kiosk signature: {exc}")
    return None


def check_origin(
    db: Database, kind: str, kiosk_id: str, item_id: str, signed: bytes, sig: str, body: bytes, now: dt.datetime
) -> None:
    with db.transaction() as s:
        try:
            cert = kiosk_certificate(s, kiosk_id)
        except IngestRefused as exc:
            refusal: IngestRefused | None = exc
        else:
            refusal = signature_refusal(cert, sig, signed)
    if refusal is not None:
        refuse(db, kind=kind, kiosk_id=kiosk_id, item_id=item_id, reason=refusal.detail, body=body, now=now)
        raise refusal
