"""The election's lifecycle at the office: one state machine, kept in the database and checked by every write.

Election phases (``Phase``), in order; each transition is audited and the audit head signed (``transition``):

- ``open``: polls open. Each centre has its own phase (``CentrePhase``): ``open``; ``closing`` (the close was
  ordered: no new check-in, a voter already checked in may still finish); ``closed``. A voted mark needs the
  lock of a check-in made before the close, and is accepted until the freeze, like the kiosk's late batch within
  its signed close (a voter whose ballot is counted must be marked, or the turnout check fails).
- ``closed``: every centre is closed (entered automatically with the last centre's close). The committee still
  adjudicates, manual sheets are entered and approved, late batches and envelopes still arrive (the ingest
  accepts a ballot after its centre's close only within the kiosk's signed close).
- ``tally_frozen``: nothing awaits the committee and no manual sheet is pending; the encrypted tally and the
  approved manual sheets are final. Its hash (``tally_hash``: ``json_hash`` of ``EncryptedTally.to_dict()``, the
  record's ``tally/encrypted_tally.json``) is recorded and published in the signed head. No write that changes
  the count is accepted from here on.
- ``decrypting``: at least one guardian's share was accepted.
- ``published``: results published (verified, or by an administrator as "provisional, verification failed").

Which write is allowed in which phase is the pure function ``refusal``. ``check`` runs it inside the caller's
transaction after locking the phase row: FOR KEY SHARE on PostgreSQL (writes run side by side; a transition, which
locks the row FOR UPDATE, waits for them and they wait for it; a centre's close is such a transition, so the
centre's phase is read in the same statement without a lock of its own), and on SQLite the database's write
lock (taken at once with a no-op UPDATE, so the phase read is the one the transaction commits against).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import assert_never

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from central import audit
from central.models import CentreStatus, ElectionPhaseRow

ROW_ID = 1


class Phase(enum.Enum):
    OPEN = "open"
    CLOSED = "closed"
    TALLY_FROZEN = "tally_frozen"
    DECRYPTING = "decrypting"
    PUBLISHED = "published"


ORDER: tuple[Phase, ...] = tuple(Phase)


class CentrePhase(enum.Enum):
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


class Write(enum.Enum):
    """Every kind of write that depends on the election's phase."""

    CHECK_IN = "check-in"
    VOTED_MARK = "voted mark"
    BATCH = "ballot batch"
    PROVISIONAL = "provisional envelope"
    ADJUDICATION = "adjudication"
    MANUAL_SHEET = "manual sheet"
    SHARE_UPLOAD = "guardian share"
    PUBLICATION = "publication"


class PhaseRefused(Exception):
    """The write is not allowed in the election's (or the centre's) current phase; the message says why. The API
    answers 409 ``conflict`` with this message."""

    def __init__(self, write: Write, reason: str) -> None:
        super().__init__(f"{write.value} refused: {reason}")
        self.write = write
        self.reason = reason


@dataclass(frozen=True)
class PhaseView:
    phase: Phase
    tally_hash: str | None
    centre: CentrePhase | None = None


_FROZEN = "the tally is frozen (phase {phase}): nothing can change the count any more"


def refusal(write: Write, phase: Phase, centre: CentrePhase | None) -> str | None:
    """Why ``write`` is refused in ``phase`` (and, for the kiosk's writes, its centre's phase), or None."""
    counting = phase in (Phase.OPEN, Phase.CLOSED)
    match write:
        case Write.CHECK_IN:
            if phase is not Phase.OPEN or centre is not CentrePhase.OPEN:
                return f"polls are closed at this centre (centre {_name(centre)}, election {phase.value})"
            return None
        case Write.VOTED_MARK:
            # Only a voter checked in before the close holds a lock (check-ins stop at "closing"); their ballot is
            # accepted within the kiosk's signed close, so their mark is too, until the count is frozen.
            return None if counting else _FROZEN.format(phase=phase.value)
        case Write.BATCH | Write.PROVISIONAL | Write.ADJUDICATION | Write.MANUAL_SHEET:
            return None if counting else _FROZEN.format(phase=phase.value)
        case Write.SHARE_UPLOAD:
            if phase in (Phase.TALLY_FROZEN, Phase.DECRYPTING):
                return None
            if counting:
                return f"the tally is not frozen yet (phase {phase.value})"
            return f"results are published (phase {phase.value})"
        case Write.PUBLICATION:
            if phase is Phase.DECRYPTING:
                return None
            if phase is Phase.PUBLISHED:
                return "results are published already"
            return f"no guardian share was accepted yet (phase {phase.value})"
        case _:
            assert_never(write)


def _name(centre: CentrePhase | None) -> str:
    return centre.value if centre is not None else "unknown"


# The check runs in every kiosk write: one constant statement (no statement built per call).
_CHECK = (
    "SELECT e.phase, e.tally_hash, (SELECT c.phase FROM centre_status c WHERE c.centre_id = :centre) "
    "FROM election_phase e WHERE e.id = :id"
)
_CHECK_POSTGRES = text(_CHECK + " FOR KEY SHARE OF e")
_CHECK_SQLITE = text(_CHECK)
_SQLITE_WRITE_LOCK = text("UPDATE election_phase SET id = id WHERE id = :id")


def _lock(s: Session) -> ElectionPhaseRow:
    if s.get_bind().dialect.name == "sqlite":
        s.execute(_SQLITE_WRITE_LOCK, {"id": ROW_ID})  # the write lock, now
    query = select(ElectionPhaseRow).where(ElectionPhaseRow.id == ROW_ID).with_for_update()
    row = s.execute(query).scalar_one_or_none()
    if row is None:
        raise RuntimeError("the election_phase row is missing: run Office.prepare() (python -m central init-db)")
    return row


def ensure_row(s: Session, now: dt.datetime, signing: Signing) -> None:
    """Create the phase row (``open``) if it does not exist (``Office.prepare``): audited, its head signed."""
    if s.get(ElectionPhaseRow, ROW_ID) is None:
        s.add(ElectionPhaseRow(id=ROW_ID, phase=Phase.OPEN.value, changed_at=now))
        s.flush()
        audit.append(s, at=now, actor="office", action="phase.changed", details={"from": None, "to": "open"})
        sign_current_head(s, signing, Phase.OPEN, None)


def check(s: Session, write: Write, *, centre_id: str | None = None) -> PhaseView:
    """Lock the phase row (shared) and refuse ``write`` if the phase does not allow it (``PhaseRefused``). For the
    kiosk's writes pass the kiosk's ``centre_id``: its centre's phase is read in the same statement (a centre's
    close locks the phase row exclusively first, so it waits for this transaction and the next write sees it).
    Call it first in the write's transaction: one statement, one round trip."""
    sqlite = s.get_bind().dialect.name == "sqlite"
    if sqlite:
        s.execute(_SQLITE_WRITE_LOCK, {"id": ROW_ID})  # the write lock, now
    query = _CHECK_SQLITE if sqlite else _CHECK_POSTGRES
    found = s.execute(query, {"id": ROW_ID, "centre": centre_id}).one_or_none()
    if found is None:
        raise RuntimeError("the election_phase row is missing: run Office.prepare() (python -m central init-db)")
    phase, tally_hash, centre_value = found
    centre = CentrePhase(centre_value) if centre_value is not None else None
    reason = refusal(write, Phase(phase), centre)
    if reason is not None:
        raise PhaseRefused(write, reason)
    return PhaseView(Phase(phase), tally_hash, centre)


def current(s: Session) -> PhaseView:
    """The phase without a lock (for display)."""
    row = s.get(ElectionPhaseRow, ROW_ID)
    if row is None:
        return PhaseView(Phase.OPEN, None)
    return PhaseView(Phase(row.phase), row.tally_hash)


class TransitionRefused(Exception):
    """The transition is not allowed from the current phase (or its condition does not hold)."""


@dataclass(frozen=True)
class Transition:
    before: Phase
    after: Phase
    at: dt.datetime
    tally_hash: str | None


def lock_for_transition(s: Session) -> ElectionPhaseRow:
    """Lock the phase row exclusively: every write of every kind waits until this transaction ends."""
    return _lock(s)


def advance(
    s: Session, row: ElectionPhaseRow, to: Phase, now: dt.datetime, *, tally_hash: str | None = None
) -> Transition:
    """Move the (locked) phase row one step forward to ``to``; ``transition`` audits it and signs the head."""
    before = Phase(row.phase)
    if ORDER.index(to) != ORDER.index(before) + 1:
        raise TransitionRefused(f"the election cannot go from {before.value} to {to.value}")
    row.phase, row.changed_at = to.value, now
    if to is Phase.TALLY_FROZEN:
        if tally_hash is None:
            raise TransitionRefused("freezing the tally needs its hash")
        row.tally_hash, row.frozen_at = tally_hash, now
    s.flush()
    return Transition(before, to, now, row.tally_hash)


@dataclass(frozen=True)
class Signing:
    """What a transition's signed head names: the election, and the office's signer (None: unsigned)."""

    election_id: str
    manifest_hash: str
    signer: audit.OfficeSigner | None


def transition(
    s: Session,
    row: ElectionPhaseRow,
    to: Phase,
    now: dt.datetime,
    *,
    actor: str,
    signing: Signing,
    details: dict[str, object] | None = None,
    tally_hash: str | None = None,
) -> Transition:
    """Advance the locked phase row, append ``phase.changed`` to the audit log and sign the new audit head, all in
    the caller's transaction (the head is published in ``office/audit_heads.json``)."""
    t = advance(s, row, to, now, tally_hash=tally_hash)
    audit.append(
        s,
        at=now,
        actor=actor,
        action="phase.changed",
        details={"from": t.before.value, "to": t.after.value, "tally_hash": t.tally_hash, **(details or {})},
    )
    sign_current_head(s, signing, to, t.tally_hash)
    return t


def sign_current_head(s: Session, signing: Signing, phase: Phase, tally_hash: str | None) -> None:
    statement = audit.head_statement(
        s,
        election_id=signing.election_id,
        manifest_hash=signing.manifest_hash,
        phase=phase.value,
        tally_hash=tally_hash,
    )
    audit.sign_head(s, signing.signer, statement)


def close_centre_row(s: Session, centre_id: str, to: CentrePhase) -> tuple[CentreStatus, CentrePhase]:
    """Move a centre (row locked FOR UPDATE) forward to ``to`` (open -> closing -> closed; a step may be skipped,
    never undone). Returns the row and the phase it had."""
    row = s.execute(
        select(CentreStatus).where(CentreStatus.centre_id == centre_id).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        raise TransitionRefused(f"unknown centre {centre_id!r}")
    before = CentrePhase(row.phase)
    order = list(CentrePhase)
    if order.index(to) < order.index(before):
        raise TransitionRefused(f"centre {centre_id!r} is {before.value}: it cannot go back to {to.value}")
    row.phase = to.value
    return row, before


__all__ = [
    "ORDER",
    "CentrePhase",
    "Phase",
    "PhaseRefused",
    "PhaseView",
    "Signing",
    "Transition",
    "TransitionRefused",
    "Write",
    "advance",
    "check",
    "current",
    "ensure_row",
    "lock_for_transition",
    "refusal",
    "sign_current_head",
    "transition",
]
