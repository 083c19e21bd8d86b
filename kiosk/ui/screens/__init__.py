"""Thin Kivy screens: each paints the session state and sends session events; one .kv per screen.

Nothing here is imported by the session core. The .kv files are loaded by ``KioskApp.build``.
"""

from __future__ import annotations

from pathlib import Path

KV_DIR = Path(__file__).resolve().parent

SCREEN_MODULES: dict[str, tuple[str, str]] = {
    "attract": ("kiosk.ui.screens.attract", "AttractScreen"),
    "busy": ("kiosk.ui.screens.busy", "BusyScreen"),
    "pin": ("kiosk.ui.screens.pin", "PinScreen"),
    "remote_vote": ("kiosk.ui.screens.remote_vote", "RemoteVoteScreen"),
    "provisional": ("kiosk.ui.screens.provisional", "ProvisionalScreen"),
    "accessibility": ("kiosk.ui.screens.accessibility", "AccessibilityScreen"),
    "ballot": ("kiosk.ui.screens.ballot", "BallotScreen"),
    "review": ("kiosk.ui.screens.review", "ReviewScreen"),
    "cast_or_challenge": ("kiosk.ui.screens.cast_or_challenge", "CastOrChallengeScreen"),
    "confirmation": ("kiosk.ui.screens.confirmation", "ConfirmationScreen"),
    "challenge_result": ("kiosk.ui.screens.challenge_result", "ChallengeResultScreen"),
    "notice": ("kiosk.ui.screens.notice", "NoticeScreen"),
    "staff": ("kiosk.ui.screens.staff", "StaffScreen"),
    "staff_report": ("kiosk.ui.screens.staff_report", "StaffReportScreen"),
}
"""Screen name (as in kiosk.session.flow.SCREEN_OF_PHASE) -> (module, class); ``<name>.kv`` beside it."""
