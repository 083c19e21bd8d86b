# mypy: allow-subclassing-any
from __future__ import annotations

from kiosk.screens.base import KioskScreen, UiContext
from kiosk.screens.widgets import KButton, KLabel, KPrimary, KTitle, MirrorRow, Panel
from kiosk.session import ballot as rules
from kiosk.session import events as ev
from kiosk.session.state import SessionState


class ReviewScreen(KioskScreen):
    """The voter's choices per contest; an undervote is warned, a blank ballot needs a confirmation."""

    def show(self, state: SessionState, ui: UiContext) -> None:
        assert state.ticket is not None
        contests = rules.contests_for(ui.manifest, state.ticket.style)
        ids = self.ids
        ids.change.text = ui.t("review.change")
        ids.seal.text = ui.t("kiosk.review.seal")
        body = ids.body
        body.clear_widgets()
        body.add_widget(KTitle(text=ui.t("review.title")))
        body.add_widget(KLabel(text=ui.t("review.instructions")))
        under = {u.contest: u for u in rules.undervotes(contests, state.selections)}
        blank = rules.is_blank(contests, state.selections)
        for contest in contests:
            body.add_widget(KTitle(text=ui.name(contest.name), scale=1.15))
            chosen = set(state.selected(contest.id))
            names = [c for c in contest.active_candidates if c.id in chosen]
            if not names:
                body.add_widget(KLabel(text=ui.t("review.blank")))
            for c in names:
                number = ui.t("ballot.candidate_number", number=c.ballot_number)
                body.add_widget(KLabel(text=f"{number}:  {ui.name(c.name)}", bold=True))
            if contest.id in under and not blank:
                u = under[contest.id]
                panel = Panel()
                text = ui.t("ballot.undervote_warning", count=u.marked, seats=u.allowed)
                panel.add_widget(KLabel(text=text, tone="warning"))
                body.add_widget(panel)
        if blank:
            panel = Panel()
            panel.add_widget(KLabel(text=ui.t("ballot.blank_confirm"), tone="warning", bold=True))
            if not state.blank_confirmed:
                row = MirrorRow()
                no = KButton(text=ui.t("ballot.blank_no"), focus_key="blank.no")
                no.bind(on_release=lambda _b: self.send(ev.BackToBallot()))
                yes = KPrimary(text=ui.t("ballot.blank_yes"), focus_key="blank.yes")
                yes.bind(on_release=lambda _b: self.send(ev.ConfirmBlank()))
                row.add_widget(no)
                row.add_widget(yes)
                panel.add_widget(row)
            body.add_widget(panel)
        # Until a blank ballot is confirmed in the panel above, there is no way forward but the panel.
        ids.seal.disabled = blank and not state.blank_confirmed
        ids.seal.opacity = 0 if ids.seal.disabled else 1

    def forget(self) -> None:
        self.ids.body.clear_widgets()
