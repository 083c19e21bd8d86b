# mypy: allow-subclassing-any
"""Shared widgets (rules in widgets.kv). Presentation only."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.metrics import dp
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    OptionProperty,
    StringProperty,
)
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


def discard(widget: Any) -> None:
    """Take ``widget`` out of the window for good, with the kv rules of it and of everything under it.

    Kivy binds a widget's kv rules to other objects' properties (``root.width``, ``app.rtl``) and unbinds them
    only once the widget is freed. A discarded widget is freed by Python's cyclic garbage collector, at a moment
    nobody chooses: if that is while one of its own rules runs, the rule sets a property through a dead weak
    proxy (``ReferenceError: weakly-referenced object no longer exists``; the kiosk once failed to start so).
    With its rules unbound first, nothing runs on the widget any more and the collector has nothing to race.
    """
    if widget.parent is not None:
        widget.parent.remove_widget(widget)
    for each in list(widget.walk(restrict=True)):
        Builder.unbind_widget(each.uid)


def discard_children(container: Any) -> None:
    """``container.clear_widgets()`` for widgets that are never shown again (a screen's content rebuilt)."""
    for child in list(container.children):
        discard(child)


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
    row_min = NumericProperty(0)
    """Set by an ``EvenRow``: the height of the row's tallest button, so that a row's buttons line up."""

    def natural_height(self) -> float:
        return float(max(dp(self.min_dp), self.texture_size[1] + dp(24)))


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


class EvenRow(MirrorRow):
    """A row of buttons of one height: the tallest button's (a longer label wraps to two lines in one button
    only; the others grow with it rather than leaving a ragged row)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._even = Clock.create_trigger(self._equalise, 0)

    def add_widget(self, widget: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(widget, KButton):
            widget.bind(texture_size=lambda *_: self._even(), min_dp=lambda *_: self._even())
            self._even()
        return super().add_widget(widget, *args, **kwargs)

    def _equalise(self, *_: Any) -> None:
        buttons = [w for w in self.children if isinstance(w, KButton)]
        if not buttons:
            return
        tallest = max(b.natural_height() for b in buttons)
        for b in buttons:
            b.row_min = tallest


class MoreBelow(Label):
    """The cue under a ScrollPage whose content goes on below what is shown: words ("More below: scroll down")
    and a downward arrow drawn beside them. It keeps its room while the page overflows (so nothing jumps while
    the voter scrolls) and is blank once the bottom is reached; a page that fits takes no room for it."""

    scroll = ObjectProperty(None, allownone=True)
    cue = StringProperty("")
    overflowing = BooleanProperty(False)
    at_bottom = BooleanProperty(True)

    def on_scroll(self, _w: Any, scroll: Any) -> None:
        if scroll is None:
            return
        scroll.bind(scroll_y=self._update, height=self._update)
        scroll.bind(children=self._watch_content)
        self._watch_content()

    def _watch_content(self, *_: Any) -> None:
        for child in self.scroll.children:
            child.bind(height=self._update)
        self._update()

    def _update(self, *_: Any) -> None:
        scroll = self.scroll
        content = scroll.children[0] if scroll is not None and scroll.children else None
        self.overflowing = content is not None and content.height > scroll.height + 1
        self.at_bottom = not self.overflowing or scroll.scroll_y <= 0.01


class Panel(BoxLayout):
    """A framed notice panel (warnings, explanations); ``collapsed`` hides it and gives its space back.
    ``kind`` "ok" is a good outcome (a check passed): the theme's selected colours, never the warning colour."""

    collapsed = BooleanProperty(False)
    kind = OptionProperty("warning", options=["warning", "ok"])

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
