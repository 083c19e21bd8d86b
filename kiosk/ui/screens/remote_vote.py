# mypy: allow-subclassing-any
from __future__ import annotations

from kiosk.session.voter_state import SessionState
from kiosk.ui.screens.base import KioskScreen, UiContext


class RemoteVoteScreen(KioskScreen):
    """After the check-in, before the ballot: the office says this voter has a ballot cast over the internet. Voting
    here replaces it (the voted mark voids it); cancelling casts nothing here and leaves it counting."""

    def show(self, state: SessionState, ui: UiContext) -> None:
        self.ids.more.cue = ui.t("kiosk.more_below")
        ids = self.ids
        ids.title.text = ui.t("kiosk.remote_vote.title")
        ids.body.text = ui.t("kiosk.remote_vote.explanation")
        ids.not_me.text = ui.t("kiosk.remote_vote.not_me")
        ids.accept.text = ui.t("kiosk.remote_vote.continue")
        ids.cancel.text = ui.t("kiosk.remote_vote.cancel")
