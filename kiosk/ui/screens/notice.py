# mypy: allow-subclassing-any
from __future__ import annotations

from kiosk.session import flow
from kiosk.session.events import Failure
from kiosk.session.voter_state import SessionState
from kiosk.ui.screens.base import KioskScreen, UiContext


class NoticeScreen(KioskScreen):
    """The session cannot go on: what happened, in words, and what to do (ask staff, remove the card)."""

    def show(self, state: SessionState, ui: UiContext) -> None:
        self.ids.more.cue = ui.t("kiosk.more_below")
        if state.failure is None and state.notice is not None:  # the voter ended the session: nothing failed
            self.ids.title.text = ui.t("kiosk.remote_vote.kept_title")
            self.ids.body.text = ui.t(state.notice)
        else:
            self.ids.title.text = ui.t("kiosk.error.title")
            self.ids.body.text = ui.t(flow.FAILURE_MESSAGE[state.failure or Failure.INTERNAL])
        self.ids.remove_card.text = ui.t("card.remove") if state.card_present else ""
