"""The central office's append-only audit log: every privileged action, hash-chained.

Entry n's hash is SHA-256 over the canonical JSON of (seq, at, actor, action, details, prev_hash), with
prev_hash the hash of entry n-1 (64 zeros for the first). Appends serialise on the single ``audit_head``
row (SELECT ... FOR UPDATE), so the chain has no forks under concurrency. On PostgreSQL a trigger refuses
UPDATE and DELETE on ``audit_log``; ``verify_chain`` recomputes every hash so an edit made around the trigger
is still detected. Never put a vote, a key, a PIN or a voter's civil number with a time in ``details``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.models import AuditEntry, AuditHead, SignedAuditHead
from election.canonical import json_hash
from election.verify import office_audit

GENESIS = "0" * 64


class AuditChainError(Exception):
    """The stored audit log does not chain: the entry named in the message was altered or removed."""


def entry_hash(seq: int, at: dt.datetime, actor: str, action: str, details: dict[str, Any], prev_hash: str) -> str:
    return json_hash(
        {
            "seq": seq,
            "at": at.astimezone(dt.UTC).isoformat(),
            "actor": actor,
            "action": action,
            "details": details,
            "prev": prev_hash,
        }
    )


def append(session: Session, *, at: dt.datetime, actor: str, action: str, details: dict[str, Any]) -> AuditEntry:
    """Append one entry inside the caller's transaction (it commits or rolls back with the action)."""
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, seq=0, entry_hash=GENESIS)
        session.add(head)
        session.flush()
    seq = head.seq + 1
    at = at.astimezone(dt.UTC).replace(microsecond=(at.microsecond // 1000) * 1000)
    digest = entry_hash(seq, at, actor, action, details, head.entry_hash)
    entry = AuditEntry(
        seq=seq, at=at, actor=actor, action=action, details=details, prev_hash=head.entry_hash, entry_hash=digest
    )
    session.add(entry)
    head.seq, head.entry_hash = seq, digest
    session.flush()
    return entry


@dataclass(frozen=True)
class AuditView:
    seq: int
    at: str
    actor: str
    action: str
    details: dict[str, Any]
    entry_hash: str


def entries(session: Session, *, after: int = 0, limit: int = 200) -> list[AuditView]:
    rows = session.scalars(select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq).limit(limit))
    return [AuditView(r.seq, r.at.isoformat(), r.actor, r.action, r.details, r.entry_hash) for r in rows]


def verify_chain(session: Session) -> int:
    """Recompute the whole chain; returns the number of entries, raises AuditChainError on the first break. Every
    head the office signed (``office_audit_heads``) must name an entry of the chain with its hash: a log rewritten
    and re-hashed from some entry on (around the trigger, by the tables' owner) no longer matches the heads
    published before."""
    prev = GENESIS
    count = 0
    hashes: dict[int, str] = {}
    for row in session.scalars(select(AuditEntry).order_by(AuditEntry.seq)):
        count += 1
        if row.seq != count:
            raise AuditChainError(f"audit entry {count} is missing (found {row.seq})")
        at = row.at if row.at.tzinfo else row.at.replace(tzinfo=dt.UTC)
        expected = entry_hash(row.seq, at, row.actor, row.action, row.details, prev)
        if row.prev_hash != prev or row.entry_hash != expected:
            raise AuditChainError(f"audit entry {row.seq} ({row.action}) was altered")
        prev = row.entry_hash
        hashes[row.seq] = row.entry_hash
    for signed in session.scalars(select(SignedAuditHead).order_by(SignedAuditHead.seq)):
        if signed.seq and hashes.get(signed.seq) != signed.statement.get("entry_hash"):
            raise AuditChainError(
                f"audit entry {signed.seq} is not the one the office signed at phase {signed.statement.get('phase')}"
                " (the log was rewritten after that head was published)"
            )
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != count or head.entry_hash != prev):
        raise AuditChainError("audit log was truncated (head does not match the last entry)")
    return count


# ---- the audit chain head, signed by the office at each phase transition --------------------------------------

# One definition with the verifier that checks them: the office signs ``HEAD_SIGNING_PREFIX +
# canonical_json(statement)`` (docs/election-record.md, "office").
HEAD_FORMAT = office_audit.HEAD_FORMAT
HEAD_SIGNING_PREFIX = office_audit.SIGNING_PREFIX


class OfficeSigner:
    """The office's signing key (Ed25519, or ECDSA P-256 with SHA-256, DER signature) and its certificate (PEM),
    published in the record so an observer checks every signed head; see docs/central.md for what binds it."""

    def __init__(self, key: Any, certificate_pem: str) -> None:
        from cryptography.hazmat.primitives.asymmetric import ec, ed25519

        if not isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
            raise ValueError("the office signing key must be Ed25519 or ECDSA (P-256)")
        self._key = key
        self.certificate_pem = certificate_pem

    def sign(self, data: bytes) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        if isinstance(self._key, ec.EllipticCurvePrivateKey):
            return self._key.sign(data, ec.ECDSA(hashes.SHA256()))
        signature: bytes = self._key.sign(data)
        return signature


def head_statement(
    session: Session, *, election_id: str, manifest_hash: str, phase: str, tally_hash: str | None
) -> dict[str, Any]:
    """The current head of the office's audit chain as a statement to sign (read inside the caller's transaction,
    after the transition's own entry was appended: the head names it)."""
    head = session.get(AuditHead, 1)
    seq, digest = (head.seq, head.entry_hash) if head is not None else (0, GENESIS)
    entry = session.get(AuditEntry, seq) if seq else None
    at = entry.at if entry is not None else dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
    return {
        "format": HEAD_FORMAT,
        "election_id": election_id,
        "manifest_hash": manifest_hash,
        "seq": seq,
        "entry_hash": digest,
        "at": at.astimezone(dt.UTC).isoformat(),
        "phase": phase,
        "tally_hash": tally_hash,
    }


def sign_head(session: Session, signer: OfficeSigner | None, statement: dict[str, Any]) -> SignedAuditHead:
    """Store the statement with the office's signature (base64; empty when the office has no signing key, which
    the verifier reports as a failure)."""
    import base64

    from election.canonical import canonical_json

    signature = b"" if signer is None else signer.sign(HEAD_SIGNING_PREFIX + canonical_json(statement))
    row = SignedAuditHead(seq=statement["seq"], statement=statement, signature=base64.b64encode(signature).decode())
    session.add(row)
    session.flush()
    return row


def signed_heads(session: Session) -> list[dict[str, Any]]:
    """Every signed head, in order: ``[{"statement": ..., "signature": base64}]`` (``office/audit_heads.json``)."""
    rows = session.scalars(select(SignedAuditHead).order_by(SignedAuditHead.seq))
    return [{"statement": r.statement, "signature": r.signature} for r in rows]
