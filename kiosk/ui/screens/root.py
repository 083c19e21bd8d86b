# mypy: allow-subclassing-any
from __future__ import annotations

from kivy.app import App
from kivy.uix.anchorlayout import AnchorLayout
from kivy.uix.floatlayout import FloatLayout

from election.manifest import Language
from kiosk.session import events as ev


class Overlay(AnchorLayout):
    """The inactivity warning: while shown, every touch counts as "still here" and nothing beneath it
    can be pressed by accident."""

    def on_touch_down(self, touch):
        if self.disabled:
            return False
        if not super().on_touch_down(touch):
            App.get_running_app().send(ev.Activity())
        return True


class KioskRoot(FloatLayout):
    """The top bar (language switch, always there), the screens, the inactivity warning, the demo panel."""

    def toggle_language(self) -> None:
        app = App.get_running_app()
        current = app.driver.state.settings.language
        app.send(ev.ChooseLanguage(Language.ENGLISH if current is Language.ARABIC else Language.ARABIC))

    def on_touch_down(self, touch):
        warning = self.ids.warning
        if not warning.disabled:
            return warning.on_touch_down(touch)
        # Any touch (scrolling the ballot included) is activity: it restarts the inactivity timer.
        App.get_running_app().send(ev.Activity())
        return super().on_touch_down(touch)

    def still_here(self) -> None:
        App.get_running_app().send(ev.Activity())
