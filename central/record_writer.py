"""What the office writes into the published election record beyond ``election.record.write_record``'s layout:
the poll book's voted counts per style, the kiosks' batch chains as published (with withheld links), the record's
``office/`` part (signed audit heads, the office's certificate), the parts that come from outside the office's
database (``remote/`` from the vote collector, ``package/`` from the signed election package: ``outside_parts``);
and the independent verifier run on it."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from central import audit
from central.db import Database
from central.errors import ResultsError
from central.ingest import LINKED_BY
from central.models import (
    Ballot,
    BallotStatus,
    EnvelopeStatus,
    KioskChainHead,
    ProvisionalEnvelope,
    Voter,
    VoterState,
)
from election.ballot import EncryptedBallot
from election.benaloh import ChallengedBallot
from election.canonical import canonical_json
from election.confirmation import ConfirmationCode, genesis_code
from election.manifest import Manifest
from election.package import PackageError, record_members
from election.record import ChainBatch, ChainEntry, RecordError, WithheldEntry, WithheldReason


def pollbook_counts(db: Database, manifest: Manifest) -> dict[str, int]:
    """Voters marked voted per ballot style (the verifier compares them with the cast ballots)."""
    with db.transaction() as s:
        rows = s.execute(
            select(Voter.style_id, func.count()).where(Voter.state == VoterState.VOTED).group_by(Voter.style_id)
        ).all()
    counts: dict[str, int] = {s.id: 0 for s in manifest.ballot_styles}
    counts.update({str(style): int(n) for style, n in rows})
    return counts


def not_counted_per_style(withheld: list[Withheld]) -> dict[str, int]:
    """Per ballot style, the cast ballots (not challenged, not provisional) refused at ingest or not counted by the
    committee whose link is withheld in the published chains. Their voters may have been marked voted (the office
    cannot tell which: nothing links a ballot to a voter), so the verifier accepts up to this many voters more
    than counted ballots per style, each backed by a visible withheld link."""
    counts: dict[str, int] = defaultdict(int)
    for w in withheld:
        if w.in_chain and w.voter_style is not None:
            counts[w.voter_style] += 1
    return dict(counts)


@dataclass(frozen=True)
class Withheld:
    """A link of a kiosk's batch chain whose ballot is not counted (a flagged ballot or provisional envelope the
    committee did not count, a ballot refused at ingest). No ballot content: the record's ``withheld`` entry carries
    the ballot hash the code commits to and the reason's category only (the free-text reason stays in the office's
    results and audit log)."""

    kiosk_id: str
    ballot_id: str
    confirmation_code: str
    reason: str
    category: WithheldReason
    ballot_hash: str
    in_chain: bool = False  # written into a published batch (a batch the kiosk signed links it; its code holds)
    #: the style of a cast ballot (not challenged, not provisional) whose voter may have been marked voted;
    #: None for the others (``not_counted_per_style``); not published with the link
    voter_style: str | None = None

    def to_dict(self) -> dict[str, str | bool]:
        return {
            "kiosk_id": self.kiosk_id,
            "ballot_id": self.ballot_id,
            "confirmation_code": self.confirmation_code,
            "reason": self.reason,
            "category": self.category.value,
            "in_chain": self.in_chain,
        }

    def entry(self, genesis: bytes) -> WithheldEntry | None:
        """The record's ``withheld`` link, or None when its code does not re-compute from its ballot hash."""
        try:
            e = WithheldEntry(
                self.ballot_id, bytes.fromhex(self.confirmation_code), bytes.fromhex(self.ballot_hash), self.category
            )
        except (ValueError, RecordError):
            return None
        return e if e.link_holds(genesis, self.kiosk_id) else None


def _payload_hash(payload: Any, challenged: bool) -> str:
    """SHA-256 hex of the encrypted ballot's canonical JSON (what its confirmation code commits to)."""
    if challenged and isinstance(payload, dict):
        payload = payload.get("ballot")
    return hashlib.sha256(canonical_json(payload)).hexdigest()


def _category(status: BallotStatus) -> WithheldReason:
    """``rejected``: the committee did not count a flagged ballot; ``refused``: refused at ingest."""
    if status is BallotStatus.REJECTED:
        return WithheldReason.FLAGGED_NOT_COUNTED
    return WithheldReason.REFUSED_AT_INGEST


def record_chains(db: Database, base_hash: bytes) -> tuple[dict[str, tuple[ChainBatch, ...]], list[Withheld]]:
    """Every kiosk's batch chain as the record publishes it (``kiosk_chains/<kiosk>.json`` through ``write_record``,
    which sorts each batch's links and computes the roots): the ONE place that decides what the published chains
    contain.

    A kiosk's batches are those the office accepted, in the order of their signed heads (each has more links than
    the one before). A batch's links are its ballots (stored with its batch id, refused ones included) and the
    provisional ballots it linked (``central.ingest.LINKED_BY`` on their envelopes). Counted cast ballots
    (provisional ones included) and challenged ballots become entries; a link not counted (refused at ingest,
    flagged and not counted by the committee, a provisional envelope not counted) becomes a ``withheld`` entry
    (ballot id, code, ballot hash, reason category; no ballot content: docs/election-record.md). A ballot still
    awaiting the committee is in no published batch yet (its batch's root then does not recompute: the record is
    not final). Withheld links are also returned apart (``in_chain``: written into a batch)."""
    with db.transaction() as s:
        heads = s.execute(
            select(KioskChainHead.kiosk_id, KioskChainHead.batch_id).order_by(
                KioskChainHead.kiosk_id, KioskChainHead.links
            )
        ).all()
        ballots = list(s.scalars(select(Ballot).where(Ballot.status != BallotStatus.FLAGGED)))
        envelopes = s.execute(
            select(
                ProvisionalEnvelope.kiosk_id,
                ProvisionalEnvelope.ballot,
                ProvisionalEnvelope.status,
                ProvisionalEnvelope.reason,
            )
        ).all()
    linked_by = {str(e.ballot.get("ballot_id")): e.ballot.get(LINKED_BY) for e in envelopes}
    links: dict[str, list[ChainEntry]] = defaultdict(list)  # batch id -> its links
    withheld: list[Withheld] = []
    genesis: dict[str, bytes] = {}

    def start(kiosk: str) -> bytes:
        if kiosk not in genesis:
            genesis[kiosk] = genesis_code(base_hash, kiosk)
        return genesis[kiosk]

    def add_withheld(w: Withheld, batch_id: str | None) -> None:
        entry = w.entry(start(w.kiosk_id)) if batch_id is not None else None
        withheld.append(replace(w, in_chain=entry is not None))
        if entry is not None and batch_id is not None:
            links[batch_id].append(entry)

    for b in ballots:
        batch_id = linked_by.get(b.ballot_id) if b.provisional else b.batch_id
        code = b.confirmation_code or ""
        if b.status is BallotStatus.ACCEPTED:
            if batch_id is None:
                continue
            confirmation = ConfirmationCode(b.kiosk_id, b.ballot_id, bytes.fromhex(code))
            if b.spoiled:
                challenged = ChallengedBallot.from_dict(b.payload)
                links[batch_id].append((challenged.ballot, confirmation, challenged))
            else:
                links[batch_id].append((EncryptedBallot.from_dict(b.payload), confirmation, None))
            continue
        w = Withheld(
            b.kiosk_id,
            b.ballot_id,
            code,
            b.reason or "",
            _category(b.status),
            _payload_hash(b.payload, b.spoiled),
            voter_style=None if b.spoiled or b.provisional else b.style_id,
        )
        add_withheld(w, batch_id)
    counted = {b.ballot_id for b in ballots}
    for e in envelopes:
        ballot_id, code = e.ballot.get("ballot_id"), e.ballot.get("confirmation_code")
        if e.status is not EnvelopeStatus.REJECTED or ballot_id in counted:
            continue
        if not isinstance(ballot_id, str) or not isinstance(code, str):
            continue
        w = Withheld(
            e.kiosk_id,
            ballot_id,
            code,
            f"provisional, not counted: {e.reason or ''}",
            WithheldReason.PROVISIONAL_NOT_COUNTED,
            _payload_hash(e.ballot.get("encrypted_ballot"), False),
            voter_style=None,  # the committee found the voter had voted elsewhere: counted there
        )
        add_withheld(w, e.ballot.get(LINKED_BY))
    chains: dict[str, list[ChainBatch]] = defaultdict(list)
    for kiosk, batch_id in heads:
        chains[kiosk].append(tuple(links.get(batch_id, ())))
    return {kiosk: tuple(batches) for kiosk, batches in sorted(chains.items())}, withheld


def run_verifier(record_dir: Path, commission_key: Path | None = None) -> tuple[bool, str]:
    """``python -m election.verify <dir>`` in a separate process: its exit status is the verdict. With the
    commission's key (``--commission-key``) the verifier also ties the record's certificates to the package."""
    if importlib.util.find_spec("election.verify") is None:
        return False, "election.verify is not available in this installation"
    given = commission_key is not None and commission_key.is_file()
    # without the key the office says so: check package SKIPPED by name (the verifier exits 3 on an unnamed skip)
    key = ["--commission-key", str(commission_key)] if given else ["--skip", "package"]
    done = subprocess.run(
        [sys.executable, "-m", "election.verify", str(record_dir), *key],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    return done.returncode == 0, (done.stdout + done.stderr)[-20_000:]


OFFICE_HEADS = "office/audit_heads.json"
OFFICE_CERTIFICATE = "office/office_certificate.pem"


def write_office_part(db: Database, signer: audit.OfficeSigner | None, record_dir: Path) -> None:
    """The record's ``office/`` part: the signed audit heads so far and the office's certificate."""
    with db.transaction() as s:
        heads = audit.signed_heads(s)
    (record_dir / "office").mkdir(parents=True, exist_ok=True)
    (record_dir / OFFICE_HEADS).write_text(json.dumps({"heads": heads}, indent=1, sort_keys=True), encoding="utf-8")
    cert = signer.certificate_pem if signer is not None else ""
    (record_dir / OFFICE_CERTIFICATE).write_text(cert, encoding="ascii")


#: ``<election dir>/remote/``: the vote collector's record part as ``python -m collector handover --out DIR`` writes
#: it (docs/remote-voting.md, section 7), copied into the office's election directory after the handover
REMOTE_DIR = "remote"
REMOTE_FILES = ("credentials.json", "voided.json", "submissions.json", "counts.json", "statement.json")
#: ``<election dir>/election-package.sanduq``: the signed election package the kiosks were given
PACKAGE_FILE = "election-package.sanduq"
#: ``<election dir>/commission.pub``: the commission's public key the office's own verifier run checks it with
COMMISSION_KEY_FILE = "commission.pub"
MAX_PART_BYTES = 1 << 30


def remote_part_files(election_dir: Path, manifest: Manifest) -> dict[str, bytes]:
    """The record part ``remote/`` (path in the record -> bytes, unchanged) of an election with remote voting;
    nothing for an election without. Raises ResultsError when the collector's part is not there yet: the office
    never serves a record without the remote ballots' credentials (the guardians would refuse it)."""
    if manifest.remote_voting is None:
        return {}
    directory = election_dir / REMOTE_DIR
    missing = [name for name in REMOTE_FILES if not (directory / name).is_file()]
    if missing:
        raise ResultsError(
            f"the vote collector's record part is not in {directory} (missing {', '.join(missing)}): after the "
            "collector's handover, copy the remote/ it wrote (python -m collector handover --out DIR) there"
        )
    files: dict[str, bytes] = {}
    for name in REMOTE_FILES:
        path = directory / name
        if path.stat().st_size > MAX_PART_BYTES:
            raise ResultsError(f"{path}: larger than any record part")
        data = path.read_bytes()
        try:
            parsed = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError):
            parsed = None
        if not isinstance(parsed, dict):
            raise ResultsError(f"{path}: not a JSON object (the collector's remote/{name})")
        files[f"{REMOTE_DIR}/{name}"] = data
    return files


def package_part_files(election_dir: Path) -> dict[str, bytes]:
    """The record part ``package/`` (docs/election-record.md): the package's signed index, its signature, manifest,
    election context and trust files, byte for byte, when the office holds the package (``PACKAGE_FILE``)."""
    path = election_dir / PACKAGE_FILE
    if not path.is_file():
        return {}
    try:
        members = record_members(path.read_bytes(), archive_name=path.name)
    except PackageError as exc:
        raise ResultsError(f"the election package {path} cannot be published: {exc}") from None
    return {f"package/{name}": data for name, data in members.items()}


def outside_parts(election_dir: Path, manifest: Manifest) -> dict[str, bytes]:
    """The record's files that do not come from the office's database: ``remote/`` and ``package/``."""
    return {**remote_part_files(election_dir, manifest), **package_part_files(election_dir)}


def write_files(record_dir: Path, files: dict[str, bytes]) -> None:
    for relative, data in files.items():
        path = record_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
