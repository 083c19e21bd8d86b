from __future__ import annotations

import nacl.bindings as sodium
import pytest
from hypothesis import given, settings

from election.group import (
    IDENTITY,
    G,
    GroupElement,
    GroupError,
    L,
    Scalar,
    base_mul,
    hash_to_scalar,
    point_mul,
)
from tests.election.strategies import nonzero_scalars, scalars

# Encodings of the small-order points of Ed25519 (order 1, 2, 4 and 8) and non-canonical encodings.
SMALL_ORDER = [
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
]
NON_CANONICAL = [
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # y = p
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # y = p + 1
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
]


@given(scalars, scalars)
@settings(max_examples=30, deadline=None)
def test_scalar_multiplication_is_a_homomorphism(a: Scalar, b: Scalar) -> None:
    assert base_mul(a + b) == base_mul(a) + base_mul(b)
    assert a * base_mul(b) == base_mul(a * b) == b * base_mul(a)
    assert base_mul(a) - base_mul(a) == IDENTITY


def test_identity_is_handled_explicitly() -> None:
    assert base_mul(Scalar.from_int(0)) == IDENTITY
    assert Scalar.from_int(5) * IDENTITY == IDENTITY
    assert Scalar.from_int(0) * G == IDENTITY
    assert IDENTITY + G == G == G + IDENTITY
    assert base_mul(Scalar.from_int(L)) == IDENTITY
    assert -G + G == IDENTITY


@given(scalars, nonzero_scalars, nonzero_scalars)
@settings(max_examples=30, deadline=None)
def test_operations_agree_with_pynacl_public_bindings(a: Scalar, b: Scalar, c: Scalar) -> None:
    # election.group calls libsodium through PyNaCl's cffi binding directly; same results as nacl.bindings
    p, q = base_mul(b), base_mul(c)
    assert p.data == sodium.crypto_scalarmult_ed25519_base_noclamp(b.data)
    assert (p + q).data == sodium.crypto_core_ed25519_add(p.data, q.data)
    assert (p - q).data == sodium.crypto_core_ed25519_sub(p.data, q.data)
    assert (a + b).data == sodium.crypto_core_ed25519_scalar_add(a.data, b.data)
    assert (a - b).data == sodium.crypto_core_ed25519_scalar_sub(a.data, b.data)
    assert (a * b).data == sodium.crypto_core_ed25519_scalar_mul(a.data, b.data)
    assert (-a).data == sodium.crypto_core_ed25519_scalar_negate(a.data)
    if not a.is_zero():
        assert (a * p).data == sodium.crypto_scalarmult_ed25519_noclamp(a.data, p.data)


def test_multiplication_still_refuses_a_point_off_the_subgroup() -> None:
    # libsodium's own check inside the variable-base multiplication stays in force on the direct path
    torsion = bytes.fromhex(SMALL_ORDER[4])
    mixed = sodium.crypto_core_ed25519_add(G.data, torsion)
    with pytest.raises(GroupError):
        point_mul(Scalar.from_int(3).data, mixed)


@pytest.mark.parametrize("encoding", SMALL_ORDER)
def test_small_order_points_are_rejected(encoding: str) -> None:
    with pytest.raises(GroupError):
        GroupElement.parse_hex(encoding)


def test_identity_only_where_allowed() -> None:
    assert GroupElement.parse_hex(SMALL_ORDER[0], allow_identity=True) == IDENTITY
    with pytest.raises(GroupError):
        GroupElement.parse_hex(SMALL_ORDER[0])


@pytest.mark.parametrize("encoding", NON_CANONICAL)
def test_non_canonical_encodings_are_rejected(encoding: str) -> None:
    with pytest.raises(GroupError):
        GroupElement.parse_hex(encoding, allow_identity=True)


@given(nonzero_scalars)
@settings(max_examples=20, deadline=None)
def test_points_off_the_prime_order_subgroup_are_rejected(s: Scalar) -> None:
    point = base_mul(s)
    assert GroupElement.parse(point.data) == point
    torsion = bytes.fromhex(SMALL_ORDER[4])
    mixed = sodium.crypto_core_ed25519_add(point.data, torsion)
    with pytest.raises(GroupError):
        GroupElement.parse(mixed)


@pytest.mark.parametrize("text", ["00" * 31, "00" * 33, "zz" * 32, "AB" * 32, 5])
def test_malformed_hex_is_rejected(text: object) -> None:
    with pytest.raises(GroupError):
        GroupElement.parse_hex(text)  # type: ignore[arg-type]
    with pytest.raises(GroupError):
        Scalar.parse_hex(text)  # type: ignore[arg-type]


def test_unreduced_scalars_are_rejected() -> None:
    with pytest.raises(GroupError):
        Scalar.parse(L.to_bytes(32, "little"))
    assert int(Scalar.parse((L - 1).to_bytes(32, "little"))) == L - 1


def test_hash_is_domain_separated_and_unambiguous() -> None:
    assert hash_to_scalar("a", "bc") != hash_to_scalar("ab", "c")
    assert hash_to_scalar("x", "ab", "c") != hash_to_scalar("x", "a", "bc")
    assert hash_to_scalar("x", b"1") != hash_to_scalar("x", "1")
    assert hash_to_scalar("x", 1) != hash_to_scalar("y", 1)
