# mypy: allow-subclassing-any
"""The staff screens' status block: this kiosk, Oman's time, the polls, the counts and the outbox, in the
screen's language (every line from the catalogue)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from kiosk.session.model import KioskMode, StaffStatus
from kiosk.ui.screens.base import UiContext
from kiosk.ui.screens.widgets import KLabel
from kiosk.ui_text import ltr

OMAN = ZoneInfo("Asia/Muscat")
"""Oman's time (UTC+4, no daylight saving): what the polling centre's clocks show."""


def status_lines(ui: UiContext, kiosk: KioskMode, status: StaffStatus | None) -> list[str]:
    lines: list[str] = []
    if status is not None:
        lines.append(ui.t("kiosk.staff.kiosk", kiosk=status.kiosk_id))
        lines.append(ui.t("kiosk.staff.clock", time=ltr(status.at.astimezone(OMAN).strftime("%Y-%m-%d %H:%M"))))
    if kiosk.polls_open:
        lines.append(ui.t("kiosk.staff.polls_open"))
    elif kiosk.polls_closed:
        lines.append(ui.t("kiosk.staff.polls_closed"))
    else:
        lines.append(ui.t("polls.not_open", time=ui.manifest.polls_open.strftime("%H:%M")))
    if kiosk.manual_fallback:
        lines.append(ui.t("kiosk.staff.manual_active"))
    if kiosk.assisted_next:
        lines.append(ui.t("kiosk.staff.assisted_ready"))
    if status is not None:
        lines.append(ui.t("kiosk.staff.ballots_cast", count=status.ballots_cast))
        lines.append(ui.t("kiosk.staff.check_ins", count=status.check_ins))
        if status.outbox is None:
            lines.append(ui.t("kiosk.staff.standalone"))
        else:
            lines.append(
                ui.t("kiosk.staff.outbox", count=status.outbox) if status.outbox else ui.t("kiosk.staff.outbox_empty")
            )
            lines.append(ui.t("staff.central_connected" if status.office_reachable else "staff.central_disconnected"))
    return lines


def add_status(body, ui: UiContext, kiosk: KioskMode) -> None:
    status = ui.staff_status() if ui.staff_status is not None else None
    for line in status_lines(ui, kiosk, status):
        body.add_widget(KLabel(text=line))
