"""The second-device check's QR payload: where to fetch the ballot, which one, and the seed that opens it.

Text form (ASCII, one line, what the QR code encodes; docs/remote-voting.md, ``GET /r1/ballots/{ballot_id}``)::

    sanduq-verify:1:<source>:<ballot id>:<seed>

* ``source`` is the vote collector's base URL (``https://host[:port]``, a ballot submitted by the voter app) or
  the word ``kiosk`` (a ballot challenged at a kiosk: it is looked up in the published election record,
  ``ballots/challenged/<ballot id>.json``). The URL may itself hold colons, so the payload is split from the
  right: the last two fields never do. The checking device fetches only from the collector the *election
  package* names: a payload naming another collector is refused (a tampered voter app could otherwise send
  the check to a server of its own that serves a ballot matching the voter's intent);
* ``ballot id`` is 1..128 characters of ``[0-9a-z-]`` (kiosks and the voter app make 32 lower-case hex digits);
* ``seed`` is the ballot's 32-byte encryption seed (election/ballot.py, ``SEED_BYTES``) as 64 lower-case hex
  digits. Every nonce of the ballot is derived from it, so whoever holds it can read the ballot's choices:
  the payload is shown to the voter only, and the collector never sees it.

Anything else (other prefix or version, upper-case hex, a field too long, white space inside, a missing field)
is refused with :class:`PayloadError`; one parser serves the CLI, the Kivy app and the tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from election.ballot import MAX_BALLOT_ID_LENGTH, SEED_BYTES

PREFIX: Final = "sanduq-verify:1:"
KIOSK_SOURCE: Final = "kiosk"
MAX_URL_CHARS: Final = 256
MAX_PAYLOAD_CHARS: Final = len(PREFIX) + MAX_URL_CHARS + 1 + MAX_BALLOT_ID_LENGTH + 1 + 2 * SEED_BYTES
MAX_IMAGE_BYTES: Final = 20 * 1024 * 1024
MAX_IMAGE_PIXELS: Final = 40_000_000
_BALLOT_ID = re.compile(rf"[0-9a-z-]{{1,{MAX_BALLOT_ID_LENGTH}}}")
_SEED = re.compile(rf"[0-9a-f]{{{2 * SEED_BYTES}}}")
_URL = re.compile(r"https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?")


class PayloadError(ValueError):
    """The text (or image) is not a Sanduq check code; the message says why, in words for the voter."""


@dataclass(frozen=True)
class CheckPayload:
    """``source``: the collector's base URL (no trailing slash) or ``KIOSK_SOURCE``."""

    source: str
    ballot_id: str
    seed: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if self.source != KIOSK_SOURCE and not (len(self.source) <= MAX_URL_CHARS and _URL.fullmatch(self.source)):
            raise PayloadError("the check code's source is neither a collector's https:// address nor 'kiosk'")
        if not _BALLOT_ID.fullmatch(self.ballot_id):
            raise PayloadError("the ballot id is not one a Sanduq ballot has")
        if len(self.seed) != SEED_BYTES:
            raise PayloadError(f"the seed must be {SEED_BYTES} bytes")

    @property
    def from_kiosk(self) -> bool:
        return self.source == KIOSK_SOURCE

    def text(self) -> str:
        return f"{PREFIX}{self.source}:{self.ballot_id}:{self.seed.hex()}"


def parse_payload(text: str) -> CheckPayload:
    """The payload from its text form (surrounding white space, e.g. a pasted line end, is ignored)."""
    if len(text) > MAX_PAYLOAD_CHARS + 16:
        raise PayloadError("this is not a Sanduq check code: it is too long")
    text = text.strip()
    if not text.startswith(PREFIX):
        raise PayloadError(f"this is not a Sanduq check code (it must start with {PREFIX})")
    parts = text[len(PREFIX) :].rsplit(":", 2)
    if len(parts) != 3:
        raise PayloadError("this check code is cut short: it needs a source, a ballot id and a seed")
    source, ballot_id, seed = parts
    if not _BALLOT_ID.fullmatch(ballot_id):
        raise PayloadError("the ballot id in this check code is not one a Sanduq ballot has")
    if not _SEED.fullmatch(seed):
        raise PayloadError(f"the seed in this check code must be {2 * SEED_BYTES} lower-case hex digits")
    return CheckPayload(source.rstrip("/"), ballot_id, bytes.fromhex(seed))


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
