"""The kiosk's append-only, hash-chained, signed audit log, and its verifier.

Definitions (in ``sync/audit_entry.py``, shared with the central office, which verifies every synced segment;
all hashes SHA-256 hex, all JSON canonical, signatures by the kiosk key):

    genesis(kiosk)   = H(canonical({"audit_genesis": kiosk_id}))
    entry_hash_n     = H(canonical({"kiosk_id", "seq": n, "kind", "payload", "prev_hash": entry_hash_{n-1}}))
    entry signature  = Sign(b"sanduq/audit-entry/v1\\x00" + entry_hash_n)
    head             = (count, head_hash = entry_hash_count), signed over
                       b"sanduq/audit-head/v1\\x00" + canonical({"kiosk_id", "count", "head_hash"})

An edited entry breaks its own hash; a deleted or reordered entry breaks the next entry's ``prev_hash`` (or
leaves a gap in ``seq``); a truncated tail no longer matches the signed head, which is rewritten in the same
transaction as every append. Replacing the head by an *older* signed head (a rollback of the whole tail)
cannot be detected locally: it is detected by the central office, which holds every entry the kiosk synced
(``/v1/audit-segments``) and the count from each heartbeat, and by voters' confirmation codes.

A cast or challenge entry names no ballot (no id, code or hash: the log's order would order the kiosk's ballots,
which the office could join to the live check-ins, issue 15 point 2); the ``batch_sealed`` entry names every ballot
of its batch with its hash, sorted by ballot id, and a provisional entry names its ballot (it leaves at once, with
its identity envelope). So ``verify_database`` proves every sealed ballot is the one logged, and binds the pending
pool (ballots cast since the last batch) by its count only: a pending ballot edited before its batch is sealed is
caught by the voter's confirmation code (looked up in the record), not by this log. Entries never name a check-in
or a voter.

    python -m kiosk.audit verify <db> --kiosk-cert <pem>
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from election.canonical import canonical_json, sha256_hex
from kiosk.store.models import AuditHeadRow, AuditRow
from sync.audit_entry import (
    ENTRY_DOMAIN,
    HEAD_DOMAIN,
    entry_hash,
    entry_signing_bytes,
    genesis_hash,
    head_signing_bytes,
)
from sync.signing import BadSignature, PublicKey, Signer, load_cert_public_key, verify

__all__ = [
    "BALLOT_KINDS",
    "ENTRY_DOMAIN",
    "HEAD_DOMAIN",
    "append",
    "append_on",
    "entry_hash",
    "entry_signing_bytes",
    "genesis_hash",
    "head_signing_bytes",
    "verify_database",
]

BALLOT_KINDS = frozenset({"ballot_cast", "ballot_challenged", "ballot_provisional"})


def append(session: Session, signer: Signer, kiosk_id: str, kind: str, payload: Mapping[str, Any]) -> AuditRow:
    """Append one entry and rewrite the signed head, inside the caller's transaction."""
    head = session.get(AuditHeadRow, 1)
    entry, signed_head = _next_entry(signer, kiosk_id, kind, payload, head.count if head else 0, head_hash_of(head))
    row = AuditRow(**entry)
    session.add(row)
    if head is None:
        session.add(AuditHeadRow(id=1, **signed_head))
    else:
        head.count, head.head_hash, head.signature = (
            signed_head["count"],
            signed_head["head_hash"],
            signed_head["signature"],
        )
    return row


def append_on(connection: Connection, signer: Signer, kiosk_id: str, kind: str, payload: Mapping[str, Any]) -> None:
    """``append`` on a connection inside its transaction, as plain SQL (the ballot box's cast path, where the
    ORM's unit of work and statement building cost more than the statements themselves)."""
    head = connection.exec_driver_sql("SELECT count, head_hash FROM audit_head WHERE id = 1").one_or_none()
    count, prev = (int(head[0]), str(head[1])) if head is not None else (0, genesis_hash(kiosk_id))
    entry, signed = _next_entry(signer, kiosk_id, kind, payload, count, prev)
    connection.exec_driver_sql(
        "INSERT INTO audit_log (seq, kind, payload, prev_hash, entry_hash, signature) VALUES (?, ?, ?, ?, ?, ?)",
        (entry["seq"], kind, entry["payload"], prev, entry["entry_hash"], entry["signature"]),
    )
    values = (signed["count"], signed["head_hash"], signed["signature"])
    if head is None:
        connection.exec_driver_sql(
            "INSERT INTO audit_head (id, count, head_hash, signature) VALUES (1, ?, ?, ?)", values
        )
    else:
        connection.exec_driver_sql("UPDATE audit_head SET count = ?, head_hash = ?, signature = ? WHERE id = 1", values)


def head_hash_of(head: AuditHeadRow | None) -> str | None:
    return head.head_hash if head is not None else None


def _next_entry(
    signer: Signer, kiosk_id: str, kind: str, payload: Mapping[str, Any], count: int, prev: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The column values of entry ``count + 1`` and of the new signed head."""
    prev = prev if prev is not None else genesis_hash(kiosk_id)
    seq = count + 1
    digest = entry_hash(kiosk_id, seq, kind, payload, prev)
    entry = {
        "seq": seq,
        "kind": kind,
        "payload": canonical_json(dict(payload)).decode("utf-8"),
        "prev_hash": prev,
        "entry_hash": digest,
        "signature": signer.sign(entry_signing_bytes(digest)),
    }
    head = {"count": seq, "head_hash": digest, "signature": signer.sign(head_signing_bytes(kiosk_id, seq, digest))}
    return entry, head


def entries_after(session: Session, seq: int, limit: int) -> Sequence[AuditRow]:
    return session.scalars(select(AuditRow).where(AuditRow.seq > seq).order_by(AuditRow.seq).limit(limit)).all()


# ---- verification --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One inconsistency. ``seq`` is the audit entry it concerns (None for the head as a whole)."""

    seq: int | None
    what: str

    def __str__(self) -> str:
        return f"entry #{self.seq}: {self.what}" if self.seq is not None else self.what


@dataclass(frozen=True)
class VerifyResult:
    kiosk_id: str
    entries: int
    ballots: int
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_broken(self) -> Problem | None:
        """The problem at the lowest entry number (a head-only problem sorts last)."""
        if not self.problems:
            return None
        return min(self.problems, key=lambda p: (p.seq is None, p.seq or 0))


def _check_chain(kiosk_id: str, rows: Sequence[sqlite3.Row], key: PublicKey) -> tuple[list[Problem], str, int]:
    problems: list[Problem] = []
    prev = genesis_hash(kiosk_id)
    expected_seq = 1
    for row in rows:
        seq = int(row["seq"])
        if seq != expected_seq:
            problems.append(
                Problem(expected_seq, f"missing (deleted): the log jumps from #{expected_seq - 1} to #{seq}")
            )
        try:
            payload = json.loads(row["payload"])
        except ValueError:
            problems.append(Problem(seq, "payload is not JSON (edited)"))
            payload = None
        digest = entry_hash(kiosk_id, seq, row["kind"], payload, row["prev_hash"]) if payload is not None else ""
        if digest != row["entry_hash"]:
            problems.append(Problem(seq, "content does not match its hash (edited)"))
        if row["prev_hash"] != prev:
            problems.append(Problem(seq, "does not chain from the previous entry (deleted, inserted or reordered)"))
        try:
            verify(key, entry_signing_bytes(row["entry_hash"]), row["signature"])
        except (BadSignature, ValueError):
            problems.append(Problem(seq, "signature does not verify"))
        prev = row["entry_hash"]
        expected_seq = seq + 1
    return problems, prev, expected_seq - 1


def _check_head(kiosk_id: str, db: sqlite3.Connection, last_hash: str, last_seq: int, key: PublicKey) -> list[Problem]:
    head = db.execute("SELECT count, head_hash, signature FROM audit_head WHERE id = 1").fetchone()
    if head is None:
        return [Problem(None, "the signed head is missing")] if last_seq else []
    try:
        verify(key, head_signing_bytes(kiosk_id, head["count"], head["head_hash"]), head["signature"])
    except BadSignature:
        return [Problem(None, "the signed head's signature does not verify")]
    if head["count"] > last_seq:
        return [Problem(last_seq + 1, f"missing: the log is truncated (signed head says {head['count']} entries)")]
    if head["count"] < last_seq:
        return [Problem(head["count"] + 1, "beyond the signed head (appended without the kiosk key)")]
    if head["head_hash"] != last_hash:
        return [Problem(last_seq, "differs from the signed head's hash")]
    return []


def _logged_ballots(rows: Sequence[sqlite3.Row]) -> dict[str, tuple[int, str]]:
    """ballot id -> (seq of the entry naming it, its logged hash): batch_sealed and provisional entries."""
    logged: dict[str, tuple[int, str]] = {}
    for row in rows:
        try:
            payload = json.loads(row["payload"])
            if row["kind"] == "batch_sealed":
                for b in payload["ballots"]:
                    logged[str(b["ballot_id"])] = (int(row["seq"]), str(b["ballot_hash"]))
            elif row["kind"] == "ballot_provisional":
                logged[str(payload["ballot_id"])] = (int(row["seq"]), str(payload["ballot_hash"]))
        except (ValueError, KeyError, TypeError):
            continue  # already reported as an edited entry
    return logged


def _check_ballots(db: sqlite3.Connection, rows: Sequence[sqlite3.Row]) -> list[Problem]:
    problems: list[Problem] = []
    logged = _logged_ballots(rows)
    stored = {
        r["ballot_id"]: (bytes(r["body"]), r["disposition"], r["batch_id"])
        for r in db.execute("SELECT ballot_id, body, disposition, batch_id FROM ballots")
    }
    for ballot_id, (seq, expected) in logged.items():
        entry = stored.get(ballot_id)
        if entry is None:
            problems.append(Problem(seq, f"ballot {ballot_id} is missing from the ballots table (deleted)"))
        elif sha256_hex(entry[0]) != expected:
            problems.append(Problem(seq, f"ballot {ballot_id} does not match its logged hash (edited)"))
    for ballot_id in stored.keys() - logged.keys():
        if stored[ballot_id][2] is not None:  # in a batch (or an envelope) that does not name it
            problems.append(Problem(None, f"ballot {ballot_id} has no audit entry (inserted)"))
    for kind, disposition in (("ballot_cast", "cast"), ("ballot_challenged", "challenged")):
        entries = sum(1 for row in rows if row["kind"] == kind)
        held = sum(1 for _body, d, _batch in stored.values() if d == disposition)
        if entries != held:
            problems.append(Problem(None, f"{held} {disposition} ballots stored but {entries} logged"))
    cast = sum(1 for row in rows if row["kind"] == "ballot_cast")
    (voted,) = db.execute("SELECT count(*) FROM checkins WHERE status = 'voted'").fetchone()
    if voted != cast:
        problems.append(Problem(None, f"{voted} voted check-ins but {cast} cast ballots logged"))
    return problems


def verify_database(path: Path, key: PublicKey) -> VerifyResult:
    """Check the whole log, its signed head and every stored ballot against it. Opens read-only."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        kiosk = db.execute("SELECT kiosk_id FROM kiosk WHERE id = 1").fetchone()
        if kiosk is None:
            return VerifyResult("?", 0, 0, (Problem(None, "not an initialised kiosk database"),))
        kiosk_id = str(kiosk["kiosk_id"])
        rows = db.execute(
            "SELECT seq, kind, payload, prev_hash, entry_hash, signature FROM audit_log ORDER BY seq"
        ).fetchall()
        problems, last_hash, last_seq = _check_chain(kiosk_id, rows, key)
        problems += _check_head(kiosk_id, db, last_hash, last_seq, key)
        problems += _check_ballots(db, rows)
        (ballots,) = db.execute("SELECT count(*) FROM ballots").fetchone()
        return VerifyResult(kiosk_id, len(rows), int(ballots), tuple(problems))
    finally:
        db.close()


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m kiosk.audit")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("verify", help="verify a kiosk database's audit log and ballots")
    check.add_argument("db", type=Path)
    check.add_argument("--kiosk-cert", type=Path, required=True, help="the kiosk's certificate (PEM)")
    args = parser.parse_args(argv)
    if not args.db.exists():
        print(f"{args.db}: no such database", file=sys.stderr)
        return 2
    result = verify_database(args.db, load_cert_public_key(args.kiosk_cert))
    if result.ok:
        print(f"OK: kiosk {result.kiosk_id}, {result.entries} audit entries, {result.ballots} ballots, all consistent")
        return 0
    first = result.first_broken
    print(f"BROKEN: kiosk {result.kiosk_id}: first broken: {first}")
    for problem in sorted(result.problems, key=lambda p: (p.seq is None, p.seq or 0)):
        print(f"  {problem}")
    return 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
