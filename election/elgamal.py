"""Exponential ElGamal on the group (ElectionGuard 2.1, section 3.3, written additively).

An encryption of the integer m under the public key K with nonce xi is (alpha, beta) = (xi*G, m*G + xi*K).
Encryptions add: (alpha1 + alpha2, beta1 + beta2) encrypts m1 + m2 with nonce xi1 + xi2, which is what the
homomorphic tally uses. Decryption computes M = beta - s*alpha = m*G and needs a discrete logarithm
(``election.dlog``), cheap because tallies are small.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from election.group import IDENTITY, GroupElement, GroupError, Scalar, base_mul, small_multiple


@dataclass(frozen=True, slots=True)
class Ciphertext:
    """An ElGamal ciphertext (alpha, beta) = (xi*G, m*G + xi*K)."""

    alpha: GroupElement
    beta: GroupElement

    def __add__(self, other: Ciphertext) -> Ciphertext:
        return Ciphertext(self.alpha + other.alpha, self.beta + other.beta)

    def scaled(self, factor: Scalar) -> Ciphertext:
        return Ciphertext(factor * self.alpha, factor * self.beta)

    def times(self, n: int) -> Ciphertext:
        """``n`` times this ciphertext for a small n >= 1 (by additions, cheaper than two multiplications)."""
        if n < 1:
            raise ValueError("n must be at least 1")
        acc = self
        for _ in range(n - 1):
            acc = acc + self
        return acc

    def to_dict(self) -> dict[str, str]:
        return {"alpha": self.alpha.hex(), "beta": self.beta.hex()}

    @staticmethod
    def from_dict(data: Any, *, aggregate: bool = False, deferred: bool = False) -> Ciphertext:
        """Parse and validate. A single encryption never has the identity as ``alpha`` (xi != 0); an
        aggregate (a tally) may, and either part may be the identity. ``deferred``: decoding the points is
        left to the caller's proof verification (``GroupElement.parse_hex_deferred``)."""
        if not isinstance(data, dict) or set(data) != {"alpha", "beta"}:
            raise GroupError("a ciphertext is an object with exactly 'alpha' and 'beta'")
        parse = GroupElement.parse_hex_deferred if deferred else GroupElement.parse_hex
        return Ciphertext(parse(data["alpha"], allow_identity=aggregate), parse(data["beta"], allow_identity=True))


ZERO_CIPHERTEXT = Ciphertext(IDENTITY, IDENTITY)


def encrypt(value: int, nonce: Scalar, public_key: GroupElement) -> Ciphertext:
    """Encrypt ``value`` with ``nonce`` (which must be secret, uniformly random and non-zero)."""
    if nonce.is_zero():
        raise GroupError("the ElGamal nonce must not be zero")
    return Ciphertext(base_mul(nonce), small_multiple(value) + nonce * public_key)


def decrypt_to_element(ciphertext: Ciphertext, secret_key: Scalar) -> GroupElement:
    """m*G = beta - s*alpha (for tests and key-holders; a real tally is decrypted by guardians' shares)."""
    return ciphertext.beta - secret_key * ciphertext.alpha
