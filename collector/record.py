"""At close: which submission counts per credential, and the record part ``remote/`` (docs/remote-voting.md,
section 7) with the collector's signed statement over it. Nothing here carries an identity: credentials, ballot ids
and hashes, signatures, counts."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from collector.db import Database
from collector.models import CredentialRow, SubmissionRow
from election.canonical import canonical_json

FORMAT_VERSION = 1
#: the collector's signed statement over the other files of the part (docs/remote-voting.md, section 7)
STATEMENT = "remote/statement.json"
STATEMENT_KIND = "remote-record"
#: what the collector's kiosk key signs is ``STATEMENT_LABEL || 0x00 || canonical_json(statement)``: a label no
#: other statement of that key (chain heads and closes, batches) starts with
STATEMENT_LABEL = b"sanduq/remote-record/v1"


@dataclass(frozen=True)
class CountedBallot:
    credential: str
    style_id: str
    ballot_id: str
    ballot_hash: str
    ballot: dict[str, Any]


@dataclass(frozen=True)
class RemotePart:
    files: dict[str, dict[str, Any]]  # path under the record -> JSON content
    counted: tuple[CountedBallot, ...]


def remote_part(db: Database, collector_id: str) -> RemotePart:
    """Per credential not voided, the submission with the highest sequence counts; the others are superseded;
    every submission of a voided credential is listed as voided."""
    with db.transaction() as s:
        credentials = s.scalars(select(CredentialRow).order_by(CredentialRow.credential)).all()
        submissions = s.scalars(select(SubmissionRow).order_by(SubmissionRow.credential, SubmissionRow.sequence)).all()
    voided = {c.credential for c in credentials if c.voided_at is not None}
    style = {c.credential: c.style_id for c in credentials}
    last: dict[str, int] = {}
    for sub in submissions:
        last[sub.credential] = max(last.get(sub.credential, 0), sub.sequence)
    listed: list[dict[str, Any]] = []
    counted: list[CountedBallot] = []
    for sub in submissions:
        if sub.credential in voided:
            status = "voided"
        elif sub.sequence == last[sub.credential]:
            status = "counted"
            counted.append(
                CountedBallot(
                    sub.credential, style[sub.credential], sub.ballot_id, sub.ballot_hash, json.loads(sub.ballot_json)
                )
            )
        else:
            status = "superseded"
        listed.append(
            {
                "credential": sub.credential,
                "submission_id": sub.submission_id,
                "sequence": sub.sequence,
                "ballot_id": sub.ballot_id,
                "ballot_hash": sub.ballot_hash,
                "signature": sub.signature,
                "status": status,
            }
        )
    files: dict[str, dict[str, Any]] = {
        "remote/credentials.json": {
            "format_version": FORMAT_VERSION,
            "collector_id": collector_id,
            "credentials": [{"credential": c.credential, "style_id": c.style_id} for c in credentials],
        },
        "remote/voided.json": {"format_version": FORMAT_VERSION, "voided": sorted(voided)},
        "remote/submissions.json": {"format_version": FORMAT_VERSION, "submissions": listed},
        "remote/counts.json": {
            "format_version": FORMAT_VERSION,
            "credentials": len(credentials),
            "voided": len(voided),
            "submissions": len(listed),
            "counted": len(counted),
            "superseded": sum(1 for x in listed if x["status"] == "superseded"),
        },
    }
    return RemotePart(files, tuple(counted))


def write_remote_part(part: RemotePart, record_dir: Path) -> None:
    for relative, content in part.files.items():
        path = record_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(canonical_json(content))


def signed_part(
    part: RemotePart,
    *,
    election_id: str,
    collector_id: str,
    genesis: str,
    root: str,
    sign: Callable[[bytes], str],
) -> RemotePart:
    """``part`` with ``remote/statement.json``: the collector's statement naming the SHA-256 of each file's bytes as
    ``write_remote_part`` writes them (canonical JSON), the counts, and its batch chain (``genesis`` and the
    ``root`` its chain close ends at, 64 hex each), signed by ``sign`` (the enrolled kiosk key: base64 of DER ECDSA
    P-256/SHA-256 or Ed25519). Without it the office, which publishes the record, could drop a superseded
    submission or a whole credential and recompute ``counts.json`` unseen."""
    lists = {path: content for path, content in part.files.items() if path != STATEMENT}
    counts = lists["remote/counts.json"]
    statement = {
        "statement": STATEMENT_KIND,
        "format_version": FORMAT_VERSION,
        "election_id": election_id,
        "collector_id": collector_id,
        "genesis": genesis,
        "root": root,
        "files": {
            path.removeprefix("remote/"): hashlib.sha256(canonical_json(content)).hexdigest()
            for path, content in lists.items()
        },
        "counts": {name: value for name, value in counts.items() if name != "format_version"},
    }
    signature = sign(STATEMENT_LABEL + b"\x00" + canonical_json(statement))
    return RemotePart({**lists, STATEMENT: {**statement, "signature": signature}}, part.counted)
