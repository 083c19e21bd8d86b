"""The sync protocol v1, server side: check-in, voted mark, release, batches, provisional, audit, heartbeat."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Body
from fastapi.exceptions import RequestValidationError
from pydantic import PlainValidator, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from central import phase, pollbook
from central.api.deps import KioskDep, OfficeDep, same_kiosk
from central.api.errors import ERRORS, ApiError
from central.chains import ChainRefused, receive_close
from central.ingest import IngestRefused, WireForms, ingest_batch, kiosk_certificate, refuse
from central.models import Kiosk, KioskAuditEntry, Voter
from central.office import Office
from central.pollbook import CheckInOutcome, TokenOutcome
from central.provisional import receive_envelope
from election.manifest import KioskId
from sync.audit_entry import EntryFields, EntryRefused, EntrySignatureRefused, verify_segment
from sync.protocol import (
    AuditSegment,
    AuditSegmentAck,
    BallotBatch,
    BatchReceipt,
    ChainCloseAck,
    ChainCloseSubmission,
    CheckinRelease,
    CheckinRequest,
    CheckinResponse,
    CheckinStatus,
    ErrorCode,
    Heartbeat,
    HeartbeatAck,
    ProvisionalAck,
    ProvisionalSubmission,
    ReleaseAck,
    VotedMark,
    VotedMarkAck,
    VotedMarkStatus,
    to_wire,
    validate_batch,
)
from sync.remote_link import RemoteLinkConfig, RemoteVoteLink
from sync.signing import public_key_of_cert

router = APIRouter(prefix="/v1", tags=["kiosk"], responses=ERRORS)  # type: ignore[arg-type]

_STATUS = {
    CheckInOutcome.OK: CheckinStatus.ELIGIBLE,
    CheckInOutcome.NOT_ON_ROLL: CheckinStatus.NOT_ON_ROLL,
    CheckInOutcome.NOT_ELIGIBLE: CheckinStatus.INELIGIBLE,
    CheckInOutcome.WRONG_CENTRE: CheckinStatus.WRONG_CENTRE,  # a non-unified centre not serving the wilayat
    CheckInOutcome.ALREADY_VOTED: CheckinStatus.ALREADY_VOTED,
    CheckInOutcome.VOTING_ELSEWHERE: CheckinStatus.LOCKED_ELSEWHERE,
}


def _kiosk_centre(office: OfficeDep, kiosk_id: str, centre_id: str) -> None:
    kiosk = office.manifest.kiosks_by_id.get(KioskId(kiosk_id))
    if kiosk is None or kiosk.centre != centre_id:
        raise ApiError(403, ErrorCode.KIOSK_MISMATCH, f"kiosk {kiosk_id!r} does not belong to centre {centre_id!r}")


_CONFLICT = "idempotency key reused for another voter's check-in"


_TOKEN_LINKS = {  # OpenAPI links: an eligible check-in's token feeds its voted mark and release (stateful fuzzing)
    name: {
        "operationId": f"{name}_v1_checkins__token__{name}_post",
        "parameters": {"token": "$response.body#/checkin_token"},
    }
    for name in ("voted", "release")
}


@router.post("/checkins", responses={200: {"description": "the check-in answer", "links": _TOKEN_LINKS}})
def checkin(body: CheckinRequest, peer: KioskDep, office: OfficeDep) -> CheckinResponse:
    """Idempotent by (kiosk, idempotency_key) while the lock lives: a retry gets the same lock (same token). No
    answer is stored (the order of check-ins at a kiosk must exist nowhere at the office): once the lock has
    ended, a retry is answered as a new check-in ("already voted" after the voted mark)."""
    same_kiosk(peer, body.kiosk_id)
    _kiosk_centre(office, body.kiosk_id, body.centre_id)
    try:
        with office.db.transaction() as s:
            answer = _check_in(s, office, body)
    except IntegrityError:  # the same key took another voter's lock on another connection at the same moment
        raise ApiError(409, ErrorCode.CONFLICT, _CONFLICT) from None
    return _remote_vote(office, body.kiosk_id, body.civil_number, answer)


@functools.lru_cache(maxsize=4)
def _link_for(config: RemoteLinkConfig) -> RemoteVoteLink:
    return RemoteVoteLink(config)


def _remote_link(office: Office, kiosk_id: str) -> RemoteVoteLink | None:
    """The vote collector's internal listener, when ``[remote]`` is configured (docs/remote-voting.md); never for
    the collector's own check-ins at its handover (they are the remote votes)."""
    config = office.config.remote_collector
    remote = office.manifest.remote_voting
    if config is None or (remote is not None and kiosk_id in remote.collector_ids):
        return None
    return _link_for(config)


def _remote_vote(office: Office, kiosk_id: str, civil_number: str, answer: CheckinResponse) -> CheckinResponse:
    """An eligible voter with a remote ballot is told it will be replaced; the credential is voided at the voted
    mark (a voter who walks away keeps their remote vote). Outside the transaction; fail-open (sync.remote_link)."""
    link = _remote_link(office, kiosk_id)
    if link is None or answer.status is not CheckinStatus.ELIGIBLE:
        return answer
    if link.has_remote_vote(civil_number):
        return answer.model_copy(update={"remote_vote_replaced": True})
    return answer


def _phase(s: Session, office: Office, write: phase.Write, kiosk_id: str) -> None:
    """The election's and the kiosk's centre's phase allow ``write`` (checked first in the write's transaction);
    otherwise 409 with the reason, and nothing is stored."""
    kiosk = office.manifest.kiosks_by_id.get(KioskId(kiosk_id))
    try:
        phase.check(s, write, centre_id=kiosk.centre if kiosk is not None else None)
    except phase.PhaseRefused as exc:
        raise ApiError(409, ErrorCode.CONFLICT, str(exc)) from None


def _check_in(s: Session, office: Office, body: CheckinRequest) -> CheckinResponse:
    _phase(s, office, phase.Write.CHECK_IN, body.kiosk_id)
    result = pollbook.check_in(
        s,
        office.manifest,
        civil_number=body.civil_number,
        kiosk_id=KioskId(body.kiosk_id),
        now=office.clock(),
        lock_seconds=office.config.checkin_lock_seconds,
        request=pollbook.request_key(office.pollbook_secret, body.kiosk_id, body.idempotency_key),
    )
    if result.outcome is CheckInOutcome.REQUEST_CONFLICT:
        raise ApiError(409, ErrorCode.CONFLICT, _CONFLICT)
    if result.outcome is CheckInOutcome.OK:
        return CheckinResponse(
            status=CheckinStatus.ELIGIBLE,
            ballot_style_id=result.style_id,
            checkin_token=result.lock_token,
            lock_expires_at=result.lock_expires_at,
        )
    return CheckinResponse(status=_STATUS[result.outcome])


def _token_error(outcome: TokenOutcome) -> ApiError:
    if outcome is TokenOutcome.NOT_YOURS:
        return ApiError(403, ErrorCode.TOKEN_NOT_YOURS, "this check-in belongs to another kiosk")
    return ApiError(404, ErrorCode.UNKNOWN_TOKEN, "unknown check-in token (expired and taken over, or never issued)")


@router.post("/checkins/{token}/voted")
def voted(token: str, body: VotedMark, peer: KioskDep, office: OfficeDep) -> VotedMarkAck:
    same_kiosk(peer, body.kiosk_id)
    with office.db.transaction() as s:
        _phase(s, office, phase.Write.VOTED_MARK, peer)
        voter = (
            s.scalar(select(Voter.civil_number).where(Voter.lock_token == token, Voter.lock_kiosk == peer))
            if _remote_link(office, peer) is not None
            else None
        )
        outcome = pollbook.mark_voted(
            s,
            office.manifest,
            token=token,
            kiosk_id=KioskId(peer),
            now=office.clock(),
            bucket_minutes=office.config.turnout_bucket_minutes,
            secret=office.pollbook_secret,
        )
    if outcome is TokenOutcome.DONE:
        link = _remote_link(office, peer)
        if link is not None and voter is not None:
            link.void(voter)  # the in-person vote overrides the remote one (after the commit; fail-open)
        return VotedMarkAck(status=VotedMarkStatus.RECORDED)
    if outcome is TokenOutcome.ALREADY_DONE:
        return VotedMarkAck(status=VotedMarkStatus.ALREADY_RECORDED)
    raise _token_error(outcome)


@router.post("/checkins/{token}/release")
def release(token: str, body: CheckinRelease, peer: KioskDep, office: OfficeDep) -> ReleaseAck:
    same_kiosk(peer, body.kiosk_id)
    with office.db.transaction() as s:
        outcome = pollbook.release(s, token=token, kiosk_id=KioskId(peer), secret=office.pollbook_secret)
    if outcome in (TokenOutcome.DONE, TokenOutcome.ALREADY_DONE):
        return ReleaseAck(released=outcome is TokenOutcome.DONE)
    if outcome is TokenOutcome.UNKNOWN_TOKEN:
        return ReleaseAck(released=False)  # voted, or already released: harmless for a retried release
    raise _token_error(outcome)


def _refused(exc: IngestRefused) -> ApiError:
    status = {
        ErrorCode.CONFLICT: 409,
        ErrorCode.BAD_SIGNATURE: 422,
        ErrorCode.UNKNOWN_KIOSK: 403,
        ErrorCode.KIOSK_MISMATCH: 403,  # a chain head or close naming another kiosk
        ErrorCode.INTERNAL: 503,  # verification workers failed: the kiosk retries 5xx
    }.get(exc.code, 422)
    return ApiError(status, exc.code, exc.detail)


def _as_is(value: Any) -> Any:
    return value


if TYPE_CHECKING:
    _DecodedBatch = Any
else:
    # The framework decodes the JSON body (once) and passes it on unvalidated; the OpenAPI description still says
    # the body is a ``BallotBatch`` (the same $ref and components as a ``body: BallotBatch`` parameter).
    _DecodedBatch = Annotated[Any, PlainValidator(_as_is, json_schema_input_type=BallotBatch), Body()]


@router.post("/batches")
async def batches(body: _DecodedBatch, peer: KioskDep, office: OfficeDep) -> BatchReceipt:
    """The body is validated as ``BallotBatch`` and its canonical forms (for the idempotency hash and the signature)
    are computed from the one decoded JSON (``sync.protocol.validate_batch``): one decode, one serialisation."""

    def run() -> BatchReceipt:
        try:
            parsed = validate_batch(body)
        except ValidationError as exc:  # answered like the framework's own validation of a BallotBatch body
            raise RequestValidationError(
                [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)], body=body
            ) from None
        same_kiosk(peer, parsed.batch.kiosk_id)
        try:
            return ingest_batch(
                office.db,
                office.manifest,
                office.checker,
                parsed.batch,
                now=office.clock(),
                wire=WireForms(parsed.body, parsed.signed),
            ).receipt
        except IngestRefused as exc:
            raise _refused(exc) from None

    return await run_in_threadpool(run)


@router.post("/provisional")
def provisional(body: ProvisionalSubmission, peer: KioskDep, office: OfficeDep) -> ProvisionalAck:
    same_kiosk(peer, body.kiosk_id)
    try:
        duplicate = receive_envelope(office, body)
    except IngestRefused as exc:
        raise _refused(exc) from None
    return ProvisionalAck(envelope_id=body.envelope_id, duplicate=duplicate)


@router.post("/chain-close")
def chain_close(body: ChainCloseSubmission, peer: KioskDep, office: OfficeDep) -> ChainCloseAck:
    """The kiosk's signed chain close (docs/sync-protocol.md, "Chain heads and closes"): verified with the kiosk's
    enrolled certificate, refused when it contradicts the batches received; idempotent."""
    same_kiosk(peer, body.kiosk_id)
    now = office.clock()
    try:
        with office.db.transaction() as s:
            s.execute(select(Kiosk.chain_head).where(Kiosk.kiosk_id == peer).with_for_update()).scalar_one_or_none()
            cert = kiosk_certificate(s, peer)
            seq, duplicate = receive_close(s, cert, peer, office.checker.genesis(peer), body.close, now=now)
    except IngestRefused as exc:
        raise _refused(exc) from None
    except ChainRefused as exc:
        refuse(office.db, kind="chain_close", kiosk_id=peer, item_id=f"close-{body.close.close_seq}",
               reason=exc.detail, body=to_wire(body), now=now)  # fmt: skip
        raise _refused(IngestRefused(exc.code, exc.detail)) from None
    return ChainCloseAck(close_seq=seq, duplicate=duplicate)


def _verify_segment(s: Session, peer: str, body: AuditSegment) -> None:
    """Each entry's hash chain and kiosk signature, and the signed head (``sync.audit_entry``): a segment that does
    not verify is refused whole (422), nothing stored."""
    try:
        key = public_key_of_cert(kiosk_certificate(s, peer))
    except IngestRefused as exc:
        raise _refused(exc) from None
    except ValueError as exc:
        raise ApiError(422, ErrorCode.BAD_SIGNATURE, f"kiosk certificate: {exc}") from None
    first = body.entries[0].seq
    before = s.get(KioskAuditEntry, (peer, first - 1)) if first > 1 else None
    entries = [EntryFields(e.seq, e.kind, e.payload, e.prev_hash, e.entry_hash, e.signature) for e in body.entries]
    try:
        verify_segment(
            peer,
            key,
            entries,
            before.entry_hash if before is not None else None,
            (body.head.count, body.head.head_hash, body.head.signature),
        )
    except EntrySignatureRefused as exc:
        raise ApiError(422, ErrorCode.BAD_SIGNATURE, str(exc)) from None
    except EntryRefused as exc:
        raise ApiError(422, ErrorCode.MALFORMED, str(exc)) from None
    after = s.get(KioskAuditEntry, (peer, body.entries[-1].seq + 1))
    if after is not None and after.entry["prev_hash"] != body.entries[-1].entry_hash:
        raise ApiError(422, ErrorCode.MALFORMED, f"audit entry {body.entries[-1].seq + 1} held does not chain from it")


@router.post("/audit-segments")
def audit_segments(body: AuditSegment, peer: KioskDep, office: OfficeDep) -> AuditSegmentAck:
    same_kiosk(peer, body.kiosk_id)
    try:
        return _store_segment(office, peer, body)
    except ApiError as exc:  # tampering evidence (or a kiosk fault): kept and audited, nothing of the segment stored
        refuse(office.db, kind="audit_segment", kiosk_id=peer, item_id=f"{body.entries[0].seq}-{body.entries[-1].seq}",
               reason=exc.detail, body=to_wire(body), now=office.clock())  # fmt: skip
        raise


def _store_segment(office: Office, peer: str, body: AuditSegment) -> AuditSegmentAck:
    with office.db.transaction() as s:
        _verify_segment(s, peer, body)
        for entry in body.entries:
            have = s.get(KioskAuditEntry, (peer, entry.seq))
            if have is None:
                s.add(
                    KioskAuditEntry(
                        kiosk_id=peer, seq=entry.seq, entry=entry.model_dump(mode="json"), entry_hash=entry.entry_hash
                    )
                )
            elif have.entry_hash != entry.entry_hash or have.entry != entry.model_dump(mode="json"):
                raise ApiError(409, ErrorCode.CONFLICT, f"audit entry {entry.seq} differs from the one stored")
        s.flush()
        seqs = list(
            s.scalars(select(KioskAuditEntry.seq).where(KioskAuditEntry.kiosk_id == peer).order_by(KioskAuditEntry.seq))
        )
        through = 0
        for seq in seqs:
            if seq != through + 1:
                break
            through = seq
        kiosk = s.get_one(Kiosk, peer)
        kiosk.status = {**kiosk.status, "audit_head": body.head.model_dump(mode="json")}
    return AuditSegmentAck(stored_through=through)


@router.post("/heartbeat")
def heartbeat(body: Heartbeat, peer: KioskDep, office: OfficeDep) -> HeartbeatAck:
    same_kiosk(peer, body.kiosk_id)
    _kiosk_centre(office, body.kiosk_id, body.centre_id)
    now = office.clock()
    with office.db.transaction() as s:
        kiosk = s.get_one(Kiosk, peer)
        kiosk.last_seen_at = now
        kiosk.status = {**kiosk.status, **body.model_dump(mode="json", exclude={"protocol_version", "kiosk_id"})}
        if body.backlog.pending_voted_marks == 0:
            pollbook.release_expired(s, kiosk_id=KioskId(peer), now=now)
    return HeartbeatAck(server_time=now)
