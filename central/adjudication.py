"""The committee's queue (Decision 128/2003 Art. 6: the committee reviews the ballots the machine flagged and
decides on each, recorded on a special sheet) and the rule that results wait for it.

Two kinds of item await the committee:
- **provisional** envelopes the office could not settle by itself (``central.provisional``: the voter had voted
  elsewhere, is not on the roll, the identity envelope is unreadable...), decided by ``provisional.decide``;
- **flagged** ballots: ballots ingest stored but held out of the tally (``BallotStatus.FLAGGED``), today a cast
  ballot whose style belongs to a wilayat the sending kiosk's centre does not serve (a non-unified centre).
  ``decide_ballot`` counts it (its proofs are checked again, it joins the running tally) or does not (it stays
  stored, status ``rejected``: the committee's decision, apart from ``refused`` at ingest, with the committee's
  reason). Either way the decision, its reason and the committee member are appended to the audit log.

``refused`` lists the ballots refused at ingest (proofs, chain, style), with their reasons, for the committee.

``outstanding`` lists what still awaits a decision (and envelopes not yet processed at all); results and
guardians' shares are refused until it is empty, because a later decision changes the encrypted tally.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from central import audit, phase
from central.capabilities import Counting, Records
from central.checker import BallotRejected, CheckRequest
from central.ingest import add_to_tally
from central.models import Ballot, BallotStatus, EnvelopeStatus, Kiosk, ProvisionalEnvelope
from central.provisional import AdjudicationError, Decision, pending

SHOWN = 20  # ids named in an error message; the rest are counted


@dataclass(frozen=True)
class Outstanding:
    """What the committee (or the provisional processing) has still to settle."""

    unprocessed_envelopes: tuple[str, ...]  # received, not yet opened by ``process-provisional``
    envelopes: tuple[str, ...]  # provisional envelopes awaiting the committee
    flagged_ballots: tuple[str, ...]  # ballots flagged at ingest awaiting the committee

    def __bool__(self) -> bool:
        return bool(self.unprocessed_envelopes or self.envelopes or self.flagged_ballots)

    def describe(self) -> str:
        parts = []
        for label, ids in (
            ("provisional envelope(s) awaiting the committee", self.envelopes),
            ("flagged ballot(s) awaiting the committee", self.flagged_ballots),
            ("provisional envelope(s) not yet processed (POST /api/provisional/process)", self.unprocessed_envelopes),
        ):
            if ids:
                more = f" and {len(ids) - SHOWN} more" if len(ids) > SHOWN else ""
                parts.append(f"{len(ids)} {label}: {', '.join(ids[:SHOWN])}{more}")
        return "adjudication pending: " + "; ".join(parts)


def outstanding(office: Records) -> Outstanding:
    with office.db.transaction() as s:
        return outstanding_in(s)


def outstanding_in(s: Session) -> Outstanding:
    """``outstanding`` inside the caller's transaction (the tally's freeze reads it under the phase lock)."""
    envelopes = s.execute(
        select(ProvisionalEnvelope.envelope_id, ProvisionalEnvelope.status)
        .where(ProvisionalEnvelope.status.in_([EnvelopeStatus.RECEIVED, EnvelopeStatus.ADJUDICATION]))
        .order_by(ProvisionalEnvelope.envelope_id)
    ).all()
    flagged = s.scalars(
        select(Ballot.ballot_id).where(Ballot.status == BallotStatus.FLAGGED).order_by(Ballot.ballot_id)
    ).all()
    return Outstanding(
        tuple(e for e, st in envelopes if st is EnvelopeStatus.RECEIVED),
        tuple(e for e, st in envelopes if st is EnvelopeStatus.ADJUDICATION),
        tuple(flagged),
    )


def queue(office: Records) -> list[dict[str, str]]:
    """Every item awaiting the committee: provisional envelopes (no identity shown: the committee opens it at the
    table) and flagged ballots (no content shown: only where it came from and why it was flagged)."""
    items = [{"kind": "provisional", "id": e["envelope_id"], **e} for e in pending(office)]
    with office.db.transaction() as s:
        rows = s.execute(
            select(Ballot.ballot_id, Ballot.kiosk_id, Ballot.style_id, Ballot.reason, Kiosk.centre_id)
            .join(Kiosk, Kiosk.kiosk_id == Ballot.kiosk_id)
            .where(Ballot.status == BallotStatus.FLAGGED)
            .order_by(Ballot.ballot_id)
        ).all()
    items += [
        {
            "kind": "flagged",
            "id": r.ballot_id,
            "ballot_id": r.ballot_id,
            "kiosk_id": r.kiosk_id,
            "centre_id": r.centre_id,
            "ballot_style_id": r.style_id,
            "reason": r.reason or "",
        }
        for r in rows
    ]
    return items


def refused(office: Records) -> list[dict[str, str]]:
    """Ballots refused at ingest (never counted), with where they came from and why; no ballot content."""
    with office.db.transaction() as s:
        rows = s.execute(
            select(Ballot.ballot_id, Ballot.kiosk_id, Ballot.batch_id, Ballot.style_id, Ballot.reason, Kiosk.centre_id)
            .join(Kiosk, Kiosk.kiosk_id == Ballot.kiosk_id)
            .where(Ballot.status == BallotStatus.REFUSED)
            .order_by(Ballot.kiosk_id, Ballot.ballot_id)
        ).all()
    return [
        {
            "ballot_id": r.ballot_id,
            "kiosk_id": r.kiosk_id,
            "centre_id": r.centre_id,
            "batch_id": r.batch_id or "",
            "ballot_style_id": r.style_id,
            "reason": r.reason or "",
        }
        for r in rows
    ]


def decide_ballot(office: Counting, ballot_id: str, decision: Decision, reason: str, *, actor: str) -> BallotStatus:
    """The committee's decision on one flagged ballot: ACCEPT counts it, REJECT keeps it out; logged with its
    reason and the committee member."""
    if not reason.strip():
        raise AdjudicationError("a decision needs a reason")
    now = office.clock()
    with office.db.transaction() as s:
        try:
            phase.check(s, phase.Write.ADJUDICATION)
        except phase.PhaseRefused as exc:
            raise AdjudicationError(str(exc)) from None
        ballot = s.execute(select(Ballot).where(Ballot.ballot_id == ballot_id).with_for_update()).scalar_one_or_none()
        if ballot is None or ballot.status is not BallotStatus.FLAGGED:
            raise AdjudicationError(f"ballot {ballot_id!r} is not awaiting a decision")
        flagged_for = ballot.reason or ""
        if decision is Decision.ACCEPT:
            try:
                checked = office.checker.check(
                    CheckRequest(
                        payload=ballot.payload,
                        kiosk_id=ballot.kiosk_id,
                        genesis=office.checker.genesis(ballot.kiosk_id),
                    )
                )
            except BallotRejected as exc:  # pragma: no cover  (it verified at ingest; kept for a changed checker)
                raise AdjudicationError(f"ballot does not verify: {exc.reason}") from None
            add_to_tally(s, office.checker, [checked])
            s.execute(
                update(Kiosk)
                .where(Kiosk.kiosk_id == ballot.kiosk_id)
                .values(ballots_accepted=Kiosk.ballots_accepted + 1)
            )
            ballot.status = BallotStatus.ACCEPTED
        else:
            ballot.status = BallotStatus.REJECTED
        ballot.reason = f"committee ({decision.value}): {reason}"
        audit.append(
            s,
            at=now,
            actor=actor,
            action="ballot.decided",
            details={"ballot_id": ballot_id, "decision": decision.value, "reason": reason, "flagged_for": flagged_for},
        )
        return ballot.status


__all__ = ["Outstanding", "decide_ballot", "outstanding", "queue", "refused"]
