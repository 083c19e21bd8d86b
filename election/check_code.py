"""The second-device check code (what its QR code holds): where the ballot is, which one, and its seed.

Text form (ASCII, one line, what the QR code encodes; docs/remote-voting.md, ``GET /r1/ballots/{ballot_id}``)::

    sanduq-verify:1:<source>:<ballot id>:<seed>

* ``source`` is the vote collector's base URL (``https://host[:port]``, a ballot submitted by the voter app) or
  the word ``kiosk`` (a ballot challenged at a kiosk: it is looked up in the published election record,
  ``ballots/challenged/<ballot id>.json``). The URL may itself hold colons, so the payload is split from the
  right: the last two fields never do. The checking device fetches only from the collector the *election
  package* names: a payload naming another collector is refused (a tampered voter app could otherwise send
  the check to a server of its own that serves a ballot matching the voter's intent);
* ``ballot id`` is 1..128 characters of ``[0-9a-z-]`` (kiosks and the voter app make 32 lower-case hex digits);
* ``seed`` is the ballot's 32-byte encryption seed (``election.ballot.SEED_BYTES``) as 64 lower-case hex
  digits. Every nonce of the ballot is derived from it, so whoever holds it can read the ballot's choices:
  the payload is shown to the voter only, and the collector never sees it.

Anything else (other prefix or version, upper-case hex, a field too long, white space inside, a missing field)
is refused with :class:`PayloadError`; one parser and one writer serve the kiosk (a challenged ballot's code),
the voter app, the verification tool and the tests. Reading it from an image is remote.payload's job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from election.ballot import MAX_BALLOT_ID_LENGTH, SEED_BYTES

PREFIX: Final = "sanduq-verify:1:"
KIOSK_SOURCE: Final = "kiosk"
MAX_URL_CHARS: Final = 256
MAX_PAYLOAD_CHARS: Final = len(PREFIX) + MAX_URL_CHARS + 1 + MAX_BALLOT_ID_LENGTH + 1 + 2 * SEED_BYTES
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
