"""What the office writes into the published election record beyond ``election.record.write_record``'s layout:
the poll book's voted counts per style, the kiosks' chains as published (with withheld links), the record's
``office/`` part (signed audit heads, the office's certificate); and the independent verifier run on it."""

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
from central.models import Ballot, BallotStatus, EnvelopeStatus, ProvisionalEnvelope, Voter, VoterState
from election.ballot import EncryptedBallot
from election.benaloh import ChallengedBallot
from election.canonical import canonical_json
from election.confirmation import ConfirmationCode, genesis_code
from election.manifest import Manifest
from election.record import ChainEntry, RecordError, WithheldEntry, WithheldReason


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
    """A link of a kiosk's confirmation-code chain whose ballot is not counted (a flagged ballot or provisional
    envelope the committee did not count, a ballot refused at ingest whose link is intact). No ballot content:
    the record's ``withheld`` entry carries the ballot hash the code commits to and the reason's category only
    (the free-text reason stays in the office's results and audit log)."""

    kiosk_id: str
    ballot_id: str
    confirmation_code: str
    previous_code: str
    reason: str
    category: WithheldReason
    ballot_hash: str
    in_chain: bool = False  # written into the published chain (its link holds and follows the code before it)
    #: the style of a cast ballot (not challenged, not provisional) whose voter may have been marked voted;
    #: None for the others (``not_counted_per_style``); not published with the link
    voter_style: str | None = None

    def to_dict(self) -> dict[str, str | bool]:
        return {
            "kiosk_id": self.kiosk_id,
            "ballot_id": self.ballot_id,
            "confirmation_code": self.confirmation_code,
            "previous_code": self.previous_code,
            "reason": self.reason,
            "category": self.category.value,
            "in_chain": self.in_chain,
        }

    def entry(self) -> WithheldEntry | None:
        """The record's ``withheld`` chain entry, or None when the link does not re-compute (not a chain link)."""
        try:
            e = WithheldEntry(
                self.ballot_id,
                bytes.fromhex(self.confirmation_code),
                bytes.fromhex(self.previous_code),
                bytes.fromhex(self.ballot_hash),
                self.category,
            )
        except (ValueError, RecordError):
            return None
        return e if e.link_holds(self.kiosk_id) else None


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


@dataclass(frozen=True)
class _Link:
    ballot_id: str
    code: str
    previous: str
    ballot: Ballot | None  # a counted (or challenged) ballot: published in full
    withheld: Withheld | None


def record_chains(db: Database, base_hash: bytes) -> tuple[dict[str, tuple[ChainEntry, ...]], list[Withheld]]:
    """Every kiosk chain as the record publishes it (``kiosk_chains/<kiosk>.json`` through ``write_record``): the
    ONE place that decides what the published chains contain.

    Links are ordered by following previous codes from each chain start; a provisional ballot is a link of its
    kiosk's one chain. Counted cast ballots (provisional ones included) and challenged ballots become entries.
    A withheld link (in a chain, not counted) becomes a ``withheld`` entry at its place (ballot id, code, previous
    code, ballot hash, reason category; no ballot content: docs/election-record.md) when its code re-computes and
    its previous code is the code before it; a refused ballot that is no link of the chain (its code or previous
    code wrong) is left out. All are also returned apart (``in_chain`` says which were written)."""
    with db.transaction() as s:
        counted = list(s.scalars(select(Ballot).where(Ballot.status == BallotStatus.ACCEPTED)))
        refused = s.execute(
            select(
                Ballot.kiosk_id,
                Ballot.ballot_id,
                Ballot.confirmation_code,
                Ballot.previous_code,
                Ballot.reason,
                Ballot.payload,
                Ballot.spoiled,
                Ballot.status,
                Ballot.style_id,
                Ballot.provisional,
            ).where(Ballot.status.in_([BallotStatus.REJECTED, BallotStatus.REFUSED]))
        ).all()
        envelopes = s.execute(
            select(ProvisionalEnvelope.kiosk_id, ProvisionalEnvelope.ballot, ProvisionalEnvelope.reason).where(
                ProvisionalEnvelope.status == EnvelopeStatus.REJECTED
            )
        ).all()
    links: dict[str, list[_Link]] = defaultdict(list)
    for b in counted:
        links[b.kiosk_id].append(_Link(b.ballot_id, b.confirmation_code or "", b.previous_code or "", b, None))
    held = {b.ballot_id for b in counted}
    refusals = [
        (
            r.kiosk_id,
            r.ballot_id,
            r.confirmation_code,
            r.previous_code,
            r.reason,
            _category(r.status),
            _payload_hash(r.payload, r.spoiled),
            None if r.spoiled or r.provisional else r.style_id,
        )
        for r in refused
    ]
    refusals += [
        (
            e.kiosk_id,
            e.ballot.get("ballot_id"),
            e.ballot.get("confirmation_code"),
            e.ballot.get("previous_code"),
            f"provisional, not counted: {e.reason or ''}",
            WithheldReason.PROVISIONAL_NOT_COUNTED,
            _payload_hash(e.ballot.get("encrypted_ballot"), False),
            None,  # the committee found the voter had voted elsewhere: counted there
        )
        for e in envelopes
    ]
    for kiosk, ballot_id, code, previous, reason, category, digest, voter_style in refusals:
        if isinstance(ballot_id, str) and isinstance(code, str) and isinstance(previous, str) and ballot_id not in held:
            held.add(ballot_id)
            w = Withheld(kiosk, ballot_id, code, previous, reason or "", category, digest, voter_style=voter_style)
            links[kiosk].append(_Link(ballot_id, code, previous, None, w))
    chains: dict[str, tuple[ChainEntry, ...]] = {}
    withheld: list[Withheld] = []
    for kiosk, kiosk_links in sorted(links.items()):
        entries: list[ChainEntry] = []
        head = genesis_code(base_hash, kiosk).hex()
        for link in _in_chain_order(kiosk_links):
            if link.withheld is not None:
                entry = link.withheld.entry() if link.previous == head else None
                withheld.append(replace(link.withheld, in_chain=entry is not None))
                if entry is not None:
                    entries.append(entry)
                    head = link.code
                continue
            head = link.code
            row = link.ballot
            assert row is not None
            code = ConfirmationCode(row.kiosk_id, row.ballot_id, bytes.fromhex(link.code))
            if row.spoiled:
                challenged = ChallengedBallot.from_dict(row.payload)
                entries.append((challenged.ballot, code, challenged))
            else:
                entries.append((EncryptedBallot.from_dict(row.payload), code, None))
        if entries:
            chains[kiosk] = tuple(entries)
    return chains, withheld


def _in_chain_order(links: list[_Link]) -> list[_Link]:
    """Follow previous codes from each start (a previous code that is no link's code); links that are reached
    from no start (a fork, a cycle) come last, in a stable order."""
    nxt: dict[str, _Link] = {}
    for link in sorted(links, key=lambda x: (x.withheld is not None, x.ballot_id)):
        nxt.setdefault(link.previous, link)  # a counted ballot wins a fork over a withheld one
    codes = {link.code for link in links}
    ordered: list[_Link] = []
    seen: set[str] = set()
    for start in sorted({link.previous for link in links} - codes):
        cur = nxt.get(start)
        while cur is not None and cur.ballot_id not in seen:
            ordered.append(cur)
            seen.add(cur.ballot_id)
            cur = nxt.get(cur.code)
    ordered += sorted((x for x in links if x.ballot_id not in seen), key=lambda x: x.ballot_id)
    return ordered


def run_verifier(record_dir: Path) -> tuple[bool, str]:
    """``python -m election.verify <dir>`` in a separate process: its exit status is the verdict."""
    if importlib.util.find_spec("election.verify") is None:
        return False, "election.verify is not available in this installation"
    done = subprocess.run(
        [sys.executable, "-m", "election.verify", str(record_dir)],
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
