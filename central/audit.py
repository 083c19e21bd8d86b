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

from central.models import AuditEntry, AuditHead
from election.canonical import json_hash

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
    """Recompute the whole chain; returns the number of entries, raises AuditChainError on the first break."""
    prev = GENESIS
    count = 0
    for row in session.scalars(select(AuditEntry).order_by(AuditEntry.seq)):
        count += 1
        if row.seq != count:
            raise AuditChainError(f"audit entry {count} is missing (found {row.seq})")
        at = row.at if row.at.tzinfo else row.at.replace(tzinfo=dt.UTC)
        expected = entry_hash(row.seq, at, row.actor, row.action, row.details, prev)
        if row.prev_hash != prev or row.entry_hash != expected:
            raise AuditChainError(f"audit entry {row.seq} ({row.action}) was altered")
        prev = row.entry_hash
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != count or head.entry_hash != prev):
        raise AuditChainError("audit log was truncated (head does not match the last entry)")
    return count
