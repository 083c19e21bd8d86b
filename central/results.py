"""Close of polls, the encrypted tally, guardians' decryption shares, results and the published election record.

After the last share: the tally is decrypted (every share's proofs checked), manual sheets are merged (labelled),
the record (election.record layout, plus pollbook_counts.json) is written to a fresh directory and checked by the
independent verifier (``python -m election.verify <dir>``, a separate process); the outcome is stored and audited.
"""

from __future__ import annotations

import copy
import datetime as dt
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
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from central import audit, phase, pollbook
from central.adjudication import outstanding_in
from central.chains import kiosk_statements
from central.manual import approved_totals, pending_sheets
from central.models import (
    Ballot,
    BallotStatus,
    CentreStatus,
    EnvelopeStatus,
    GuardianShare,
    LotDraw,
    ProvisionalEnvelope,
    PublishedResult,
    TallyState,
    Voter,
    VoterState,
)
from central.office import Office
from election.ballot import BLANK_LABEL, EncryptedBallot
from election.canonical import canonical_json, json_hash
from election.challenge import ChallengedBallot
from election.confirmation import ConfirmationCode, genesis_code
from election.decryption import DecryptionError, PartialDecryption, PlaintextTally, decrypt_tally, verify_share
from election.elgamal import Ciphertext
from election.keyceremony import GuardianRecord
from election.manifest import BallotStyleId, ContestId
from election.record import ChainEntry, ElectionRecord, RecordError, WithheldEntry, WithheldReason, write_record
from election.tally import EncryptedTally, ballot_ids_hash


class ResultsError(ValueError):
    """Results cannot be produced yet (or a share is refused); the message says why."""


class PhaseConflict(ResultsError):
    """Refused because of the election's phase (``central.phase``): HTTP 409 with the reason."""


class LotDrawInvalid(ResultsError):
    """A lot draw's outcome that cannot be recorded as given (winners not among the tied candidates...)."""


TIE_RULE = {
    "en": "tie for the last seat: to be decided by the committee by drawing lots",
    "ar": "تعادل على المقعد الأخير: تحسمه اللجنة بالقرعة",
}
LOT_RULE = {"en": "decided by the committee by drawing lots", "ar": "حسمته اللجنة بالقرعة"}


def winners(seats: int, total: dict[str, int]) -> tuple[list[str], dict[str, Any] | None]:
    """The candidates elected outright (most votes, ranked) and, when candidates tie for the last seat(s), the tie:
    ``{"seats": seats left, "candidates": the tied ones, "votes", "resolved": False, ...}``. Nobody in a tie is
    declared elected until the committee records the drawing of lots (``record_lot_draw``)."""
    ranked = sorted(total, key=lambda c: (-total[c], c))
    if len(ranked) <= seats or total[ranked[seats]] != total[ranked[seats - 1]]:
        return ranked[:seats], None
    last = total[ranked[seats - 1]]
    outright = [c for c in ranked if total[c] > last]
    tie = {
        "seats": seats - len(outright),
        "candidates": sorted(c for c in ranked if total[c] == last),
        "votes": last,
        "resolved": False,
        "rule": TIE_RULE["en"],
        "rule_ar": TIE_RULE["ar"],
    }
    return outright, tie


def close_centre(office: Office, centre_id: str, *, actor: str, manual: bool = False, final: bool = True) -> str:
    """Close a centre's polls: ``closing`` (``final=False``: no new check-in; voters already checked in finish)
    or ``closed``. The last centre's close moves the election to ``closed`` (audited, head signed) and rewrites the
    poll-book tables (``pollbook.vacuum_poll_book``: no old row version with a lock's kiosk, token or time
    survives). ``manual``: the centre switched to paper (Art. 8): its manual sheets are then accepted. Returns
    the centre's phase."""
    to = phase.CentrePhase.CLOSED if final else phase.CentrePhase.CLOSING
    now = office.clock()
    with office.db.transaction() as s:
        row = phase.lock_for_transition(s)
        try:
            centre, before = phase.close_centre_row(s, centre_id, to)
        except phase.TransitionRefused as exc:
            raise ResultsError(str(exc)) from None
        if to is phase.CentrePhase.CLOSED and centre.closed_at is None:
            centre.closed_at, centre.closed_by = now, actor
        centre.manual = centre.manual or manual
        audit.append(
            s,
            at=now,
            actor=actor,
            action="centre.closed" if final else "centre.closing",
            details={"centre": centre_id, "manual": centre.manual, "from": before.value},
        )
        s.flush()
        still_open = s.scalar(
            select(func.count()).select_from(CentreStatus).where(CentreStatus.phase != phase.CentrePhase.CLOSED.value)
        )
        last = still_open == 0 and phase.Phase(row.phase) is phase.Phase.OPEN
        if last:
            phase.transition(s, row, phase.Phase.CLOSED, now, actor=actor, signing=office.signing)
    if last:
        pollbook.vacuum_poll_book(office.db.engine)
    return to.value


def all_closed(office: Office) -> bool:
    with office.db.transaction() as s:
        return phase.current(s).phase is not phase.Phase.OPEN


def encrypted_tally(office: Office) -> EncryptedTally:
    """The running per-contest sums as the election core's ``EncryptedTally``."""
    with office.db.transaction() as s:
        return _encrypted_tally(s, office)


def tally_hash(tally: EncryptedTally) -> str:
    """The frozen tally's hash: ``json_hash`` (SHA-256 hex of the canonical JSON) of ``EncryptedTally.to_dict()``,
    i.e. of the record's ``tally/encrypted_tally.json``."""
    return json_hash(tally.to_dict())


def _encrypted_tally(s: Session, office: Office) -> EncryptedTally:
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
    """Polls closed everywhere, nothing awaiting the committee (Art. 6) and no manual sheet pending: only then may
    the tally be frozen. Raises ResultsError saying what is missing (a frozen tally is always ready)."""
    with office.db.transaction() as s:
        if phase.current(s).phase is phase.Phase.OPEN:
            raise ResultsError("polls are not closed at every centre")
        if phase.current(s).phase is not phase.Phase.CLOSED:
            return
        _waiting(s)


def _waiting(s: Session) -> None:
    waiting = outstanding_in(s)
    if waiting:
        raise PhaseConflict(waiting.describe())
    sheets = pending_sheets(s)
    if sheets:
        raise PhaseConflict(f"manual sheet(s) awaiting approval: {', '.join(str(i) for i in sheets)}")


def freeze_tally(office: Office, *, actor: str) -> str:
    """Freeze the encrypted tally (``closed`` -> ``tally_frozen``) in one transaction (``freeze_in``). Returns
    the frozen tally's hash (idempotent once frozen)."""
    with office.db.transaction() as s:
        return freeze_in(s, office, actor=actor)


def freeze_in(s: Session, office: Office, *, actor: str) -> str:
    """The freeze inside the caller's transaction, holding the phase row exclusively: the adjudication gate
    (nothing flagged or provisional awaiting the committee, no pending manual sheet) is checked under that lock,
    so a flagged ballot either committed before (the freeze is refused and names it) or comes after (its own
    phase check waits for this transaction, then refuses it)."""
    row = phase.lock_for_transition(s)
    current = phase.Phase(row.phase)
    if current is phase.Phase.OPEN:
        raise PhaseConflict("polls are not closed at every centre")
    if current is not phase.Phase.CLOSED:
        assert row.tally_hash is not None
        return row.tally_hash
    _waiting(s)
    frozen = tally_hash(_encrypted_tally(s, office))
    phase.transition(
        s, row, phase.Phase.TALLY_FROZEN, office.clock(), actor=actor, signing=office.signing, tally_hash=frozen
    )
    return frozen


def final_tally(office: Office, *, actor: str = "office") -> EncryptedTally:
    """The frozen encrypted tally (frozen now if the election is closed and nothing awaits the committee): what
    the guardians are served as final. Its hash is checked against the one recorded at the freeze."""
    frozen = freeze_tally(office, actor=actor)
    tally = encrypted_tally(office)
    if tally_hash(tally) != frozen:  # only a write around the phase checks could do this: never serve it
        raise ResultsError(f"the encrypted tally no longer has the hash frozen ({frozen}): refusing to serve it")
    return tally


def upload_share(office: Office, data: dict[str, Any], *, actor: str) -> str:
    """Store one guardian's decryption share after checking its proofs against the frozen tally. The first share
    moves the election to ``decrypting``; a share after publication is refused."""
    with office.db.transaction() as s:
        if phase.current(s).phase is phase.Phase.PUBLISHED:
            raise PhaseConflict(phase.PhaseRefused(phase.Write.SHARE_UPLOAD, "results are published").args[0])
    tally = final_tally(office, actor=actor)
    try:
        share = PartialDecryption.from_dict(data)
        verify_share(office.context, tally, share)
    except (DecryptionError, ValueError) as exc:
        raise ResultsError(f"share refused: {exc}") from None
    key = str(share.guardian) if share.missing is None else f"{share.missing}-by-{share.guardian}"
    now = office.clock()
    with office.db.transaction() as s:
        row = phase.lock_for_transition(s)
        reason = phase.refusal(phase.Write.SHARE_UPLOAD, phase.Phase(row.phase), None)
        if reason is not None:
            raise PhaseConflict(phase.PhaseRefused(phase.Write.SHARE_UPLOAD, reason).args[0])
        existing = s.get(GuardianShare, key)
        if existing is None:
            s.add(GuardianShare(guardian_id=key, payload=data, uploaded_by=actor))
        else:
            existing.payload, existing.uploaded_by = data, actor
        audit.append(s, at=now, actor=actor, action="guardian_share.uploaded", details={"share": key})
        if phase.Phase(row.phase) is phase.Phase.TALLY_FROZEN:
            phase.transition(s, row, phase.Phase.DECRYPTING, now, actor=actor, signing=office.signing)
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


def record_chains(office: Office) -> tuple[dict[str, tuple[ChainEntry, ...]], list[Withheld]]:
    """Every kiosk chain as the record publishes it (``kiosk_chains/<kiosk>.json`` through ``write_record``): the
    ONE place that decides what the published chains contain.

    Links are ordered by following previous codes from each chain start; a provisional ballot is a link of its
    kiosk's one chain. Counted cast ballots (provisional ones included) and challenged ballots become entries.
    A withheld link (in a chain, not counted) becomes a ``withheld`` entry at its place (ballot id, code, previous
    code, ballot hash, reason category; no ballot content: docs/election-record.md) when its code re-computes and
    its previous code is the code before it; a refused ballot that is no link of the chain (its code or previous
    code wrong) is left out. All are also returned apart (``in_chain`` says which were written)."""
    with office.db.transaction() as s:
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
        head = genesis_code(office.context.base_hash, kiosk).hex()
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


STATUS_VERIFIED = "verified"
STATUS_NOT_VERIFIED = "not_verified"
STATUS_PROVISIONAL_FAILED = "provisional_verification_failed"
"""``results["status"]``: verified by the independent verifier; NOT VERIFIED (the verifier failed: stored, shown
with that label everywhere, not published); published by an administrator as "provisional, verification failed"
with a reason (``publish_unverified``). See ``central.exports.status_label``."""


def compute_results(office: Office, *, actor: str, out: Path | None = None) -> dict[str, Any]:
    """Decrypt the frozen tally, merge the approved manual sheets (frozen with it), write the record and run the
    independent verifier; store the outcome. Verified: the election moves to ``published`` (audited, head
    signed, ``office/audit_heads.json`` rewritten with it). Not verified: stored as NOT VERIFIED, the election
    stays ``decrypting`` (``publish_unverified`` is the only way on). Refused unless a guardian share was accepted
    (the tally is frozen) or when results are published already. The poll-book tables are rewritten first:
    provisional decisions since the polls closed left old row versions (a sealed identity)."""
    tally = final_tally(office, actor=actor)
    with office.db.transaction() as s:
        try:
            phase.check(s, phase.Write.PUBLICATION)
        except phase.PhaseRefused as exc:
            raise ResultsError(str(exc)) from None
    pollbook.vacuum_poll_book(office.db.engine)
    with office.db.transaction() as s:
        shares = [PartialDecryption.from_dict(r.payload) for r in s.scalars(select(GuardianShare))]
    try:
        plain = decrypt_tally(office.context, office.manifest, tally, shares)
    except DecryptionError as exc:
        raise ResultsError(f"cannot decrypt yet: {exc}") from None
    now = office.clock()
    record_dir = out or office.config.record_dir / now.strftime("%Y%m%dT%H%M%SZ")
    chains, withheld = record_chains(office)
    record = ElectionRecord(
        office.manifest,
        office.context,
        guardians(office),
        chains,
        tally,
        tuple(shares),
        plain,
        pollbook_counts(office),
        not_counted_per_style(withheld),
        kiosks=kiosk_statements(office.db),  # certificates, signed chain closes and last heads (central.chains)
    )
    write_record(record_dir, record)
    write_office_part(office, record_dir)
    verified, output = run_verifier(record_dir)
    results = merge(office, plain)
    results["record_dir"] = str(record_dir)
    results["verified"] = verified
    results["status"] = STATUS_VERIFIED if verified else STATUS_NOT_VERIFIED
    results["tally_hash"] = tally_hash(tally)
    results["withheld_from_chains"] = [w.to_dict() for w in withheld]  # in the record too when in_chain
    with office.db.transaction() as s:
        row = phase.lock_for_transition(s)
        if phase.Phase(row.phase) is not phase.Phase.DECRYPTING:
            raise ResultsError(f"publication refused: the election is {row.phase}")
        s.add(
            PublishedResult(
                computed_at=now, results=results, record_dir=str(record_dir), verified=verified, verifier_output=output
            )
        )
        audit.append(
            s,
            at=now,
            actor=actor,
            action="results.published" if verified else "results.not_verified",
            details={"record_dir": str(record_dir), "verified": verified, "withheld_from_chains": len(withheld)},
        )
        if verified:
            phase.transition(s, row, phase.Phase.PUBLISHED, now, actor=actor, signing=office.signing)
    if verified:
        write_office_part(office, record_dir)
    return results


def publish_unverified(office: Office, reason: str, *, actor: str) -> dict[str, Any]:
    """An administrator publishes the latest results, which the verifier did NOT verify, as "provisional,
    verification failed" with a reason (audited, head signed): the only way such results are published, and
    every output keeps saying NOT VERIFIED."""
    if not reason.strip():
        raise ResultsError("publishing unverified results needs a reason")
    now = office.clock()
    with office.db.transaction() as s:
        row = phase.lock_for_transition(s)
        if phase.Phase(row.phase) is not phase.Phase.DECRYPTING:
            raise ResultsError(f"nothing to publish as provisional: the election is {row.phase}")
        last = s.scalars(select(PublishedResult).order_by(PublishedResult.id.desc()).limit(1)).first()
        if last is None or last.verified:
            raise ResultsError("no unverified results to publish (compute the results first: POST /api/results)")
        results = {**copy.deepcopy(last.results), "status": STATUS_PROVISIONAL_FAILED, "status_reason": reason}
        s.add(
            PublishedResult(
                computed_at=now,
                results=results,
                record_dir=last.record_dir,
                verified=False,
                verifier_output=last.verifier_output,
            )
        )
        audit.append(
            s,
            at=now,
            actor=actor,
            action="results.published_unverified",
            details={"record_dir": last.record_dir, "reason": reason},
        )
        phase.transition(
            s, row, phase.Phase.PUBLISHED, now, actor=actor, signing=office.signing, details={"verified": False}
        )
        record_dir = Path(last.record_dir)
    write_office_part(office, record_dir)
    return results


OFFICE_HEADS = "office/audit_heads.json"
OFFICE_CERTIFICATE = "office/office_certificate.pem"


def write_office_part(office: Office, record_dir: Path) -> None:
    """The record's ``office/`` part: the signed audit heads so far and the office's certificate."""
    with office.db.transaction() as s:
        heads = audit.signed_heads(s)
    (record_dir / "office").mkdir(parents=True, exist_ok=True)
    (record_dir / OFFICE_HEADS).write_text(json.dumps({"heads": heads}, indent=1, sort_keys=True), encoding="utf-8")
    cert = office.signer.certificate_pem if office.signer is not None else ""
    (record_dir / OFFICE_CERTIFICATE).write_text(cert, encoding="ascii")


def merge(office: Office, plain: PlaintextTally) -> dict[str, Any]:
    """Electronic and manual counts per contest, kept apart and summed, with the winners."""
    manual = approved_totals(office)
    contests: dict[str, Any] = {}
    for contest in office.manifest.contests:
        e = plain.contests[contest.id]
        m = manual.get(contest.id)
        total = {c: e.votes.get(c, 0) + (m.votes.get(c, 0) if m else 0) for c in contest.selection_ids}
        elected, tie = winners(contest.seats, {str(c): n for c, n in total.items()})
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
            "elected": elected,
            "tie": tie,
        }
    return {"contests": contests, "pollbook_counts": pollbook_counts(office)}


def latest(office: Office) -> PublishedResult | None:
    """The latest published results, with the committee's lot draws applied to the contests they decide."""
    with office.db.transaction() as s:
        row = s.scalars(select(PublishedResult).order_by(PublishedResult.id.desc()).limit(1)).first()
        draws = list(s.scalars(select(LotDraw))) if row is not None else []
    if row is not None and draws:
        row.results = apply_lot_draws(row.results, draws)
    return row


def apply_lot_draws(published: dict[str, Any], draws: list[LotDraw]) -> dict[str, Any]:
    """A copy of ``published`` where each contest whose tie a recorded draw settles (same tied candidates and
    seats) has the drawn winners elected and its tie marked resolved."""
    out = copy.deepcopy(published)
    for d in draws:
        r = out["contests"].get(d.contest_id)
        tie = r.get("tie") if r else None
        if r is None or not tie or sorted(tie["candidates"]) != sorted(d.tied) or tie["seats"] != d.seats:
            continue
        tie.update(
            resolved=True,
            drawn=list(d.winners),
            recorded_by=d.recorded_by,
            recorded_at=d.recorded_at.isoformat(),
            note=d.note,
            rule=LOT_RULE["en"],
            rule_ar=LOT_RULE["ar"],
        )
        r["elected"] = [*r["elected"], *d.winners]
    return out


def record_lot_draw(office: Office, contest_id: str, drawn: list[str], note: str, *, actor: str) -> dict[str, Any]:
    """Record the outcome of the drawing of lots for the tied last seat(s) of ``contest_id`` (a committee member,
    after results): the winners must be distinct, among the tied candidates, as many as the tied seats. Once per
    contest; audited. Returns the contest's results with the draw applied."""
    current = latest(office)
    if current is None:
        raise ResultsError("no results published yet: lots are drawn for a tie in the published results")
    r = current.results["contests"].get(contest_id)
    if r is None:
        raise LotDrawInvalid(f"unknown contest {contest_id!r}")
    tie = r.get("tie")
    if not tie:
        raise ResultsError(f"contest {contest_id!r} has no tie for the last seat")
    if tie["resolved"]:
        raise ResultsError(f"the lots for contest {contest_id!r} were drawn already")
    if len(set(drawn)) != len(drawn) or len(drawn) != tie["seats"]:
        raise LotDrawInvalid(f"the draw must name {tie['seats']} different candidate(s)")
    outside = [c for c in drawn if c not in tie["candidates"]]
    if outside:
        raise LotDrawInvalid(f"not among the tied candidates ({', '.join(tie['candidates'])}): {', '.join(outside)}")
    if not note.strip():
        raise LotDrawInvalid("the draw needs a note (where, when, witnesses, sheet)")
    now = office.clock()
    try:
        with office.db.transaction() as s:
            s.add(
                LotDraw(
                    contest_id=contest_id,
                    tied=list(tie["candidates"]),
                    winners=list(drawn),
                    seats=int(tie["seats"]),
                    note=note,
                    recorded_by=actor,
                    recorded_at=now,
                    results_id=current.id,
                )
            )
            s.flush()
            audit.append(
                s,
                at=now,
                actor=actor,
                action="results.lot_drawn",
                details={
                    "contest": contest_id,
                    "tied": tie["candidates"],
                    "seats": tie["seats"],
                    "winners": drawn,
                    "note": note,
                    "results_id": current.id,
                },
            )
    except IntegrityError:
        raise ResultsError(f"the lots for contest {contest_id!r} were drawn already") from None
    updated = latest(office)
    assert updated is not None
    return dict(updated.results["contests"][contest_id])


__all__ = [
    "LotDrawInvalid",
    "PhaseConflict",
    "ResultsError",
    "apply_lot_draws",
    "close_centre",
    "compute_results",
    "dt",
    "encrypted_tally",
    "final_tally",
    "freeze_tally",
    "latest",
    "publish_unverified",
    "record_lot_draw",
    "upload_share",
    "winners",
]
