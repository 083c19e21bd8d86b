"""Assisted voting (Decision 128/2003, Art. 5) and the privacy screen, as a pure tracker.

A staff member signs in with their staff card and chooses "start assisted voting"; the session then
turns audio on for the next voter at check-in (``KioskMode.assisted_next``). This tracker remembers
which staff card armed it, and when the next voter checks in it asks for one audit entry saying that
assistance was given and by which staff card. Nothing about the ballot reaches it: it sees the session
states only to notice arming, check-in and the end of the session, and its audit details hold nothing
but the staff card id.

The privacy screen blanks the display while the voter listens in the headphones (a voter using audio
can turn it on for themselves; in assisted mode it starts on, so the helper never sees the ballot).
Input keeps working while the screen is blank; everything resets with the session.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from kiosk.session import flow
from kiosk.session.voter_state import SessionState

AuditEntry = tuple[str, str]
"""(kind, detail) for the kiosk's audit log."""


@dataclass(frozen=True)
class Assistance:
    armed_by: str | None = None
    """The staff card that started assisted mode for the next voter."""
    assisting: str | None = None
    """The staff card assisting the current voter."""
    privacy: bool = False
    """The screen is blanked."""


def observe(assist: Assistance, old: SessionState, new: SessionState) -> tuple[Assistance, tuple[AuditEntry, ...]]:
    """Follow one session step; returns the new tracker and the audit entries to record."""
    audits: list[AuditEntry] = []
    if not old.kiosk.assisted_next and new.kiosk.assisted_next and new.staff is not None:
        assist = replace(assist, armed_by=new.staff.staff_id)
    if old.kiosk.assisted_next and not new.kiosk.assisted_next and new.ticket is not None:
        staff = assist.armed_by or "unknown"
        assist = Assistance(assisting=staff, privacy=True)
        audits.append(("assistance_given", f"staff card {staff}"))
    session_over = new.phase in flow.IDLE and old.phase not in flow.IDLE
    if session_over and (assist.assisting is not None or assist.privacy):
        if assist.assisting is not None:
            audits.append(("assistance_ended", f"staff card {assist.assisting}"))
        assist = Assistance(armed_by=assist.armed_by if new.kiosk.assisted_next else None)
    if not new.settings.audio and assist.privacy:
        # Never leave a voter in front of a blank screen with no audio.
        assist = replace(assist, privacy=False)
    return assist, tuple(audits)


def toggle_privacy(assist: Assistance, state: SessionState) -> Assistance:
    """Blank or show the screen; blanking needs audio on (the voter must still be able to follow)."""
    if assist.privacy:
        return replace(assist, privacy=False)
    if not state.settings.audio or state.phase in flow.IDLE:
        return assist
    return replace(assist, privacy=True)
