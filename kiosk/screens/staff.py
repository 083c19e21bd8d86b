# mypy: allow-subclassing-any
from __future__ import annotations

from kiosk.screens.base import KioskScreen, UiContext
from kiosk.screens.widgets import KButton
from kiosk.session import events as ev
from kiosk.session.state import SessionState

A = ev.StaffAction


class StaffScreen(KioskScreen):
    """Staff functions (a staff card and PIN are required); each action is audited by the session."""

    def show(self, state: SessionState, ui: UiContext) -> None:
        ids = self.ids
        ids.title.text = ui.t("staff.title")
        lines = [ui.t("kiosk.staff.polls_open" if state.kiosk.polls_open else "kiosk.staff.polls_closed")]
        if state.kiosk.manual_fallback:
            lines.append(ui.t("kiosk.staff.manual_active"))
        if state.kiosk.assisted_next:
            lines.append(ui.t("kiosk.staff.assisted_ready"))
        ids.status.text = "\n".join(lines)
        ids.remove_card.text = ui.t("kiosk.staff.remove_card")
        actions = ids.actions
        actions.clear_widgets()
        polls = (A.CLOSE_POLLS, "staff.close_polls") if state.kiosk.polls_open else (A.OPEN_POLLS, "staff.open_polls")
        for action, key in (
            polls,
            (A.STATUS, "kiosk.staff.status"),
            (A.START_ASSISTED, "staff.assisted_voting"),
            (A.MANUAL_FALLBACK, "staff.switch_manual"),
        ):
            button = KButton(text=ui.t(key))
            button.bind(on_release=lambda _b, a=action: self.send(ev.StaffChoose(a)))
            actions.add_widget(button)
