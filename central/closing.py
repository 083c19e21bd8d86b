"""Closing the polls and freezing the tally: centres close (``closing`` then ``closed``; the last one closes the
election), the running encrypted tally, the adjudication gate, and the freeze (``closed`` -> ``tally_frozen``) whose
hash the guardians and the record are held to."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central import audit, phase, pollbook
from central.adjudication import outstanding_in
from central.capabilities import ElectionRecords, Records
from central.errors import PhaseConflict, ResultsError
from central.manual import pending_sheets
from central.models import Ballot, BallotStatus, CentreStatus, TallyState
from election.ballot import BLANK_LABEL
from election.canonical import json_hash
from election.elgamal import Ciphertext
from election.manifest import BallotStyleId, ContestId, Manifest
from election.tally import EncryptedTally, ballot_ids_hash


def close_centre(
    office: ElectionRecords, centre_id: str, *, actor: str, manual: bool = False, final: bool = True
) -> str:
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


def encrypted_tally(office: ElectionRecords) -> EncryptedTally:
    """The running per-contest sums as the election core's ``EncryptedTally``."""
    with office.db.transaction() as s:
        return tally_in(s, office.manifest, office.context.base_hash)


def tally_hash(tally: EncryptedTally) -> str:
    """The frozen tally's hash: ``json_hash`` (SHA-256 hex of the canonical JSON) of ``EncryptedTally.to_dict()``,
    i.e. of the record's ``tally/encrypted_tally.json``."""
    return json_hash(tally.to_dict())


def tally_in(s: Session, manifest: Manifest, base_hash: bytes) -> EncryptedTally:
    """The running per-contest sums, read in the caller's transaction, as an ``EncryptedTally``."""
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
    for contest in manifest.contests:
        state = rows[contest.id].state
        row: dict[str, Ciphertext] = {
            c: Ciphertext.from_dict(state["selections"][c], aggregate=True) for c in contest.selection_ids
        }
        row[BLANK_LABEL] = Ciphertext.from_dict(state["blank"], aggregate=True)
        contests[contest.id], counts[contest.id] = row, int(state["ballots"])
    return EncryptedTally(
        base_hash=base_hash,
        contests=contests,
        ballots_per_contest=counts,
        ballots_per_style={BallotStyleId(s.id): int(per_style.get(s.id, 0)) for s in manifest.ballot_styles},
        cast_ballot_ids_hash=ballot_ids_hash(cast_ids),
    )


def ready_for_counting(office: Records) -> None:
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


def freeze_tally(office: ElectionRecords, *, actor: str) -> str:
    """Freeze the encrypted tally (``closed`` -> ``tally_frozen``) in one transaction (``freeze_in``). Returns
    the frozen tally's hash (idempotent once frozen)."""
    with office.db.transaction() as s:
        return freeze_in(s, office, actor=actor)


def freeze_in(s: Session, office: ElectionRecords, *, actor: str) -> str:
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
    frozen = tally_hash(tally_in(s, office.manifest, office.context.base_hash))
    phase.transition(
        s, row, phase.Phase.TALLY_FROZEN, office.clock(), actor=actor, signing=office.signing, tally_hash=frozen
    )
    return frozen


def final_tally(office: ElectionRecords, *, actor: str = "office") -> EncryptedTally:
    """The frozen encrypted tally (frozen now if the election is closed and nothing awaits the committee): what
    the guardians are served as final. Its hash is checked against the one recorded at the freeze."""
    frozen = freeze_tally(office, actor=actor)
    tally = encrypted_tally(office)
    if tally_hash(tally) != frozen:  # only a write around the phase checks could do this: never serve it
        raise ResultsError(f"the encrypted tally no longer has the hash frozen ({frozen}): refusing to serve it")
    return tally
