"""Provisional ballots: cast while a kiosk could not get a regular check-in (Decision 128/2003 Art. 6).

1. ``receive_envelope``: origin and signature as for batches; dedup by ``envelope_id``; the sealed identity
   and the encrypted ballot are stored apart from the tally.
2. ``process_envelopes`` (the office holds the X25519 key): open the identity envelope, check it is bound to
   this ballot (``ballot_hash``) and kiosk, verify the ballot's proofs. If the voter had not voted anywhere,
   mark them voted and add the ballot to the tally (COUNTED); otherwise (voted or checked in elsewhere, not on
   the roll, ineligible) the envelope goes to the committee (ADJUDICATION). A ballot that does not verify is
   REJECTED.
3. ``decide``: a committee member accepts (ballot to the tally) or rejects, with a reason; logged.
Whenever an envelope is decided (automatically or by the committee) its sealed identity is erased, so no record
links the voter to the ballot afterwards.

Chain: a provisional ballot's confirmation code is computed like any other (genesis, kiosk, ballot hash); it
leaves at once in its envelope, and the kiosk's next sealed batch links it (``BallotBatch.provisional_codes``), so
its code is in that batch's root; ingest marks the envelope linked by that batch (``central.ingest.LINKED_BY``) and
the published record lists the ballot in that batch: cast when counted, withheld when not.
"""

from __future__ import annotations

import base64
import enum
import hashlib

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, SealedBox
from sqlalchemy import select
from sqlalchemy.orm import Session

from central import audit, phase, pollbook
from central.capabilities import Counting, ElectionRecords, ProvisionalDesk, Records
from central.checker import BallotRejected, CheckedBallot, CheckRequest
from central.ingest import IngestRefused, add_to_tally, check_origin, refuse
from central.models import Ballot, BallotStatus, EnvelopeStatus, ProvisionalEnvelope, Voter, VoterState
from election.manifest import CentreId, KioskId, WilayatCode
from sync.protocol import (
    BatchBallot,
    ErrorCode,
    IdentityEnvelopeContent,
    ProtocolError,
    ProvisionalSubmission,
    ballot_hash,
    parse_message,
    signing_bytes,
    to_wire,
)


class Decision(enum.Enum):
    ACCEPT = "accept"
    REJECT = "reject"


class AdjudicationError(ValueError):
    """The decision cannot be recorded (unknown envelope, already decided, missing reason)."""


def receive_envelope(office: ElectionRecords, sub: ProvisionalSubmission) -> bool:
    """Store a provisional submission; returns True when it is a retry of one already held."""
    now = office.clock()
    body = to_wire(sub)
    digest = hashlib.sha256(body).hexdigest()
    kiosk = office.manifest.kiosks_by_id.get(KioskId(sub.kiosk_id))
    if kiosk is None:
        raise IngestRefused(ErrorCode.UNKNOWN_KIOSK, f"kiosk {sub.kiosk_id!r} is not in the manifest")
    with office.db.transaction() as s:
        have = s.get(ProvisionalEnvelope, sub.envelope_id)
        if have is not None and have.ballot.get("_submission_sha256") == digest:
            return True
    if have is not None:
        refuse(
            office.db,
            kind="provisional",
            kiosk_id=sub.kiosk_id,
            item_id=sub.envelope_id,
            reason="envelope id reused with different content",
            body=body,
            now=now,
        )
        raise IngestRefused(ErrorCode.CONFLICT, "envelope id reused with different content")
    check_origin(office.db, "provisional", sub.kiosk_id, sub.envelope_id, signing_bytes(sub), sub.signature, body, now)
    with office.db.transaction() as s:
        try:
            phase.check(s, phase.Write.PROVISIONAL, centre_id=kiosk.centre)
        except phase.PhaseRefused as exc:
            raise IngestRefused(ErrorCode.CONFLICT, str(exc)) from None
        if s.get(ProvisionalEnvelope, sub.envelope_id) is not None:
            return True
        s.add(
            ProvisionalEnvelope(
                envelope_id=sub.envelope_id,
                kiosk_id=sub.kiosk_id,
                centre_id=kiosk.centre,
                sealed_identity=base64.b64decode(sub.identity_envelope),
                ballot={**sub.ballot.model_dump(mode="json"), "_submission_sha256": digest},
                status=EnvelopeStatus.RECEIVED,
                received_at=now,
            )
        )
        audit.append(
            s,
            at=now,
            actor=f"kiosk:{sub.kiosk_id}",
            action="provisional.received",
            details={"envelope_id": sub.envelope_id, "body_sha256": digest},
        )
    return False


def _wire_ballot(env: ProvisionalEnvelope) -> BatchBallot:
    return BatchBallot.model_validate({k: v for k, v in env.ballot.items() if not k.startswith("_")})


def _request(office: Counting, env: ProvisionalEnvelope, wire: BatchBallot) -> CheckRequest:
    return CheckRequest(
        payload=wire.encrypted_ballot, kiosk_id=env.kiosk_id, genesis=office.checker.genesis(env.kiosk_id)
    )


def _open(office: ProvisionalDesk, env: ProvisionalEnvelope, wire: BatchBallot) -> IdentityEnvelopeContent | str:
    if office.envelope_key is None or env.sealed_identity is None:
        return "identity envelope cannot be opened"
    try:
        plain = SealedBox(PrivateKey(office.envelope_key)).decrypt(env.sealed_identity)
        content = parse_message(IdentityEnvelopeContent, plain)
    except (CryptoError, ProtocolError):
        return "identity envelope is unreadable"
    if content.envelope_id != env.envelope_id or content.kiosk_id != env.kiosk_id:
        return "identity envelope belongs to another submission"
    if content.ballot_hash != ballot_hash(wire):
        return "identity envelope is not bound to this ballot"
    return content


def process_envelopes(office: ProvisionalDesk) -> dict[str, int]:
    """Open and settle every RECEIVED envelope; returns how many went which way."""
    counts = {s.value: 0 for s in EnvelopeStatus}
    with office.db.transaction() as s:
        ids = list(
            s.scalars(
                select(ProvisionalEnvelope.envelope_id).where(ProvisionalEnvelope.status == EnvelopeStatus.RECEIVED)
            )
        )
    for envelope_id in ids:
        status = _process_one(office, envelope_id)
        counts[status.value] += 1
    return counts


def _process_one(office: ProvisionalDesk, envelope_id: str) -> EnvelopeStatus:
    now = office.clock()
    with office.db.transaction() as s:
        try:
            phase.check(s, phase.Write.ADJUDICATION)
        except phase.PhaseRefused:
            return EnvelopeStatus.RECEIVED  # the tally is frozen: nothing is counted any more (none can be left)
        env = s.execute(
            select(ProvisionalEnvelope).where(ProvisionalEnvelope.envelope_id == envelope_id).with_for_update()
        ).scalar_one()
        if env.status is not EnvelopeStatus.RECEIVED:
            return env.status
        wire = _wire_ballot(env)
        checked: CheckedBallot | None = None
        try:
            checked = office.checker.check(_request(office, env, wire))
            if checked.ballot_id != wire.ballot_id or checked.style_id != wire.ballot_style_id:
                raise BallotRejected("ballot id or style differs from the encrypted ballot")
        except BallotRejected as exc:
            env.status, env.reason = EnvelopeStatus.REJECTED, f"ballot rejected: {exc.reason}"
        if checked is not None:
            content = _open(office, env, wire)
            if isinstance(content, str):
                env.status, env.reason = EnvelopeStatus.ADJUDICATION, content
            elif s.get(Ballot, wire.ballot_id) is not None:
                env.status, env.reason = EnvelopeStatus.REJECTED, "ballot id already held"
            else:
                wilayat = pollbook.mark_voted_provisional(
                    s,
                    civil_number=content.civil_number,
                    centre=CentreId(env.centre_id),
                    now=now,
                    bucket_minutes=office.turnout_bucket_minutes,
                )
                own_style = office.manifest.style_for_wilayat(WilayatCode(wilayat)).id if wilayat else None
                if wilayat is not None and own_style == wire.ballot_style_id:
                    _count(s, office, env, wire, checked)
                    env.status, env.reason = EnvelopeStatus.COUNTED, "voter had not voted: marked voted"
                elif wilayat is not None:
                    env.status, env.reason = EnvelopeStatus.ADJUDICATION, "ballot style is not the voter's wilayat"
                else:
                    env.status, env.reason = EnvelopeStatus.ADJUDICATION, _why_not(s, content.civil_number)
        if env.status is not EnvelopeStatus.ADJUDICATION:
            env.sealed_identity = None  # decided: the link between voter and ballot is destroyed
        audit.append(
            s,
            at=now,
            actor="office",
            action="provisional.processed",
            details={"envelope_id": envelope_id, "status": env.status.value, "reason": env.reason},
        )
        return env.status


def _why_not(s: Session, civil_number: str) -> str:
    voter = s.get(Voter, civil_number)
    if voter is None:
        return "voter not on the roll"
    if not voter.eligible:
        return "voter not eligible"
    if voter.state is VoterState.VOTED:
        return "voter already voted elsewhere"
    return "voter checked in at another kiosk"


def _count(s: Session, office: Counting, env: ProvisionalEnvelope, wire: BatchBallot, checked: CheckedBallot) -> None:
    add_to_tally(s, office.checker, [checked])
    s.add(
        Ballot(
            ballot_id=wire.ballot_id,
            kiosk_id=env.kiosk_id,
            batch_id=None,
            style_id=wire.ballot_style_id,
            confirmation_code=wire.confirmation_code,
            status=BallotStatus.ACCEPTED,
            reason="provisional",
            provisional=True,
            spoiled=False,
            payload=wire.encrypted_ballot,
        )
    )


def pending(office: Records) -> list[dict[str, str]]:
    """Envelopes awaiting the committee (no identity shown: the committee opens it at the table)."""
    with office.db.transaction() as s:
        rows = s.scalars(
            select(ProvisionalEnvelope)
            .where(ProvisionalEnvelope.status == EnvelopeStatus.ADJUDICATION)
            .order_by(ProvisionalEnvelope.envelope_id)
        )
        return [
            {"envelope_id": r.envelope_id, "kiosk_id": r.kiosk_id, "centre_id": r.centre_id, "reason": r.reason or ""}
            for r in rows
        ]


def decide(office: Counting, envelope_id: str, decision: Decision, reason: str, *, actor: str) -> EnvelopeStatus:
    """The committee's decision on one envelope (Art. 6): logged with its reason; the identity is erased."""
    if not reason.strip():
        raise AdjudicationError("a decision needs a reason")
    now = office.clock()
    with office.db.transaction() as s:
        try:
            phase.check(s, phase.Write.ADJUDICATION)
        except phase.PhaseRefused as exc:
            raise AdjudicationError(str(exc)) from None
        env = s.execute(
            select(ProvisionalEnvelope).where(ProvisionalEnvelope.envelope_id == envelope_id).with_for_update()
        ).scalar_one_or_none()
        if env is None or env.status is not EnvelopeStatus.ADJUDICATION:
            raise AdjudicationError(f"envelope {envelope_id!r} is not awaiting a decision")
        wire = _wire_ballot(env)
        if decision is Decision.ACCEPT:
            try:
                checked = office.checker.check(_request(office, env, wire))
            except BallotRejected as exc:
                raise AdjudicationError(f"ballot does not verify: {exc.reason}") from None
            if s.get(Ballot, wire.ballot_id) is not None:
                raise AdjudicationError("ballot id already held")
            _count(s, office, env, wire, checked)
            env.status = EnvelopeStatus.ACCEPTED
        else:
            env.status = EnvelopeStatus.REJECTED
        env.reason, env.decided_by, env.sealed_identity = reason, actor, None
        audit.append(
            s,
            at=now,
            actor=actor,
            action="provisional.decided",
            details={"envelope_id": envelope_id, "decision": decision.value, "reason": reason},
        )
        return env.status


__all__ = [
    "AdjudicationError",
    "Decision",
    "IngestRefused",
    "decide",
    "pending",
    "process_envelopes",
    "receive_envelope",
]
