"""Public, read-only API for observers and voters: turnout, kiosks, confirmation-code lookup, results."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse, PlainTextResponse
from pydantic import BaseModel
from sqlalchemy import select

from central import audit, exports, phase, pollbook, public_view, results
from central.api.deps import OfficeDep
from central.api.errors import ERRORS, ApiError
from central.models import CentreStatus
from election.manifest import WilayatCode
from sync.protocol import ErrorCode

router = APIRouter(prefix="/api/public", tags=["public"], responses=ERRORS)  # type: ignore[arg-type]


class WilayatTurnoutOut(BaseModel):
    wilayat: str
    registered: int
    voted: int


@router.get("/turnout")
def turnout(office: OfficeDep) -> list[WilayatTurnoutOut]:
    with office.db.transaction() as s:
        return [WilayatTurnoutOut(**t.__dict__) for t in pollbook.turnout_by_wilayat(s)]


class KioskOut(BaseModel):
    kiosk_id: str
    centre_id: str
    enrolled: bool
    last_seen_at: str | None
    ballots_accepted: int
    backlog: dict[str, int]
    polls_state: str | None


@router.get("/kiosks")
def kiosks(office: OfficeDep) -> list[KioskOut]:
    with office.db.transaction() as s:
        return [KioskOut(**asdict(k)) for k in public_view.kiosk_statuses(s)]


class ConfirmationOut(BaseModel):
    found: bool
    status: str | None = None
    kiosk_id: str | None = None
    ballot_id: str | None = None


@router.get("/confirmation/{code}")
def confirmation(code: Annotated[str, Path(max_length=128)], office: OfficeDep) -> ConfirmationOut:
    """A voter's confirmation code (full hex, or the short form shown on screen) -> what the office holds."""
    with office.db.transaction() as s:
        return ConfirmationOut(**asdict(public_view.look_up_code(s, code)))


def _published(office: OfficeDep) -> dict[str, Any]:
    latest = results.latest(office.db)
    if latest is None:
        raise ApiError(404, ErrorCode.MALFORMED, "no results published yet")
    if not latest.verified:  # never looks like a result: the flag and the label travel with every copy
        return {**latest.results, "verified": False, "status": latest.results.get("status") or "not_verified"}
    return latest.results


@router.get("/results")
def results_json(office: OfficeDep) -> dict[str, Any]:
    """The latest results; when the verifier did not verify them: ``verified: false``, ``status`` not_verified or
    provisional_verification_failed, and ``label`` / ``label_ar`` saying NOT VERIFIED."""
    published = _published(office)
    label = exports.status_label(published, "en")
    if label is None:
        return published
    return {**published, "label": label, "label_ar": exports.status_label(published, "ar")}


class PhaseOut(BaseModel):
    phase: str
    tally_hash: str | None
    centres: dict[str, str]


@router.get("/phase")
def election_phase(office: OfficeDep) -> PhaseOut:
    """The election's phase (central.phase), each centre's, and the frozen tally's hash once frozen."""
    with office.db.transaction() as s:
        view = phase.current(s)
        centres = dict(s.execute(select(CentreStatus.centre_id, CentreStatus.phase)).all())
    return PhaseOut(phase=view.phase.value, tally_hash=view.tally_hash, centres=centres)


@router.get("/audit-heads")
def audit_heads(office: OfficeDep) -> dict[str, Any]:
    """The office's audit chain heads signed at each phase transition, and the office's certificate: what the
    record's ``office/`` part will hold. Observers keep what they fetch during the day to compare."""
    with office.db.transaction() as s:
        heads = audit.signed_heads(s)
    cert = office.signer.certificate_pem if office.signer is not None else ""
    return {"heads": heads, "office_certificate_pem": cert}


@router.get("/results/nist.json")
def results_nist(office: OfficeDep) -> dict[str, Any]:
    return exports.nist_election_report(office.manifest, _published(office), generated=office.clock())


@router.get("/results.csv", response_class=PlainTextResponse)
def results_csv(office: OfficeDep) -> PlainTextResponse:
    return PlainTextResponse(exports.results_csv(office.manifest, _published(office)), media_type="text/csv")


@router.get("/reports/{wilayat}", response_class=HTMLResponse)
def wilayat_report(wilayat: Annotated[str, Path(max_length=32)], office: OfficeDep) -> HTMLResponse:
    if wilayat not in office.manifest.wilayats_by_code:
        raise ApiError(404, ErrorCode.MALFORMED, f"unknown wilayat {wilayat!r}")
    return HTMLResponse(exports.wilayat_report_html(office.manifest, _published(office), WilayatCode(wilayat)))
