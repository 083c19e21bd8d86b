"""The election record: a directory of JSON files that anyone can download and verify.

Layout (documented in docs/election-record.md)::

    manifest.json                       the manifest (its hash is context.json's manifest_hash)
    context.json                        n, k, joint key, commitments, H_B, H_E
    guardians/guardian-<i>.json         each guardian's commitments and Schnorr proofs
    ballots/cast/<ballot id>.json       {"kiosk", "confirmation_code", "ballot"}
    ballots/challenged/<ballot id>.json {"kiosk", "confirmation_code", "challenged": {"ballot", "seed"}}
    kiosk_chains/<kiosk id>.json        {"kiosk", "entries": [{"ballot_id", "code", "status"}]} in kiosk order
    tally/encrypted_tally.json          aggregate ciphertexts and ballot counts
    tally/shares/guardian-<i>.json      guardian i's decryption share with proofs
    tally/shares/guardian-<m>-by-<i>.json  guardian i's compensating share for missing guardian m
    results.json                        decrypted counts per contest (votes, blank, ballots, undervotes)
    pollbook_counts.json                (optional, written by the central office) check-ins per ballot style

The writer is the only code here that touches the file system; readers of single files parse with the
types' strict ``from_dict``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from election.ballot import EncryptedBallot
from election.canonical import canonical_json
from election.challenge import ChallengedBallot
from election.confirmation import ConfirmationCode
from election.context import ElectionContext
from election.decryption import PartialDecryption, PlaintextTally
from election.keyceremony import GuardianRecord
from election.manifest import Manifest
from election.tally import EncryptedTally

RECORD_FORMAT_VERSION: Final = 1
SAFE_ID: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")

ChainEntry = tuple[EncryptedBallot, ConfirmationCode, ChallengedBallot | None]


class RecordError(ValueError):
    """The record cannot be written or read (unsafe id, missing or malformed file)."""


@dataclass(frozen=True)
class ElectionRecord:
    manifest: Manifest
    context: ElectionContext
    guardians: tuple[GuardianRecord, ...]
    #: kiosk id -> its ballots in the order the kiosk encrypted them (challenged ones carry their seed)
    chains: dict[str, tuple[ChainEntry, ...]]
    tally: EncryptedTally
    shares: tuple[PartialDecryption, ...]
    result: PlaintextTally
    pollbook_counts: dict[str, int] | None = None


def pollbook_counts_to_dict(counts: dict[str, int]) -> dict[str, Any]:
    """The format of pollbook_counts.json: voters checked in per ballot style."""
    return {"format_version": 1, "ballots_per_style": dict(sorted(counts.items()))}


def _write(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(canonical_json(value) + b"\n")


def _safe(identifier: str) -> str:
    if not SAFE_ID.match(identifier):
        raise RecordError(f"{identifier!r} cannot be used as a file name in the record")
    return identifier


def write_record(out: Path, record: ElectionRecord) -> None:
    """Write ``record`` under ``out`` (which must not exist yet, so no stale file survives)."""
    if out.exists() and any(out.iterdir()):
        raise RecordError(f"{out} exists and is not empty")
    _write(out / "manifest.json", record.manifest.to_dict())
    _write(out / "context.json", record.context.to_dict())
    for guardian in record.guardians:
        _write(out / "guardians" / f"guardian-{guardian.sequence}.json", guardian.to_dict())
    for kiosk, entries in record.chains.items():
        chain = []
        for ballot, code, challenged in entries:
            name = _safe(ballot.ballot_id) + ".json"
            status = "cast" if challenged is None else "challenged"
            chain.append({"ballot_id": ballot.ballot_id, "code": code.hex(), "status": status})
            if challenged is None:
                _write(
                    out / "ballots" / "cast" / name,
                    {"kiosk": kiosk, "confirmation_code": code.hex(), "ballot": ballot.to_dict()},
                )
            else:
                _write(
                    out / "ballots" / "challenged" / name,
                    {"kiosk": kiosk, "confirmation_code": code.hex(), "challenged": challenged.to_dict()},
                )
        _write(out / "kiosk_chains" / f"{_safe(kiosk)}.json", {"kiosk": kiosk, "entries": chain})
    _write(out / "tally" / "encrypted_tally.json", record.tally.to_dict())
    for share in record.shares:
        name = (
            f"guardian-{share.guardian}.json"
            if share.missing is None
            else f"guardian-{share.missing}-by-{share.guardian}.json"
        )
        _write(out / "tally" / "shares" / name, share.to_dict())
    _write(out / "results.json", {"format_version": RECORD_FORMAT_VERSION, **record.result.to_dict()})
    if record.pollbook_counts is not None:
        _write(out / "pollbook_counts.json", pollbook_counts_to_dict(record.pollbook_counts))


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RecordError(f"missing file {path}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordError(f"{path}: not valid JSON ({exc})") from None


def read_context(root: Path) -> ElectionContext:
    return ElectionContext.from_dict(read_json(root / "context.json"))


def read_manifest(root: Path) -> Manifest:
    return Manifest.from_dict(read_json(root / "manifest.json"))


def read_cast_ballots(root: Path) -> list[EncryptedBallot]:
    return [
        EncryptedBallot.from_dict(read_json(p)["ballot"]) for p in sorted((root / "ballots" / "cast").glob("*.json"))
    ]
