"""Remote voting's signed statements, defined once for the voter app, the vote collector and the verifier
(docs/remote-voting.md, sections 4 and 5).

- What the card signs: the kiosk's card statement (``sanduq/card-auth/v1``) with the collector's id in the kiosk's
  place and a purpose-bound nonce ``nonce' = SHA-256(L("sanduq/remote-card/v1") L(purpose) L(nonce) L(extra))``
  (``L(x)``: 2-byte big-endian length, then the bytes). :func:`card_nonce` computes ``nonce'``.
- What the credential signs: ``b"sanduq/remote-ballot/v1\\x00" || canonical_json(statement)`` with the statement
  ``{"election_id", "collector_id", "credential", "submission_id", "sequence", "ballot_id", "ballot_hash"}``;
  Ed25519 (RFC 8032) by the credential key. :class:`BallotStatement`.
- What the voter's my-votes answer says of each recorded submission (section 5): :class:`SubmissionStatus`, and
  at most :data:`MY_VOTES_LISTED` of them, newest first.
"""

from __future__ import annotations

import binascii
import enum
import hashlib
import re
from dataclasses import dataclass
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from election.canonical import canonical_json

CARD_NONCE_DOMAIN: Final = b"sanduq/remote-card/v1"
BALLOT_LABEL: Final = b"sanduq/remote-ballot/v1"
MAX_SEQUENCE: Final = 1_000_000
MY_VOTES_LISTED: Final = 40
"""A my-votes answer lists at most this many submissions, the most recent first; its ``submissions`` counts them all.
A credential holds at most 30 (the collector's per-credential cap), so the current credential's are always listed."""
_HEX32: Final = re.compile(r"[0-9a-f]{32}")
_HEX64: Final = re.compile(r"[0-9a-f]{64}")
_HEX128: Final = re.compile(r"[0-9a-f]{128}")
_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


class SubmissionStatus(enum.StrEnum):
    """What became of one recorded submission, as the my-votes answer tells the voter (the record says counted /
    superseded / voided)."""

    COUNTS = "counts"  # the last ballot of the live credential: the one that counts unless replaced
    SUPERSEDED = "superseded"  # a later ballot of the same credential replaced it
    VOIDED = "voided"  # the credential was voided by the voter's vote at a polling centre
    REPLACED = "replaced"  # the credential was replaced by a newer one (another device): its ballots no longer count


class RemoteStatementError(ValueError):
    """A remote-voting statement is malformed or its signature does not verify."""


class CardPurpose(enum.Enum):
    REGISTER = "register"  # extra: the credential public key (32 bytes)
    MY_VOTES = "my-votes"  # extra: empty


def _lv(part: bytes) -> bytes:
    return len(part).to_bytes(2, "big") + part


def card_nonce(purpose: CardPurpose, nonce: bytes, extra: bytes = b"") -> bytes:
    """``nonce'``: the 32-byte nonce the card's statement carries for this purpose."""
    if len(nonce) != 32:
        raise RemoteStatementError("the challenge nonce must be 32 bytes")
    if (purpose is CardPurpose.REGISTER) != (len(extra) == 32) or (purpose is CardPurpose.MY_VOTES and extra):
        raise RemoteStatementError(f"purpose {purpose.value}: wrong extra data")
    return hashlib.sha256(_lv(CARD_NONCE_DOMAIN) + _lv(purpose.value.encode()) + _lv(nonce) + _lv(extra)).digest()


def parse_credential(text: Any) -> Ed25519PublicKey:
    """A credential as sent (64 lower-case hex digits) -> the Ed25519 public key."""
    if not isinstance(text, str) or not _HEX64.fullmatch(text):
        raise RemoteStatementError("a credential is 64 lower-case hex digits")
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(text))


def credential_hex(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes_raw().hex()


@dataclass(frozen=True)
class BallotStatement:
    """What the credential signs for one submission."""

    election_id: str
    collector_id: str
    credential: str
    submission_id: str
    sequence: int
    ballot_id: str
    ballot_hash: str

    def __post_init__(self) -> None:
        if not _ID.fullmatch(self.collector_id) or not self.election_id or len(self.election_id) > 128:
            raise RemoteStatementError("ballot statement: bad election or collector id")
        if not _HEX64.fullmatch(self.credential):
            raise RemoteStatementError("ballot statement: credential must be 64 lower-case hex digits")
        if not _HEX32.fullmatch(self.submission_id):
            raise RemoteStatementError("ballot statement: submission_id must be 32 lower-case hex digits")
        if type(self.sequence) is not int or not 1 <= self.sequence <= MAX_SEQUENCE:
            raise RemoteStatementError(f"ballot statement: sequence must be an integer 1..{MAX_SEQUENCE}")
        if not _ID.fullmatch(self.ballot_id):
            raise RemoteStatementError("ballot statement: bad ballot id")
        if not _HEX64.fullmatch(self.ballot_hash):
            raise RemoteStatementError("ballot statement: ballot_hash must be 64 lower-case hex digits")

    def to_dict(self) -> dict[str, Any]:
        return {
            "election_id": self.election_id,
            "collector_id": self.collector_id,
            "credential": self.credential,
            "submission_id": self.submission_id,
            "sequence": self.sequence,
            "ballot_id": self.ballot_id,
            "ballot_hash": self.ballot_hash,
        }

    def signing_bytes(self) -> bytes:
        return BALLOT_LABEL + b"\x00" + canonical_json(self.to_dict())

    def sign(self, key: Ed25519PrivateKey) -> str:
        if credential_hex(key) != self.credential:
            raise RemoteStatementError("ballot statement: the key is not this statement's credential")
        return key.sign(self.signing_bytes()).hex()

    def verify(self, signature: Any) -> None:
        """Raises RemoteStatementError unless ``signature`` (128 hex) is the credential's over this statement."""
        if not isinstance(signature, str) or not _HEX128.fullmatch(signature):
            raise RemoteStatementError("ballot signature must be 128 lower-case hex digits")
        try:
            parse_credential(self.credential).verify(bytes.fromhex(signature), self.signing_bytes())
        except (InvalidSignature, binascii.Error, ValueError):
            raise RemoteStatementError("the credential's signature over the ballot does not verify") from None


__all__ = [
    "BALLOT_LABEL",
    "CARD_NONCE_DOMAIN",
    "MAX_SEQUENCE",
    "BallotStatement",
    "CardPurpose",
    "RemoteStatementError",
    "card_nonce",
    "credential_hex",
    "parse_credential",
]
