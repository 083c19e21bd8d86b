# mypy: allow-subclassing-any
from __future__ import annotations

import io

from kivy.core.image import Image as CoreImage

from kiosk.session.voter_state import SessionState
from kiosk.ui.screens.base import KioskScreen, UiContext
from kiosk.ui_text import ltr


def qr_texture(payload: str):
    import qrcode

    image = qrcode.make(payload, error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    buffer.seek(0)
    return CoreImage(buffer, ext="png").texture


class ConfirmationScreen(KioskScreen):
    """The confirmation code as text and QR code; then the voter removes the card."""

    def show(self, state: SessionState, ui: UiContext) -> None:
        ids = self.ids
        receipt = state.receipt
        ids.done.text = ui.t("cast.done")
        ids.title.text = ui.t("confirmation.title")
        ids.code.text = ltr(receipt.code) if receipt else ""  # never reordered, even in Arabic
        ids.explanation.text = ui.t("confirmation.explanation")
        ids.qr_hint.text = ui.t("confirmation.qr")
        ids.more.cue = ui.t("kiosk.more_below")
        ids.remove_card.text = ui.t("card.remove") if state.card_present else ui.t("goodbye.thanks")
        if receipt is not None and getattr(self, "_qr_for", "") != receipt.qr_payload:
            ids.qr.texture = qr_texture(receipt.qr_payload)
            self._qr_for = receipt.qr_payload

    def forget(self) -> None:
        self.ids.code.text = ""
        self.ids.qr.texture = None
        self._qr_for = ""
