# mypy: allow-subclassing-any
from __future__ import annotations

from kiosk.session import flow
from kiosk.session.voter_state import SessionState
from kiosk.ui.screens.base import KioskScreen, UiContext


class BusyScreen(KioskScreen):
    def show(self, state: SessionState, ui: UiContext) -> None:
        self.ids.message.text = ui.t(flow.BUSY_MESSAGE[state.phase])
        self.ids.wait.text = ui.t("kiosk.busy.wait") if state.card_present else ""
