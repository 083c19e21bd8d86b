"""``validate_batch``: the office validates a batch and takes its canonical forms (idempotency hash, signed bytes)
from the one decoded body, serialising each opaque ballot once; the bound on an opaque ballot is checked on that
serialisation instead of in the field validator. The forms must be byte-identical to the protocol's own functions
(or a kiosk's valid signature would be refused, a retry taken for a conflict), and every ballot the field
validator refuses must still be refused, with the same location and message."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from sync.protocol import (
    MAX_ENCRYPTED_BALLOT_BYTES,
    BallotBatch,
    MalformedMessage,
    ProvisionalSubmission,
    parse_message,
    signing_bytes,
    to_wire,
    validate_batch,
)

SIG = "A" * 86 + "=="
HEAD = {
    "statement": "chain-head",
    "kiosk_id": "K-PC-001-1",
    "genesis": "ab" * 32,
    "root": "cd" * 32,
    "cast": 3,
    "challenged": 1,
    "provisional": 0,
    "signature": SIG,
}


def _ballot(n: int, payload: dict[str, Any], disposition: str = "cast") -> dict[str, Any]:
    return {
        "ballot_id": f"ballot-{n:04d}-x",
        "ballot_style_id": "BS-MA-04",
        "disposition": disposition,
        "confirmation_code": f"code{n:06d}+/=",
        "encrypted_ballot": payload,
    }


def _batch(*payloads: dict[str, Any]) -> dict[str, Any]:
    return {
        "protocol_version": 1,
        "kiosk_id": "K-PC-001-1",
        "batch_id": "0123456789abcdef" * 2,
        "ballots": [_ballot(n, p, "challenged" if n % 2 else "cast") for n, p in enumerate(payloads)],
        "provisional_codes": ["ef" * 32],
        "chain_head": HEAD,
        "signature": SIG,
    }


PAYLOADS: list[dict[str, Any]] = [
    {"contests": [{"id": "shura-MA-04", "selections": [{"alpha": "ab" * 32, "proof": [1, 2, 3]}]}]},
    {"ballot_id": "x", "z": None, "a": True, "b": False, "n": -12345678901234567890, "f": 0.5, "e": 1e-7},
    {"text": 'مسقط "quoted" \\ back\nslash \t\u0001 \u2028 😀', "": {}, "list": [[], [{}], ""]},
    {"keys sort by code point": {"b": 1, "B": 2, "a": 3, "é": 4, "ab": 5, "a b": 6}},
]


@pytest.mark.parametrize(
    "encode",
    [
        lambda d: json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
        lambda d: json.dumps(dict(reversed(list(d.items()))), indent=2),  # pretty, other key order, \u escapes
        lambda d: json.dumps({k: v for k, v in d.items() if k != "protocol_version"}),  # the default version
    ],
    ids=["canonical", "pretty-reordered-ascii", "without-version"],
)
def test_the_forms_are_the_protocols_to_the_byte(encode: Any) -> None:
    data = _batch(*PAYLOADS)
    reference = BallotBatch.model_validate(data)
    parsed = validate_batch(json.loads(encode(data)))
    assert parsed.batch == reference
    assert parsed.body == to_wire(reference)
    assert parsed.signed == signing_bytes(reference)


def test_the_forms_follow_the_content() -> None:
    data = _batch(*PAYLOADS)
    one = validate_batch(data)
    other = validate_batch({**data, "ballots": [*data["ballots"][:-1], _ballot(3, {"other": 1})]})
    assert one.signed != other.signed and one.body != other.body


def _errors(exc: ValidationError) -> list[tuple[Any, ...]]:
    return [(e["type"], e["loc"], e["msg"]) for e in exc.errors()]


def _oversize() -> dict[str, Any]:
    # canonical form: {"pad":"xx..."} is 10 bytes plus the string: one byte over the limit
    return {"pad": "x" * (MAX_ENCRYPTED_BALLOT_BYTES - 9)}


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (_oversize(), f"object is {MAX_ENCRYPTED_BALLOT_BYTES + 1} bytes, the limit is {MAX_ENCRYPTED_BALLOT_BYTES}"),
        ({"x": float("nan")}, "not canonical JSON"),
        ({"x": float("inf")}, "not canonical JSON"),
        ({"x": "\ud800"}, "not canonical JSON"),  # a lone surrogate (json.loads accepts "\\ud800"): no UTF-8
    ],
    ids=["one-byte-over", "nan", "infinity", "lone-surrogate"],
)
def test_a_ballot_the_field_validator_refuses_is_refused_the_same_way(payload: dict[str, Any], why: str) -> None:
    data = _batch(PAYLOADS[0], payload)
    with pytest.raises(ValidationError) as theirs:
        BallotBatch.model_validate(data, from_attributes=True)
    with pytest.raises(ValidationError) as ours:
        validate_batch(data)
    assert _errors(ours.value) == _errors(theirs.value)
    assert ours.value.errors()[0]["loc"] == ("ballots", 1, "encrypted_ballot")
    assert why in ours.value.errors()[0]["msg"]


def test_a_ballot_exactly_at_the_limit_is_accepted() -> None:
    payload = {"pad": "x" * (MAX_ENCRYPTED_BALLOT_BYTES - 10)}
    parsed = validate_batch(_batch(payload))
    assert parsed.signed == signing_bytes(parsed.batch)


def test_the_bound_still_holds_everywhere_else() -> None:
    """Only validate_batch skips the field validator's measurement (and measures itself): parsing a message,
    validating a model or a provisional submission still refuse an oversize ballot."""
    data = _batch(_oversize())
    with pytest.raises(MalformedMessage, match="the limit is"):
        parse_message(BallotBatch, json.dumps(data))
    with pytest.raises(ValidationError, match="the limit is"):
        BallotBatch.model_validate(data, context={"anything": "else"})
    submission = {
        "kiosk_id": "K-PC-001-1",
        "envelope_id": "f" * 32,
        "identity_envelope": "B" * 64,
        "ballot": data["ballots"][0],
        "signature": SIG,
    }
    with pytest.raises(MalformedMessage, match="the limit is"):
        parse_message(ProvisionalSubmission, submission)


def test_other_errors_and_non_objects_are_reported_as_before() -> None:
    bad = _batch(PAYLOADS[0], PAYLOADS[1])
    bad["ballots"][1]["ballot_id"] = bad["ballots"][0]["ballot_id"]
    cases: tuple[object, ...] = (
        bad, [], b"{}", {**_batch(PAYLOADS[0]), "extra": 1}, {**_batch(PAYLOADS[0]), "protocol_version": 2},
    )  # fmt: skip
    for data in cases:
        with pytest.raises(ValidationError) as theirs:
            BallotBatch.model_validate(data, from_attributes=True)
        with pytest.raises(ValidationError) as ours:
            validate_batch(data)
        assert _errors(ours.value) == _errors(theirs.value)
