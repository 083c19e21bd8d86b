# mypy: allow-subclassing-any
from __future__ import annotations

from kiosk.session.voter_state import SessionState
from kiosk.ui.screens.base import KioskScreen, UiContext


class CastOrChallengeScreen(KioskScreen):
    """The ballot is encrypted and committed (its code shown) before the voter decides: cast or challenge."""

    def show(self, state: SessionState, ui: UiContext) -> None:
        self.ids.more.cue = ui.t("kiosk.more_below")
        ids = self.ids
        ids.title.text = ui.t("kiosk.sealed.title")
        ids.code.text = ui.t("confirmation.code", code=state.sealed.code if state.sealed else "")
        ids.choose.text = ui.t("kiosk.sealed.choose")
        ids.cast_text.text = ui.t("cast.confirm")
        ids.challenge_text.text = ui.t("challenge.explanation")
        ids.cast.text = ui.t("cast.button")
        ids.challenge.text = ui.t("challenge.button")
