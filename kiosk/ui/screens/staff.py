# mypy: allow-subclassing-any
from __future__ import annotations

from kivy.uix.gridlayout import GridLayout

from kiosk.session import events as ev
from kiosk.session.voter_state import SessionState
from kiosk.ui.screens.base import KioskScreen, UiContext
from kiosk.ui.screens.staff_status import add_status
from kiosk.ui.screens.widgets import EvenRow, KButton, KLabel, KPrimary, KTitle, Panel, discard_children

A = ev.StaffAction


class StaffScreen(KioskScreen):
    """Staff functions (a staff card and PIN are required); each action is audited by the session and the ballot
    box. Closing the polls asks for a confirmation first; after a close only "reopen" is offered, which the ballot
    box allows to an administrator's card only."""

    def show(self, state: SessionState, ui: UiContext) -> None:
        self._state, self._ui = state, ui
        self._confirming = getattr(self, "_confirming", False) and state.kiosk.polls_open
        self._paint()

    def _paint(self) -> None:
        state, ui = self._state, self._ui
        ids = self.ids
        ids.remove_card.text = ui.t("kiosk.staff.remove_card")
        ids.more.cue = ui.t("kiosk.more_below")
        body = ids.body
        discard_children(body)
        body.add_widget(KTitle(text=ui.t("staff.title")))
        add_status(body, ui, state.kiosk)
        if self._confirming:
            panel = Panel()
            panel.add_widget(KLabel(text=ui.t("kiosk.staff.close_confirm"), tone="warning", bold=True))
            row = EvenRow()
            cancel = KButton(text=ui.t("nav.cancel"), focus_key="staff.cancel")
            cancel.bind(on_release=lambda _b: self._confirm(False))
            yes = KPrimary(text=ui.t("kiosk.staff.close_yes"), focus_key="staff.close_yes")
            yes.bind(on_release=lambda _b: self._choose(A.CLOSE_POLLS))
            row.add_widget(cancel)
            row.add_widget(yes)
            panel.add_widget(row)
            body.add_widget(panel)
            return
        if state.kiosk.polls_closed:
            body.add_widget(KLabel(text=ui.t("kiosk.staff.reopen_needs_admin"), tone="muted"))
        actions = GridLayout(cols=2, spacing=16, size_hint_y=None)
        actions.bind(minimum_height=actions.setter("height"))
        actions.orientation = "rl-tb" if ui.rtl else "lr-tb"
        buttons: list[tuple[A, str]] = []
        if state.kiosk.polls_open:
            buttons.append((A.CLOSE_POLLS, "staff.close_polls"))
        elif state.kiosk.polls_closed:
            buttons.append((A.REOPEN_POLLS, "kiosk.staff.reopen"))
        else:
            buttons.append((A.OPEN_POLLS, "staff.open_polls"))
        buttons += [
            (A.STATUS, "kiosk.staff.status"),
            (A.START_ASSISTED, "staff.assisted_voting"),
            (A.MANUAL_FALLBACK, "staff.switch_manual"),
        ]
        row_buttons = []
        for action, key in buttons:
            button = KButton(text=ui.t(key), focus_key=f"staff.{action.value}")
            if action is A.CLOSE_POLLS:
                button.bind(on_release=lambda _b: self._confirm(True))
            else:
                button.bind(on_release=lambda _b, a=action: self._choose(a))
            actions.add_widget(button)
            row_buttons.append(button)

        # the grid's buttons all as tall as the tallest (rows line up)
        def even(*_args) -> None:
            tallest = max(b.natural_height() for b in row_buttons)
            for b in row_buttons:
                b.row_min = tallest

        for b in row_buttons:
            b.bind(texture_size=even)
        even()
        body.add_widget(actions)

    def _confirm(self, on: bool) -> None:
        self._confirming = on
        self._paint()

    def _choose(self, action: A) -> None:
        self._confirming = False
        self.send(ev.StaffChoose(action))

    def forget(self) -> None:
        self._confirming = False
