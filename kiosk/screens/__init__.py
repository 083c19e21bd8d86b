"""Thin Kivy screens: each paints the session state and sends session events; one .kv per screen.

Nothing here is imported by the session core. The .kv files are loaded by ``KioskApp.build``.
"""

from __future__ import annotations

from pathlib import Path

KV_DIR = Path(__file__).resolve().parent

SCREEN_MODULES: dict[str, tuple[str, str]] = {
    "attract": ("kiosk.screens.attract", "AttractScreen"),
    "busy": ("kiosk.screens.busy", "BusyScreen"),
    "pin": ("kiosk.screens.pin", "PinScreen"),
    "provisional": ("kiosk.screens.provisional", "ProvisionalScreen"),
    "accessibility": ("kiosk.screens.accessibility", "AccessibilityScreen"),
    "ballot": ("kiosk.screens.ballot", "BallotScreen"),
    "review": ("kiosk.screens.review", "ReviewScreen"),
    "cast_or_challenge": ("kiosk.screens.cast_or_challenge", "CastOrChallengeScreen"),
    "confirmation": ("kiosk.screens.confirmation", "ConfirmationScreen"),
    "challenge_result": ("kiosk.screens.challenge_result", "ChallengeResultScreen"),
    "notice": ("kiosk.screens.notice", "NoticeScreen"),
    "staff": ("kiosk.screens.staff", "StaffScreen"),
    "staff_report": ("kiosk.screens.staff_report", "StaffReportScreen"),
}
"""Screen name (as in kiosk.session.flow.SCREEN_OF_PHASE) -> (module, class); ``<name>.kv`` beside it."""
