# mypy: allow-subclassing-any
from __future__ import annotations

from kiosk.session.model import Phase
from kiosk.session.voter_state import SessionState
from kiosk.ui.screens.base import KioskScreen, UiContext

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
