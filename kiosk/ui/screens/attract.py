# mypy: allow-subclassing-any
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kivy.app import App

from election.manifest import Language
from kiosk.session.model import Phase
from kiosk.session.voter_state import SessionState
from kiosk.ui.screens.base import KioskScreen, UiContext

if TYPE_CHECKING:
    from kiosk.ui.app import StartAction

AUDIO_BUTTON = "صوت  /  Audio"
"""Both languages on one button: a voter who cannot read the screen's language can still find it."""


class AttractScreen(KioskScreen):
    """Insert your ID card; or, when the kiosk is not taking voters, why not."""

    def show(self, state: SessionState, ui: UiContext) -> None:
        ids = self.ids
        ids.title.text = ui.t("attract.title")
        ids.election.text = ui.name(ui.manifest.name)
        notice = ""
        closed = state.phase is Phase.CLOSED
        ids.audio.text = AUDIO_BUTTON
        ids.audio.chosen = state.settings.audio
        ids.audio.opacity = 0 if closed else 1
        ids.audio.disabled = closed
        if closed:
            if state.kiosk.manual_fallback:
                ids.instruction.text = ui.t("kiosk.closed.manual")
            elif state.kiosk.polls_closed:
                ids.instruction.text = ui.t("polls.closed")
            else:
                ids.instruction.text = ui.t("polls.not_open", time=ui.manifest.polls_open.strftime("%H:%M"))
            ids.hint.text = ui.t("staff.insert_card")
        else:
            ids.instruction.text = ui.t("attract.insert_card")
            ids.hint.text = ui.t("attract.audio_hint")
        if not state.reader_ok:
            notice = ui.t("kiosk.reader_problem")
        elif state.notice is not None:
            notice = ui.t(state.notice)
        ids.notice.text = notice
        ids.notice_panel.collapsed = not notice
        action = getattr(App.get_running_app(), "start_action", None)
        if action is not None:
            self._show_start_action(action, ui, closed)

    _start_button: Any = None
    _language: Language = Language.ARABIC

    def _show_start_action(self, action: StartAction, ui: UiContext, closed: bool) -> None:
        """The composition's extra button (``kiosk.ui.app.StartAction``), made the first time under the audio
        button; a kiosk passes none, so none of this runs there."""
        from kivy.uix.widget import Widget

        from kiosk.ui.screens.widgets import KButton, MirrorRow

        if self._start_button is None:
            audio_row = self.ids.audio.parent
            page = audio_row.parent
            button = KButton(size_hint_x=None, width=self.ids.audio.width, scale=1.2)
            button.bind(on_release=lambda _b: action.run(self._language))
            row = MirrorRow()
            for widget in (Widget(), button, Widget()):
                row.add_widget(widget)
            page.add_widget(row, index=page.children.index(audio_row))  # children run bottom to top
            self._start_button = button
        self._language = ui.language
        self._start_button.text = ui.t(action.label_key)
        self._start_button.opacity = 0 if closed else 1
        self._start_button.disabled = closed
