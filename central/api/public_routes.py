"""Public, read-only API for observers and voters: turnout, kiosks, confirmation-code lookup, results."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from central import pollbook
from central.api.deps import OfficeDep
from central.api.errors import ERRORS
from central.models import Kiosk

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
        rows = s.query(Kiosk).order_by(Kiosk.kiosk_id).all()
        return [
            KioskOut(
                kiosk_id=k.kiosk_id,
                centre_id=k.centre_id,
                enrolled=k.cert_sha256 is not None,
                last_seen_at=k.last_seen_at.isoformat() if k.last_seen_at else None,
                ballots_accepted=k.ballots_accepted,
                backlog={key: int(v) for key, v in (k.status.get("backlog") or {}).items()},
                polls_state=k.status.get("polls_state"),
            )
            for k in rows
        ]
