"""What the office shows observers and voters, read in the caller's transaction: each kiosk's state as last
reported, and the lookup of a voter's confirmation code. One implementation for the public API
(``central.api.public_routes``) and the dashboard (``central.dashboard``), neither calling the other."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.models import Ballot, Kiosk


@dataclass(frozen=True)
class KioskStatus:
    kiosk_id: str
    centre_id: str
    enrolled: bool
    last_seen_at: str | None
    """ISO 8601 time of the kiosk's last heartbeat or batch (None: never seen)."""
    ballots_accepted: int
    backlog: dict[str, int]
    """What the kiosk reported it still holds (outbox items, ballots, voted marks...)."""
    polls_state: str | None


def kiosk_statuses(s: Session) -> list[KioskStatus]:
    """Every kiosk of the election, by id."""
    return [
        KioskStatus(
            kiosk_id=k.kiosk_id,
            centre_id=k.centre_id,
            enrolled=k.cert_sha256 is not None,
            last_seen_at=k.last_seen_at.isoformat() if k.last_seen_at else None,
            ballots_accepted=k.ballots_accepted,
            backlog={key: int(v) for key, v in (k.status.get("backlog") or {}).items()},
            polls_state=k.status.get("polls_state"),
        )
        for k in s.scalars(select(Kiosk).order_by(Kiosk.kiosk_id))
    ]


@dataclass(frozen=True)
class CodeLookup:
    """What the office holds for a confirmation code: nothing (``found`` false), or the ballot's status
    (``spoiled`` for a Benaloh-challenged ballot, else the ballot status: accepted, flagged, rejected, refused...)."""

    found: bool
    status: str | None = None
    kiosk_id: str | None = None
    ballot_id: str | None = None


def look_up_code(s: Session, code: str) -> CodeLookup:
    """A voter's confirmation code: the full hex (64 digits) or the short form shown on screen (16 base32
    characters, dashes ignored: the code's first 10 bytes)."""
    digits = code.replace("-", "").strip()
    row = None
    if len(digits) == 64:
        row = s.scalar(select(Ballot).where(Ballot.confirmation_code == digits.lower()))
    elif len(digits) == 16:
        try:
            prefix = base64.b32decode(digits.upper()).hex()
        except ValueError:
            prefix = ""
        if prefix:
            row = s.scalar(select(Ballot).where(Ballot.confirmation_code.startswith(prefix)))
    if row is None:
        return CodeLookup(found=False)
    status = "spoiled" if row.spoiled else row.status.value
    return CodeLookup(found=True, status=status, kiosk_id=row.kiosk_id, ballot_id=row.ballot_id)
