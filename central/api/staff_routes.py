"""Staff API (bearer token from a staff card login): enrolment, adjudication, manual results, close, results."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from cryptography import x509
from fastapi import APIRouter, Header, Request
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from central import adjudication, audit, ceremony, closing, manual, provisional, results
from central.api.deps import OfficeDep, StaffDep, require
from central.api.errors import ERRORS, ApiError
from central.api.login_limits import client_of, login_guard
from central.auth import (
    STAFF_LOGIN_PREFIX,
    AuthError,
    Role,
    check_staff_certificate,
    consume_challenge,
    decode_b64,
    end_session,
    issue_token,
    new_challenge,
    verify_signature,
)
from central.office import enrol_kiosk
from sync.protocol import ErrorCode

router = APIRouter(prefix="/api", tags=["staff"], responses=ERRORS)  # type: ignore[arg-type]

Pem = Annotated[str, StringConstraints(min_length=64, max_length=16384)]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=500)]
Hex64 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Challenge(BaseModel):
    nonce: str
    expires_at: dt.datetime


class LoginRequest(_In):
    certificate_pem: Pem
    nonce: Hex64
    signature: Annotated[str, StringConstraints(min_length=40, max_length=700)]


class LoginResponse(BaseModel):
    token: str
    subject: str
    role: str


def _load_pem(pem: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise ApiError(422, ErrorCode.MALFORMED, "certificate_pem is not a PEM certificate") from None


@router.post("/staff/challenge")
def staff_challenge(office: OfficeDep, request: Request) -> Challenge:
    if not login_guard(request).allow_challenge(client_of(request)):
        raise ApiError(429, ErrorCode.TOO_MANY_REQUESTS, "too many login challenges from this client; wait a minute")
    with office.db.transaction() as s:
        nonce, expires = new_challenge(s, office.clock())
    return Challenge(nonce=nonce, expires_at=expires)


@router.post("/staff/login")
def staff_login(body: LoginRequest, office: OfficeDep, request: Request) -> LoginResponse:
    """A staff card signs ``STAFF_LOGIN_PREFIX + nonce``; the answer is a bearer token for this role. Refused
    logins are limited per client and aggregated in the audit log (``central.api.login_limits``)."""
    guard, client = login_guard(request), client_of(request)
    if not guard.allow_login(client):
        raise ApiError(429, ErrorCode.TOO_MANY_REQUESTS, "too many refused logins from this client; wait a minute")
    if office.staff_ca is None:
        raise ApiError(403, ErrorCode.UNKNOWN_TOKEN, "staff login is not configured (server.staff_ca)")
    cert = _load_pem(body.certificate_pem)
    now = office.clock()
    with office.db.transaction() as s:
        try:
            consume_challenge(s, body.nonce, now)
            staff = check_staff_certificate(cert, office.staff_ca, office.current_crl(), now, office.staff_root)
            verify_signature(cert, decode_b64(body.signature), STAFF_LOGIN_PREFIX + body.nonce.encode())
        except AuthError as exc:
            refused = str(exc)
        else:
            token = issue_token(s, staff, now, office.config.staff_token_minutes)
            audit.append(s, at=now, actor=staff.subject, action="staff.login", details={"role": staff.role.value})
            return LoginResponse(token=token, subject=staff.subject, role=staff.role.value)
    guard.refused(office.db, client, refused, now)
    raise ApiError(401, ErrorCode.UNKNOWN_TOKEN, refused)


@router.post("/staff/logout")
def staff_logout(staff: StaffDep, office: OfficeDep, authorization: Annotated[str, Header()]) -> dict[str, bool]:
    """End this token's session at once (audited)."""
    with office.db.transaction() as s:
        ended = end_session(s, authorization.removeprefix("Bearer ").strip())
        audit.append(
            s, at=office.clock(), actor=staff.subject, action="staff.logout", details={"role": staff.role.value}
        )
    return {"logged_out": ended}


class EnrolRequest(_In):
    certificate_pem: Pem


@router.post("/admin/kiosks")
def enrol(body: EnrolRequest, staff: StaffDep, office: OfficeDep) -> dict[str, str]:
    require(staff, Role.ADMINISTRATOR)
    cert = _load_pem(body.certificate_pem)
    with office.db.transaction() as s:
        try:
            kiosk_id = enrol_kiosk(s, office, cert, actor=staff.subject, now=office.clock())
        except AuthError as exc:
            raise ApiError(422, ErrorCode.UNKNOWN_KIOSK, str(exc)) from None
    return {"kiosk_id": kiosk_id}


class AuditEntryOut(BaseModel):
    seq: int
    at: str
    actor: str
    action: str
    details: dict[str, Any]
    entry_hash: str


@router.get("/audit")
def audit_log(staff: StaffDep, office: OfficeDep, after: Annotated[int, Field(ge=0)] = 0) -> list[AuditEntryOut]:
    require(staff, Role.ADMINISTRATOR, Role.COMMITTEE_MEMBER, Role.OBSERVER)
    with office.db.transaction() as s:
        return [AuditEntryOut(**e.__dict__) for e in audit.entries(s, after=after)]


@router.post("/provisional/process")
def process_provisional(staff: StaffDep, office: OfficeDep) -> dict[str, int]:
    require(staff, Role.ADMINISTRATOR, Role.COMMITTEE_MEMBER)
    return provisional.process_envelopes(office)


@router.get("/adjudication")
def adjudication_queue(staff: StaffDep, office: OfficeDep) -> list[dict[str, str]]:
    """Provisional envelopes (``kind: provisional``, decided at ``/adjudication/{envelope_id}``) and ballots flagged
    at ingest (``kind: flagged``, decided at ``/adjudication/ballots/{ballot_id}``)."""
    require(staff, Role.COMMITTEE_MEMBER)
    return adjudication.queue(office)


@router.get("/ingest/refused")
def refused_ballots(staff: StaffDep, office: OfficeDep) -> list[dict[str, str]]:
    """Ballots refused at ingest (never counted: proofs, chain, style), with the kiosk, centre, batch and reason;
    no ballot content. For the committee and observers."""
    require(staff, Role.COMMITTEE_MEMBER, Role.ADMINISTRATOR, Role.OBSERVER)
    return adjudication.refused(office)


class DecisionRequest(_In):
    decision: provisional.Decision
    reason: Reason


@router.post("/adjudication/{envelope_id}")
def adjudicate(envelope_id: str, body: DecisionRequest, staff: StaffDep, office: OfficeDep) -> dict[str, str]:
    require(staff, Role.COMMITTEE_MEMBER)
    try:
        status = provisional.decide(office, envelope_id, body.decision, body.reason, actor=staff.subject)
    except provisional.AdjudicationError as exc:
        raise ApiError(409, ErrorCode.CONFLICT, str(exc)) from None
    return {"envelope_id": envelope_id, "status": status.value}


@router.post("/adjudication/ballots/{ballot_id}")
def adjudicate_ballot(ballot_id: str, body: DecisionRequest, staff: StaffDep, office: OfficeDep) -> dict[str, str]:
    """Count (``accept``) or do not count (``reject``) a ballot flagged at ingest; the reason is logged."""
    require(staff, Role.COMMITTEE_MEMBER)
    try:
        status = adjudication.decide_ballot(office, ballot_id, body.decision, body.reason, actor=staff.subject)
    except provisional.AdjudicationError as exc:
        raise ApiError(409, ErrorCode.CONFLICT, str(exc)) from None
    return {"ballot_id": ballot_id, "status": status.value}


class SheetRequest(_In):
    source_kind: manual.SourceKind
    source_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    contest_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    voters: Annotated[int, Field(ge=0, le=10_000_000)]
    blank: Annotated[int, Field(ge=0, le=10_000_000)] = 0
    counts: dict[Annotated[str, StringConstraints(max_length=64)], Annotated[int, Field(ge=0, le=10_000_000)]]
    replaces: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None
    """The pending sheet (same source and contest) this corrected sheet replaces."""


def _sheet_error(exc: manual.SheetError) -> ApiError:
    if isinstance(exc, manual.SheetConflict):
        return ApiError(409, ErrorCode.CONFLICT, str(exc))
    return ApiError(422, ErrorCode.MALFORMED, str(exc))


_SHEET_LINKS = {  # OpenAPI links: an entered sheet's id feeds its approval, withdrawal, rejection (stateful fuzzing)
    step: {
        "operationId": f"{step}_sheet_api_manual_sheets__sheet_id__{step}_post",
        "parameters": {"sheet_id": "$response.body#/sheet_id"},
    }
    for step in ("approve", "withdraw", "reject")
}


@router.post("/manual-sheets", responses={200: {"description": "the sheet's id", "links": _SHEET_LINKS}})
def enter_sheet(body: SheetRequest, staff: StaffDep, office: OfficeDep) -> dict[str, int]:
    """Enter a manual sheet (Art. 8, 9); refused (422) from a source not entitled to the contest or with counts
    that do not add up; a conflict (409) while another sheet of the source and contest is live (pending: send the
    corrected one with ``replaces``)."""
    require(staff, Role.COMMITTEE_MEMBER)
    sheet = manual.SheetIn(
        body.source_kind, body.source_id, body.contest_id, body.voters, body.blank, dict(body.counts)
    )
    try:
        return {"sheet_id": manual.enter(office, sheet, actor=staff.subject, replaces=body.replaces)}
    except manual.SheetError as exc:
        raise _sheet_error(exc) from None


@router.post("/manual-sheets/{sheet_id}/approve")
def approve_sheet(
    sheet_id: Annotated[int, PathParam(ge=1, le=2**31 - 1)], staff: StaffDep, office: OfficeDep
) -> dict[str, str]:
    require(staff, Role.COMMITTEE_MEMBER)
    try:
        manual.approve(office, sheet_id, actor=staff.subject)
    except manual.SheetError as exc:
        raise _sheet_error(exc) from None
    return {"status": "approved"}


class SheetDecision(_In):
    reason: Reason


@router.post("/manual-sheets/{sheet_id}/withdraw")
def withdraw_sheet(
    sheet_id: Annotated[int, PathParam(ge=1, le=2**31 - 1)], body: SheetDecision, staff: StaffDep, office: OfficeDep
) -> dict[str, str]:
    """The member who entered a pending sheet withdraws it (reason audited)."""
    require(staff, Role.COMMITTEE_MEMBER)
    try:
        manual.withdraw(office, sheet_id, body.reason, actor=staff.subject)
    except manual.SheetError as exc:
        raise _sheet_error(exc) from None
    return {"status": "withdrawn"}


@router.post("/manual-sheets/{sheet_id}/reject")
def reject_sheet(
    sheet_id: Annotated[int, PathParam(ge=1, le=2**31 - 1)], body: SheetDecision, staff: StaffDep, office: OfficeDep
) -> dict[str, str]:
    """Another committee member rejects a pending sheet (reason audited)."""
    require(staff, Role.COMMITTEE_MEMBER)
    try:
        manual.reject(office, sheet_id, body.reason, actor=staff.subject)
    except manual.SheetError as exc:
        raise _sheet_error(exc) from None
    return {"status": "rejected"}


class CloseRequest(_In):
    manual: bool = False
    """The centre switched to the manual method (Art. 8): its manual sheets are accepted."""
    final: bool = True
    """False: ``closing`` only (no new check-in; voters already checked in finish); true: ``closed``."""


@router.post("/centres/{centre_id}/close")
def close(centre_id: str, body: CloseRequest, staff: StaffDep, office: OfficeDep) -> dict[str, str]:
    require(staff, Role.ADMINISTRATOR)
    if centre_id not in office.manifest.centres_by_id:
        raise ApiError(404, ErrorCode.MALFORMED, f"unknown centre {centre_id!r}")
    try:
        status = closing.close_centre(office, centre_id, actor=staff.subject, manual=body.manual, final=body.final)
    except results.ResultsError as exc:
        raise ApiError(409, ErrorCode.CONFLICT, str(exc)) from None
    return {"centre_id": centre_id, "status": status}


@router.post("/tally/freeze")
def freeze(staff: StaffDep, office: OfficeDep) -> dict[str, str]:
    """Freeze the encrypted tally (every centre closed, nothing awaiting the committee, no pending manual sheet);
    answers its hash. Serving the tally to the guardians (``/api/guardian/tally``) freezes it too."""
    require(staff, Role.ADMINISTRATOR)
    try:
        return {"tally_hash": closing.freeze_tally(office, actor=staff.subject)}
    except results.ResultsError as exc:
        raise ApiError(409, ErrorCode.CONFLICT, str(exc)) from None


@router.post("/guardian-shares")
def upload_share(body: dict[str, Any], staff: StaffDep, office: OfficeDep) -> dict[str, str]:
    """A share file written offline by ``python -m election.guardian decrypt-share``; proofs checked on upload."""
    require(staff, Role.ADMINISTRATOR)
    try:
        return {"share": ceremony.upload_share(office, body, actor=staff.subject)}
    except results.PhaseConflict as exc:
        raise ApiError(409, ErrorCode.CONFLICT, str(exc)) from None
    except results.ResultsError as exc:
        raise ApiError(422, ErrorCode.MALFORMED, str(exc)) from None


class LotDrawRequest(_In):
    winners: Annotated[list[Annotated[str, StringConstraints(min_length=1, max_length=64)]], Field(max_length=20)]
    note: Reason


@router.post("/results/contests/{contest_id}/lot-draw")
def lot_draw(contest_id: str, body: LotDrawRequest, staff: StaffDep, office: OfficeDep) -> dict[str, Any]:
    """A committee member records the outcome of the drawing of lots for a tie for the last seat(s) of a contest in
    the published results: the winners among the tied candidates, and a note (where, when, witnesses). Audited;
    once per contest. Answers the contest's results with the draw applied."""
    require(staff, Role.COMMITTEE_MEMBER)
    try:
        return results.record_lot_draw(office, contest_id, list(body.winners), body.note, actor=staff.subject)
    except results.LotDrawInvalid as exc:
        raise ApiError(422, ErrorCode.MALFORMED, str(exc)) from None
    except results.ResultsError as exc:
        raise ApiError(409, ErrorCode.CONFLICT, str(exc)) from None


@router.post("/results")
def publish(staff: StaffDep, office: OfficeDep) -> dict[str, Any]:
    """Decrypt, write the record, run the verifier: verified results are published; results the verifier did not
    verify are stored as NOT VERIFIED (``status: not_verified``) and not published."""
    require(staff, Role.ADMINISTRATOR)
    try:
        return results.compute_results(office, actor=staff.subject)
    except results.ResultsError as exc:
        raise ApiError(409, ErrorCode.CONFLICT, str(exc)) from None


class UnverifiedRequest(_In):
    reason: Reason


@router.post("/results/publish-unverified")
def publish_unverified(body: UnverifiedRequest, staff: StaffDep, office: OfficeDep) -> dict[str, Any]:
    """Publish the results the verifier did NOT verify as "provisional, verification failed", with a reason
    (audited); every output keeps saying NOT VERIFIED."""
    require(staff, Role.ADMINISTRATOR)
    try:
        return results.publish_unverified(office, body.reason, actor=staff.subject)
    except results.ResultsError as exc:
        raise ApiError(409, ErrorCode.CONFLICT, str(exc)) from None
