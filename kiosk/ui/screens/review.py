# mypy: allow-subclassing-any
from __future__ import annotations

from kiosk.session import ballot as rules
from kiosk.session import events as ev
from kiosk.session.voter_state import SessionState
from kiosk.ui.screens.base import KioskScreen, UiContext
from kiosk.ui.screens.widgets import KLabel, KTitle, Panel, discard_children


class ReviewScreen(KioskScreen):
    """The voter's choices per contest; an undervote is warned. A blank ballot is said plainly and the two buttons
    become "No, go back and choose" and "Yes, cast a blank ballot": that one touch is the blank ballot's
    confirmation (the kiosk seals it, and the cast-or-challenge step follows as for every ballot)."""

    def show(self, state: SessionState, ui: UiContext) -> None:
        assert state.ticket is not None
        contests = rules.contests_for(ui.manifest, state.ticket.style)
        ids = self.ids
        ids.more.cue = ui.t("kiosk.more_below")
        self._blank = rules.is_blank(contests, state.selections)
        ids.change.text = ui.t("ballot.blank_no") if self._blank else ui.t("review.change")
        ids.change.focus_key = "blank.no" if self._blank else "change"
        ids.seal.text = ui.t("ballot.blank_yes") if self._blank else ui.t("kiosk.review.seal")
        ids.seal.focus_key = "blank.yes" if self._blank else "seal"
        body = ids.body
        discard_children(body)
        body.add_widget(KTitle(text=ui.t("review.title")))
        if not self._blank:
            body.add_widget(KLabel(text=ui.t("review.instructions")))
        under = {u.contest: u for u in rules.undervotes(contests, state.selections)}
        for contest in contests:
            body.add_widget(KTitle(text=ui.name(contest.name), scale=1.15))
            chosen = set(state.selected(contest.id))
            names = [c for c in contest.active_candidates if c.id in chosen]
            if not names:
                body.add_widget(KLabel(text=ui.t("review.blank")))
            for c in names:
                number = ui.t("ballot.candidate_number", number=c.ballot_number)
                body.add_widget(KLabel(text=f"{number}:  {ui.name(c.name)}", bold=True))
            if contest.id in under and not self._blank:
                u = under[contest.id]
                panel = Panel()
                text = ui.t("ballot.undervote_warning", count=u.marked, seats=u.allowed)
                panel.add_widget(KLabel(text=text, tone="warning"))
                body.add_widget(panel)
        if self._blank:
            panel = Panel()
            panel.add_widget(KLabel(text=ui.t("ballot.blank_confirm"), tone="warning", bold=True))
            body.add_widget(panel)
        ids.scroll.scroll_y = 1

    def go_back(self) -> None:
        self.send(ev.BackToBallot())

    def seal(self) -> None:
        self.send(ev.ConfirmBlank() if getattr(self, "_blank", False) else ev.SealBallot())

    def forget(self) -> None:
        discard_children(self.ids.body)
