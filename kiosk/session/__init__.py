"""The voter session: a pure state machine (events in, state and effects out) that never imports Kivy."""

from kiosk.session.machine import VoterSession, initial_state
from kiosk.session.moves import SessionConfig
from kiosk.session.voter_state import SessionState

__all__ = ["SessionConfig", "SessionState", "VoterSession", "initial_state"]
