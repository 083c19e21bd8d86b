"""Schnorr proof of knowledge of a discrete logarithm (ElectionGuard 2.1, section 3.2.2): a guardian proves it
knows each polynomial coefficient a_{i,j} behind its commitment K_{i,j} = a_{i,j}*G.

    h = v*G + c*K        c = H("schnorr"; H_B, label, K, h)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from election.chaum_pedersen import ProofError
from election.group import GroupElement, GroupError, Scalar, base_mul, hash_to_scalar


@dataclass(frozen=True, slots=True)
class SchnorrProof:
    challenge: Scalar
    response: Scalar

    def to_dict(self) -> dict[str, str]:
        return {"c": self.challenge.hex(), "v": self.response.hex()}

    @staticmethod
    def from_dict(data: Any) -> SchnorrProof:
        if not isinstance(data, dict) or set(data) != {"c", "v"}:
            raise ProofError("a Schnorr proof is an object with exactly 'c' and 'v'")
        try:
            return SchnorrProof(Scalar.parse_hex(data["c"]), Scalar.parse_hex(data["v"]))
        except GroupError as exc:
            raise ProofError(f"Schnorr proof: {exc}") from None


def prove_knowledge(secret: Scalar, public: GroupElement, *, base_hash: bytes, label: str, seed: bytes) -> SchnorrProof:
    u = hash_to_scalar("schnorr-nonce", seed, label)
    c = hash_to_scalar("schnorr", base_hash, label, public, base_mul(u))
    return SchnorrProof(c, u - c * secret)


def verify_knowledge(proof: SchnorrProof, public: GroupElement, *, base_hash: bytes, label: str) -> None:
    h = base_mul(proof.response) + proof.challenge * public
    if proof.challenge != hash_to_scalar("schnorr", base_hash, label, public, h):
        raise ProofError(f"Schnorr proof for {label!r} does not verify")
