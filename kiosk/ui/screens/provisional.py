# mypy: allow-subclassing-any
from __future__ import annotations

from kiosk.session.voter_state import SessionState
from kiosk.ui.screens.base import KioskScreen, UiContext


class ProvisionalScreen(KioskScreen):
    def show(self, state: SessionState, ui: UiContext) -> None:
        self.ids.more.cue = ui.t("kiosk.more_below")
        self.ids.title.text = ui.t("provisional.title")
        self.ids.body.text = ui.t("provisional.explanation")
        self.ids.accept.text = ui.t("provisional.accept")
