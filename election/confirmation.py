"""Confirmation codes, chained per kiosk.

code_1 = H("confirmation"; genesis(H_E, kiosk), kiosk, ballot hash)
code_i = H("confirmation"; code_{i-1}, kiosk, ballot hash)       (every ballot the kiosk encrypts, cast or
                                                                  challenged, in order)
genesis(H_E, kiosk) = H("confirmation-genesis"; H_E, kiosk)

The voter sees a short form (the first 80 bits in base32, four groups of four characters) and can look it up
on the published record; the QR code carries the full 256-bit code. Because each code includes the previous
one, removing, inserting or reordering a kiosk's ballots breaks the chain, which the verifier checks.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Final

from election.ballot import EncryptedBallot
from election.group import hash_bytes

QR_PREFIX: Final = "SANDUQ1"
CODE_BYTES: Final = 32


@dataclass(frozen=True, slots=True)
class ConfirmationCode:
    kiosk_id: str
    ballot_id: str
    digest: bytes

    @property
    def short(self) -> str:
        """What the voter reads, e.g. ``K7Q2-M4XA-PB3D-9TZC`` (80 bits, RFC 4648 base32)."""
        text = base64.b32encode(self.digest[:10]).decode("ascii")
        return "-".join(text[i : i + 4] for i in range(0, 16, 4))

    def hex(self) -> str:
        return self.digest.hex()

    def qr_payload(self) -> str:
        """The string encoded in the QR code shown to the voter: enough to look the ballot up and check it."""
        return f"{QR_PREFIX}:{self.ballot_id}:{self.digest.hex()}"


def genesis_code(base_hash: bytes, kiosk_id: str) -> bytes:
    """The value a kiosk's first confirmation code chains from."""
    return hash_bytes("confirmation-genesis", base_hash, kiosk_id)[:CODE_BYTES]


def confirmation_code(
    previous_code: bytes | ConfirmationCode, kiosk_id: str, ballot: EncryptedBallot
) -> ConfirmationCode:
    """The next code in the kiosk's chain. For the kiosk's first ballot pass ``genesis_code(H_E, kiosk)``."""
    previous = previous_code.digest if isinstance(previous_code, ConfirmationCode) else previous_code
    if len(previous) != CODE_BYTES:
        raise ValueError(f"the previous confirmation code must be {CODE_BYTES} bytes")
    digest = hash_bytes("confirmation", previous, kiosk_id, ballot.ballot_hash)[:CODE_BYTES]
    return ConfirmationCode(kiosk_id, ballot.ballot_id, digest)
