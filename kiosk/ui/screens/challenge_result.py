# mypy: allow-subclassing-any
from __future__ import annotations

from kivy.metrics import dp
from kivy.uix.image import Image

from kiosk.session import ballot as rules
from kiosk.session.voter_state import SessionState
from kiosk.ui.screens.base import KioskScreen, UiContext
from kiosk.ui.screens.confirmation import qr_texture
from kiosk.ui.screens.widgets import KLabel, KSmall, KTitle, Panel, discard_children


class ChallengeResultScreen(KioskScreen):
    """The challenged ballot decrypted with its revealed nonces: the voter compares it with their choices."""

    def show(self, state: SessionState, ui: UiContext) -> None:
        self.ids.more.cue = ui.t("kiosk.more_below")
        report = state.challenge
        if report is None or state.ticket is None:
            return
        self.ids.again.text = ui.t("challenge.vote_again")
        body = self.ids.body
        discard_children(body)
        # A passed check is good news, in the theme's "selected" colours; only a failed check is a warning.
        verdict = Panel(kind="ok" if report.verified else "warning")
        key = "kiosk.challenge.verified" if report.verified else "kiosk.challenge.mismatch"
        verdict.add_widget(KTitle(text=ui.t(key), tone="selected" if report.verified else "warning", scale=1.2))
        body.add_widget(verdict)
        body.add_widget(KLabel(text=ui.t("challenge.result")))
        for contest in rules.contests_for(ui.manifest, state.ticket.style):
            body.add_widget(KTitle(text=ui.name(contest.name), scale=1.15))
            chosen = set(report.decrypted.get(contest.id, ()))
            names = [c for c in contest.active_candidates if c.id in chosen]
            if not names:
                body.add_widget(KLabel(text=ui.t("review.blank")))
            for c in names:
                number = ui.t("ballot.candidate_number", number=c.ballot_number)
                body.add_widget(KLabel(text=f"{number}:  {ui.name(c.name)}", bold=True))
        body.add_widget(KLabel(text=ui.t("kiosk.challenge.code", code=report.code), tone="muted"))
        if report.check_code:
            # The kiosk's own "check passed" certifies nothing: the voter checks on a device they trust.
            side = min(dp(260), self.height / 2.8) if self.height else dp(260)
            qr = Image(texture=qr_texture(report.check_code), size_hint=(None, None), size=(side, side))
            qr.fit_mode = "contain"
            qr.pos_hint = {"center_x": 0.5}
            body.add_widget(qr)
            body.add_widget(KSmall(text=ui.t("kiosk.challenge.qr"), align="center"))

    def forget(self) -> None:
        discard_children(self.ids.body)
