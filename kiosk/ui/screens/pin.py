# mypy: allow-subclassing-any
from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.properties import BooleanProperty, NumericProperty

from kiosk.session import events as ev
from kiosk.session.voter_state import SessionState
from kiosk.ui.screens.base import KioskScreen, UiContext
from kiosk.ui_text import PIN_DOT


class PinScreen(KioskScreen):
    """On-screen keypad; the PIN shows as dots only, the tries left are always visible. On a low screen the text
    stands beside the keypad (before it in reading order: on the right in Arabic) instead of above it, with a
    wrong-PIN warning at its top."""

    side_by_side = BooleanProperty(False)
    key_height = NumericProperty(0)

    def on_kv_post(self, base_widget: Any) -> None:
        app = App.get_running_app()
        if app is not None:
            app.bind(rtl=self._arrange)
        self.bind(side_by_side=self._arrange)
        self._arrange()

    def _arrange(self, *_: Any) -> None:
        """The text column first in reading order: a horizontal BoxLayout lays out its last child leftmost."""
        body, info, pad = self.ids.body, self.ids.info_area, self.ids.pad_area
        app = App.get_running_app()
        rtl = bool(app is not None and app.rtl)
        wanted = [info, pad] if self.side_by_side and rtl else [pad, info]
        if body.children != wanted:
            body.clear_widgets()
            for widget in reversed(wanted):
                body.add_widget(widget)
        # Beside the keypad the column is narrow and may scroll: a wrong-PIN warning goes to its top, where it
        # is seen without scrolling; above the keypad it stays under the title.
        ids = self.ids
        order = [ids.title, ids.hint, ids.wrong_panel, ids.tries]
        if self.side_by_side:
            order = [ids.wrong_panel, ids.title, ids.hint, ids.tries]
        column = ids.info
        if column.children != order[::-1]:
            column.clear_widgets()
            for widget in order:
                column.add_widget(widget)

    def digit(self, d: str) -> None:
        self.send(ev.PinDigit(d))

    def show(self, state: SessionState, ui: UiContext) -> None:
        ids = self.ids
        ids.title.text = ui.t("pin.enter")
        ids.more.cue = ui.t("kiosk.more_below")
        ids.hint.text = ui.t("pin.hint")
        typed = len(state.pin)
        ids.dots.text = " ".join(PIN_DOT for _ in range(typed)) if typed else "-"
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
