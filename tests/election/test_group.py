from __future__ import annotations

import nacl.bindings as sodium
import pysodium  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis.strategies import binary

from election.group import (
    IDENTITY,
    G,
    GroupElement,
    GroupError,
    L,
    Scalar,
    base_mul,
    hash_to_scalar,
    is_valid_point,
    point_add,
    point_mul,
)
from tests.election.strategies import nonzero_scalars, scalars

# RFC 9496 (ristretto255), appendix A.1: encodings of 0*B .. 5*B.
MULTIPLES_OF_G = [
    "0000000000000000000000000000000000000000000000000000000000000000",
    "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76",
    "6a493210f7499cd17fecb510ae0cea23a110e8d5b901f8acadd3095c73a3b919",
    "94741f5d5d52755ece4f23f044ee27d5d1ea1e2bd196b462166b16152a9d0259",
    "da80862773358b466ffadfe0b3293ab3d9fd53c5ea6c955358f568322daf6a57",
    "e882b131016b52c1d3337080187cf768423efccbb517bb495ab812c4160ff44e",
]
# RFC 9496, appendix A.2: encodings that are not ristretto255 elements, a few of each kind.
NON_CANONICAL = [
    "00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0100000000000000000000000000000000000000000000000000000000000080",
]
NEGATIVE = [
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ed57ffd8c914fb201471d1c3d245ce3c746fcbe63a3679d51b6a516ebebe0e20",
]
NON_SQUARE = [
    "26948d35ca62e643e26a83177332e6b6afeb9d08e4268b650f1f5bbd8d81d371",
    "4eac077a713c57b4f4397629a4145982c661f48044dd3f96427d40b147d9742f",
]
NEGATIVE_XY = [
    "3eb858e78f5a7254d8c9731174a94f76755fd3941c0ac93735c07ba14579630e",
    "a45fdc55c76448c049a1ab33f17023edfb2be3581e9c7aade8a6125215e04220",
]
S_MINUS_ONE = ["ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"]
NOT_ELEMENTS = NON_CANONICAL + NEGATIVE + NON_SQUARE + NEGATIVE_XY + S_MINUS_ONE
# Ed25519's encodings of its base point and of a point of order 8 (the group DOMAIN.md first named):
# neither is a ristretto255 encoding.
ED25519_BASE = "5866666666666666666666666666666666666666666666666666666666666666"
ED25519_ORDER_8 = "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"


@given(scalars, scalars)
@settings(max_examples=30, deadline=None)
def test_scalar_multiplication_is_a_homomorphism(a: Scalar, b: Scalar) -> None:
    assert base_mul(a + b) == base_mul(a) + base_mul(b)
    assert a * base_mul(b) == base_mul(a * b) == b * base_mul(a)
    assert base_mul(a) - base_mul(a) == IDENTITY


def test_generator_and_its_multiples_are_the_rfc_9496_encodings() -> None:
    assert G.hex() == MULTIPLES_OF_G[1]
    assert IDENTITY.hex() == MULTIPLES_OF_G[0]
    for n, encoding in enumerate(MULTIPLES_OF_G):
        assert base_mul(Scalar.from_int(n)).hex() == encoding
        assert (Scalar.from_int(n) * G).hex() == encoding
        if n:
            assert GroupElement.parse_hex(encoding) == base_mul(Scalar.from_int(n))


def test_identity_is_handled_explicitly() -> None:
    assert base_mul(Scalar.from_int(0)) == IDENTITY
    assert Scalar.from_int(5) * IDENTITY == IDENTITY
    assert Scalar.from_int(0) * G == IDENTITY
    assert IDENTITY + G == G == G + IDENTITY
    assert base_mul(Scalar.from_int(L)) == IDENTITY
    assert -G + G == IDENTITY
    assert G - G == IDENTITY
    assert Scalar.from_int(L - 1) * G == -G


@given(scalars, nonzero_scalars, nonzero_scalars)
@settings(max_examples=30, deadline=None)
def test_operations_agree_with_the_bindings_public_functions(a: Scalar, b: Scalar, c: Scalar) -> None:
    # election.group calls libsodium directly; same results as pysodium's and PyNaCl's checked wrappers
    p, q = base_mul(b), base_mul(c)
    assert p.data == pysodium.crypto_scalarmult_ristretto255_base(b.data)
    assert (p + q).data == pysodium.crypto_core_ristretto255_add(p.data, q.data)
    assert (p - q).data == pysodium.crypto_core_ristretto255_sub(p.data, q.data)
    assert (a + b).data == sodium.crypto_core_ed25519_scalar_add(a.data, b.data)
    assert (a - b).data == sodium.crypto_core_ed25519_scalar_sub(a.data, b.data)
    assert (a * b).data == sodium.crypto_core_ed25519_scalar_mul(a.data, b.data)
    assert (-a).data == sodium.crypto_core_ed25519_scalar_negate(a.data)
    if not a.is_zero():
        assert (a * p).data == pysodium.crypto_scalarmult_ristretto255(a.data, p.data)


@pytest.mark.parametrize("encoding", [*NOT_ELEMENTS, ED25519_BASE, ED25519_ORDER_8])
def test_multiplication_and_addition_still_refuse_a_non_element(encoding: str) -> None:
    # libsodium's own decoding inside the multiplication and the addition stays in force on the direct path
    bad = bytes.fromhex(encoding)
    with pytest.raises(GroupError, match="not a ristretto255 element"):
        point_mul(Scalar.from_int(3).data, bad)
    with pytest.raises(GroupError, match="not a ristretto255 element"):
        point_add(G.data, bad)


@pytest.mark.parametrize("encoding", NOT_ELEMENTS)
def test_encodings_that_are_not_elements_are_rejected(encoding: str) -> None:
    with pytest.raises(GroupError, match="not a ristretto255 group element"):
        GroupElement.parse_hex(encoding, allow_identity=True)


def test_ed25519_encodings_are_not_ristretto255_elements() -> None:
    for encoding in (ED25519_BASE, ED25519_ORDER_8):
        with pytest.raises(GroupError, match="not a ristretto255 group element"):
            GroupElement.parse_hex(encoding, allow_identity=True)


def test_identity_only_where_allowed() -> None:
    assert GroupElement.parse_hex(MULTIPLES_OF_G[0], allow_identity=True) == IDENTITY
    with pytest.raises(GroupError, match="identity"):
        GroupElement.parse_hex(MULTIPLES_OF_G[0])


@given(nonzero_scalars)
@settings(max_examples=20, deadline=None)
def test_every_computed_point_parses_back_and_its_negation_of_s_does_not(s: Scalar) -> None:
    """Every element has exactly one encoding: its "negative" spelling (the field element -s, which
    decodes to the same curve point on Ed25519's side) is refused."""
    point = base_mul(s)
    assert GroupElement.parse(point.data) == point
    field_s = int.from_bytes(point.data, "little")
    negated = ((2**255 - 19) - field_s).to_bytes(32, "little")
    with pytest.raises(GroupError):
        GroupElement.parse(negated)


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


@given(binary(min_size=32, max_size=32))
@settings(max_examples=300, deadline=None)
def test_any_32_bytes_either_are_refused_or_are_an_element_of_prime_order(data: bytes) -> None:
    """There is nothing "off the subgroup" to let through: an encoding either fails to parse, or it is the one
    canonical encoding of an element whose order divides L (P + (L - 1) P is the identity)."""
    try:
        point = GroupElement.parse(data, allow_identity=True)
    except GroupError:
        assert not is_valid_point(data) or data == IDENTITY.data
        return
    assert point.data == data
    assert point + Scalar.from_int(L - 1) * point == IDENTITY
