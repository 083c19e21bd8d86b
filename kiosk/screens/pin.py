# mypy: allow-subclassing-any
from __future__ import annotations

from kiosk.screens.base import KioskScreen, UiContext
from kiosk.session import events as ev
from kiosk.session.state import SessionState


class PinScreen(KioskScreen):
    """On-screen keypad; the PIN shows as dots only, the tries left are always visible."""

    def digit(self, d: str) -> None:
        self.send(ev.PinDigit(d))

    def show(self, state: SessionState, ui: UiContext) -> None:
        ids = self.ids
        ids.title.text = ui.t("pin.enter")
        ids.hint.text = ui.t("pin.hint")
        typed = len(state.pin)
        ids.dots.text = " ".join("\u25cf" for _ in range(typed)) if typed else "-"
        tries = state.pin_tries_left or 0
        ids.tries.text = ui.t("kiosk.pin.tries_left", tries=tries)
        warning = ""
        if state.pin_wrong:
            warning = ui.t("pin.wrong", tries=tries)
        if tries == 1:
            warning = (warning + "\n" if warning else "") + ui.t("pin.last_try")
        ids.wrong.text = warning
        ids.wrong_panel.collapsed = not warning
        if state.pin_wrong:
            ids.tries.text = ""  # already in the warning
        ids.delete.text = ui.t("kiosk.pin.delete")
        ids.ok.text = ui.t("kiosk.pin.ok")
