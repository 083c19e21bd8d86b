from __future__ import annotations

import copy
import dataclasses

import nacl.public
import pytest

from devtools.sample_record import SeededRandom
from election.context import ContextError, ElectionContext
from election.group import ONE, base_mul
from election.keyceremony import (
    Complaint,
    GuardianRecord,
    KeyCeremonyError,
    Polynomial,
    build_context,
    decrypt_share,
    encrypt_share,
    public_share_value,
    share_is_valid,
    verify_revealed_share,
)


def test_context_binds_every_commitment(context) -> None:
    data = context.to_dict()
    assert ElectionContext.from_dict(copy.deepcopy(data)) == context
    tampered = copy.deepcopy(data)
    tampered["commitments"][2][1] = tampered["commitments"][3][1]
    with pytest.raises(ContextError):
        ElectionContext.from_dict(tampered)
    tampered = copy.deepcopy(data)
    tampered["quorum"] = 2
    with pytest.raises(ContextError):
        ElectionContext.from_dict(tampered)


def test_records_verify_and_tampered_proofs_fail(manifest, ceremony_5_3) -> None:
    records = ceremony_5_3[1]
    assert build_context(manifest.manifest_hash, 3, records) == ceremony_5_3[0]
    assert GuardianRecord.from_dict(records[0].to_dict()) == records[0]
    bad_proof = dataclasses.replace(records[1].proofs[1], response=records[1].proofs[1].response + ONE)
    forged = dataclasses.replace(records[1], proofs=(records[1].proofs[0], bad_proof, records[1].proofs[2]))
    with pytest.raises(KeyCeremonyError):
        build_context(manifest.manifest_hash, 3, [records[0], forged, *records[2:]])
    # A proof copied from another guardian does not verify (it names the guardian).
    copied = dataclasses.replace(records[1], commitments=records[0].commitments, proofs=records[0].proofs)
    with pytest.raises(KeyCeremonyError):
        build_context(manifest.manifest_hash, 3, [records[0], copied, *records[2:]])
    with pytest.raises(KeyCeremonyError):
        build_context(manifest.manifest_hash, 3, records[:4])  # quorum is fine, but record for another n


def test_shares_are_verified_against_commitments_and_complaints_resolve() -> None:
    rnd = SeededRandom(9)
    poly = Polynomial.random(3, rnd)
    commitments = poly.commitments()
    sender, recipient = rnd(32), rnd(32)
    sender_pub = bytes(nacl.public.PrivateKey(sender).public_key)
    recipient_pub = bytes(nacl.public.PrivateKey(recipient).public_key)
    share = encrypt_share(
        poly.evaluate(4),
        sender=1,
        recipient=4,
        sender_box_key=sender,
        recipient_box_public=recipient_pub,
        nonce=rnd(24),
    )
    value = decrypt_share(share, recipient_box_key=recipient, sender_box_public=sender_pub)
    assert share_is_valid(value, 4, commitments)
    assert base_mul(value) == public_share_value(commitments, 4)
    assert not share_is_valid(value + ONE, 4, commitments)
    assert not share_is_valid(value, 5, commitments)
    with pytest.raises(KeyCeremonyError):  # someone else cannot read it
        decrypt_share(share, recipient_box_key=rnd(32), sender_box_public=sender_pub)
    with pytest.raises(KeyCeremonyError):  # readdressed
        decrypt_share(
            dataclasses.replace(share, recipient=5), recipient_box_key=recipient, sender_box_public=sender_pub
        )
    record = GuardianRecord(1, "G1", commitments, (), sender_pub)
    complaint = Complaint(sender=1, recipient=4, reason="share does not match commitments")
    assert complaint.to_dict()["sender"] == 1
    verify_revealed_share(value, 4, record)
    with pytest.raises(KeyCeremonyError):
        verify_revealed_share(value + ONE, 4, record)
