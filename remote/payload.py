"""The second-device check code: its text form is ``election.check_code`` (shared with the kiosk); here the
QR image of it, and reading it back from a photo or screenshot."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from election.check_code import KIOSK_SOURCE, PREFIX, CheckPayload, PayloadError, parse_payload

MAX_IMAGE_BYTES: Final = 20 * 1024 * 1024
MAX_IMAGE_PIXELS: Final = 40_000_000

__all__ = ["KIOSK_SOURCE", "PREFIX", "CheckPayload", "PayloadError", "parse_payload", "payload_from_image", "qr_png"]


def qr_png(payload: CheckPayload) -> bytes:
    """The payload as a QR code image (PNG bytes), error correction M."""
    import io

    import qrcode
    import qrcode.constants

    image = qrcode.make(payload.text(), error_correction=qrcode.constants.ERROR_CORRECT_M)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()


def payload_from_image(path: Path) -> CheckPayload:
    """Decode the QR code in an image file (PNG, JPEG, ...: a photo or screenshot of the voter app's screen)
    with zbar (pyzbar); the image is bounded in bytes and pixels before it is decoded."""
    from PIL import Image, UnidentifiedImageError
    from pyzbar import pyzbar  # type: ignore[import-untyped]

    try:
        size = path.stat().st_size
    except OSError as exc:
        raise PayloadError(f"the image cannot be read ({exc.strerror})") from None
    if size > MAX_IMAGE_BYTES:
        raise PayloadError(f"the image is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MiB")
    try:
        with Image.open(path) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise PayloadError("the image has too many pixels")
            decoded = pyzbar.decode(image.convert("L"), symbols=[pyzbar.ZBarSymbol.QRCODE])
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise PayloadError("the file is not an image that can be read") from None
    texts = {d.data for d in decoded}
    if not texts:
        raise PayloadError("no QR code was found in the image")
    if len(texts) > 1:
        raise PayloadError("the image holds more than one QR code: photograph only the check code")
    try:
        text = texts.pop().decode("ascii")
    except UnicodeDecodeError:
        raise PayloadError("the QR code is not a Sanduq check code") from None
    return parse_payload(text)
