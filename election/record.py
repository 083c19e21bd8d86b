"""The election record: a directory of JSON files that anyone can download and verify.

Layout (documented in docs/election-record.md)::

    manifest.json                       the manifest (its hash is context.json's manifest_hash)
    context.json                        n, k, joint key, commitments, H_B, H_E
    guardians/guardian-<i>.json         each guardian's commitments and Schnorr proofs
    ballots/cast/<ballot id>.json       {"kiosk", "confirmation_code", "ballot"}
    ballots/challenged/<ballot id>.json {"kiosk", "confirmation_code", "challenged": {"ballot", "seed"}}
    kiosk_chains/<kiosk id>.json        {"format_version": 2, "kiosk", "batches": [{"previous_root", "root",
                                        "links": [{"ballot_id", "code", "status"}]}]}: the kiosk's batch chain in
                                        order, each batch's links sorted by code; a withheld link (in a batch, not
                                        counted) is {"status": "withheld", "ballot_id", "code", "ballot_hash",
                                        "reason"}
    kiosks/<kiosk id>.json              {"format_version", "kiosk", "certificate_pem", "close", "last_head"}: the
                                        kiosk's enrolled certificate, its signed chain close (or null) and the
                                        last signed chain head the office received (or null)
    tally/encrypted_tally.json          aggregate ciphertexts and ballot counts
    tally/shares/guardian-<i>.json      guardian i's decryption share with proofs
    tally/shares/guardian-<m>-by-<i>.json  guardian i's compensating share for missing guardian m
    results.json                        decrypted counts per contest (votes, blank, ballots, undervotes)
    pollbook_counts.json                (optional, written by the central office) check-ins per ballot style

The writer is the only code here that touches the file system; readers of single files parse with the
types' strict ``from_dict``.
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from election.ballot import EncryptedBallot
from election.benaloh import ChallengedBallot
from election.canonical import canonical_json
from election.chain_statement import SignedStatement, StatementError, StatementKind
from election.confirmation import CODE_BYTES, ConfirmationCode, batch_root, code_digest, genesis_code
from election.context import ElectionContext
from election.decryption import PartialDecryption, PlaintextTally
from election.keyceremony import GuardianRecord
from election.manifest import Manifest
from election.tally import EncryptedTally

RECORD_FORMAT_VERSION: Final = 1
#: the format of ``kiosk_chains/<kiosk>.json`` (2: the batch chain of issue 15 point 2; 1 chained every ballot)
CHAIN_FORMAT_VERSION: Final = 2
SAFE_ID: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class RecordError(ValueError):
    """The record cannot be written or read (unsafe id, missing or malformed file)."""


class WithheldReason(enum.Enum):
    """Why a link of a kiosk's chain is published without its ballot (a category, never free text: a committee's
    wording may name a voter)."""

    #: a provisional ballot the committee did not count (the voter had voted elsewhere, ...) or that failed its check
    PROVISIONAL_NOT_COUNTED = "provisional-not-counted"
    #: a ballot flagged at ingest that the committee decided not to count
    FLAGGED_NOT_COUNTED = "flagged-not-counted"
    #: a ballot the office refused at ingest (a proof failure, a malformed ballot) whose chain link is intact
    REFUSED_AT_INGEST = "refused-at-ingest"


def _code_bytes(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or len(value) != 2 * CODE_BYTES or value != value.lower():
        raise RecordError(f"{what}: expected {2 * CODE_BYTES} lower-case hex digits")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise RecordError(f"{what}: expected {2 * CODE_BYTES} lower-case hex digits") from None


@dataclass(frozen=True)
class WithheldEntry:
    """A link of a kiosk's batch chain whose ballot is NOT counted and NOT published (no ciphertext, proof or
    style): only what re-computes the link, ``code = H("confirmation"; genesis, kiosk, ballot_hash)``, and why it is
    withheld. A voter holding ``code`` finds their ballot listed as withheld."""

    ballot_id: str
    code: bytes
    ballot_hash: bytes  # SHA-256 of the encrypted ballot's canonical JSON: what the code commits to
    reason: WithheldReason

    def __post_init__(self) -> None:
        if not SAFE_ID.fullmatch(self.ballot_id):
            raise RecordError(f"withheld ballot id {self.ballot_id!r} is not a valid ballot id")
        for name in ("code", "ballot_hash"):
            if len(getattr(self, name)) != CODE_BYTES:
                raise RecordError(f"withheld {self.ballot_id}: {name} must be {CODE_BYTES} bytes")

    @classmethod
    def of(cls, genesis: bytes, kiosk_id: str, ballot: EncryptedBallot, reason: WithheldReason) -> WithheldEntry:
        """The entry for ``ballot`` of ``kiosk_id`` (its code computed here from the kiosk's genesis)."""
        return cls(ballot.ballot_id, code_digest(genesis, kiosk_id, ballot.ballot_hash), ballot.ballot_hash, reason)

    def link_holds(self, genesis: bytes, kiosk_id: str) -> bool:
        """Whether ``code`` is the confirmation code of ``ballot_hash`` at ``kiosk_id``."""
        return code_digest(genesis, kiosk_id, self.ballot_hash) == self.code

    def to_dict(self) -> dict[str, str]:
        return {
            "status": "withheld",
            "ballot_id": self.ballot_id,
            "code": self.code.hex(),
            "ballot_hash": self.ballot_hash.hex(),
            "reason": self.reason.value,
        }

    @classmethod
    def from_dict(cls, data: Any) -> WithheldEntry:
        keys = {"status", "ballot_id", "code", "ballot_hash", "reason"}
        if not isinstance(data, dict) or set(data) != keys or data["status"] != "withheld":
            raise RecordError(f"withheld entry: expected exactly {sorted(keys)} with status 'withheld'")
        if not isinstance(data["ballot_id"], str):
            raise RecordError("withheld entry: ballot_id must be a string")
        try:
            reason = WithheldReason(data["reason"])
        except ValueError:
            raise RecordError(f"withheld entry: unknown reason {data['reason']!r}") from None
        what = f"withheld {data['ballot_id']}"
        return cls(
            data["ballot_id"],
            _code_bytes(data["code"], f"{what}: code"),
            _code_bytes(data["ballot_hash"], f"{what}: ballot_hash"),
            reason,
        )


@dataclass(frozen=True)
class KioskStatements:
    """``kiosks/<kiosk id>.json``: the kiosk's enrolled certificate (PEM), the signed chain close it sent when its
    polls closed (None: it never closed) and the last signed chain head the office received (None: no batch)."""

    kiosk: str
    certificate_pem: str
    close: SignedStatement | None
    last_head: SignedStatement | None

    def __post_init__(self) -> None:
        _safe(self.kiosk)
        for s in (self.close, self.last_head):
            if s is not None and s.statement.kiosk_id != self.kiosk:
                raise RecordError(f"kiosks/{self.kiosk}.json: a statement of kiosk {s.statement.kiosk_id!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": RECORD_FORMAT_VERSION,
            "kiosk": self.kiosk,
            "certificate_pem": self.certificate_pem,
            "close": self.close.to_dict() if self.close is not None else None,
            "last_head": self.last_head.to_dict() if self.last_head is not None else None,
        }

    @classmethod
    def from_dict(cls, data: Any) -> KioskStatements:
        keys = {"format_version", "kiosk", "certificate_pem", "close", "last_head"}
        if not isinstance(data, dict) or set(data) != keys or data["format_version"] != RECORD_FORMAT_VERSION:
            raise RecordError(f"kiosk statements: expected exactly {sorted(keys)}, format_version 1")
        if not isinstance(data["kiosk"], str) or not isinstance(data["certificate_pem"], str):
            raise RecordError("kiosk statements: kiosk and certificate_pem must be strings")
        try:
            close = SignedStatement.from_dict(data["close"], StatementKind.CLOSE) if data["close"] is not None else None
            head = (
                SignedStatement.from_dict(data["last_head"], StatementKind.HEAD)
                if data["last_head"] is not None
                else None
            )
        except StatementError as exc:
            raise RecordError(f"kiosks/{data['kiosk']}.json: {exc}") from None
        return cls(data["kiosk"], data["certificate_pem"], close, head)


#: one link of a kiosk's batch chain: a cast ballot (challenged is None), a challenged ballot with its seed, or a
#: withheld link (in a batch, not counted, no ballot content)
ChainEntry = tuple[EncryptedBallot, ConfirmationCode, ChallengedBallot | None] | WithheldEntry
#: one sealed batch of a kiosk: its links, in any order (the record sorts them by code)
ChainBatch = tuple[ChainEntry, ...]


def entry_code(entry: ChainEntry) -> bytes:
    return entry.code if isinstance(entry, WithheldEntry) else entry[1].digest


@dataclass(frozen=True)
class ElectionRecord:
    manifest: Manifest
    context: ElectionContext
    guardians: tuple[GuardianRecord, ...]
    #: kiosk id -> its sealed batches in the order the kiosk sealed them, each the set of its links (challenged
    #: ones carry their seed; links whose ballot is not counted are ``WithheldEntry``)
    chains: dict[str, tuple[ChainBatch, ...]]
    tally: EncryptedTally
    shares: tuple[PartialDecryption, ...]
    #: None: the record before decryption (no results.json), as the office serves it to the guardians
    result: PlaintextTally | None
    pollbook_counts: dict[str, int] | None = None
    #: per ballot style, voters marked voted whose ballot is not counted and is in the record only as a withheld
    #: chain link (refused at ingest, or flagged and not counted by the committee); None: not stated
    pollbook_not_counted: dict[str, int] | None = None
    #: kiosk id -> its certificate and signed chain statements (``kiosks/<kiosk id>.json``)
    kiosks: dict[str, KioskStatements] = field(default_factory=dict)


def pollbook_counts_to_dict(counts: dict[str, int], not_counted: dict[str, int] | None = None) -> dict[str, Any]:
    """The format of pollbook_counts.json: voters marked voted per ballot style and, when the office states it,
    how many of them have a ballot that is not counted (its link is withheld in a kiosk chain)."""
    out: dict[str, Any] = {"format_version": 1, "ballots_per_style": dict(sorted(counts.items()))}
    if not_counted is not None:
        out["not_counted_per_style"] = {k: v for k, v in sorted(not_counted.items()) if v}
    return out


def _write(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(canonical_json(value) + b"\n")


def _safe(identifier: str) -> str:
    if not SAFE_ID.fullmatch(identifier):
        raise RecordError(f"{identifier!r} cannot be used as a file name in the record")
    return identifier


def write_record(out: Path, record: ElectionRecord) -> None:
    """Write ``record`` under ``out`` (which must not exist yet, so no stale file survives)."""
    if out.exists() and any(out.iterdir()):
        raise RecordError(f"{out} exists and is not empty")
    every = [e for batches in record.chains.values() for batch in batches for e in batch]
    published = {e[0].ballot_id for e in every if not isinstance(e, WithheldEntry)}
    both = sorted(e.ballot_id for e in every if isinstance(e, WithheldEntry) and e.ballot_id in published)
    if both:
        raise RecordError(f"{both[0]} is both withheld and published: a withheld ballot is never counted")
    _write(out / "manifest.json", record.manifest.to_dict())
    _write(out / "context.json", record.context.to_dict())
    for guardian in record.guardians:
        _write(out / "guardians" / f"guardian-{guardian.sequence}.json", guardian.to_dict())
    for kiosk, batches in record.chains.items():
        root = genesis_code(record.context.base_hash, kiosk)
        published_batches: list[dict[str, Any]] = []
        for batch in batches:
            links: list[dict[str, str]] = []
            for entry in sorted(batch, key=entry_code):
                if isinstance(entry, WithheldEntry):
                    links.append(entry.to_dict())
                    continue
                ballot, code, challenged = entry
                name = _safe(ballot.ballot_id) + ".json"
                status = "cast" if challenged is None else "challenged"
                links.append({"ballot_id": ballot.ballot_id, "code": code.hex(), "status": status})
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
            try:
                after = batch_root(root, kiosk, [entry_code(e) for e in batch])
            except ValueError as exc:
                raise RecordError(f"kiosk {kiosk}: a batch cannot be chained ({exc})") from None
            published_batches.append({"previous_root": root.hex(), "root": after.hex(), "links": links})
            root = after
        _write(
            out / "kiosk_chains" / f"{_safe(kiosk)}.json",
            {"format_version": CHAIN_FORMAT_VERSION, "kiosk": kiosk, "batches": published_batches},
        )
    for kiosk, statements in sorted(record.kiosks.items()):
        if kiosk != statements.kiosk:
            raise RecordError(f"kiosk statements of {statements.kiosk!r} filed under {kiosk!r}")
        _write(out / "kiosks" / f"{_safe(kiosk)}.json", statements.to_dict())
    _write(out / "tally" / "encrypted_tally.json", record.tally.to_dict())
    for share in record.shares:
        name = (
            f"guardian-{share.guardian}.json"
            if share.missing is None
            else f"guardian-{share.missing}-by-{share.guardian}.json"
        )
        _write(out / "tally" / "shares" / name, share.to_dict())
    if record.result is not None:
        _write(out / "results.json", {"format_version": RECORD_FORMAT_VERSION, **record.result.to_dict()})
    if record.pollbook_counts is not None:
        _write(
            out / "pollbook_counts.json", pollbook_counts_to_dict(record.pollbook_counts, record.pollbook_not_counted)
        )


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RecordError(f"missing file {path}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordError(f"{path}: not valid JSON ({exc})") from None


def read_context(root: Path) -> ElectionContext:
    return ElectionContext.from_dict(read_json(root / "context.json"))
