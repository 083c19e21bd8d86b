from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from election.chaum_pedersen import (
    ProofError,
    RangeProof,
    prove_decryption,
    prove_range,
    verify_decryption,
    verify_range,
)
from election.elgamal import encrypt
from election.group import ONE, G, Scalar, base_mul
from election.schnorr import SchnorrProof, prove_knowledge, verify_knowledge
from tests.election.strategies import nonzero_scalars, seeds

H = b"\x11" * 32


@st.composite
def ranges(draw):
    lo = draw(st.integers(0, 3))
    hi = draw(st.integers(lo, lo + 3))
    value = draw(st.integers(lo, hi))
    return lo, hi, value


@given(nonzero_scalars, nonzero_scalars, ranges(), seeds, st.data())
@settings(max_examples=25, deadline=None)
def test_range_proof_verifies_and_any_tampering_fails(secret, nonce, bounds, seed, data) -> None:
    lo, hi, value = bounds
    key = base_mul(secret)
    ct = encrypt(value, nonce, key)
    proof = prove_range(ct, nonce, value, lo, hi, public_key=key, base_hash=H, label="t", seed=seed)
    verify_range(proof, ct, lo, hi, public_key=key, base_hash=H, label="t")

    index = data.draw(st.integers(0, hi - lo))
    which = data.draw(st.sampled_from(["c", "v"]))
    challenges, responses = list(proof.challenges), list(proof.responses)
    target = challenges if which == "c" else responses
    target[index] = target[index] + ONE
    with pytest.raises(ProofError):
        verify_range(
            RangeProof(lo, tuple(challenges), tuple(responses)), ct, lo, hi, public_key=key, base_hash=H, label="t"
        )
    tampered_ct = dataclasses.replace(ct, beta=ct.beta + G)
    with pytest.raises(ProofError):
        verify_range(proof, tampered_ct, lo, hi, public_key=key, base_hash=H, label="t")
    with pytest.raises(ProofError):
        verify_range(proof, ct, lo, hi, public_key=key, base_hash=H, label="other ballot")
    with pytest.raises(ProofError):
        verify_range(proof, ct, lo, hi, public_key=key, base_hash=b"\x22" * 32, label="t")


@given(nonzero_scalars, nonzero_scalars, seeds)
@settings(max_examples=10, deadline=None)
def test_a_value_outside_the_range_cannot_be_proven(secret, nonce, seed) -> None:
    key = base_mul(secret)
    ct = encrypt(2, nonce, key)
    with pytest.raises(ProofError):
        prove_range(ct, nonce, 2, 0, 1, public_key=key, base_hash=H, label="t", seed=seed)
    # A dishonest prover who claims 1 for an encryption of 2 produces a proof that does not verify.
    forged = prove_range(encrypt(1, nonce, key), nonce, 1, 0, 1, public_key=key, base_hash=H, label="t", seed=seed)
    with pytest.raises(ProofError):
        verify_range(forged, ct, 0, 1, public_key=key, base_hash=H, label="t")


@given(nonzero_scalars, nonzero_scalars, seeds)
@settings(max_examples=15, deadline=None)
def test_decryption_proof(secret, r, seed) -> None:
    key = base_mul(secret)
    a = base_mul(r)
    m = secret * a
    proof = prove_decryption(secret, key, a, m, base_hash=H, label="d", seed=seed)
    verify_decryption(proof, key, a, m, base_hash=H, label="d")
    with pytest.raises(ProofError):
        verify_decryption(proof, key, a, m + G, base_hash=H, label="d")
    with pytest.raises(ProofError):
        verify_decryption(dataclasses.replace(proof, response=proof.response + ONE), key, a, m, base_hash=H, label="d")


@given(nonzero_scalars, seeds)
@settings(max_examples=15, deadline=None)
def test_schnorr_proof(secret, seed) -> None:
    public = base_mul(secret)
    proof = prove_knowledge(secret, public, base_hash=H, label="k", seed=seed)
    verify_knowledge(proof, public, base_hash=H, label="k")
    assert SchnorrProof.from_dict(proof.to_dict()) == proof
    with pytest.raises(ProofError):
        verify_knowledge(proof, public + G, base_hash=H, label="k")
    with pytest.raises(ProofError):
        verify_knowledge(dataclasses.replace(proof, challenge=proof.challenge + ONE), public, base_hash=H, label="k")


def test_range_proof_parsing_is_strict() -> None:
    good: dict[str, object] = {"lo": 0, "hi": 1, "c": ["00" * 32] * 2, "v": ["00" * 32] * 2}
    assert RangeProof.from_dict(good).hi == 1
    bad: object
    for bad in (
        {**good, "hi": 2},
        {**good, "lo": True},
        {**good, "extra": 1},
        {**good, "c": ["00" * 32]},
        {**good, "v": ["ff" * 32] * 2},
        [],
    ):
        with pytest.raises(ProofError):
            RangeProof.from_dict(bad)
    assert Scalar.from_int(0).is_zero()
