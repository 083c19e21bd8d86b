# mypy: allow-subclassing-any
from __future__ import annotations

from kiosk.session import events as ev
from kiosk.session.voter_state import SessionState
from kiosk.ui.screens.base import KioskScreen, UiContext
from kiosk.ui.screens.staff_status import add_status
from kiosk.ui.screens.widgets import KLabel, KSmall, KTitle, Panel, discard_children
from kiosk.ui_text import ltr

TITLES = {
    ev.StaffAction.OPEN_POLLS: "staff.open_polls",
    ev.StaffAction.CLOSE_POLLS: "staff.close_polls",
    ev.StaffAction.STATUS: "kiosk.staff.status",
    ev.StaffAction.START_ASSISTED: "staff.assisted_voting",
    ev.StaffAction.MANUAL_FALLBACK: "staff.switch_manual",
    ev.StaffAction.REOPEN_POLLS: "kiosk.staff.reopen",
}
DONE = {
    ev.StaffAction.OPEN_POLLS: "kiosk.staff.zero_report",
    ev.StaffAction.CLOSE_POLLS: "kiosk.staff.close_report",
    ev.StaffAction.STATUS: None,
    ev.StaffAction.START_ASSISTED: "kiosk.staff.assisted_ready",
    ev.StaffAction.MANUAL_FALLBACK: "kiosk.staff.manual_active",
    ev.StaffAction.REOPEN_POLLS: "kiosk.staff.reopened",
}
"""What each action, once done, tells the staff member (in their language)."""


class StaffReportScreen(KioskScreen):
    """The outcome of a staff action in words (or why it was refused), the kiosk's status, and the kiosk services'
    own report lines (zero report, close report) as technical details for the central office."""

    def show(self, state: SessionState, ui: UiContext) -> None:
        action = state.staff_action or ev.StaffAction.STATUS
        ids = self.ids
        ids.back.text = ui.t("nav.back")
        ids.more.cue = ui.t("kiosk.more_below")
        body = ids.body
        discard_children(body)
        body.add_widget(KTitle(text=ui.t(TITLES[action])))
        outcome = "kiosk.staff.refused" if not state.staff_ok else DONE[action]
        if outcome is not None:
            panel = Panel(kind="ok" if state.staff_ok else "warning")
            panel.add_widget(KLabel(text=ui.t(outcome), tone="selected" if state.staff_ok else "warning", bold=True))
            body.add_widget(panel)
        add_status(body, ui, state.kiosk)
        if state.staff_report:
            body.add_widget(KSmall(text=ui.t("kiosk.staff.details")))
            for line in state.staff_report:
                body.add_widget(KSmall(text=ltr(line), align="left"))
