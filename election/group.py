"""The group: the prime-order subgroup of Ed25519, through libsodium (PyNaCl's low-level bindings).

ElectionGuard 2.1 writes the group multiplicatively (g, K, alpha * beta, g^x); here it is written additively
(G, K, alpha + beta, x*G). The order is the prime L = 2^252 + 27742317777372353535851937790883648493; scalars
are integers mod L held as 32 little-endian bytes, reduced.

libsodium refuses the identity (0*G) as input to, and output of, scalar multiplication, but exponential
ElGamal needs it (an encryption of 0 with nonce 0 never happens, but the empty tally and sums that cancel do),
so the identity is an explicit value here and every operation handles it before calling libsodium.

Every point that comes from outside goes through ``GroupElement.parse``: canonical encoding, on the curve,
in the prime-order subgroup, not of small order (``crypto_core_ed25519_is_valid_point``); the identity is
accepted only where the caller says so. Points computed here are trusted and not re-validated.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from typing import Final

import nacl.bindings as sodium
import nacl.exceptions

#: The order of the group.
L: Final = 2**252 + 27742317777372353535851937790883648493
_POINT_BYTES: Final = 32
_SCALAR_BYTES: Final = 32
_IDENTITY_BYTES: Final = b"\x01" + b"\x00" * 31
_ZERO_BYTES: Final = b"\x00" * 32
_HASH_PREFIX: Final = b"sanduq/v1/"


class GroupError(ValueError):
    """A value is not a valid group element or scalar (wrong length, off the subgroup, identity where
    not allowed, not reduced)."""


@dataclass(frozen=True, slots=True)
class Scalar:
    """An integer mod L, as 32 little-endian bytes (always reduced)."""

    data: bytes

    @staticmethod
    def from_int(value: int) -> Scalar:
        return Scalar((value % L).to_bytes(_SCALAR_BYTES, "little"))

    @staticmethod
    def from_uniform_bytes(data: bytes) -> Scalar:
        """Reduce 64 uniformly random bytes mod L (bias below 2^-250)."""
        if len(data) != 64:
            raise GroupError("a uniform scalar needs 64 bytes")
        return Scalar(sodium.crypto_core_ed25519_scalar_reduce(data))

    @staticmethod
    def parse(data: bytes, *, allow_zero: bool = True) -> Scalar:
        """A scalar from outside: exactly 32 bytes, canonical (< L)."""
        if len(data) != _SCALAR_BYTES:
            raise GroupError(f"a scalar is {_SCALAR_BYTES} bytes, got {len(data)}")
        if int.from_bytes(data, "little") >= L:
            raise GroupError("scalar is not reduced mod L")
        if not allow_zero and data == _ZERO_BYTES:
            raise GroupError("scalar must not be zero")
        return Scalar(bytes(data))

    @staticmethod
    def parse_hex(text: str, *, allow_zero: bool = True) -> Scalar:
        return Scalar.parse(_unhex(text, _SCALAR_BYTES), allow_zero=allow_zero)

    def __int__(self) -> int:
        return int.from_bytes(self.data, "little")

    def is_zero(self) -> bool:
        return self.data == _ZERO_BYTES

    def __add__(self, other: Scalar) -> Scalar:
        return Scalar(sodium.crypto_core_ed25519_scalar_add(self.data, other.data))

    def __sub__(self, other: Scalar) -> Scalar:
        return Scalar(sodium.crypto_core_ed25519_scalar_sub(self.data, other.data))

    def __mul__(self, other: Scalar) -> Scalar:
        if not isinstance(other, Scalar):
            return NotImplemented  # scalar * point: GroupElement.__rmul__
        return Scalar(sodium.crypto_core_ed25519_scalar_mul(self.data, other.data))

    def __neg__(self) -> Scalar:
        return Scalar(sodium.crypto_core_ed25519_scalar_negate(self.data))

    def inverse(self) -> Scalar:
        if self.is_zero():
            raise GroupError("zero has no inverse")
        return Scalar(sodium.crypto_core_ed25519_scalar_invert(self.data))

    def hex(self) -> str:
        return self.data.hex()

    def __repr__(self) -> str:  # never print secrets by accident
        return "Scalar(...)"


ZERO: Final = Scalar(_ZERO_BYTES)
ONE: Final = Scalar.from_int(1)


@dataclass(frozen=True, slots=True)
class GroupElement:
    """A point of the prime-order subgroup (or the identity), as its 32-byte canonical encoding."""

    data: bytes

    @staticmethod
    def parse(data: bytes, *, allow_identity: bool = False) -> GroupElement:
        """A point from outside. Rejects wrong length, non-canonical, off-curve, small-order and mixed-order
        encodings; the identity only if ``allow_identity``."""
        if len(data) != _POINT_BYTES:
            raise GroupError(f"a group element is {_POINT_BYTES} bytes, got {len(data)}")
        if data == _IDENTITY_BYTES:
            if allow_identity:
                return IDENTITY
            raise GroupError("the identity is not allowed here")
        if not sodium.crypto_core_ed25519_is_valid_point(data):
            raise GroupError("not a point of the prime-order subgroup")
        return GroupElement(bytes(data))

    @staticmethod
    def parse_hex(text: str, *, allow_identity: bool = False) -> GroupElement:
        return GroupElement.parse(_unhex(text, _POINT_BYTES), allow_identity=allow_identity)

    def is_identity(self) -> bool:
        return self.data == _IDENTITY_BYTES

    def __add__(self, other: GroupElement) -> GroupElement:
        if self.data == _IDENTITY_BYTES:
            return other
        if other.data == _IDENTITY_BYTES:
            return self
        return GroupElement(sodium.crypto_core_ed25519_add(self.data, other.data))

    def __sub__(self, other: GroupElement) -> GroupElement:
        if other.data == _IDENTITY_BYTES:
            return self
        return GroupElement(sodium.crypto_core_ed25519_sub(self.data, other.data))

    def __neg__(self) -> GroupElement:
        return IDENTITY - self

    def __rmul__(self, scalar: Scalar) -> GroupElement:
        """``scalar * point`` (variable-base multiplication)."""
        if scalar.data == _ZERO_BYTES or self.data == _IDENTITY_BYTES:
            return IDENTITY
        try:
            return GroupElement(sodium.crypto_scalarmult_ed25519_noclamp(scalar.data, self.data))
        except nacl.exceptions.RuntimeError:  # pragma: no cover - impossible for a valid point and reduced scalar
            raise GroupError("scalar multiplication failed") from None

    def hex(self) -> str:
        return self.data.hex()


IDENTITY: Final = GroupElement(_IDENTITY_BYTES)


def base_mul(scalar: Scalar) -> GroupElement:
    """``scalar * G`` (fixed-base multiplication, several times faster than ``scalar * point``)."""
    if scalar.data == _ZERO_BYTES:
        return IDENTITY
    return GroupElement(sodium.crypto_scalarmult_ed25519_base_noclamp(scalar.data))


#: The generator G (the Ed25519 base point).
G: Final = base_mul(ONE)


def small_multiple(value: int) -> GroupElement:
    """``value * G`` for a (possibly negative) integer; used for vote values."""
    return base_mul(Scalar.from_int(value))


# ---- hashing ------------------------------------------------------------------------------------

HashPart = bytes | str | int | GroupElement | Scalar


def _encode(part: HashPart) -> bytes:
    # Each part is tagged with its type and length so that no two different sequences encode alike.
    if isinstance(part, GroupElement):
        return b"P" + part.data
    if isinstance(part, Scalar):
        return b"S" + part.data
    if isinstance(part, bytes):
        return b"B" + struct.pack(">I", len(part)) + part
    if isinstance(part, str):
        raw = part.encode("utf-8")
        return b"T" + struct.pack(">I", len(raw)) + raw
    if isinstance(part, int):
        if part < 0 or part >= 2**64:
            raise GroupError("hashed integers must be in [0, 2^64)")
        return b"I" + struct.pack(">Q", part)
    raise TypeError(f"cannot hash {type(part).__name__}")


def hash_bytes(domain: str, *parts: HashPart) -> bytes:
    """SHA-512 over a domain-separated, unambiguous encoding of ``parts`` (64 bytes)."""
    h = hashlib.sha512(_HASH_PREFIX)
    h.update(_encode(domain))
    for part in parts:
        h.update(_encode(part))
    return h.digest()


def hash_to_scalar(domain: str, *parts: HashPart) -> Scalar:
    """The Fiat-Shamir hash H(domain; parts) as a scalar mod L."""
    return Scalar(sodium.crypto_core_ed25519_scalar_reduce(hash_bytes(domain, *parts)))


_HEX_DIGITS: Final = frozenset("0123456789abcdef")


def _unhex(text: str, length: int) -> bytes:
    """Strict lower-case hex of exactly ``length`` bytes (one spelling per value)."""
    if not isinstance(text, str) or len(text) != 2 * length or not _HEX_DIGITS.issuperset(text):
        raise GroupError(f"expected {2 * length} lower-case hex digits")
    return bytes.fromhex(text)
