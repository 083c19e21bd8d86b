"""The election context: what every ballot, proof and decryption is bound to.

Following ElectionGuard 2.1 (section 3.1-3.2):

* the parameter base hash H_B = H("base"; group, manifest hash, n, k) is fixed before the key ceremony and
  binds the guardians' proofs;
* the extended base hash H_E = H("extended-base"; H_B, K, all guardians' commitments) is fixed once the
  joint public key K exists and binds every ballot, proof, confirmation code and decryption.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Final

from election.group import GroupElement, GroupError, hash_bytes

CONTEXT_FORMAT_VERSION: Final = 1
#: Names the group so that a hash from another group or another version can never collide with ours.
GROUP_NAME: Final = "ristretto255/libsodium"


class ContextError(ValueError):
    """The election context is malformed or inconsistent (e.g. its base hash does not match its contents)."""


def parameter_base_hash(manifest_hash: str, number_of_guardians: int, quorum: int) -> bytes:
    """H_B: binds the group, the manifest and the guardian parameters (n, k)."""
    if not 1 <= quorum <= number_of_guardians:
        raise ContextError(f"quorum k={quorum} must be between 1 and n={number_of_guardians}")
    return hash_bytes("base", GROUP_NAME, manifest_hash, number_of_guardians, quorum)[:32]


def extended_base_hash(
    base_hash: bytes, joint_public_key: GroupElement, commitments: Sequence[Sequence[GroupElement]]
) -> bytes:
    """H_E: binds H_B, the joint public key and every guardian's Feldman commitments, in guardian order."""
    flat = [c for guardian in commitments for c in guardian]
    return hash_bytes("extended-base", base_hash, joint_public_key, len(commitments), *flat)[:32]


@dataclass(frozen=True)
class ElectionContext:
    """Public parameters of one election after the key ceremony."""

    manifest_hash: str
    number_of_guardians: int
    quorum: int
    joint_public_key: GroupElement
    #: Feldman commitments K_{i,j} of guardian i (1-based, in order), j = 0..k-1; K_{i,0} is its public key.
    commitments: tuple[tuple[GroupElement, ...], ...]

    def __post_init__(self) -> None:
        if len(self.commitments) != self.number_of_guardians:
            raise ContextError("one commitment list per guardian is required")
        for i, row in enumerate(self.commitments, start=1):
            if len(row) != self.quorum:
                raise ContextError(f"guardian {i} must have exactly k={self.quorum} commitments")
        total = self.commitments[0][0]
        for row in self.commitments[1:]:
            total = total + row[0]
        if total != self.joint_public_key:
            raise ContextError("the joint public key is not the sum of the guardians' public keys")

    @cached_property
    def parameter_base_hash(self) -> bytes:
        return parameter_base_hash(self.manifest_hash, self.number_of_guardians, self.quorum)

    @cached_property
    def base_hash(self) -> bytes:
        """H_E, the extended base hash (32 bytes) that every ballot and proof is bound to."""
        return extended_base_hash(self.parameter_base_hash, self.joint_public_key, self.commitments)

    def guardian_public_key(self, sequence: int) -> GroupElement:
        return self.commitments[sequence - 1][0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": CONTEXT_FORMAT_VERSION,
            "group": GROUP_NAME,
            "manifest_hash": self.manifest_hash,
            "number_of_guardians": self.number_of_guardians,
            "quorum": self.quorum,
            "joint_public_key": self.joint_public_key.hex(),
            "commitments": [[c.hex() for c in row] for row in self.commitments],
            "parameter_base_hash": self.parameter_base_hash.hex(),
            "base_hash": self.base_hash.hex(),
        }

    @staticmethod
    def from_dict(data: Any) -> ElectionContext:
        """Parse, validate every point, and check that the stated hashes match the contents."""
        keys = {
            "format_version",
            "group",
            "manifest_hash",
            "number_of_guardians",
            "quorum",
            "joint_public_key",
            "commitments",
            "parameter_base_hash",
            "base_hash",
        }
        if not isinstance(data, dict) or set(data) != keys:
            raise ContextError(f"an election context is an object with exactly {sorted(keys)}")
        if data["format_version"] != CONTEXT_FORMAT_VERSION or data["group"] != GROUP_NAME:
            raise ContextError("unsupported context version or group")
        n, k = data["number_of_guardians"], data["quorum"]
        if type(n) is not int or type(k) is not int or not 1 <= k <= n:
            raise ContextError("number_of_guardians and quorum must be integers with 1 <= k <= n")
        if not isinstance(data["manifest_hash"], str) or len(data["manifest_hash"]) != 64:
            raise ContextError("manifest_hash must be 64 hex digits")
        rows = data["commitments"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise ContextError("commitments must be a list of lists")
        try:
            context = ElectionContext(
                manifest_hash=data["manifest_hash"],
                number_of_guardians=n,
                quorum=k,
                joint_public_key=GroupElement.parse_hex(data["joint_public_key"]),
                commitments=tuple(tuple(GroupElement.parse_hex(c) for c in row) for row in rows),
            )
        except GroupError as exc:
            raise ContextError(f"election context: {exc}") from None
        if data["parameter_base_hash"] != context.parameter_base_hash.hex():
            raise ContextError("parameter_base_hash does not match the context")
        if data["base_hash"] != context.base_hash.hex():
            raise ContextError("base_hash does not match the context")
        return context
