# mypy: allow-subclassing-any
from __future__ import annotations

from kiosk.screens.base import KioskScreen, UiContext
from kiosk.session import events as ev
from kiosk.session.state import SessionState

TITLES = {
    ev.StaffAction.OPEN_POLLS: "staff.open_polls",
    ev.StaffAction.CLOSE_POLLS: "staff.close_polls",
    ev.StaffAction.STATUS: "kiosk.staff.status",
    ev.StaffAction.START_ASSISTED: "staff.assisted_voting",
    ev.StaffAction.MANUAL_FALLBACK: "staff.switch_manual",
}


class StaffReportScreen(KioskScreen):
    """A report (zero report, close report, status) as the kiosk services wrote it."""

    def show(self, state: SessionState, ui: UiContext) -> None:
        action = state.staff_action or ev.StaffAction.STATUS
        self.ids.title.text = ui.t(TITLES[action])
        self.ids.lines.text = "\n".join(state.staff_report)
        self.ids.back.text = ui.t("nav.back")
