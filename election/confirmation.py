"""Confirmation codes and the kiosk's batch chain (docs/crypto.md "Confirmation codes and the batch chain").

A voter's code binds the ballot, the kiosk and the election, and nothing about the order of the kiosk's ballots:

    genesis(H_E, kiosk) = H("confirmation-genesis"; H_E, kiosk)[:32]
    code                = H("confirmation"; genesis(H_E, kiosk), kiosk, ballot hash)[:32]

The kiosk chains its sealed BATCHES (already shuffled, each at least ``min_batch`` links): the k-th batch's root is

    root_0 = genesis(H_E, kiosk)
    root_k = H("batch-root"; root_{k-1}, kiosk, n, code_1, ..., code_n)[:32]

with ``code_1 < ... < code_n`` the batch's link codes in ascending byte order (every cast, challenged and
provisional ballot the batch links, each once). Removing, adding or moving a ballot between batches changes a
root, which the kiosk signs in every chain head and close; the order of ballots inside a batch is not recorded
anywhere, so the public chain no longer orders a kiosk's voters (issue 15 point 2).

The voter sees a short form of the code (the first 80 bits in base32, four groups of four characters) and can look
it up on the published record; the QR code carries the full 256-bit code.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
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
    """The kiosk's genesis: every confirmation code of the kiosk and its first batch root chain from it."""
    return hash_bytes("confirmation-genesis", base_hash, kiosk_id)[:CODE_BYTES]


def code_digest(genesis: bytes, kiosk_id: str, ballot_hash: bytes) -> bytes:
    """``H("confirmation"; genesis, kiosk, ballot hash)[:32]`` from the ballot's hash alone (verifiers, withheld
    links)."""
    if len(genesis) != CODE_BYTES:
        raise ValueError(f"the genesis must be {CODE_BYTES} bytes")
    return hash_bytes("confirmation", genesis, kiosk_id, ballot_hash)[:CODE_BYTES]


def confirmation_code(genesis: bytes, kiosk_id: str, ballot: EncryptedBallot) -> ConfirmationCode:
    """The ballot's code; ``genesis`` is ``genesis_code(H_E, kiosk)`` (the same for every ballot of the kiosk)."""
    return ConfirmationCode(kiosk_id, ballot.ballot_id, code_digest(genesis, kiosk_id, ballot.ballot_hash))


def batch_root(previous_root: bytes, kiosk_id: str, codes: Iterable[bytes]) -> bytes:
    """The root of a batch that extends the kiosk's batch chain at ``previous_root`` with the links ``codes``
    (any order: they are hashed sorted). Raises ValueError for a repeated code, an empty batch or a wrong size."""
    links = sorted(codes)
    if len(previous_root) != CODE_BYTES or any(len(c) != CODE_BYTES for c in links):
        raise ValueError(f"roots and codes are {CODE_BYTES} bytes")
    if not links:
        raise ValueError("a batch has at least one link")
    if len(set(links)) != len(links):
        raise ValueError("a batch links each code once")
    return hash_bytes("batch-root", previous_root, kiosk_id, len(links), *links)[:CODE_BYTES]
