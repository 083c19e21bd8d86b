"""The verifier's own implementations of the proof equations (docs/crypto.md), on the shared group only."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from election.group import (
    IDENTITY,
    IDENTITY_BYTES,
    ZERO_SCALAR_BYTES,
    G,
    GroupElement,
    GroupError,
    Scalar,
    base_mul,
    extended,
    hash_bytes,
    hash_to_scalar,
    hasher,
    is_valid_point,
    point_add,
    point_base_mul,
    point_mul,
    point_sub,
    scalar_add,
    scalar_reduce,
)


class Invalid(Exception):
    """One check failed; the message says which value and why."""


class RunStopped(Exception):
    """The run could not go on for a reason that is not the record's (a worker process killed, out of memory):
    there is no verdict, and the message says why."""


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


def point_deferred(text: Any, *, identity: bool = False) -> GroupElement:
    """A ciphertext point from a ballot, NOT yet decoded (length, lower-case hex and the identity rule only):
    ``range_proof_holds(..., decoded=False)`` completes the check, because libsodium's multiplication and
    subtraction decode their inputs exactly as ``point`` does and refuse anything else, so checking first would
    decode every ciphertext point twice."""
    try:
        return GroupElement.parse_hex_deferred(text, allow_identity=identity)
    except GroupError as exc:
        raise Invalid(str(exc)) from None


@lru_cache(maxsize=4)
def _range_hasher(h_e: bytes) -> Any:
    """H("range"; H_E, ...) up to H_E (copied for each proof: the same for every proof of the record)."""
    return hasher("range", h_e)


def range_proof_holds(
    proof: Any,
    alpha: GroupElement,
    beta: GroupElement,
    lo: int,
    hi: int,
    key: GroupElement,
    h_e: bytes,
    label: str,
    *,
    decoded: bool = True,
) -> None:
    """sum_j c_j == H("range"; H_E, label, K, alpha, beta, lo, hi, a_lo, b_lo, ...), with
    a_j = v_j G + c_j alpha and b_j = v_j K + c_j (beta - j G).

    ``decoded=False``: alpha and beta come from ``point_deferred``. libsodium decodes alpha in c_j alpha for any
    c_j != 0, and beta in the subtraction beta - G (every proof with hi > lo) or beta - lo G (lo > 0); a point
    that escapes both (only in a forged proof) is decoded here. A point that does not decode is ``Invalid``."""
    p = obj(proof, ["lo", "hi", "c", "v"], f"{label}: range proof")
    if p["lo"] != lo or p["hi"] != hi or type(p["lo"]) is not int or type(p["hi"]) is not int:
        raise Invalid(f"{label}: range proof is not for [{lo}, {hi}]")
    cs, vs = p["c"], p["v"]
    if not isinstance(cs, list) or not isinstance(vs, list) or len(cs) != len(vs) or len(cs) != hi - lo + 1:
        raise Invalid(f"{label}: range proof has the wrong number of branches")
    # on the 32-byte encodings (election.group's byte-level operations, which handle the identity), with the
    # commitments hashed as they are made: this loop is the bulk of a national record's verification
    challenges = [scalar(c).data for c in cs]
    responses = [scalar(v).data for v in vs]
    a_data, b_data, k_data, g_data = alpha.data, beta.data, key.data, G.data
    if not decoded:
        unchecked = [a_data] if all(c == ZERO_SCALAR_BYTES for c in challenges) else []
        if lo == 0 and hi == 0:
            unchecked.append(b_data)
        if any(x != IDENTITY_BYTES and not is_valid_point(x) for x in unchecked):
            raise Invalid(f"{label}: a ciphertext point is not a ristretto255 group element")
    h = extended(_range_hasher(h_e), label, key, alpha, beta, lo, hi)
    total = ZERO_SCALAR_BYTES
    try:
        shifted = point_sub(b_data, small(lo).data) if lo else b_data
        for j, (c, v) in enumerate(zip(challenges, responses, strict=True)):
            if j:
                shifted = point_sub(shifted, g_data)  # beta - (lo + j) G
            h.update(b"P" + point_add(point_base_mul(v), point_mul(c, a_data)))
            h.update(b"P" + point_add(point_mul(v, k_data), point_mul(c, shifted)))
            total = scalar_add(total, c)
    except GroupError:
        raise Invalid(f"{label}: a ciphertext point is not a ristretto255 group element") from None
    if total != scalar_reduce(h.digest()):
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


__all__ = ["IDENTITY", "G", "Invalid", "RunStopped"]
