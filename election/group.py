"""The group: ristretto255, the prime-order group built on Curve25519, through libsodium.

ElectionGuard 2.1 writes the group multiplicatively (g, K, alpha * beta, g^x); here it is written additively
(G, K, alpha + beta, x*G). The order is the prime L = 2^252 + 27742317777372353535851937790883648493; scalars
are integers mod L held as 32 little-endian bytes, reduced.

Why ristretto255 and not the prime-order subgroup of Ed25519 that DOMAIN.md names: it is the same curve and
the same libsodium, but every ristretto255 encoding that decodes at all is an element of the prime-order
group, so there is no cofactor and no subgroup to check. libsodium's Ed25519 multiplication re-checks its
input point with a multiplication by L on every call (about 40% of its cost); ristretto255's decoding is the
whole check (``crypto_core_ristretto255_is_valid_point``: 7 us here against 60-70 us for Ed25519's). See
docs/crypto.md, "The group".

Points go through libsodium's ristretto255 API as bound by pysodium (ctypes, the system's libsodium >= 1.0.18;
PyNaCl does not bind ristretto255). Scalars go through PyNaCl's cffi binding of its own libsodium: arithmetic
mod L is the same function for both groups (libsodium's ``crypto_core_ristretto255_scalar_*`` are the Ed25519
ones), and cffi's calls are cheaper.

libsodium refuses the identity as the result of a scalar multiplication, but exponential ElGamal needs it (the
empty tally and sums that cancel), so the identity (encoded as 32 zero bytes) is an explicit value here and
every multiplication handles it before calling libsodium.

Every point that comes from outside goes through ``GroupElement.parse``: an encoding that decodes to a
ristretto255 element (canonical, the right sign, on the curve); the identity is accepted only where the caller
says so. Points computed here are trusted and not re-validated.
"""

from __future__ import annotations

import ctypes
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

import nacl.bindings as sodium
import pysodium  # type: ignore[import-untyped]

# PyNaCl's own cffi binding of its bundled libsodium (the module behind nacl.bindings; it ships no type stubs)
from nacl._sodium import ffi as _ffi  # type: ignore[import-not-found]
from nacl._sodium import lib as _lib

# pysodium's ctypes handle on the system's libsodium, for the ristretto255 point operations
_points: Any = pysodium.sodium
#: a 32-byte output buffer for libsodium (the type made once: ``ctypes.create_string_buffer`` builds it on every
#: call, and the proofs' hot loops make hundreds per ballot)
_Out32 = ctypes.c_char * 32

#: The order of the group.
L: Final = 2**252 + 27742317777372353535851937790883648493
_POINT_BYTES: Final = 32
_SCALAR_BYTES: Final = 32
_IDENTITY_BYTES: Final = b"\x00" * 32
_ZERO_BYTES: Final = b"\x00" * 32
_HASH_PREFIX: Final = b"sanduq/v1/"


class GroupError(ValueError):
    """A value is not a valid group element or scalar (wrong length, not a ristretto255 encoding, identity
    where not allowed, not reduced)."""


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
    """An element of ristretto255 (possibly the identity), as its 32-byte canonical encoding."""

    data: bytes

    @staticmethod
    def parse(data: bytes, *, allow_identity: bool = False) -> GroupElement:
        """A point from outside. Rejects a wrong length and any encoding that is not a ristretto255 element
        (non-canonical, negative, not decoding to a curve point); the identity only if ``allow_identity``."""
        if len(data) != _POINT_BYTES:
            raise GroupError(f"a group element is {_POINT_BYTES} bytes, got {len(data)}")
        data = bytes(data)
        if data == _IDENTITY_BYTES:
            if allow_identity:
                return IDENTITY
            raise GroupError("the identity is not allowed here")
        # decodes as ristretto255: canonical, non-negative, on the curve (so in the prime-order group)
        if _points.crypto_core_ristretto255_is_valid_point(data) != 1:
            raise GroupError("not a ristretto255 group element")
        return GroupElement(data)

    @staticmethod
    def parse_hex(text: str, *, allow_identity: bool = False) -> GroupElement:
        return GroupElement.parse(_unhex(text, _POINT_BYTES), allow_identity=allow_identity)

    @staticmethod
    def parse_hex_deferred(text: str, *, allow_identity: bool = False) -> GroupElement:
        """Like ``parse_hex`` but WITHOUT decoding the point (length, hex and the identity rule only), for a
        point that the caller passes through libsodium's multiplication or addition before it is used for
        anything else: both decode their inputs exactly as ``parse`` does and fail otherwise, so checking
        first would decode it twice. Only ``election.ballot.parse_and_verify_ballot`` uses it;
        ``election.chaum_pedersen.verify_range(check_points=True)`` completes the check."""
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
# libsodium without the per-call checks of the bindings' wrappers (which only re-check lengths that are
# fixed here). Inputs are encodings of group elements (validated by ``GroupElement.parse`` or computed here)
# or the identity, and reduced scalars; the identity is handled before libsodium is called, as above. Nothing
# here is meant to validate outside input (although libsodium refuses an encoding that does not decode).


def point_add(p: bytes, q: bytes) -> bytes:
    """Encoding of P + Q."""
    if p == _IDENTITY_BYTES:
        return q
    if q == _IDENTITY_BYTES:
        return p
    out = _Out32()
    if _points.crypto_core_ristretto255_add(out, p, q) != 0:
        raise GroupError("point addition failed: not a ristretto255 element")
    return out.raw


def point_sub(p: bytes, q: bytes) -> bytes:
    """Encoding of P - Q."""
    if q == _IDENTITY_BYTES:
        return p
    if p == q:
        return _IDENTITY_BYTES
    out = _Out32()
    if _points.crypto_core_ristretto255_sub(out, p, q) != 0:
        raise GroupError("point subtraction failed: not a ristretto255 element")
    return out.raw


def point_mul(s: bytes, p: bytes) -> bytes:
    """Encoding of s * P (variable base). libsodium decodes P (so refuses anything that is not a ristretto255
    element) and refuses an identity result, so zero and the identity are answered here."""
    if s == _ZERO_BYTES or p == _IDENTITY_BYTES:
        return _IDENTITY_BYTES
    out = _Out32()
    if _points.crypto_scalarmult_ristretto255(out, s, p) != 0:
        raise GroupError("scalar multiplication failed: not a ristretto255 element")
    return out.raw


def is_valid_point(p: bytes) -> bool:
    """libsodium's full check of an encoding: it decodes as a ristretto255 element (the identity included)."""
    return bool(_points.crypto_core_ristretto255_is_valid_point(p) == 1)


def point_base_mul(s: bytes) -> bytes:
    """Encoding of s * G (fixed base)."""
    if s == _ZERO_BYTES:
        return _IDENTITY_BYTES
    out = _Out32()
    if _points.crypto_scalarmult_ristretto255_base(out, s) != 0:  # pragma: no cover - only for s = 0 mod L
        raise GroupError("scalar multiplication failed")
    return out.raw


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


#: The generator G (ristretto255's base point, the image of the Ed25519 base point).
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
