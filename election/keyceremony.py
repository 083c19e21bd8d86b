"""The guardians' key ceremony (ElectionGuard 2.1, section 3.2), as pure functions over values.

Guardian i (1-based) draws a random polynomial P_i of degree k-1, publishes Feldman commitments
K_{i,j} = a_{i,j}*G with Schnorr proofs, and sends P_i(l) to every other guardian l encrypted with a NaCl Box
(X25519 + XSalsa20-Poly1305, authenticated by both guardians' X25519 keys). Guardian l checks
P_i(l)*G = sum_j l^j * K_{i,j}; if it fails, l publishes a complaint and i must reveal the share in the clear,
which everyone checks against the same equation (``verify_revealed_share``). The joint key is K = sum_i K_{i,0}.
Randomness (polynomial coefficients, Box nonces, proof seeds) is passed in as bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import nacl.exceptions
import nacl.public

from election.chaum_pedersen import ProofError
from election.context import ElectionContext, parameter_base_hash
from election.group import ONE, ZERO, GroupElement, GroupError, Scalar, base_mul
from election.schnorr import SchnorrProof, prove_knowledge, verify_knowledge

RandomBytes = Callable[[int], bytes]


class KeyCeremonyError(ValueError):
    """A guardian record, share or complaint is malformed or does not verify."""


@dataclass(frozen=True)
class Polynomial:
    coefficients: tuple[Scalar, ...]

    @staticmethod
    def random(quorum: int, random_bytes: RandomBytes) -> Polynomial:
        coefficients = tuple(Scalar.from_uniform_bytes(random_bytes(64)) for _ in range(quorum))
        if coefficients[0].is_zero():  # pragma: no cover - probability 2^-252
            raise KeyCeremonyError("degenerate secret")
        return Polynomial(coefficients)

    def evaluate(self, x: int) -> Scalar:
        sx = Scalar.from_int(x)
        acc = ZERO
        for a in reversed(self.coefficients):
            acc = acc * sx + a
        return acc

    def commitments(self) -> tuple[GroupElement, ...]:
        return tuple(base_mul(a) for a in self.coefficients)


def public_share_value(commitments: Sequence[GroupElement], x: int) -> GroupElement:
    """sum_j x^j * K_j: the public counterpart of P(x)."""
    sx = Scalar.from_int(x)
    power = ONE
    acc = commitments[0]
    for commitment in commitments[1:]:
        power = power * sx
        acc = acc + power * commitment
    return acc


def _coefficient_label(sequence: int, j: int) -> str:
    return f"guardian-{sequence}/coefficient-{j}"


@dataclass(frozen=True)
class GuardianRecord:
    """What a guardian publishes: commitments with proofs and its X25519 key for receiving shares."""

    sequence: int
    name: str
    commitments: tuple[GroupElement, ...]
    proofs: tuple[SchnorrProof, ...]
    box_public_key: bytes

    @property
    def public_key(self) -> GroupElement:
        return self.commitments[0]

    def verify(self, base_hash: bytes, quorum: int) -> None:
        """Check k commitments, each with a valid proof of knowledge (bound to H_B and this guardian)."""
        if len(self.commitments) != quorum or len(self.proofs) != quorum:
            raise KeyCeremonyError(f"guardian {self.sequence}: expected {quorum} commitments and proofs")
        for j, (commitment, proof) in enumerate(zip(self.commitments, self.proofs, strict=True)):
            try:
                verify_knowledge(proof, commitment, base_hash=base_hash, label=_coefficient_label(self.sequence, j))
            except ProofError as exc:
                raise KeyCeremonyError(f"guardian {self.sequence}: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        return {
            "sequence": self.sequence,
            "name": self.name,
            "commitments": [c.hex() for c in self.commitments],
            "proofs": [p.to_dict() for p in self.proofs],
            "box_public_key": self.box_public_key.hex(),
        }

    @staticmethod
    def from_dict(data: Any) -> GuardianRecord:
        keys = {"sequence", "name", "commitments", "proofs", "box_public_key"}
        if not isinstance(data, dict) or set(data) != keys:
            raise KeyCeremonyError(f"a guardian record is an object with exactly {sorted(keys)}")
        if type(data["sequence"]) is not int or data["sequence"] < 1 or not isinstance(data["name"], str):
            raise KeyCeremonyError("guardian record: bad sequence or name")
        try:
            box_key = bytes.fromhex(data["box_public_key"])
            if len(box_key) != 32:
                raise KeyCeremonyError("guardian record: box_public_key must be 32 bytes")
            return GuardianRecord(
                sequence=data["sequence"],
                name=data["name"],
                commitments=tuple(GroupElement.parse_hex(c) for c in data["commitments"]),
                proofs=tuple(SchnorrProof.from_dict(p) for p in data["proofs"]),
                box_public_key=box_key,
            )
        except (GroupError, ProofError, TypeError, ValueError) as exc:
            raise KeyCeremonyError(f"guardian record: {exc}") from None


def make_guardian_record(
    sequence: int, name: str, polynomial: Polynomial, box_public_key: bytes, *, base_hash: bytes, seed: bytes
) -> GuardianRecord:
    commitments = polynomial.commitments()
    proofs = tuple(
        prove_knowledge(a, k, base_hash=base_hash, label=_coefficient_label(sequence, j), seed=seed)
        for j, (a, k) in enumerate(zip(polynomial.coefficients, commitments, strict=True))
    )
    return GuardianRecord(sequence, name, commitments, proofs, box_public_key)


# ---- shares -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EncryptedShare:
    sender: int
    recipient: int
    ciphertext: bytes

    def to_dict(self) -> dict[str, Any]:
        return {"sender": self.sender, "recipient": self.recipient, "ciphertext": self.ciphertext.hex()}

    @staticmethod
    def from_dict(data: Any) -> EncryptedShare:
        if not isinstance(data, dict) or set(data) != {"sender", "recipient", "ciphertext"}:
            raise KeyCeremonyError("an encrypted share is an object with exactly 'sender', 'recipient', 'ciphertext'")
        try:
            return EncryptedShare(int(data["sender"]), int(data["recipient"]), bytes.fromhex(data["ciphertext"]))
        except (TypeError, ValueError) as exc:
            raise KeyCeremonyError(f"encrypted share: {exc}") from None


def encrypt_share(
    value: Scalar, *, sender: int, recipient: int, sender_box_key: bytes, recipient_box_public: bytes, nonce: bytes
) -> EncryptedShare:
    box = nacl.public.Box(nacl.public.PrivateKey(sender_box_key), nacl.public.PublicKey(recipient_box_public))
    header = f"{sender}->{recipient}:".encode()
    return EncryptedShare(sender, recipient, bytes(box.encrypt(header + value.data, nonce)))


def decrypt_share(share: EncryptedShare, *, recipient_box_key: bytes, sender_box_public: bytes) -> Scalar:
    box = nacl.public.Box(nacl.public.PrivateKey(recipient_box_key), nacl.public.PublicKey(sender_box_public))
    try:
        plain = box.decrypt(share.ciphertext)
    except nacl.exceptions.CryptoError:
        raise KeyCeremonyError(f"share {share.sender}->{share.recipient} cannot be decrypted") from None
    header = f"{share.sender}->{share.recipient}:".encode()
    if not plain.startswith(header):
        raise KeyCeremonyError(f"share {share.sender}->{share.recipient} is addressed differently")
    try:
        return Scalar.parse(plain[len(header) :])
    except GroupError as exc:
        raise KeyCeremonyError(f"share {share.sender}->{share.recipient}: {exc}") from None


def share_is_valid(value: Scalar, recipient: int, commitments: Sequence[GroupElement]) -> bool:
    """Feldman check: P_i(l)*G == sum_j l^j K_{i,j}."""
    return base_mul(value) == public_share_value(commitments, recipient)


@dataclass(frozen=True)
class Complaint:
    """Guardian ``recipient`` says the share from ``sender`` does not match the sender's commitments."""

    sender: int
    recipient: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"sender": self.sender, "recipient": self.recipient, "reason": self.reason}


def verify_revealed_share(value: Scalar, recipient: int, sender: GuardianRecord) -> None:
    """Resolve a complaint: the sender revealed P_i(l); raise if it is wrong (the sender is then disqualified)."""
    if not share_is_valid(value, recipient, sender.commitments):
        raise KeyCeremonyError(f"guardian {sender.sequence}'s revealed share for {recipient} is wrong")


def build_context(manifest_hash: str, quorum: int, records: Sequence[GuardianRecord]) -> ElectionContext:
    """Verify every guardian's record and build the context with the joint public key."""
    n = len(records)
    ordered = sorted(records, key=lambda r: r.sequence)
    if [r.sequence for r in ordered] != list(range(1, n + 1)):
        raise KeyCeremonyError("guardian sequence numbers must be exactly 1..n")
    base_hash = parameter_base_hash(manifest_hash, n, quorum)
    for record in ordered:
        record.verify(base_hash, quorum)
    joint = ordered[0].public_key
    for record in ordered[1:]:
        joint = joint + record.public_key
    if joint.is_identity():  # pragma: no cover - needs colluding guardians
        raise KeyCeremonyError("the joint public key is the identity")
    return ElectionContext(manifest_hash, n, quorum, joint, tuple(r.commitments for r in ordered))


def lagrange_coefficient(sequence: int, others: Sequence[int]) -> Scalar:
    """w_l = prod_{m != l} m / (m - l) over the set of guardians taking part (section 3.6.4)."""
    numerator, denominator = ONE, ONE
    for m in others:
        if m == sequence:
            continue
        numerator = numerator * Scalar.from_int(m)
        denominator = denominator * Scalar.from_int(m - sequence)
    return numerator * denominator.inverse()
