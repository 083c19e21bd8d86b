"""The verifier's own implementations of the proof equations (docs/crypto.md), on the shared group only."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from election.group import (
    IDENTITY,
    G,
    GroupElement,
    GroupError,
    Scalar,
    base_mul,
    hash_bytes,
    hash_to_scalar,
    point_add,
    point_base_mul,
    point_mul,
    point_sub,
    scalar_add,
)

ZERO = Scalar(bytes(32))


class Invalid(Exception):
    """One check failed; the message says which value and why."""


def point(text: Any, *, identity: bool = False) -> GroupElement:
    try:
        return GroupElement.parse_hex(text, allow_identity=identity)
    except GroupError as exc:
        raise Invalid(str(exc)) from None


def scalar(text: Any) -> Scalar:
    try:
        return Scalar.parse_hex(text)
    except GroupError as exc:
        raise Invalid(str(exc)) from None


def obj(data: Any, keys: Sequence[str], what: str) -> dict[str, Any]:
    if not isinstance(data, dict) or set(data) != set(keys):
        raise Invalid(f"{what}: expected an object with exactly {sorted(keys)}")
    return data


@lru_cache(maxsize=256)
def small(n: int) -> GroupElement:
    return base_mul(Scalar.from_int(n))


def range_proof_holds(
    proof: Any, alpha: GroupElement, beta: GroupElement, lo: int, hi: int, key: GroupElement, h_e: bytes, label: str
) -> None:
    """sum_j c_j == H("range"; H_E, label, K, alpha, beta, lo, hi, a_lo, b_lo, ...), with
    a_j = v_j G + c_j alpha and b_j = v_j K + c_j (beta - j G)."""
    p = obj(proof, ["lo", "hi", "c", "v"], f"{label}: range proof")
    if p["lo"] != lo or p["hi"] != hi or type(p["lo"]) is not int or type(p["hi"]) is not int:
        raise Invalid(f"{label}: range proof is not for [{lo}, {hi}]")
    cs, vs = p["c"], p["v"]
    if not isinstance(cs, list) or not isinstance(vs, list) or len(cs) != len(vs) or len(cs) != hi - lo + 1:
        raise Invalid(f"{label}: range proof has the wrong number of branches")
    # on the 32-byte encodings (election.group's byte-level operations, which handle the identity): the same
    # multiplications as with GroupElement, without an object per intermediate value (this loop is the bulk of
    # a national record's verification)
    commitments: list[GroupElement] = []
    total = ZERO
    a_data, k_data, g_data = alpha.data, key.data, G.data
    shifted = (beta - small(lo)).data
    for j, (c_text, v_text) in enumerate(zip(cs, vs, strict=True)):
        c, v = scalar(c_text).data, scalar(v_text).data
        if j:
            shifted = point_sub(shifted, g_data)  # beta - (lo + j) G
        commitments.append(GroupElement(point_add(point_base_mul(v), point_mul(c, a_data))))
        commitments.append(GroupElement(point_add(point_mul(v, k_data), point_mul(c, shifted))))
        total = Scalar(scalar_add(total.data, c))
    if total != hash_to_scalar("range", h_e, label, key, alpha, beta, lo, hi, *commitments):
        raise Invalid(f"{label}: range proof does not verify")


def decryption_proof_holds(
    proof: Any, key: GroupElement, a_in: GroupElement, m_out: GroupElement, h_e: bytes, label: str
) -> None:
    p = obj(proof, ["c", "v"], f"{label}: proof")
    c, v = scalar(p["c"]), scalar(p["v"])
    a = base_mul(v) + c * key
    b = v * a_in + c * m_out
    if c != hash_to_scalar("decrypt", h_e, label, key, a_in, m_out, a, b):
        raise Invalid(f"{label}: decryption proof does not verify")


def schnorr_holds(proof: Any, public: GroupElement, h_b: bytes, label: str) -> None:
    p = obj(proof, ["c", "v"], f"{label}: proof")
    c, v = scalar(p["c"]), scalar(p["v"])
    if c != hash_to_scalar("schnorr", h_b, label, public, base_mul(v) + c * public):
        raise Invalid(f"{label}: Schnorr proof does not verify")


def polynomial_point(commitments: Sequence[GroupElement], x: int) -> GroupElement:
    acc = IDENTITY
    power = Scalar.from_int(1)
    for commitment in commitments:
        acc = acc + power * commitment
        power = power * Scalar.from_int(x)
    return acc


def lagrange(x: int, xs: Sequence[int]) -> Scalar:
    num, den = Scalar.from_int(1), Scalar.from_int(1)
    for m in xs:
        if m != x:
            num = num * Scalar.from_int(m)
            den = den * Scalar.from_int(m - x)
    return num * den.inverse()


_HEX_CODE = re.compile(r"[0-9a-f]{64}")


def code_key(value: Any) -> Any:
    """A published confirmation code as the verifier keeps it for a later comparison: 32 bytes for 64 lower-case
    hex digits (half the memory of the text, for every cast ballot of a national record), anything else as it is
    (never equal to such bytes), so that ``code_key(a) == code_key(b)`` exactly when ``a == b``."""
    if type(value) is str and _HEX_CODE.fullmatch(value):
        return bytes.fromhex(value)
    return value


def code_text(key: Any) -> Any:
    """The published value back from ``code_key``."""
    return key.hex() if isinstance(key, bytes) else key


def shared(value: Any) -> Any:
    """One object for equal strings (kiosk and style ids repeat in every ballot of a national record)."""
    return sys.intern(value) if type(value) is str else value


def confirmation(genesis: bytes, kiosk: str, ballot_hash: bytes) -> bytes:
    return hash_bytes("confirmation", genesis, kiosk, ballot_hash)[:32]


def batch_root(previous_root: bytes, kiosk: str, sorted_codes: Sequence[bytes]) -> bytes:
    """``H("batch-root"; previous root, kiosk, n, codes in ascending order)[:32]`` (the caller checks the order)."""
    return hash_bytes("batch-root", previous_root, kiosk, len(sorted_codes), *sorted_codes)[:32]


def genesis(h_e: bytes, kiosk: str) -> bytes:
    return hash_bytes("confirmation-genesis", h_e, kiosk)[:32]


__all__ = ["IDENTITY", "G", "Invalid"]
