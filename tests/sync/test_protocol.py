"""The wire protocol's strict parsing, its secrecy-relevant shapes and the generated JSON Schema."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from pathlib import Path

import pytest

from election.chain_statement import ChainStatement, StatementKind
from election.confirmation import batch_root
from sync.protocol import (
    ALL_MODELS,
    MAX_BATCH_BALLOTS,
    BallotBatch,
    BallotDisposition,
    BatchBallot,
    CheckinRequest,
    CheckinResponse,
    CheckinStatus,
    ErrorCode,
    Heartbeat,
    MalformedMessage,
    UnsupportedVersion,
    VotedMark,
    json_schema,
    parse_message,
    signed_head,
    signing_bytes,
    to_wire,
)
from sync.signing import BadSignature, verify
from tests.ballot_box.kit import GENESIS, new_signer, next_ballot

ROOT = Path(__file__).resolve().parents[2]


def checkin_dict() -> dict[str, object]:
    return {
        "protocol_version": 1,
        "kiosk_id": "K-001",
        "centre_id": "C-01",
        "civil_number": "12345678",
        "idempotency_key": secrets.token_hex(16),
    }


def test_a_valid_checkin_round_trips() -> None:
    raw = json.dumps(checkin_dict()).encode()
    request = parse_message(CheckinRequest, raw)
    assert parse_message(CheckinRequest, to_wire(request)) == request


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"extra": 1}, "extra"),
        ({"civil_number": "12ab"}, "civil_number"),
        ({"kiosk_id": "x" * 65}, "kiosk_id"),
        ({"idempotency_key": "not-hex"}, "idempotency_key"),
        ({"centre_id": None}, "centre_id"),
    ],
)
def test_bad_fields_give_one_typed_error_naming_the_field(change: dict[str, object], where: str) -> None:
    with pytest.raises(MalformedMessage, match=where) as info:
        parse_message(CheckinRequest, json.dumps(checkin_dict() | change))
    assert info.value.code is ErrorCode.MALFORMED


def test_another_protocol_version_is_refused_as_such() -> None:
    with pytest.raises(UnsupportedVersion) as info:
        parse_message(CheckinRequest, json.dumps(checkin_dict() | {"protocol_version": 2}))
    assert info.value.code is ErrorCode.UNSUPPORTED_VERSION


def test_not_json_and_not_an_object_are_malformed() -> None:
    with pytest.raises(MalformedMessage, match="not JSON"):
        parse_message(CheckinRequest, b"{")
    with pytest.raises(MalformedMessage, match="expected a JSON object"):
        parse_message(CheckinRequest, b"[]")


def test_only_an_eligible_answer_carries_a_lock() -> None:
    with pytest.raises(MalformedMessage):
        parse_message(CheckinResponse, {"status": "eligible"})
    with pytest.raises(MalformedMessage):
        parse_message(CheckinResponse, {"status": "already_voted", "checkin_token": "t" * 30})
    ok = CheckinResponse(
        status=CheckinStatus.ELIGIBLE,
        ballot_style_id="s",
        checkin_token="t" * 30,
        lock_expires_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    assert parse_message(CheckinResponse, to_wire(ok)) == ok


def test_times_without_an_offset_are_refused() -> None:
    with pytest.raises(MalformedMessage, match="UTC offset"):
        parse_message(
            CheckinResponse,
            {
                "status": "eligible",
                "ballot_style_id": "s",
                "checkin_token": "t" * 30,
                "lock_expires_at": "2026-01-01T10:00:00",
            },
        )


def test_a_voted_mark_cannot_carry_a_ballot_id() -> None:
    assert set(VotedMark.model_fields) == {"protocol_version", "kiosk_id"}
    with pytest.raises(MalformedMessage, match="ballot_id"):
        parse_message(VotedMark, {"kiosk_id": "K-001", "ballot_id": "b" * 32})


def test_voter_messages_and_ballot_messages_share_no_identifying_field() -> None:
    voter_side = set(CheckinRequest.model_fields) | set(CheckinResponse.model_fields) | set(VotedMark.model_fields)
    ballot_side = set(BatchBallot.model_fields) | set(BallotBatch.model_fields)
    # The style (= the voter's wilayat) is on both sides by necessity; it identifies thousands of voters.
    assert voter_side & ballot_side == {"protocol_version", "kiosk_id", "ballot_style_id"}


def make_batch(n: int) -> tuple[BallotBatch, object]:
    signer = new_signer()
    ballots = [next_ballot().as_wire(BallotDisposition.CAST) for _ in range(n)]
    root = batch_root(bytes.fromhex(GENESIS), "K-001", [bytes.fromhex(b.confirmation_code) for b in ballots])
    statement = ChainStatement(StatementKind.HEAD, "K-001", GENESIS, root.hex(), n, 0, 0)
    head = signed_head(statement, signer.sign(statement.signing_bytes()))
    unsigned = BallotBatch.model_construct(
        kiosk_id="K-001",
        batch_id=secrets.token_hex(16),
        ballots=ballots,
        provisional_codes=[],
        chain_head=head,
        signature="",
    )
    batch = BallotBatch(
        kiosk_id="K-001",
        batch_id=unsigned.batch_id,
        ballots=ballots,
        provisional_codes=[],
        chain_head=head,
        signature=signer.sign(signing_bytes(unsigned)),
    )
    return batch, signer


def test_a_batch_orders_nothing_its_provisional_codes_are_sorted_and_no_code_repeats() -> None:
    batch, _ = make_batch(2)
    data = json.loads(to_wire(batch))
    assert "previous_code" not in data["ballots"][0]  # nothing in a batch chains one ballot to another
    for codes in (["ff" * 32, "00" * 32], ["aa" * 32, "aa" * 32], [data["ballots"][0]["confirmation_code"]]):
        with pytest.raises(MalformedMessage):
            parse_message(BallotBatch, {**data, "provisional_codes": codes})
    with pytest.raises(MalformedMessage, match="at least one"):
        parse_message(BallotBatch, {**data, "ballots": [], "provisional_codes": []})
    assert parse_message(BallotBatch, {**data, "ballots": [], "provisional_codes": ["aa" * 32]}).ballots == []


def test_batch_signature_covers_every_ballot() -> None:
    batch, signer = make_batch(3)
    verify(signer.public_key(), signing_bytes(batch), batch.signature)  # type: ignore[attr-defined]
    tampered = batch.model_copy(update={"ballots": list(reversed(batch.ballots))})
    with pytest.raises(BadSignature):
        verify(signer.public_key(), signing_bytes(tampered), batch.signature)  # type: ignore[attr-defined]


def test_batches_are_bounded_and_ballots_unique() -> None:
    batch, _ = make_batch(2)
    data = json.loads(to_wire(batch))
    data["ballots"] = [data["ballots"][0]] * 2
    with pytest.raises(MalformedMessage, match="twice"):
        parse_message(BallotBatch, data)
    data["ballots"] = [data["ballots"][0]] * (MAX_BATCH_BALLOTS + 1)
    with pytest.raises(MalformedMessage, match="ballots"):
        parse_message(BallotBatch, data)
    data["ballots"] = []  # and no provisional link either
    with pytest.raises(MalformedMessage, match="at least one ballot"):
        parse_message(BallotBatch, data)


def test_an_oversized_encrypted_ballot_is_refused() -> None:
    batch, _ = make_batch(1)
    data = json.loads(to_wire(batch))
    data["ballots"][0]["encrypted_ballot"]["data"] = ["x" * 16000] * 20
    with pytest.raises(MalformedMessage, match="limit"):
        parse_message(BallotBatch, data)


def test_heartbeat_rejects_negative_backlog() -> None:
    beat = {
        "kiosk_id": "K-001",
        "centre_id": "C-01",
        "polls_state": "open",
        "kiosk_clock": "2026-01-01T10:00:00+04:00",
        "software_version": "1",
        "package_hash": "0" * 64,
        "backlog": {"unbatched_ballots": -1, "outbox_items": 0, "pending_voted_marks": 0, "pending_releases": 0},
        "audit_count": 0,
    }
    with pytest.raises(MalformedMessage, match="unbatched_ballots"):
        parse_message(Heartbeat, beat)


def test_the_committed_json_schema_is_the_generated_one() -> None:
    committed = json.loads((ROOT / "docs/sync-protocol.schema.json").read_text(encoding="utf-8"))
    assert committed == json.loads(json.dumps(json_schema())), "run: python -m sync.protocol schema"
    assert set(committed["$defs"]) >= {m.__name__ for m in ALL_MODELS}
    assert committed["x-endpoints"]["voted"]["path"] == "/v1/checkins/{token}/voted"


def test_the_schema_agrees_with_the_parser() -> None:
    import jsonschema

    schema = json_schema()
    checker = jsonschema.Draft202012Validator({**schema, "$ref": "#/$defs/CheckinRequest"})
    assert checker.is_valid(checkin_dict())
    assert not checker.is_valid(checkin_dict() | {"extra": 1})
    assert not checker.is_valid(checkin_dict() | {"civil_number": "abc"})
