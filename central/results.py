"""Close of polls, the encrypted tally, guardians' decryption shares, results and the published election record.

After the last share: the tally is decrypted (every share's proofs checked), manual sheets are merged (labelled),
the record (election.record layout, plus pollbook_counts.json) is written to a fresh directory and checked by the
independent verifier (``python -m election.verify <dir>``, a separate process); the outcome is stored and audited.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from central import audit
from central.adjudication import outstanding
from central.manual import approved_totals
from central.models import (
    Ballot,
    BallotStatus,
    CentreStatus,
    GuardianShare,
    PublishedResult,
    TallyState,
    Voter,
    VoterState,
)
from central.office import Office
from election.ballot import BLANK_LABEL, EncryptedBallot
from election.challenge import ChallengedBallot
from election.confirmation import ConfirmationCode
from election.decryption import DecryptionError, PartialDecryption, PlaintextTally, decrypt_tally, verify_share
from election.elgamal import Ciphertext
from election.keyceremony import GuardianRecord
from election.manifest import BallotStyleId, ContestId
from election.record import ChainEntry, ElectionRecord, write_record
from election.tally import EncryptedTally, ballot_ids_hash


class ResultsError(ValueError):
    """Results cannot be produced yet (or a share is refused); the message says why."""


def close_centre(office: Office, centre_id: str, *, actor: str, manual: bool = False) -> None:
    with office.db.transaction() as s:
        row = s.get(CentreStatus, centre_id)
        if row is None:
            raise ResultsError(f"unknown centre {centre_id!r}")
        if row.closed_at is None:
            row.closed_at, row.closed_by = office.clock(), actor
        row.manual = row.manual or manual
        audit.append(
            s,
            at=office.clock(),
            actor=actor,
            action="centre.closed",
            details={"centre": centre_id, "manual": row.manual},
        )


def all_closed(office: Office) -> bool:
    with office.db.transaction() as s:
        return s.scalar(select(func.count()).select_from(CentreStatus).where(CentreStatus.closed_at.is_(None))) == 0


def encrypted_tally(office: Office) -> EncryptedTally:
    """The running per-contest sums as the election core's ``EncryptedTally``."""
    with office.db.transaction() as s:
        rows = {r.contest_id: r for r in s.scalars(select(TallyState))}
        cast_ids = list(
            s.scalars(select(Ballot.ballot_id).where(Ballot.status == BallotStatus.ACCEPTED, Ballot.spoiled.is_(False)))
        )
        per_style: dict[str, int] = dict(
            s.execute(
                select(Ballot.style_id, func.count())
                .where(Ballot.status == BallotStatus.ACCEPTED, Ballot.spoiled.is_(False))
                .group_by(Ballot.style_id)
            ).all()
        )
    contests: dict[ContestId, dict[str, Ciphertext]] = {}
    counts: dict[ContestId, int] = {}
    for contest in office.manifest.contests:
        state = rows[contest.id].state
        row: dict[str, Ciphertext] = {
            c: Ciphertext.from_dict(state["selections"][c], aggregate=True) for c in contest.selection_ids
        }
        row[BLANK_LABEL] = Ciphertext.from_dict(state["blank"], aggregate=True)
        contests[contest.id], counts[contest.id] = row, int(state["ballots"])
    return EncryptedTally(
        base_hash=office.context.base_hash,
        contests=contests,
        ballots_per_contest=counts,
        ballots_per_style={BallotStyleId(s.id): int(per_style.get(s.id, 0)) for s in office.manifest.ballot_styles},
        cast_ballot_ids_hash=ballot_ids_hash(cast_ids),
    )


def ready_for_counting(office: Office) -> None:
    """Polls closed everywhere and nothing awaiting the committee (Art. 6): only then is the encrypted tally final,
    so only then may guardians' shares be taken and results published. Raises ResultsError saying what is missing."""
    if not all_closed(office):
        raise ResultsError("polls are not closed at every centre")
    waiting = outstanding(office)
    if waiting:
        raise ResultsError(waiting.describe())


def upload_share(office: Office, data: dict[str, Any], *, actor: str) -> str:
    """Store one guardian's decryption share after checking its proofs against the current (final) tally."""
    ready_for_counting(office)
    try:
        share = PartialDecryption.from_dict(data)
        verify_share(office.context, encrypted_tally(office), share)
    except (DecryptionError, ValueError) as exc:
        raise ResultsError(f"share refused: {exc}") from None
    key = str(share.guardian) if share.missing is None else f"{share.missing}-by-{share.guardian}"
    with office.db.transaction() as s:
        existing = s.get(GuardianShare, key)
        if existing is None:
            s.add(GuardianShare(guardian_id=key, payload=data, uploaded_by=actor))
        else:
            existing.payload, existing.uploaded_by = data, actor
        audit.append(s, at=office.clock(), actor=actor, action="guardian_share.uploaded", details={"share": key})
    return key


def pollbook_counts(office: Office) -> dict[str, int]:
    """Voters marked voted per ballot style (the verifier compares them with the cast ballots)."""
    with office.db.transaction() as s:
        rows = s.execute(
            select(Voter.style_id, func.count()).where(Voter.state == VoterState.VOTED).group_by(Voter.style_id)
        ).all()
    counts: dict[str, int] = {s.id: 0 for s in office.manifest.ballot_styles}
    counts.update({str(style): int(n) for style, n in rows})
    return counts


def _chains(office: Office) -> dict[str, tuple[ChainEntry, ...]]:
    with office.db.transaction() as s:
        rows = list(s.scalars(select(Ballot).where(Ballot.status == BallotStatus.ACCEPTED)))
    by_kiosk: dict[str, list[Ballot]] = defaultdict(list)
    for b in rows:
        by_kiosk[b.kiosk_id].append(b)  # provisional ballots are links of their kiosk's one chain
    chains: dict[str, tuple[ChainEntry, ...]] = {}
    for kiosk, ballots in sorted(by_kiosk.items()):
        nxt = {b.previous_code: b for b in ballots}
        ordered: list[Ballot] = []
        starts = {b.previous_code for b in ballots} - {b.confirmation_code for b in ballots}
        for start in sorted(c for c in starts if c):
            cur = nxt.get(start)
            while cur is not None and cur not in ordered:
                ordered.append(cur)
                cur = nxt.get(cur.confirmation_code)
        ordered += [b for b in ballots if b not in ordered]
        entries: list[ChainEntry] = []
        for b in ordered:
            code = ConfirmationCode(b.kiosk_id, b.ballot_id, bytes.fromhex(b.confirmation_code or ""))
            if b.spoiled:
                challenged = ChallengedBallot.from_dict(b.payload)
                entries.append((challenged.ballot, code, challenged))
            else:
                entries.append((EncryptedBallot.from_dict(b.payload), code, None))
        chains[kiosk] = tuple(entries)
    return chains


def guardians(office: Office) -> tuple[GuardianRecord, ...]:
    paths = sorted((office.config.election_dir / "guardians").glob("guardian-*.json"))
    return tuple(GuardianRecord.from_dict(json.loads(p.read_text(encoding="utf-8"))) for p in paths)


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


def compute_results(office: Office, *, actor: str, out: Path | None = None) -> dict[str, Any]:
    """Decrypt, merge manual sheets, publish and verify the record; returns the stored results. Refused while
    polls are open anywhere or anything awaits the committee (the error lists what)."""
    ready_for_counting(office)
    tally = encrypted_tally(office)
    with office.db.transaction() as s:
        shares = [PartialDecryption.from_dict(r.payload) for r in s.scalars(select(GuardianShare))]
    try:
        plain = decrypt_tally(office.context, office.manifest, tally, shares)
    except DecryptionError as exc:
        raise ResultsError(f"cannot decrypt yet: {exc}") from None
    now = office.clock()
    record_dir = out or office.config.record_dir / now.strftime("%Y%m%dT%H%M%SZ")
    record = ElectionRecord(
        office.manifest,
        office.context,
        guardians(office),
        _chains(office),
        tally,
        tuple(shares),
        plain,
        pollbook_counts(office),
    )
    write_record(record_dir, record)
    verified, output = run_verifier(record_dir)
    results = merge(office, plain)
    results["record_dir"] = str(record_dir)
    results["verified"] = verified
    with office.db.transaction() as s:
        s.add(
            PublishedResult(
                computed_at=now, results=results, record_dir=str(record_dir), verified=verified, verifier_output=output
            )
        )
        audit.append(
            s,
            at=now,
            actor=actor,
            action="results.published",
            details={"record_dir": str(record_dir), "verified": verified},
        )
    return results


def merge(office: Office, plain: PlaintextTally) -> dict[str, Any]:
    """Electronic and manual counts per contest, kept apart and summed, with the winners."""
    manual = approved_totals(office)
    contests: dict[str, Any] = {}
    for contest in office.manifest.contests:
        e = plain.contests[contest.id]
        m = manual.get(contest.id)
        total = {c: e.votes.get(c, 0) + (m.votes.get(c, 0) if m else 0) for c in contest.selection_ids}
        ranked = sorted(total, key=lambda c: (-total[c], c))
        contests[contest.id] = {
            "wilayat": contest.wilayat,
            "seats": contest.seats,
            "electronic": {"votes": dict(e.votes), "blank": e.blank, "ballots": e.ballots},
            "manual": {"votes": dict(m.votes), "blank": m.blank, "voters": m.voters, "sources": list(m.sources)}
            if m
            else None,
            "total": {
                "votes": total,
                "blank": e.blank + (m.blank if m else 0),
                "ballots": e.ballots + (m.voters if m else 0),
            },
            "elected": ranked[: contest.seats],
        }
    return {"contests": contests, "pollbook_counts": pollbook_counts(office)}


def latest(office: Office) -> PublishedResult | None:
    with office.db.transaction() as s:
        return s.scalars(select(PublishedResult).order_by(PublishedResult.id.desc()).limit(1)).first()


__all__ = ["ResultsError", "close_centre", "compute_results", "dt", "encrypted_tally", "latest", "upload_share"]
