"""Manually counted result sheets (Decision 128/2003 Art. 8: a centre that fell back to paper; Art. 9: embassies
and committee members). One committee member enters a sheet, a different one approves it; only approved sheets
are merged into the results, where they are reported separately from the electronic count."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import assert_never

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from central import audit, phase
from central.capabilities import ManualDesk
from central.db import Database
from central.models import CentreStatus, ManualSheet, SheetStatus
from election.manifest import Candidate, CentreId, Contest, ContestId


class SourceKind(enum.Enum):
    CENTRE = "centre"  # Art. 8
    EMBASSY = "embassy"  # Art. 9
    COMMITTEE = "committee"  # Art. 9: committee members' votes


class SheetError(ValueError):
    """The sheet is refused; the message names the rule it breaks (HTTP 422)."""


class SheetConflict(SheetError):
    """The sheet cannot be entered or decided in the current state (another sheet pending or approved for the
    source and contest, not pending, the same member, a phase that no longer accepts sheets): HTTP 409."""


@dataclass(frozen=True)
class SheetIn:
    source_kind: SourceKind
    source_id: str
    contest_id: str
    voters: int
    blank: int
    counts: dict[str, int]


def entitlement(office: ManualDesk, s: Session, kind: SourceKind, source_id: str, contest: Contest) -> str | None:
    """Why ``source_id`` may not send a sheet for ``contest`` (None: it may).

    - a centre (Art. 8): in the manifest, switched to paper (closed with ``manual``) and serving the contest's
      wilayat;
    - an embassy (Art. 9): one of the embassies the office's configuration lists (``[manual] embassies``); its
      voters abroad vote in their own wilayat's contests, so any contest;
    - the committee members' own votes (Art. 9b): ``source_id`` is the centre whose committee it is, which must
      serve the contest's wilayat.
    """
    match kind:
        case SourceKind.CENTRE:
            if source_id not in office.manifest.centres_by_id:
                return f"unknown centre {source_id!r}"
            status = s.get(CentreStatus, source_id)
            if status is None or not status.manual:
                return f"centre {source_id!r} was not switched to the manual method (Art. 8): close it with manual"
            if not office.manifest.centre_serves(CentreId(source_id), contest.wilayat):
                return f"centre {source_id!r} does not serve wilayat {contest.wilayat} of contest {contest.id!r}"
            return None
        case SourceKind.EMBASSY:
            if source_id not in office.embassies:
                return f"{source_id!r} is not an embassy this office accepts sheets from ([manual] embassies)"
            return None
        case SourceKind.COMMITTEE:
            if source_id not in office.manifest.centres_by_id:
                return f"unknown centre {source_id!r} (a committee sheet names the committee's centre)"
            if not office.manifest.centre_serves(CentreId(source_id), contest.wilayat):
                return f"the committee of centre {source_id!r} does not vote in wilayat {contest.wilayat}"
            return None
        case _:
            assert_never(kind)


def check_sheet(office: ManualDesk, sheet: SheetIn) -> Contest:
    """The sheet's own consistency: known contest and candidates, no votes for a withdrawn candidate, no
    negatives, blank ballots <= voters, votes <= (voters - blank) x seats (a non-blank ballot marks at most
    ``seats`` candidates). Returns the contest."""
    contest = office.manifest.contests_by_id.get(ContestId(sheet.contest_id))
    if contest is None:
        raise SheetError(f"unknown contest {sheet.contest_id!r}")
    if sheet.voters < 0 or sheet.blank < 0 or any(v < 0 for v in sheet.counts.values()):
        raise SheetError("counts must not be negative")
    candidates: dict[str, Candidate] = {c.id: c for c in contest.candidates}
    for cid in sheet.counts:
        if cid not in candidates:
            raise SheetError(f"candidate {cid!r} is not in contest {contest.id!r}")
        if candidates[cid].withdrawn and sheet.counts[cid] > 0:
            raise SheetError(f"candidate {cid!r} has withdrawn: votes for them are invalid (Art. 7)")
    if sheet.blank > sheet.voters:
        raise SheetError("more blank ballots than voters")
    total = sum(sheet.counts.values())
    marked = sheet.voters - sheet.blank
    if total > marked * contest.seats:
        raise SheetError(
            f"{total} votes exceed {marked} non-blank ballot(s) x {contest.seats} seat(s) "
            f"({sheet.voters} voters, {sheet.blank} blank)"
        )
    return contest


def _phase(s: Session) -> None:
    try:
        phase.check(s, phase.Write.MANUAL_SHEET)
    except phase.PhaseRefused as exc:
        raise SheetConflict(str(exc)) from None


def _live(s: Session, kind: str, source_id: str, contest_id: str) -> ManualSheet | None:
    return s.scalars(
        select(ManualSheet)
        .where(
            ManualSheet.source_kind == kind,
            ManualSheet.source_id == source_id,
            ManualSheet.contest_id == contest_id,
            ManualSheet.status.in_([SheetStatus.PENDING, SheetStatus.APPROVED]),
        )
        .with_for_update()
    ).first()


def enter(office: ManualDesk, sheet: SheetIn, *, actor: str, replaces: int | None = None) -> int:
    """Enter a sheet (pending until another committee member approves it). ``replaces``: the pending sheet for
    the same source and contest that this corrected one replaces (marked ``replaced``); without it, a pending or
    approved sheet for the source and contest is a conflict."""
    contest = check_sheet(office, sheet)
    now = office.clock()
    try:
        with office.db.transaction() as s:
            _phase(s)
            why = entitlement(office, s, sheet.source_kind, sheet.source_id, contest)
            if why is not None:
                raise SheetError(f"source not entitled to this contest: {why}")
            live = _live(s, sheet.source_kind.value, sheet.source_id, sheet.contest_id)
            if live is not None and live.status is SheetStatus.APPROVED:
                raise SheetConflict(f"sheet {live.id} for this source and contest is approved already")
            if live is not None and live.id != replaces:
                raise SheetConflict(
                    f"sheet {live.id} for this source and contest is pending: withdraw or reject it, or enter the "
                    f"corrected sheet with replaces={live.id}"
                )
            if replaces is not None and live is None:
                raise SheetConflict(f"sheet {replaces} is not the pending sheet of this source and contest")
            if live is not None:
                live.status = SheetStatus.REPLACED
                s.flush()
            row = ManualSheet(
                source_kind=sheet.source_kind.value,
                source_id=sheet.source_id,
                contest_id=sheet.contest_id,
                voters=sheet.voters,
                blank=sheet.blank,
                counts=dict(sheet.counts),
                status=SheetStatus.PENDING,
                entered_by=actor,
            )
            s.add(row)
            s.flush()
            if live is not None:
                live.replaced_by = row.id
            audit.append(
                s,
                at=now,
                actor=actor,
                action="manual_sheet.entered",
                details={
                    "sheet": row.id,
                    "source": f"{sheet.source_kind.value}:{sheet.source_id}",
                    "contest": sheet.contest_id,
                    "voters": sheet.voters,
                    "blank": sheet.blank,
                    "counts": sheet.counts,
                    "replaces": replaces,
                },
            )
            return row.id
    except IntegrityError:  # another sheet for the source and contest went live on another connection just now
        raise SheetConflict("another sheet for this source and contest was entered at the same moment") from None


def _pending(s: Session, sheet_id: int) -> ManualSheet:
    row = s.execute(select(ManualSheet).where(ManualSheet.id == sheet_id).with_for_update()).scalar_one_or_none()
    if row is None or row.status is not SheetStatus.PENDING:
        raise SheetConflict(f"sheet {sheet_id} is not awaiting approval")
    return row


def approve(office: ManualDesk, sheet_id: int, *, actor: str) -> None:
    with office.db.transaction() as s:
        _phase(s)
        row = _pending(s, sheet_id)
        if row.entered_by == actor:
            raise SheetConflict("a sheet must be approved by a committee member other than the one who entered it")
        contest = office.manifest.contests_by_id[ContestId(row.contest_id)]
        why = entitlement(office, s, SourceKind(row.source_kind), row.source_id, contest)
        if why is not None:
            raise SheetError(f"source not entitled to this contest: {why}")
        row.status, row.approved_by = SheetStatus.APPROVED, actor
        audit.append(s, at=office.clock(), actor=actor, action="manual_sheet.approved", details={"sheet": sheet_id})


def withdraw(office: ManualDesk, sheet_id: int, reason: str, *, actor: str) -> None:
    """The member who entered a pending sheet withdraws it, with a reason (audited)."""
    _decide(office, sheet_id, reason, actor=actor, withdraw=True)


def reject(office: ManualDesk, sheet_id: int, reason: str, *, actor: str) -> None:
    """Another committee member rejects a pending sheet, with a reason (audited)."""
    _decide(office, sheet_id, reason, actor=actor, withdraw=False)


def _decide(office: ManualDesk, sheet_id: int, reason: str, *, actor: str, withdraw: bool) -> None:
    if not reason.strip():
        raise SheetError("a reason is required")
    with office.db.transaction() as s:
        _phase(s)
        row = _pending(s, sheet_id)
        if withdraw and row.entered_by != actor:
            raise SheetConflict("only the committee member who entered a sheet may withdraw it (others reject it)")
        if not withdraw and row.entered_by == actor:
            raise SheetConflict("the member who entered a sheet withdraws it; another member rejects it")
        row.status = SheetStatus.WITHDRAWN if withdraw else SheetStatus.REJECTED
        row.reason, row.approved_by = reason, actor
        audit.append(
            s,
            at=office.clock(),
            actor=actor,
            action="manual_sheet.withdrawn" if withdraw else "manual_sheet.rejected",
            details={"sheet": sheet_id, "reason": reason},
        )


def pending_sheets(s: Session) -> list[int]:
    """Ids of the sheets awaiting approval (the tally is not frozen while there is one)."""
    return list(s.scalars(select(ManualSheet.id).where(ManualSheet.status == SheetStatus.PENDING)))


@dataclass(frozen=True)
class ManualTotals:
    votes: dict[str, int]
    blank: int
    voters: int
    sources: tuple[str, ...]


def approved_totals(db: Database) -> dict[str, ManualTotals]:
    """Approved sheets summed per contest."""
    out: dict[str, ManualTotals] = {}
    with db.transaction() as s:
        for row in s.scalars(
            select(ManualSheet).where(ManualSheet.status == SheetStatus.APPROVED).order_by(ManualSheet.id)
        ):
            prev = out.get(row.contest_id, ManualTotals({}, 0, 0, ()))
            votes = dict(prev.votes)
            for cid, n in row.counts.items():
                votes[cid] = votes.get(cid, 0) + int(n)
            out[row.contest_id] = ManualTotals(
                votes,
                prev.blank + row.blank,
                prev.voters + row.voters,
                (*prev.sources, f"{row.source_kind}:{row.source_id}"),
            )
    return out
