# mypy: allow-subclassing-any
from __future__ import annotations

from kivy.app import App
from kivy.clock import Clock
from kivy.metrics import dp
from kivy.properties import BooleanProperty, NumericProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.image import Image

from kiosk.session import ballot as rules
from kiosk.session import events as ev
from kiosk.session.voter_state import SessionState
from kiosk.ui.screens.base import KioskScreen, UiContext
from kiosk.ui.screens.widgets import Focusable, KLabel, MirrorRow, discard_children


class CandidateCard(Focusable, ButtonBehavior, MirrorRow):
    chosen = BooleanProperty(False)
    check_r = NumericProperty(dp(18))
    """The check mark's disc radius (grows with the text size)."""
    check_x = NumericProperty(0)
    """The disc's centre x: the card's end corner (left in Arabic, right in English)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.bind(pos=self._place_check, size=self._place_check)  # (padding set here, not in the .kv rule)
        app = App.get_running_app()
        if app is not None:
            app.bind(rtl=self._place_check, fs=self._place_check)
        self._place_check()

    def _place_check(self, *_args) -> None:
        app = App.get_running_app()
        rtl = bool(app is not None and app.rtl)
        fs = float(app.fs) if app is not None else 26.0
        self.check_r = dp(18) * fs / 26
        margin = dp(12) + self.check_r
        self.check_x = self.x + margin if rtl else self.right - margin
        # the text column stops short of the check mark's corner
        end = dp(16) + 2 * self.check_r
        padding = [end, dp(10), dp(10), dp(10)] if rtl else [dp(10), dp(10), end, dp(10)]
        if list(self.padding) != padding:  # type: ignore[has-type]
            self.padding = padding

    def on_chosen(self, _card, chosen: bool) -> None:
        # Colours change through the labels' tone (a canvas tint): no text is re-rendered on a touch.
        for label in self.labels:
            label.tone = "selected" if chosen else "button"
        self.mark.opacity = 1 if chosen else 0


class CandidateText(BoxLayout):
    pass


class BallotScreen(KioskScreen):
    """The voter's wilayat's ballot: photo, ballot number and name of every active candidate."""

    def show(self, state: SessionState, ui: UiContext) -> None:
        assert state.ticket is not None
        contests = rules.contests_for(ui.manifest, state.ticket.style)
        contest = contests[state.contest_index]
        chosen = state.selected(contest.id)
        ids = self.ids
        title = ui.t("ballot.title", contest=ui.name(contest.name))
        if len(contests) > 1:
            title += "  -  " + ui.t("kiosk.ballot.contest_of", index=state.contest_index + 1, total=len(contests))
        ids.title.text = title
        ids.instructions.text = (
            ui.t("ballot.instructions_one") if contest.seats == 1 else ui.t("ballot.instructions", seats=contest.seats)
        )
        ids.count.text = ui.t("ballot.selected_count", count=len(chosen), seats=contest.seats)
        ids.hint.text = ui.t("ballot.deselect_hint")
        withdrawn = sorted((k for k in contest.candidates if k.withdrawn), key=lambda k: k.ballot_number)
        ids.withdrawn.text = "\n".join(
            ui.t("kiosk.ballot.withdrawn", number=k.ballot_number, name=ui.name(k.name)) for k in withdrawn
        )
        ids.withdrawn_panel.collapsed = not withdrawn
        ids.more.cue = ui.t("kiosk.ballot.more_below")
        grid = ids.grid
        key = (contest.id, state.settings.language, state.settings.text_size)
        if getattr(self, "_shown_contest", None) != (state.ticket, state.contest_index, state.challenges_done):
            # Another voter, or another contest: the ballot starts at its top, never where it was left.
            self._shown_contest: object = (state.ticket, state.contest_index, state.challenges_done)
            ids.scroll.scroll_y = 1
        if getattr(self, "_built_for", None) != key:
            # Build the cards once per contest and language; a touch only flips ``chosen``.
            discard_children(grid)
            self._cards = {}
            for candidate in rules.candidates_on_ballot(contest):
                card = self._card(ui, candidate)
                self._cards[candidate.id] = card
                card.text_column.bind(minimum_height=self._equalise_soon)
                grid.add_widget(card)
            self._built_for: object = key
        for candidate_id, card in self._cards.items():
            card.chosen = candidate_id in chosen
        overvote = state.overvote_tried == contest.id
        ids.overvote.text = ui.t("ballot.overvote", seats=contest.seats) if overvote else ""
        ids.overvote_ok.text = ui.t("kiosk.ballot.ok")
        ids.overvote_panel.collapsed = not overvote
        ids.previous.text = ui.t("nav.back")
        ids.previous.opacity = 1 if state.contest_index > 0 else 0
        ids.previous.disabled = state.contest_index == 0
        last = state.contest_index + 1 >= len(contests)
        ids.next.text = ui.t("kiosk.ballot.review") if last else ui.t("nav.next")

    def _equalise_soon(self, *_args) -> None:
        if not hasattr(self, "_equalise_trigger"):
            self._equalise_trigger = Clock.create_trigger(self._equalise, 0)
        self._equalise_trigger()

    def _equalise(self, *_args) -> None:
        """Cards in a row as tall as the row's tallest, so rows line up whatever the names' lengths
        (computed from the text columns once the frame's layout has settled)."""
        cards = list(self._cards.values())
        cols = max(1, int(self.ids.grid.cols or 1))
        for start in range(0, len(cards), cols):
            row = cards[start : start + cols]
            grow = float(App.get_running_app().fs) / 26
            height = max(dp(136) * grow, max(c.text_column.minimum_height for c in row) + dp(20))
            for card in row:
                card.min_height = height

    def forget(self) -> None:
        """Clear the last voter's marks (the shell calls this when a session is wiped). The cards themselves
        show only the candidates, so they are kept for the next voter of the same ballot."""
        for card in getattr(self, "_cards", {}).values():
            card.chosen = False
        self.ids.scroll.scroll_y = 1
        self._shown_contest = None

    def _card(self, ui: UiContext, candidate) -> CandidateCard:
        card = CandidateCard(focus_key=f"candidate.{candidate.id}")
        card.bind(on_release=lambda _c, cid=candidate.id: self.send(ev.ToggleCandidate(cid)))
        texture = ui.photo(candidate.id)
        # Voters who cannot read choose by photo (Decision 128/2003, Art. 2 and 5): photos grow with the text.
        grow = float(App.get_running_app().fs) / 26
        photo = Image(
            texture=texture, size_hint=(None, None), size=(dp(108) * grow, dp(120) * grow), fit_mode="contain"
        )
        photo.pos_hint = {"center_y": 0.5}
        if texture is None:
            photo.opacity = 0
        text = CandidateText()
        number = KLabel(text=ui.t("ballot.candidate_number", number=candidate.ballot_number), tone="button")
        name = KLabel(text=ui.name(candidate.name), tone="button", scale=1.3, bold=True)
        # Always laid out (invisible when not chosen) so every card has the same height.
        mark = KLabel(text=ui.t("ballot.selected"), tone="button", bold=True, opacity=0)
        for label in (number, name, mark):
            text.add_widget(label)
        card.labels = (number, name, mark)
        card.text_column = text
        card.mark = mark
        card.add_widget(photo)
        card.add_widget(text)
        return card
