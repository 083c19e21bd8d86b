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
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

import nacl.bindings as sodium

# PyNaCl's own cffi binding of its bundled libsodium (the module behind nacl.bindings; it ships no type stubs)
from nacl._sodium import ffi as _ffi  # type: ignore[import-not-found]
from nacl._sodium import lib as _lib

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
        return Scalar(scalar_reduce(data))

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
        return Scalar(scalar_add(self.data, other.data))

    def __sub__(self, other: Scalar) -> Scalar:
        return Scalar(scalar_sub(self.data, other.data))

    def __mul__(self, other: Scalar) -> Scalar:
        if not isinstance(other, Scalar):
            return NotImplemented  # scalar * point: GroupElement.__rmul__
        return Scalar(scalar_mul(self.data, other.data))

    def __neg__(self) -> Scalar:
        out = _ffi.new("unsigned char[32]")
        _lib.crypto_core_ed25519_scalar_negate(out, self.data)
        return Scalar(_ffi.buffer(out)[:])

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
        data = bytes(data)
        if data == _IDENTITY_BYTES:
            if allow_identity:
                return IDENTITY
            raise GroupError("the identity is not allowed here")
        # canonical encoding, on the curve, not of small order, in the prime-order subgroup
        if _lib.crypto_core_ed25519_is_valid_point(data) != 1:
            raise GroupError("not a point of the prime-order subgroup")
        return GroupElement(data)

    @staticmethod
    def parse_hex(text: str, *, allow_identity: bool = False) -> GroupElement:
        return GroupElement.parse(_unhex(text, _POINT_BYTES), allow_identity=allow_identity)

    @staticmethod
    def parse_hex_deferred(text: str, *, allow_identity: bool = False) -> GroupElement:
        """Like ``parse_hex`` but WITHOUT the subgroup check (length, hex and the identity rule only), for a
        point that the caller passes through libsodium's checked multiplication before it is used for
        anything else: ``crypto_scalarmult_ed25519_noclamp`` makes the same checks as ``parse`` (canonical,
        on the curve, not of small order, in the prime-order subgroup) and fails otherwise, so checking
        first would do the most expensive part twice. Only ``election.ballot.parse_and_verify_ballot`` uses
        it; ``election.chaum_pedersen.verify_range(check_points=True)`` completes the check."""
        data = _unhex(text, _POINT_BYTES)
        if data == _IDENTITY_BYTES:
            if allow_identity:
                return IDENTITY
            raise GroupError("the identity is not allowed here")
        return GroupElement(data)

    def is_identity(self) -> bool:
        return self.data == _IDENTITY_BYTES

    def __add__(self, other: GroupElement) -> GroupElement:
        if self.data == _IDENTITY_BYTES:
            return other
        if other.data == _IDENTITY_BYTES:
            return self
        return GroupElement(point_add(self.data, other.data))

    def __sub__(self, other: GroupElement) -> GroupElement:
        if other.data == _IDENTITY_BYTES:
            return self
        return GroupElement(point_sub(self.data, other.data))

    def __neg__(self) -> GroupElement:
        return IDENTITY - self

    def __rmul__(self, scalar: Scalar) -> GroupElement:
        """``scalar * point`` (variable-base multiplication)."""
        return GroupElement(point_mul(scalar.data, self.data))

    def hex(self) -> str:
        return self.data.hex()


IDENTITY: Final = GroupElement(_IDENTITY_BYTES)


def base_mul(scalar: Scalar) -> GroupElement:
    """``scalar * G`` (fixed-base multiplication, several times faster than ``scalar * point``)."""
    return GroupElement(point_base_mul(scalar.data))


# ---- byte-level operations ----------------------------------------------------------------------
# The hot paths (proofs, ballots, tally, decryption) work on the 32-byte encodings directly and call
# libsodium through PyNaCl's cffi binding without the per-call checks of ``nacl.bindings`` (which only
# re-check lengths that are fixed here). Inputs are encodings of points already in the subgroup (validated
# by ``GroupElement.parse`` or computed here) or the identity, and reduced scalars; the identity is handled
# before libsodium is called, as above. Nothing here validates outside input.


def point_add(p: bytes, q: bytes) -> bytes:
    """Encoding of P + Q."""
    if p == _IDENTITY_BYTES:
        return q
    if q == _IDENTITY_BYTES:
        return p
    out = _ffi.new("unsigned char[32]")
    if _lib.crypto_core_ed25519_add(out, p, q) != 0:
        raise GroupError("point addition failed")
    return _ffi.buffer(out)[:]  # type: ignore[no-any-return]


def point_sub(p: bytes, q: bytes) -> bytes:
    """Encoding of P - Q."""
    if q == _IDENTITY_BYTES:
        return p
    if p == q:
        return _IDENTITY_BYTES
    out = _ffi.new("unsigned char[32]")
    if _lib.crypto_core_ed25519_sub(out, p, q) != 0:
        raise GroupError("point subtraction failed")
    return _ffi.buffer(out)[:]  # type: ignore[no-any-return]


def point_mul(s: bytes, p: bytes) -> bytes:
    """Encoding of s * P (variable base). libsodium itself re-checks P (canonical, not of small order, in
    the prime-order subgroup) and refuses a zero result, so zero and the identity are answered here."""
    if s == _ZERO_BYTES or p == _IDENTITY_BYTES:
        return _IDENTITY_BYTES
    out = _ffi.new("unsigned char[32]")
    if _lib.crypto_scalarmult_ed25519_noclamp(out, s, p) != 0:
        raise GroupError("scalar multiplication failed")
    return _ffi.buffer(out)[:]  # type: ignore[no-any-return]


def is_valid_point(p: bytes) -> bool:
    """libsodium's full check of an encoding (canonical, on the curve, not of small order, in the subgroup)."""
    return bool(_lib.crypto_core_ed25519_is_valid_point(p) == 1)


def point_base_mul(s: bytes) -> bytes:
    """Encoding of s * G (fixed base)."""
    if s == _ZERO_BYTES:
        return _IDENTITY_BYTES
    out = _ffi.new("unsigned char[32]")
    if _lib.crypto_scalarmult_ed25519_base_noclamp(out, s) != 0:  # pragma: no cover - only for s = 0 mod L
        raise GroupError("scalar multiplication failed")
    return _ffi.buffer(out)[:]  # type: ignore[no-any-return]


def scalar_add(a: bytes, b: bytes) -> bytes:
    out = _ffi.new("unsigned char[32]")
    _lib.crypto_core_ed25519_scalar_add(out, a, b)
    return _ffi.buffer(out)[:]  # type: ignore[no-any-return]


def scalar_sub(a: bytes, b: bytes) -> bytes:
    out = _ffi.new("unsigned char[32]")
    _lib.crypto_core_ed25519_scalar_sub(out, a, b)
    return _ffi.buffer(out)[:]  # type: ignore[no-any-return]


def scalar_mul(a: bytes, b: bytes) -> bytes:
    out = _ffi.new("unsigned char[32]")
    _lib.crypto_core_ed25519_scalar_mul(out, a, b)
    return _ffi.buffer(out)[:]  # type: ignore[no-any-return]


def scalar_reduce(wide: bytes) -> bytes:
    """64 bytes (a SHA-512 digest) reduced mod L."""
    out = _ffi.new("unsigned char[32]")
    _lib.crypto_core_ed25519_scalar_reduce(out, wide)
    return _ffi.buffer(out)[:]  # type: ignore[no-any-return]


#: The generator G (the Ed25519 base point).
G: Final = base_mul(ONE)
IDENTITY_BYTES: Final = _IDENTITY_BYTES
ZERO_SCALAR_BYTES: Final = _ZERO_BYTES


@lru_cache(maxsize=256)
def small_multiple(value: int) -> GroupElement:
    """``value * G`` for a (possibly negative) integer; used for vote values and range-proof shifts."""
    return base_mul(Scalar.from_int(value))


# ---- hashing ------------------------------------------------------------------------------------

HashPart = bytes | str | int | GroupElement | Scalar


def _encode(part: HashPart) -> bytes:
    # Each part is tagged with its type and length so that no two different sequences encode alike.
    # (The types are disjoint, so the order of the tests only matters for speed: most common first.)
    if isinstance(part, str):
        raw = part.encode("utf-8")
        return b"T" + len(raw).to_bytes(4, "big") + raw
    if isinstance(part, GroupElement):
        return b"P" + part.data
    if isinstance(part, bytes):
        return b"B" + len(part).to_bytes(4, "big") + part
    if isinstance(part, Scalar):
        return b"S" + part.data
    if isinstance(part, int):
        if part < 0 or part >= 2**64:
            raise GroupError("hashed integers must be in [0, 2^64)")
        return b"I" + part.to_bytes(8, "big")
    raise TypeError(f"cannot hash {type(part).__name__}")


@lru_cache(maxsize=64)
def _domain_state(domain: str) -> Any:
    h = hashlib.sha512(_HASH_PREFIX)
    h.update(_encode(domain))
    return h


def hasher(domain: str, *parts: HashPart) -> Any:
    """A SHA-512 state after the prefix, the domain and ``parts``; more parts follow with ``update``
    (points as ``b"P" + encoding``). ``hash_bytes(d, *a, *b)`` == ``hasher(d, *a)`` updated with ``b``."""
    h = _domain_state(domain).copy()
    h.update(b"".join(map(_encode, parts)))
    return h


def extended(state: Any, *parts: HashPart) -> Any:
    """A copy of a ``hasher`` state with more parts (the state itself is left as it was, for reuse)."""
    h = state.copy()
    h.update(b"".join(map(_encode, parts)))
    return h


def state_to_scalar(state: Any) -> Scalar:
    """The scalar of a finished ``hasher`` state (as ``hash_to_scalar``)."""
    return Scalar(scalar_reduce(state.digest()))


def hash_bytes(domain: str, *parts: HashPart) -> bytes:
    """SHA-512 over a domain-separated, unambiguous encoding of ``parts`` (64 bytes)."""
    return hasher(domain, *parts).digest()  # type: ignore[no-any-return]


def hash_to_scalar(domain: str, *parts: HashPart) -> Scalar:
    """The Fiat-Shamir hash H(domain; parts) as a scalar mod L."""
    return Scalar(scalar_reduce(hash_bytes(domain, *parts)))


def _unhex(text: str, length: int) -> bytes:
    """Strict lower-case hex of exactly ``length`` bytes (one spelling per value): ``bytes.fromhex`` also takes
    upper case and spaces, so the result must spell ``text`` back exactly."""
    if isinstance(text, str) and len(text) == 2 * length:
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            pass
        else:
            if raw.hex() == text:
                return raw
    raise GroupError(f"expected {2 * length} lower-case hex digits")
