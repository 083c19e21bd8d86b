"""Kiosk-signed chain statements: the chain head carried in every ballot batch and the chain close signed when
a kiosk's polls close (ElectionGuard 2.1's chain close, docs/election-record.md "Kiosk chain statements").

A statement is a JSON object; what the kiosk signs is ``label + 0x00 + canonical_json(statement)`` where the
statement is the object WITHOUT its ``signature`` member:

    chain head   {"statement": "chain-head",  "kiosk_id", "genesis", "root", "cast", "challenged",
                  "provisional"}                                   label b"sanduq/chain-head/v2"
    chain close  {"statement": "chain-close", "kiosk_id", "genesis", "root", "cast", "challenged",
                  "provisional", "close_seq"}                      label b"sanduq/chain-close/v2"

``genesis`` and ``root`` are 64 lower-case hex digits (``genesis = genesis_code(H_E, kiosk_id)``, binding the
statement to the election; ``root`` the root of the last sealed batch of the kiosk's batch chain,
``election.confirmation.batch_root``, ``genesis`` itself while no batch was sealed); ``cast``, ``challenged``,
``provisional`` count the links of all batches so far by the kiosk's disposition (a regular cast ballot, a
Benaloh-challenged one, a provisional one); ``close_seq`` >= 1 numbers the
kiosk's closes (a kiosk reopened and closed again signs a higher one, which supersedes the earlier close). The
signature is ECDSA P-256 with SHA-256 by the kiosk certificate's key, DER, base64 (as batches are signed; an
Ed25519 kiosk key signs the same bytes).
"""

from __future__ import annotations

import base64
import binascii
import enum
import re
from dataclasses import dataclass
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from election.canonical import canonical_json

HEAD_LABEL: Final = b"sanduq/chain-head/v2"
CLOSE_LABEL: Final = b"sanduq/chain-close/v2"
_HEX64: Final = re.compile(r"^[0-9a-f]{64}$")
_KIOSK: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_MAX_COUNT: Final = 10**9


class StatementError(ValueError):
    """A chain statement is malformed or its signature does not verify."""


class StatementKind(enum.Enum):
    HEAD = "chain-head"
    CLOSE = "chain-close"


@dataclass(frozen=True)
class ChainStatement:
    """A chain head (``close_seq`` None) or a chain close (``close_seq`` >= 1), without its signature."""

    kind: StatementKind
    kiosk_id: str
    genesis: str
    root: str
    cast: int
    challenged: int
    provisional: int
    close_seq: int | None = None

    def __post_init__(self) -> None:
        if not _KIOSK.fullmatch(self.kiosk_id):
            raise StatementError(f"chain statement: kiosk id {self.kiosk_id!r} is not a valid id")
        for name in ("genesis", "root"):
            if not _HEX64.fullmatch(getattr(self, name)):
                raise StatementError(f"chain statement of {self.kiosk_id}: {name} must be 64 lower-case hex digits")
        for name in ("cast", "challenged", "provisional"):
            value = getattr(self, name)
            if type(value) is not int or not 0 <= value <= _MAX_COUNT:
                raise StatementError(f"chain statement of {self.kiosk_id}: {name} must be an integer 0..{_MAX_COUNT}")
        if (self.kind is StatementKind.CLOSE) != (self.close_seq is not None):
            raise StatementError(f"chain statement of {self.kiosk_id}: close_seq belongs to a close, and only there")
        if self.close_seq is not None and (type(self.close_seq) is not int or not 1 <= self.close_seq <= _MAX_COUNT):
            raise StatementError(f"chain close of {self.kiosk_id}: close_seq must be an integer 1..{_MAX_COUNT}")
        if self.links == 0 and self.root != self.genesis:
            raise StatementError(f"chain statement of {self.kiosk_id}: an empty chain ends at its genesis")

    @property
    def links(self) -> int:
        return self.cast + self.challenged + self.provisional

    @property
    def counts(self) -> tuple[int, int, int]:
        return self.cast, self.challenged, self.provisional

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "statement": self.kind.value,
            "kiosk_id": self.kiosk_id,
            "genesis": self.genesis,
            "root": self.root,
            "cast": self.cast,
            "challenged": self.challenged,
            "provisional": self.provisional,
        }
        if self.close_seq is not None:
            out["close_seq"] = self.close_seq
        return out

    def signing_bytes(self) -> bytes:
        label = HEAD_LABEL if self.kind is StatementKind.HEAD else CLOSE_LABEL
        return label + b"\x00" + canonical_json(self.to_dict())

    @classmethod
    def from_dict(cls, data: Any) -> ChainStatement:
        """Parse a statement (with or without its ``signature`` member, which is ignored here)."""
        if not isinstance(data, dict):
            raise StatementError("chain statement: expected a JSON object")
        body = {k: v for k, v in data.items() if k != "signature"}
        try:
            kind = StatementKind(body.get("statement"))
        except ValueError:
            raise StatementError(f"chain statement: unknown statement {body.get('statement')!r}") from None
        keys = {"statement", "kiosk_id", "genesis", "root", "cast", "challenged", "provisional"}
        if kind is StatementKind.CLOSE:
            keys.add("close_seq")
        if set(body) != keys:
            raise StatementError(f"{kind.value}: expected exactly the members {sorted(keys)}")
        if not all(isinstance(body[k], str) for k in ("kiosk_id", "genesis", "root")):
            raise StatementError(f"{kind.value}: kiosk_id, genesis and root must be strings")
        return cls(
            kind,
            body["kiosk_id"],
            body["genesis"],
            body["root"],
            body["cast"],
            body["challenged"],
            body["provisional"],
            body.get("close_seq"),
        )


@dataclass(frozen=True)
class SignedStatement:
    statement: ChainStatement
    signature: str
    """Base64 of the DER ECDSA P-256/SHA-256 signature over ``statement.signing_bytes()``."""

    def to_dict(self) -> dict[str, Any]:
        return {**self.statement.to_dict(), "signature": self.signature}

    @classmethod
    def from_dict(cls, data: Any, kind: StatementKind) -> SignedStatement:
        statement = ChainStatement.from_dict(data)
        if statement.kind is not kind:
            raise StatementError(f"expected a {kind.value}, got a {statement.kind.value}")
        signature = data.get("signature")
        if not isinstance(signature, str):
            raise StatementError(f"{kind.value} of {statement.kiosk_id}: no signature")
        return cls(statement, signature)

    def verify(self, public_key: ec.EllipticCurvePublicKey | Ed25519PublicKey) -> None:
        """Raise StatementError unless the signature verifies with ``public_key`` (P-256, or Ed25519 as
        ``sync.signing`` allows for kiosk keys)."""
        if not kiosk_signature_holds(public_key, self.statement.signing_bytes(), self.signature):
            raise StatementError(
                f"the {self.statement.kind.value} of kiosk {self.statement.kiosk_id} has a signature that does not "
                "verify with its certificate"
            )


def kiosk_signature_holds(
    public_key: ec.EllipticCurvePublicKey | Ed25519PublicKey, data: bytes, signature: str
) -> bool:
    """Whether ``signature`` (base64, padded) is a kiosk key's signature over ``data``: DER ECDSA P-256 with SHA-256,
    or Ed25519. Every statement a kiosk key signs (a chain head or close, the vote collector's record statement)
    starts ``data`` with its own label, so no signature serves for another kind of statement."""
    if isinstance(public_key, ec.EllipticCurvePublicKey) and public_key.curve.name != "secp256r1":
        raise StatementError("kiosk ECDSA keys are P-256")
    try:
        raw = base64.b64decode(signature, validate=True)
        if isinstance(public_key, Ed25519PublicKey):
            public_key.verify(raw, data)
        else:
            public_key.verify(raw, data, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
