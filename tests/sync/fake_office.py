"""A TEST DOUBLE of the central office: the sync protocol's endpoints with the dedup rules of
docs/sync-protocol.md, in memory. It exists so the kiosk client can be tested before (and independently
of) central/; it is not the central office and keeps no poll book beyond what the tests inspect.

It checks batch and provisional signatures against the kiosk's public key and records everything it
receives (``received``) so secrecy tests can inspect the traffic.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.requests import ClientDisconnect

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
    ErrorBody,
    ErrorCode,
    Heartbeat,
    HeartbeatAck,
    ProtocolError,
    ProvisionalAck,
    ProvisionalSubmission,
    ReleaseAck,
    VotedMark,
    VotedMarkAck,
    VotedMarkStatus,
    parse_message,
    signing_bytes,
    to_wire,
)
from sync.signing import BadSignature, PublicKey, verify


@dataclass
class FakeOfficeState:
    kiosk_keys: dict[str, PublicKey]
    roll: dict[str, str]  # civil number -> ballot style
    checkins: dict[str, dict[str, Any]] = field(default_factory=dict)  # token -> {civil, kiosk, status}
    by_idempotency: dict[str, str] = field(default_factory=dict)
    voted: set[str] = field(default_factory=set)  # civil numbers
    batches: dict[str, tuple[str, BatchReceipt]] = field(default_factory=dict)
    ballots: dict[str, dict[str, Any]] = field(default_factory=dict)
    ballot_deliveries: list[str] = field(default_factory=list)  # every ballot id in every accepted batch body
    batch_log: list[list[str]] = field(default_factory=list)  # ballot ids of each newly stored batch, in order
    provisional: dict[str, ProvisionalSubmission] = field(default_factory=dict)
    closes: dict[str, list[ChainCloseSubmission]] = field(default_factory=dict)  # kiosk -> closes received
    audit: dict[str, dict[int, str]] = field(default_factory=dict)
    heartbeats: list[Heartbeat] = field(default_factory=list)
    batch_order: list[str] = field(default_factory=list)  # batch ids in the order first received
    voted_order: list[str] = field(default_factory=list)  # tokens in the order their voted marks arrived
    duplicate_batches: int = 0  # retries of an already stored batch (answered duplicate_batch)
    refuse_next_batches: int = 0
    """Answer the next N batches 422 (as if the office could not accept them), storing nothing."""
    lose_next_acks: int = 0
    """Store the next N batches, then answer 503 as if the acknowledgement were lost on the way back."""
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _error(status: int, code: ErrorCode, detail: str) -> Response:
    return Response(to_wire(ErrorBody(error=code, detail=detail)), status_code=status, media_type="application/json")


def _ok(model: Any) -> Response:
    return Response(to_wire(model), media_type="application/json")


def create_fake_office(state: FakeOfficeState) -> FastAPI:
    app = FastAPI()

    async def body_of(request: Request, model: Any) -> Any:
        return parse_message(model, await request.body())

    @app.exception_handler(ClientDisconnect)
    async def gone(_request: Request, _exc: ClientDisconnect) -> Response:
        return Response(status_code=499)  # the kiosk died mid-request (crash test): nothing to answer

    @app.exception_handler(ProtocolError)
    async def protocol_error(_request: Request, exc: ProtocolError) -> Response:
        return _error(400 if exc.code is ErrorCode.UNSUPPORTED_VERSION else 422, exc.code, str(exc))

    @app.post("/v1/checkins")
    async def checkin(request: Request) -> Response:
        req: CheckinRequest = await body_of(request, CheckinRequest)
        with state.lock:
            state.requests += 1
            if req.idempotency_key in state.by_idempotency:
                token = state.by_idempotency[req.idempotency_key]
                c = state.checkins[token]
                return _ok(_granted(token, c["style"]))
            style = state.roll.get(req.civil_number)
            if style is None:
                return _ok(CheckinResponse(status=CheckinStatus.NOT_ON_ROLL))
            if req.civil_number in state.voted:
                return _ok(CheckinResponse(status=CheckinStatus.ALREADY_VOTED))
            for c in state.checkins.values():
                if c["civil"] == req.civil_number and c["status"] == "locked":
                    return _ok(CheckinResponse(status=CheckinStatus.LOCKED_ELSEWHERE))
            token = secrets.token_urlsafe(24)
            state.checkins[token] = {
                "civil": req.civil_number,
                "kiosk": req.kiosk_id,
                "status": "locked",
                "style": style,
            }
            state.by_idempotency[req.idempotency_key] = token
            return _ok(_granted(token, style))

    @app.post("/v1/checkins/{token}/voted")
    async def voted(token: str, request: Request) -> Response:
        mark: VotedMark = await body_of(request, VotedMark)
        with state.lock:
            state.requests += 1
            c = state.checkins.get(token)
            if c is None:
                return _error(404, ErrorCode.UNKNOWN_TOKEN, "unknown token")
            if c["kiosk"] != mark.kiosk_id:
                return _error(403, ErrorCode.TOKEN_NOT_YOURS, "not yours")
            if c["status"] == "voted":
                return _ok(VotedMarkAck(status=VotedMarkStatus.ALREADY_RECORDED))
            c["status"] = "voted"
            state.voted.add(c["civil"])
            state.voted_order.append(token)
            return _ok(VotedMarkAck(status=VotedMarkStatus.RECORDED))

    @app.post("/v1/checkins/{token}/release")
    async def release(token: str, request: Request) -> Response:
        await body_of(request, CheckinRelease)
        with state.lock:
            state.requests += 1
            c = state.checkins.get(token)
            if c is None:
                return _error(404, ErrorCode.UNKNOWN_TOKEN, "unknown token")
            if c["status"] != "locked":
                return _ok(ReleaseAck(released=False))
            c["status"] = "released"
            return _ok(ReleaseAck(released=True))

    @app.post("/v1/batches")
    async def batch(request: Request) -> Response:
        raw = await request.body()
        b: BallotBatch = parse_message(BallotBatch, raw)
        key = state.kiosk_keys.get(b.kiosk_id)
        if key is None:
            return _error(403, ErrorCode.UNKNOWN_KIOSK, b.kiosk_id)
        try:
            verify(key, signing_bytes(b), b.signature)
        except BadSignature:
            return _error(422, ErrorCode.BAD_SIGNATURE, "batch signature")
        digest = hashlib.sha256(signing_bytes(b)).hexdigest()
        with state.lock:
            state.requests += 1
            if state.refuse_next_batches > 0:
                state.refuse_next_batches -= 1
                return _error(422, ErrorCode.MALFORMED, "batch refused (test)")
            seen = state.batches.get(b.batch_id)
            if seen is not None:
                if seen[0] != digest:
                    return _error(409, ErrorCode.CONFLICT, "batch id reused with other content")
                state.duplicate_batches += 1
                return _ok(seen[1].model_copy(update={"duplicate_batch": True}))
            new = [x for x in b.ballots if x.ballot_id not in state.ballots]
            for x in new:
                state.ballots[x.ballot_id] = x.model_dump(mode="json")
            state.ballot_deliveries.extend(x.ballot_id for x in b.ballots)
            state.batch_log.append([x.ballot_id for x in b.ballots])
            receipt = BatchReceipt(
                batch_id=b.batch_id,
                accepted=len(new),
                duplicate_ballots=len(b.ballots) - len(new),
                duplicate_batch=False,
            )
            state.batches[b.batch_id] = (digest, receipt)
            state.batch_order.append(b.batch_id)
            if state.lose_next_acks > 0:
                state.lose_next_acks -= 1
                return _error(503, ErrorCode.INTERNAL, "acknowledgement lost (test)")
            return _ok(receipt)

    @app.post("/v1/provisional")
    async def provisional(request: Request) -> Response:
        p: ProvisionalSubmission = await body_of(request, ProvisionalSubmission)
        key = state.kiosk_keys[p.kiosk_id]
        try:
            verify(key, signing_bytes(p), p.signature)
        except BadSignature:
            return _error(422, ErrorCode.BAD_SIGNATURE, "provisional signature")
        with state.lock:
            state.requests += 1
            duplicate = p.envelope_id in state.provisional
            state.provisional.setdefault(p.envelope_id, p)
            return _ok(ProvisionalAck(envelope_id=p.envelope_id, duplicate=duplicate))

    @app.post("/v1/chain-close")
    async def chain_close(request: Request) -> Response:
        c: ChainCloseSubmission = await body_of(request, ChainCloseSubmission)
        key = state.kiosk_keys[c.kiosk_id]
        try:
            verify(key, c.close.signed().statement.signing_bytes(), c.close.signature)
        except BadSignature:
            return _error(422, ErrorCode.BAD_SIGNATURE, "chain close signature")
        with state.lock:
            state.requests += 1
            held = state.closes.setdefault(c.kiosk_id, [])
            duplicate = c in held
            if not duplicate:
                held.append(c)
            return _ok(ChainCloseAck(close_seq=c.close.close_seq, duplicate=duplicate))

    @app.post("/v1/audit-segments")
    async def audit_segment(request: Request) -> Response:
        seg: AuditSegment = await body_of(request, AuditSegment)
        with state.lock:
            state.requests += 1
            held = state.audit.setdefault(seg.kiosk_id, {})
            for e in seg.entries:
                if e.seq in held and held[e.seq] != e.entry_hash:
                    return _error(409, ErrorCode.CONFLICT, f"audit entry {e.seq} differs")
                held[e.seq] = e.entry_hash
            through = 0
            while through + 1 in held:
                through += 1
            return _ok(AuditSegmentAck(stored_through=through))

    @app.post("/v1/heartbeat")
    async def heartbeat(request: Request) -> Response:
        hb: Heartbeat = await body_of(request, Heartbeat)
        with state.lock:
            state.heartbeats.append(hb)
        return _ok(HeartbeatAck(server_time=dt.datetime.now(dt.UTC)))

    return app


def _granted(token: str, style: str) -> CheckinResponse:
    return CheckinResponse(
        status=CheckinStatus.ELIGIBLE,
        ballot_style_id=style,
        checkin_token=token,
        lock_expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=15),
    )
