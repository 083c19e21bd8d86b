"""The kiosk's Kivy user interface: the app (``app.py``: wiring only), the thin screens (``screens/``, one .kv per
screen), the accessibility layer's wiring into the running window (``kivy_shell.py``) and the Kivy audio player
(``player.py``).

The only kiosk package that imports Kivy (an import contract in pyproject.toml): the session core, the card layer,
the ballot box and the accessibility logic below it stay testable without a window.
"""
