"""The screen flow as data: which screen shows each phase, which phases wait for the voter (and so run
the inactivity timer), what each failure tells the voter, and which audio prompt each screen plays.

Kept apart from the transitions so the UI, the audio layer and the documentation read one table.
"""

from __future__ import annotations

from types import MappingProxyType

from kiosk.session.events import Failure
from kiosk.session.model import ClipId, MessageId, Phase

SCREEN_OF_PHASE: MappingProxyType[Phase, str] = MappingProxyType(
    {
        Phase.CLOSED: "attract",
        Phase.ATTRACT: "attract",
        Phase.READING_CARD: "busy",
        Phase.PIN_ENTRY: "pin",
        Phase.AUTHENTICATING: "busy",
        Phase.CHECKING_IN: "busy",
        Phase.REMOTE_VOTE: "remote_vote",
        Phase.PROVISIONAL: "provisional",
        Phase.ACCESSIBILITY: "accessibility",
        Phase.BALLOT: "ballot",
        Phase.REVIEW: "review",
        Phase.SEALING: "busy",
        Phase.CAST_OR_CHALLENGE: "cast_or_challenge",
        Phase.CASTING: "busy",
        Phase.CONFIRMATION: "confirmation",
        Phase.CHALLENGING: "busy",
        Phase.CHALLENGE_RESULT: "challenge_result",
        Phase.NOTICE: "notice",
        Phase.STAFF_MENU: "staff",
        Phase.STAFF_BUSY: "busy",
        Phase.STAFF_REPORT: "staff_report",
    }
)

BUSY_MESSAGE: MappingProxyType[Phase, MessageId] = MappingProxyType(
    {
        Phase.READING_CARD: MessageId("card.reading"),
        Phase.AUTHENTICATING: MessageId("auth.in_progress"),
        Phase.CHECKING_IN: MessageId("kiosk.busy.checking_in"),
        Phase.SEALING: MessageId("kiosk.busy.sealing"),
        Phase.CASTING: MessageId("cast.in_progress"),
        Phase.CHALLENGING: MessageId("kiosk.busy.challenging"),
        Phase.STAFF_BUSY: MessageId("kiosk.busy.staff"),
    }
)

WAITS_FOR_VOTER: frozenset[Phase] = frozenset(
    {
        Phase.PIN_ENTRY,
        Phase.REMOTE_VOTE,
        Phase.PROVISIONAL,
        Phase.ACCESSIBILITY,
        Phase.BALLOT,
        Phase.REVIEW,
        Phase.CAST_OR_CHALLENGE,
        Phase.CHALLENGE_RESULT,
        Phase.STAFF_MENU,
        Phase.STAFF_REPORT,
    }
)
"""Phases in which the voter (or staff member) is expected to act: the inactivity timer runs."""

IDLE: frozenset[Phase] = frozenset({Phase.ATTRACT, Phase.CLOSED})

_M = MessageId
FAILURE_MESSAGE: MappingProxyType[Failure, MessageId] = MappingProxyType(
    {
        Failure.CARD_UNREADABLE: _M("kiosk.error.card_unreadable"),
        Failure.NOT_AN_ID_CARD: _M("kiosk.error.not_an_id_card"),
        Failure.READER_GONE: _M("kiosk.error.reader_gone"),
        Failure.PIN_BLOCKED: _M("pin.blocked"),
        Failure.CERT_EXPIRED: _M("card.expired"),
        Failure.CERT_NOT_YET_VALID: _M("auth.certificate_invalid"),
        Failure.CERT_UNTRUSTED: _M("auth.certificate_invalid"),
        Failure.CERT_REVOKED: _M("auth.certificate_invalid"),
        Failure.REVOCATION_STALE: _M("kiosk.error.revocation_stale"),
        Failure.BAD_SIGNATURE: _M("auth.failed"),
        Failure.IDENTITY_MISMATCH: _M("auth.failed"),
        Failure.ALREADY_VOTED: _M("kiosk.error.already_voted"),
        Failure.NOT_ON_ROLL: _M("kiosk.error.not_on_roll"),
        Failure.VOTER_LOCKED: _M("kiosk.error.voter_locked"),
        Failure.WRONG_CENTRE: _M("roll.not_eligible"),
        Failure.POLL_BOOK_UNAVAILABLE: _M("kiosk.error.poll_book_unavailable"),
        Failure.ENCRYPTION_FAILED: _M("error.no_vote_recorded"),
        Failure.CAST_FAILED: _M("error.no_vote_recorded"),
        Failure.CHALLENGE_FAILED: _M("error.no_vote_recorded"),
        Failure.STAFF_NOT_AUTHORISED: _M("kiosk.error.staff_not_authorised"),
        Failure.TIMED_OUT: _M("kiosk.error.timed_out"),
        Failure.INTERNAL: _M("error.generic"),
        Failure.POLLS_CLOSED: _M("error.kiosk_closed"),
        Failure.CARD_REMOVED: _M("kiosk.error.card_removed"),
    }
)
"""What each failure tells the voter; every message names the way out ("please ask a staff member")."""

SCREEN_CLIPS: MappingProxyType[Phase, tuple[ClipId, ...]] = MappingProxyType(
    {phase: (ClipId(f"screen.{phase.value}"),) for phase in Phase}
)
"""Audio prompts per phase; the accessibility layer maps clip ids to recordings or synthesis."""
