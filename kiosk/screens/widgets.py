# mypy: allow-subclassing-any
"""Shared widgets (rules in widgets.kv). Presentation only."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, OptionProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.label import Label
from kivy.uix.scrollview import ScrollView

TONES = ["text", "muted", "warning", "selected", "button", "primary"]


class KLabel(Label):
    tone = OptionProperty("text", options=TONES)
    align = OptionProperty("start", options=["start", "center", "end", "left"])
    """Reading-direction relative ("start", "end"), or "left" for technical text that is always LTR."""
    scale = NumericProperty(1.0)
    fixed_px = NumericProperty(0)


class KTitle(KLabel):
    def __init__(self, **kwargs):
        kwargs.setdefault("scale", 1.45)
        kwargs.setdefault("bold", True)
        super().__init__(**kwargs)


class KSmall(KLabel):
    def __init__(self, **kwargs):
        kwargs.setdefault("scale", 0.85)
        kwargs.setdefault("tone", "muted")
        super().__init__(**kwargs)


class Focusable:
    """Mixin for what the accessible controller and the switches can focus: ``focus_key`` names the item
    (``kiosk.accessibility.input.Item.key``; several keys separated by "|" when one widget stands for
    several items, like the top bar's language switch); ``focused`` draws a thick outline in ``focus_rgba`` (the
    theme's focus colour) just outside the widget (rule in widgets.kv)."""

    focus_key = StringProperty("")
    focused = BooleanProperty(False)
    focus_rgba = ListProperty([0.0, 0.0, 0.0, 1.0])


def paint_focus(screen: Any, key: str | None, rgba: list[float]) -> list[Any]:
    """Mark the widget of ``screen`` whose ``focus_key`` is ``key`` as focused and every other one as not;
    returns the focused widgets (one, or none when nothing is focused or the screen has no such item)."""
    focused: list[Any] = []
    for widget in screen.walk(restrict=True):
        if not isinstance(widget, Focusable):
            continue
        on = bool(key) and key in widget.focus_key.split("|")
        widget.focus_rgba = rgba
        widget.focused = on
        if on:
            focused.append(widget)
    return focused


class KButton(Focusable, Button):
    primary = BooleanProperty(False)
    chosen = BooleanProperty(False)
    scale = NumericProperty(1.0)
    fixed_px = NumericProperty(0)
    min_dp = NumericProperty(72)


class KPrimary(KButton):
    def __init__(self, **kwargs):
        kwargs.setdefault("primary", True)
        super().__init__(**kwargs)


class KChoice(KButton):
    pass


class MirrorRow(BoxLayout):
    """A horizontal row laid out right-to-left in Arabic, left-to-right in English (children are declared
    in reading order; the row reverses them when the language's direction changes)."""

    min_height = NumericProperty(0)

    def __init__(self, **kwargs):
        self._mirrored = False
        super().__init__(**kwargs)
        app = App.get_running_app()
        if app is not None:
            app.bind(rtl=self._direction)
            self._direction(app, app.rtl)

    def add_widget(self, widget, *args, **kwargs):
        # Declared order is reading order: in RTL, a later widget goes further left.
        if self._mirrored:
            return super().add_widget(widget, index=len(self.children))
        return super().add_widget(widget, *args, **kwargs)

    def _direction(self, _app, rtl: bool) -> None:
        if bool(rtl) != self._mirrored:
            self._mirrored = bool(rtl)
            self.children.reverse()
            self._trigger_layout()


class Panel(BoxLayout):
    """A framed notice panel (warnings, explanations); ``collapsed`` hides it and gives its space back."""

    collapsed = BooleanProperty(False)

    # A collapsed panel is 0 high but its rows keep their height and lie over whatever is drawn above it (the
    # ballot's lowest candidate cards); as disabled widgets they would swallow those touches. So a collapsed
    # panel hands no touch to its children.
    def on_touch_down(self, touch: Any) -> bool:
        return False if self.collapsed else bool(super().on_touch_down(touch))

    def on_touch_move(self, touch: Any) -> bool:
        return False if self.collapsed else bool(super().on_touch_move(touch))

    def on_touch_up(self, touch: Any) -> bool:
        return False if self.collapsed else bool(super().on_touch_up(touch))


class Page(BoxLayout):
    """A screen's vertical page with the standard margins."""


class ScrollPage(ScrollView):
    """Scrolls when large text does not fit, so nothing is ever cut off."""


class Column(BoxLayout):
    """A vertical stack that is as tall as its content (inside a ScrollPage)."""
