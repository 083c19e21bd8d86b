"""The Kivy implementation of the audio ballot's ``Player`` port (``kiosk.accessibility.audio``).

origin: split out of kiosk/accessibility/audio.py, which keeps the Kivy-free clip library, port and queue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kiosk.accessibility.audio import Playback

log = logging.getLogger(__name__)


class KivySoundPlayer:
    """Plays clips with Kivy's SoundLoader (SDL2_mixer) on the UI thread."""

    def __init__(self) -> None:
        self._sound: Any = None
        self._token = 0

    def play(self, item: Playback, on_end: Callable[[], None]) -> None:
        from kivy.core.audio import SoundLoader

        self.stop()
        sound = SoundLoader.load(str(item.path))
        if sound is None:
            log.warning("cannot load audio clip %s", item.path)
            on_end()
            return
        self._token += 1
        token = self._token

        def stopped(*_: object) -> None:
            if token == self._token:  # a clip we stopped ourselves does not advance the queue
                self._sound = None
                on_end()

        sound.volume = item.volume
        sound.bind(on_stop=stopped)
        self._sound = sound
        sound.play()

    def stop(self) -> None:
        self._token += 1
        sound, self._sound = self._sound, None
        if sound is not None:
            sound.stop()
            sound.unload()

    def set_volume(self, volume: float) -> None:
        if self._sound is not None:
            self._sound.volume = volume
