"""Chaum-Pedersen proofs: the range proof of an encrypted value, and the proof of a correct decryption share.

Both are non-interactive (Fiat-Shamir) and stored in ElectionGuard 2.x's compact form: challenges and
responses only; the verifier recomputes the commitments and checks that the hash of everything equals the
challenge(s).

Range proof (ElectionGuard 2.1, section 3.3.5, "proof that an encryption is of a value in [0, R]",
generalised to [lo, hi]). For (alpha, beta) = (xi*G, m*G + xi*K) with lo <= m <= hi, one branch per
allowed value j:

    a_j = v_j*G + c_j*alpha        b_j = v_j*K + c_j*(beta - j*G)
    c   = H("range"; H_E, label, K, alpha, beta, lo, hi, a_lo, b_lo, ..., a_hi, b_hi)
    sum_j c_j = c  (mod L)

For j = m the prover picks u and sets a = u*G, b = u*K, v_m = u - c_m*xi; the other branches are simulated
from random (c_j, v_j). The 0/1 proof of a selection is the case [0, 1].

Decryption-share proof (section 3.6.3): for M = s*A with K_i = s*G,

    a = v*G + c*K_i      b = v*A + c*M      c = H("decrypt"; H_E, label, K_i, A, M, a, b)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from election.elgamal import Ciphertext
from election.group import (
    IDENTITY_BYTES,
    ZERO_SCALAR_BYTES,
    G,
    GroupElement,
    GroupError,
    Scalar,
    base_mul,
    hash_to_scalar,
    hasher,
    is_valid_point,
    point_add,
    point_base_mul,
    point_mul,
    point_sub,
    scalar_add,
    scalar_mul,
    scalar_reduce,
    scalar_sub,
    small_multiple,
)


class ProofError(ValueError):
    """A proof does not verify, or is malformed."""


def _proof_nonce(seed: bytes, label: str, index: int, which: str) -> Scalar:
    return hash_to_scalar("proof-nonce", seed, label, index, which)


@dataclass(frozen=True, slots=True)
class RangeProof:
    """Proof that a ciphertext encrypts one of lo..hi: one (challenge, response) pair per value."""

    lo: int
    challenges: tuple[Scalar, ...]
    responses: tuple[Scalar, ...]

    @property
    def hi(self) -> int:
        return self.lo + len(self.challenges) - 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "lo": self.lo,
            "hi": self.hi,
            "c": [c.hex() for c in self.challenges],
            "v": [v.hex() for v in self.responses],
        }

    @staticmethod
    def from_dict(data: Any) -> RangeProof:
        if not isinstance(data, dict) or set(data) != {"lo", "hi", "c", "v"}:
            raise ProofError("a range proof is an object with exactly 'lo', 'hi', 'c' and 'v'")
        lo, hi, cs, vs = data["lo"], data["hi"], data["c"], data["v"]
        if type(lo) is not int or type(hi) is not int or not 0 <= lo <= hi:
            raise ProofError("range proof bounds must be integers with 0 <= lo <= hi")
        if not isinstance(cs, list) or not isinstance(vs, list) or not len(cs) == len(vs) == hi - lo + 1:
            raise ProofError("range proof needs one challenge and one response per value in [lo, hi]")
        try:
            return RangeProof(lo, tuple(Scalar.parse_hex(c) for c in cs), tuple(Scalar.parse_hex(v) for v in vs))
        except GroupError as exc:
            raise ProofError(f"range proof: {exc}") from None


def _range_hasher(base_hash: bytes, label: str, public_key: GroupElement, ct: Ciphertext, lo: int, hi: int) -> Any:
    """H("range"; H_E, label, K, alpha, beta, lo, hi, ...) up to the commitments (added as b"P" + point)."""
    return hasher("range", base_hash, label, public_key, ct.alpha, ct.beta, lo, hi)


def prove_range(
    ct: Ciphertext,
    nonce: Scalar,
    value: int,
    lo: int,
    hi: int,
    *,
    public_key: GroupElement,
    base_hash: bytes,
    label: str,
    seed: bytes,
) -> RangeProof:
    """Prove that ``ct`` (encrypting ``value`` with ``nonce``) encrypts a value in [lo, hi]. The proof's own
    randomness is derived from ``seed`` and ``label`` (so a ballot is a deterministic function of its seed)."""
    if not lo <= value <= hi:
        raise ProofError(f"cannot prove {value} in [{lo}, {hi}]")
    key, xi = public_key.data, nonce.data
    h = _range_hasher(base_hash, label, public_key, ct, lo, hi)
    nonces = hasher("proof-nonce", seed, label)
    challenges: list[bytes] = []
    responses: list[bytes] = []
    u = _nonce_from(nonces, value, "u")
    for j in range(lo, hi + 1):
        if j == value:
            h.update(b"P" + point_base_mul(u))
            h.update(b"P" + point_mul(u, key))
            challenges.append(ZERO_SCALAR_BYTES)
            responses.append(ZERO_SCALAR_BYTES)
        else:
            c_j = _nonce_from(nonces, j, "c")
            v_j = _nonce_from(nonces, j, "v")
            # a_j = v_j*G + c_j*alpha = (v_j + c_j*xi)*G; b_j = (v_j + c_j*xi)*K + c_j*(m - j)*G:
            # the prover knows xi, so one variable-base multiplication per simulated branch.
            t = scalar_add(v_j, scalar_mul(c_j, xi))
            shift = scalar_mul(c_j, Scalar.from_int(value - j).data)
            h.update(b"P" + point_base_mul(t))
            h.update(b"P" + point_add(point_mul(t, key), point_base_mul(shift)))
            challenges.append(c_j)
            responses.append(v_j)
    c = scalar_reduce(h.digest())
    real = value - lo
    c_real = c
    for j, c_j in enumerate(challenges):
        if j != real:
            c_real = scalar_sub(c_real, c_j)
    challenges[real] = c_real
    responses[real] = scalar_sub(u, scalar_mul(c_real, xi))
    return RangeProof(lo, tuple(map(Scalar, challenges)), tuple(map(Scalar, responses)))


def _nonce_from(state: Any, index: int, which: str) -> bytes:
    """``_proof_nonce(seed, label, index, which)`` from the state after (seed, label)."""
    h = state.copy()
    h.update(b"I" + index.to_bytes(8, "big"))
    raw = which.encode()
    h.update(b"T" + len(raw).to_bytes(4, "big") + raw)
    return scalar_reduce(h.digest())


def verify_range(
    proof: RangeProof,
    ct: Ciphertext,
    lo: int,
    hi: int,
    *,
    public_key: GroupElement,
    base_hash: bytes,
    label: str,
    check_points: bool = False,
) -> None:
    """Raise ProofError unless ``proof`` shows that ``ct`` encrypts a value in [lo, hi].

    Per value j: a_j = v_j*G + c_j*alpha, b_j = v_j*K + c_j*(beta - j*G): one fixed-base and three
    variable-base multiplications, two additions, and one subtraction per step of j.

    ``check_points``: ``ct`` was parsed with ``GroupElement.parse_hex_deferred`` (not yet decoded). libsodium's
    multiplication and addition decode their inputs and refuse anything that is not a ristretto255 element, so
    alpha is checked by any branch with c_j != 0, and beta by the first branch (j = lo = 0) when c_0 != 0; a
    point that may escape those (only with a forged proof, or lo > 0) is checked explicitly, which costs one
    decoding. Any failure is a ProofError naming the label."""
    if proof.lo != lo or proof.hi != hi:
        raise ProofError(f"range proof is for [{proof.lo}, {proof.hi}], expected [{lo}, {hi}]")
    if not check_points:
        _verify_range(proof, ct, lo, public_key, base_hash, label)
        return
    challenges = [c.data for c in proof.challenges]
    unchecked = []
    if all(c == ZERO_SCALAR_BYTES for c in challenges):
        unchecked.append(ct.alpha.data)
    if lo != 0 or challenges[0] == ZERO_SCALAR_BYTES:
        unchecked.append(ct.beta.data)
    if any(p != IDENTITY_BYTES and not is_valid_point(p) for p in unchecked):
        raise ProofError(f"{label}: a ciphertext point is not a ristretto255 group element")
    try:
        _verify_range(proof, ct, lo, public_key, base_hash, label)
    except GroupError:
        raise ProofError(f"{label}: a ciphertext point is not a ristretto255 group element") from None


def _verify_range(
    proof: RangeProof, ct: Ciphertext, lo: int, public_key: GroupElement, base_hash: bytes, label: str
) -> None:
    hi = proof.hi
    key, alpha = public_key.data, ct.alpha.data
    g = G.data
    shifted = point_sub(ct.beta.data, small_multiple(lo).data) if lo else ct.beta.data
    h = _range_hasher(base_hash, label, public_key, ct, lo, hi)
    total = ZERO_SCALAR_BYTES
    last = len(proof.challenges) - 1
    for j, (c_s, v_s) in enumerate(zip(proof.challenges, proof.responses, strict=True)):
        c, v = c_s.data, v_s.data
        h.update(b"P" + point_add(point_base_mul(v), point_mul(c, alpha)))
        h.update(b"P" + point_add(point_mul(v, key), point_mul(c, shifted)))
        total = scalar_add(total, c)
        if j != last:
            shifted = point_sub(shifted, g)
    if total != scalar_reduce(h.digest()):
        raise ProofError(f"range proof for {label!r} does not verify")


@dataclass(frozen=True, slots=True)
class ChaumPedersenProof:
    """Proof that log_G(K_i) = log_A(M) (a decryption share M = s*A is correct)."""

    challenge: Scalar
    response: Scalar

    def to_dict(self) -> dict[str, str]:
        return {"c": self.challenge.hex(), "v": self.response.hex()}

    @staticmethod
    def from_dict(data: Any) -> ChaumPedersenProof:
        if not isinstance(data, dict) or set(data) != {"c", "v"}:
            raise ProofError("a Chaum-Pedersen proof is an object with exactly 'c' and 'v'")
        try:
            return ChaumPedersenProof(Scalar.parse_hex(data["c"]), Scalar.parse_hex(data["v"]))
        except GroupError as exc:
            raise ProofError(f"Chaum-Pedersen proof: {exc}") from None


def _decryption_challenge(
    base_hash: bytes,
    label: str,
    key: GroupElement,
    a_in: GroupElement,
    m_out: GroupElement,
    a: GroupElement,
    b: GroupElement,
) -> Scalar:
    return hash_to_scalar("decrypt", base_hash, label, key, a_in, m_out, a, b)


def prove_decryption(
    secret: Scalar,
    key: GroupElement,
    a_in: GroupElement,
    m_out: GroupElement,
    *,
    base_hash: bytes,
    label: str,
    seed: bytes,
) -> ChaumPedersenProof:
    """Prove M = secret*A for K_i = secret*G."""
    u = _proof_nonce(seed, label, 0, "decrypt")
    c = _decryption_challenge(base_hash, label, key, a_in, m_out, base_mul(u), u * a_in)
    return ChaumPedersenProof(c, u - c * secret)


def verify_decryption(
    proof: ChaumPedersenProof,
    key: GroupElement,
    a_in: GroupElement,
    m_out: GroupElement,
    *,
    base_hash: bytes,
    label: str,
) -> None:
    c, v = proof.challenge, proof.response
    a = base_mul(v) + c * key
    b = v * a_in + c * m_out
    if c != _decryption_challenge(base_hash, label, key, a_in, m_out, a, b):
        raise ProofError(f"decryption proof for {label!r} does not verify")
