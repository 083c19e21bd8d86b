"""Encrypting a plaintext ballot with its proofs (``encrypt_ballot``) and the nonce derivation a challenged
ballot's seed reveals (``selection_nonce``, used by ``election.benaloh``)."""

from __future__ import annotations

from election.ballot.model import (
    BLANK_LABEL,
    MAX_BALLOT_ID_LENGTH,
    SEED_BYTES,
    EncryptedBallot,
    EncryptedContest,
    EncryptedSelection,
    PlaintextBallot,
    contest_label,
    selection_label,
)
from election.chaum_pedersen import prove_range
from election.context import ElectionContext
from election.elgamal import Ciphertext, encrypt
from election.group import (
    GroupElement,
    Scalar,
    base_mul,
    extended,
    hash_bytes,
    hash_to_scalar,
    hasher,
    small_multiple,
    state_to_scalar,
)
from election.manifest import CandidateId, Contest, Manifest


def selection_nonce(seed: bytes, base_hash: bytes, ballot_id: str, contest_id: str, candidate_id: str) -> Scalar:
    """The ElGamal nonce of one selection (or of the blank indicator, candidate_id = '#blank')."""
    return hash_to_scalar("selection-nonce", seed, base_hash, ballot_id, contest_id, candidate_id)


def _proof_seed(seed: bytes, ballot_id: str) -> bytes:
    return hash_bytes("proof-seed", seed, ballot_id)


def encrypt_ballot(
    context: ElectionContext, manifest: Manifest, plaintext: PlaintextBallot, *, ballot_id: str, seed: bytes
) -> EncryptedBallot:
    """Encrypt a validated plaintext ballot. ``seed`` is 32 fresh random bytes from the caller, kept secret
    unless the voter challenges the ballot."""
    if len(seed) != SEED_BYTES:
        raise ValueError(f"the ballot seed must be {SEED_BYTES} bytes")
    if not ballot_id or len(ballot_id) > MAX_BALLOT_ID_LENGTH:
        raise ValueError("ballot_id must be a non-empty string of at most 128 characters")
    plaintext.validate(manifest)
    base_hash = context.base_hash
    key = context.joint_public_key
    proof_seed = _proof_seed(seed, ballot_id)
    contests = []
    for contest in manifest.contests_of_style(plaintext.style_id):
        contests.append(
            _encrypt_contest(contest, plaintext.chosen(contest.id), base_hash, key, ballot_id, seed, proof_seed)
        )
    return EncryptedBallot(
        ballot_id=ballot_id,
        style_id=plaintext.style_id,
        style_hash=manifest.style_hashes[plaintext.style_id],
        base_hash=base_hash,
        contests=tuple(contests),
    )


def _encrypt_contest(
    contest: Contest,
    chosen: frozenset[CandidateId],
    base_hash: bytes,
    key: GroupElement,
    ballot_id: str,
    seed: bytes,
    proof_seed: bytes,
) -> EncryptedContest:
    selections = []
    nonce_sum = Scalar.from_int(0)
    # selection_nonce(seed, base_hash, ballot_id, contest.id, c) from one hash state per contest
    nonce_state = hasher("selection-nonce", seed, base_hash, ballot_id, contest.id)
    for candidate in contest.selection_ids:
        vote = 1 if candidate in chosen else 0
        nonce = state_to_scalar(extended(nonce_state, candidate))
        ct = encrypt(vote, nonce, key)
        label = selection_label(ballot_id, contest.id, candidate)
        proof = prove_range(ct, nonce, vote, 0, 1, public_key=key, base_hash=base_hash, label=label, seed=proof_seed)
        selections.append(EncryptedSelection(candidate, ct, proof))
        nonce_sum = nonce_sum + nonce
    blank_vote = 0 if chosen else 1
    blank_nonce = state_to_scalar(extended(nonce_state, BLANK_LABEL))
    blank = encrypt(blank_vote, blank_nonce, key)
    blank_proof = prove_range(
        blank,
        blank_nonce,
        blank_vote,
        0,
        1,
        public_key=key,
        base_hash=base_hash,
        label=selection_label(ballot_id, contest.id, BLANK_LABEL),
        seed=proof_seed,
    )
    # The sum of the ciphertexts, computed from the nonces the encrypting side knows (the same point as
    # ``EncryptedContest.total``, for 3 multiplications instead of 2 * (selections + seats - 1) additions).
    total_nonce = nonce_sum + Scalar.from_int(contest.seats) * blank_nonce
    total_value = len(chosen) + contest.seats * blank_vote
    total = Ciphertext(base_mul(total_nonce), small_multiple(total_value) + total_nonce * key)
    limit_proof = prove_range(
        total,
        total_nonce,
        total_value,
        1,
        contest.seats,
        public_key=key,
        base_hash=base_hash,
        label=contest_label(ballot_id, contest.id),
        seed=proof_seed,
    )
    return EncryptedContest(contest.id, tuple(selections), blank, blank_proof, limit_proof)
