"""The kiosk audit log's hash and signature definitions: one definition for the kiosk that writes the log
(``kiosk/audit.py``) and the central office that verifies each synced segment (``POST /v1/audit-segments``).

All hashes are SHA-256 hex, all JSON canonical (``election.canonical``), signatures by the kiosk key
(``sync.signing``: ECDSA P-256/SHA-256 DER or Ed25519, base64)::

    genesis(kiosk)   = H(canonical({"audit_genesis": kiosk_id}))
    entry_hash_n     = H(canonical({"kiosk_id", "seq": n, "kind", "payload", "prev_hash": entry_hash_{n-1}}))
                       (entry_hash_0 = genesis(kiosk))
    entry signature  = Sign(b"sanduq/audit-entry/v1\\x00" + bytes.fromhex(entry_hash_n))
    head             = (count, head_hash = entry_hash_count), signed over
                       b"sanduq/audit-head/v1\\x00" + canonical({"kiosk_id", "count", "head_hash"})
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from election.canonical import canonical_json, json_hash
from sync.signing import BadSignature, PublicKey, verify

ENTRY_DOMAIN: Final = b"sanduq/audit-entry/v1\x00"
HEAD_DOMAIN: Final = b"sanduq/audit-head/v1\x00"


def genesis_hash(kiosk_id: str) -> str:
    return json_hash({"audit_genesis": kiosk_id})


def entry_hash(kiosk_id: str, seq: int, kind: str, payload: Mapping[str, Any], prev_hash: str) -> str:
    return json_hash({"kiosk_id": kiosk_id, "seq": seq, "kind": kind, "payload": payload, "prev_hash": prev_hash})


def head_signing_bytes(kiosk_id: str, count: int, head_hash: str) -> bytes:
    return HEAD_DOMAIN + canonical_json({"kiosk_id": kiosk_id, "count": count, "head_hash": head_hash})


def entry_signing_bytes(hash_hex: str) -> bytes:
    return ENTRY_DOMAIN + bytes.fromhex(hash_hex)


class EntryRefused(ValueError):
    """An audit entry (or the signed head) of a segment does not verify; the message names it and why."""


class EntrySignatureRefused(EntryRefused):
    """An entry's (or the head's) kiosk signature does not verify."""


@dataclass(frozen=True)
class EntryFields:
    """What the verifier reads of one entry (``sync.protocol.AuditEntryWire`` has these fields)."""

    seq: int
    kind: str
    payload: Mapping[str, Any]
    prev_hash: str
    entry_hash: str
    signature: str


def verify_segment(
    kiosk_id: str,
    key: PublicKey,
    entries: Sequence[EntryFields],
    previous_hash: str | None,
    head: tuple[int, str, str],
) -> None:
    """Check consecutive entries: each one's hash recomputes from its content and ``prev_hash``, each ``prev_hash``
    is the entry before's hash (``previous_hash`` for the first: the hash of entry ``seq - 1`` as held, or
    ``genesis(kiosk)`` for seq 1; None when that entry is not held, so only the links inside the segment are
    checked), each signature verifies, and the signed head ``(count, head_hash, signature)`` verifies (and matches
    the last entry when it is the last). Raises ``EntryRefused`` naming the first entry that fails."""
    prev = genesis_hash(kiosk_id) if entries and entries[0].seq == 1 else previous_hash
    for e in entries:
        if prev is not None and e.prev_hash != prev:
            raise EntryRefused(f"audit entry {e.seq}: does not chain from entry {e.seq - 1} (prev_hash differs)")
        if entry_hash(kiosk_id, e.seq, e.kind, e.payload, e.prev_hash) != e.entry_hash:
            raise EntryRefused(f"audit entry {e.seq}: its content does not match its entry_hash")
        try:
            verify(key, entry_signing_bytes(e.entry_hash), e.signature)
        except BadSignature:
            raise EntrySignatureRefused(f"audit entry {e.seq}: the kiosk signature does not verify") from None
        prev = e.entry_hash
    count, head_hash, signature = head
    try:
        verify(key, head_signing_bytes(kiosk_id, count, head_hash), signature)
    except BadSignature:
        raise EntrySignatureRefused("the audit head's kiosk signature does not verify") from None
    if entries and count == entries[-1].seq and head_hash != entries[-1].entry_hash:
        raise EntryRefused(f"the signed audit head (count {count}) does not end at entry {count}'s hash")
