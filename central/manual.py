"""Manually counted result sheets (Decision 128/2003 Art. 8: a centre that fell back to paper; Art. 9: embassies
and committee members). One committee member enters a sheet, a different one approves it; only approved sheets
are merged into the results, where they are reported separately from the electronic count."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import select

from central import audit
from central.models import ManualSheet, SheetStatus
from central.office import Office
from election.manifest import Candidate, ContestId


class SourceKind(enum.Enum):
    CENTRE = "centre"  # Art. 8
    EMBASSY = "embassy"  # Art. 9
    COMMITTEE = "committee"  # Art. 9: committee members' votes


class SheetError(ValueError):
    """The sheet is refused; the message names the rule it breaks."""


@dataclass(frozen=True)
class SheetIn:
    source_kind: SourceKind
    source_id: str
    contest_id: str
    voters: int
    blank: int
    counts: dict[str, int]


def check_sheet(office: Office, sheet: SheetIn) -> None:
    contest = office.manifest.contests_by_id.get(ContestId(sheet.contest_id))
    if contest is None:
        raise SheetError(f"unknown contest {sheet.contest_id!r}")
    if sheet.source_kind is SourceKind.CENTRE and sheet.source_id not in office.manifest.centres_by_id:
        raise SheetError(f"unknown centre {sheet.source_id!r}")
    if sheet.voters < 0 or sheet.blank < 0 or any(v < 0 for v in sheet.counts.values()):
        raise SheetError("counts must not be negative")
    candidates: dict[str, Candidate] = {c.id: c for c in contest.candidates}
    for cid in sheet.counts:
        if cid not in candidates:
            raise SheetError(f"candidate {cid!r} is not in contest {contest.id!r}")
        if candidates[cid].withdrawn and sheet.counts[cid] > 0:
            raise SheetError(f"candidate {cid!r} has withdrawn: votes for them are invalid (Art. 7)")
    total = sum(sheet.counts.values())
    if total > sheet.voters * contest.seats:
        raise SheetError(f"{total} votes exceed {sheet.voters} voters x {contest.seats} seat(s)")
    if sheet.blank > sheet.voters:
        raise SheetError("more blank ballots than voters")


def enter(office: Office, sheet: SheetIn, *, actor: str) -> int:
    check_sheet(office, sheet)
    with office.db.transaction() as s:
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
        audit.append(
            s,
            at=office.clock(),
            actor=actor,
            action="manual_sheet.entered",
            details={
                "sheet": row.id,
                "source": f"{sheet.source_kind.value}:{sheet.source_id}",
                "contest": sheet.contest_id,
                "voters": sheet.voters,
                "counts": sheet.counts,
            },
        )
        return row.id


def approve(office: Office, sheet_id: int, *, actor: str) -> None:
    with office.db.transaction() as s:
        row = s.execute(select(ManualSheet).where(ManualSheet.id == sheet_id).with_for_update()).scalar_one_or_none()
        if row is None or row.status is not SheetStatus.PENDING:
            raise SheetError(f"sheet {sheet_id} is not awaiting approval")
        if row.entered_by == actor:
            raise SheetError("a sheet must be approved by a committee member other than the one who entered it")
        clash = s.scalar(
            select(ManualSheet.id).where(
                ManualSheet.source_kind == row.source_kind,
                ManualSheet.source_id == row.source_id,
                ManualSheet.contest_id == row.contest_id,
                ManualSheet.status == SheetStatus.APPROVED,
            )
        )
        if clash is not None:
            raise SheetError(f"an approved sheet for this source and contest exists already (sheet {clash})")
        row.status, row.approved_by = SheetStatus.APPROVED, actor
        audit.append(s, at=office.clock(), actor=actor, action="manual_sheet.approved", details={"sheet": sheet_id})


@dataclass(frozen=True)
class ManualTotals:
    votes: dict[str, int]
    blank: int
    voters: int
    sources: tuple[str, ...]


def approved_totals(office: Office) -> dict[str, ManualTotals]:
    """Approved sheets summed per contest."""
    out: dict[str, ManualTotals] = {}
    with office.db.transaction() as s:
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
