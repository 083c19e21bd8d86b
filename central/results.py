"""Results: the frozen tally decrypted from the guardians' shares (every share's proofs checked), the approved
manual sheets merged (labelled), the record written (``central.record_writer``) and checked by the independent
verifier (``python -m election.verify <dir>``, a separate process); the outcome stored and audited; publication
of unverified results only by an administrator with a reason; ties for the last seat and the committee's lot
draws (Royal Decree 54/2023, Art. 44).

Closing the polls and the freeze are ``central.closing``; the guardians' shares ``central.ceremony``.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from central import audit, phase, pollbook, record_writer
from central.capabilities import Publishing, Records
from central.ceremony import guardians
from central.chains import kiosk_statements
from central.closing import final_tally, tally_hash
from central.db import Database
from central.errors import LotDrawInvalid, PhaseConflict, ResultsError
from central.manual import ManualTotals, approved_totals
from central.models import GuardianShare, LotDraw, PublishedResult
from central.record_writer import (
    not_counted_per_style,
    pollbook_counts,
    record_chains,
    write_office_part,
)
from election.decryption import DecryptionError, PartialDecryption, PlaintextTally, decrypt_tally
from election.manifest import Manifest
from election.record import ElectionRecord, write_record

__all__ = ["LotDrawInvalid", "PhaseConflict", "ResultsError"]  # re-exported: the routes catch them as results.*


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


STATUS_VERIFIED = "verified"
STATUS_NOT_VERIFIED = "not_verified"
STATUS_PROVISIONAL_FAILED = "provisional_verification_failed"
"""``results["status"]``: verified by the independent verifier; NOT VERIFIED (the verifier failed: stored, shown
with that label everywhere, not published); published by an administrator as "provisional, verification failed"
with a reason (``publish_unverified``). See ``central.exports.status_label``."""


def compute_results(office: Publishing, *, actor: str, out: Path | None = None) -> dict[str, Any]:
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
    record_dir = out or office.record_dir / now.strftime("%Y%m%dT%H%M%SZ")
    chains, withheld = record_chains(office.db, office.context.base_hash)
    record = ElectionRecord(
        office.manifest,
        office.context,
        guardians(office.election_dir),
        chains,
        tally,
        tuple(shares),
        plain,
        pollbook_counts(office.db, office.manifest),
        not_counted_per_style(withheld),
        kiosks=kiosk_statements(office.db),  # certificates, signed chain closes and last heads (central.chains)
    )
    write_record(record_dir, record)
    record_writer.write_files(record_dir, record_writer.outside_parts(office.election_dir, office.manifest))
    write_office_part(office.db, office.signer, record_dir)
    key = office.election_dir / record_writer.COMMISSION_KEY_FILE  # used when the office holds it
    verified, output = record_writer.run_verifier(record_dir, key)  # looked up here: tests stand in a failing one
    results = merge(office.manifest, plain, approved_totals(office.db), pollbook_counts(office.db, office.manifest))
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
        write_office_part(office.db, office.signer, record_dir)
    return results


def publish_unverified(office: Publishing, reason: str, *, actor: str) -> dict[str, Any]:
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
    write_office_part(office.db, office.signer, record_dir)
    return results


def merge(
    manifest: Manifest, plain: PlaintextTally, manual: dict[str, ManualTotals], counts: dict[str, int]
) -> dict[str, Any]:
    """Electronic and manual counts per contest (``manual``: the approved sheets' totals), kept apart and summed,
    with the winners; ``counts``: the poll book's voted counts per style."""
    contests: dict[str, Any] = {}
    for contest in manifest.contests:
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
    return {"contests": contests, "pollbook_counts": counts}


def latest(db: Database) -> PublishedResult | None:
    """The latest published results, with the committee's lot draws applied to the contests they decide."""
    with db.transaction() as s:
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


def record_lot_draw(office: Records, contest_id: str, drawn: list[str], note: str, *, actor: str) -> dict[str, Any]:
    """Record the outcome of the drawing of lots for the tied last seat(s) of ``contest_id`` (a committee member,
    after results): the winners must be distinct, among the tied candidates, as many as the tied seats. Once per
    contest; audited. Returns the contest's results with the draw applied."""
    current = latest(office.db)
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
    updated = latest(office.db)
    assert updated is not None
    return dict(updated.results["contests"][contest_id])
