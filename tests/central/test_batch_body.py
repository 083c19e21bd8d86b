"""POST /v1/batches decodes the body once and validates it itself (``sync.protocol.validate_batch``) instead of
through a ``BallotBatch`` parameter: every refusal a kiosk can meet must be answered as before (status, error
code, detail), and the OpenAPI description must still say the body is a ``BallotBatch``."""

from __future__ import annotations

from typing import Any

import pytest

from devtools.kiosksim import SimKiosk
from election.canonical import canonical_json
from sync.protocol import MAX_ENCRYPTED_BALLOT_BYTES

pytestmark = pytest.mark.integration

KIOSK = "K-PC-001-1"


def _body(kiosk: SimKiosk, style: str = "BS-MA-04") -> dict[str, Any]:
    kiosk.cast(style)
    kiosk.cast(style)
    return kiosk.make_batch().model_dump(mode="json")


def _post(kiosk: SimKiosk, raw: bytes) -> tuple[int, dict[str, Any]]:
    r = kiosk.http.post("/v1/batches", content=raw, headers={"content-type": "application/json"})
    return r.status_code, r.json()


def test_an_oversize_ballot_is_refused_with_its_place_and_size(kiosks: dict[str, SimKiosk]) -> None:
    kiosk = kiosks[KIOSK]
    body = _body(kiosk)
    body["ballots"][1]["encrypted_ballot"] = {"pad": "x" * (MAX_ENCRYPTED_BALLOT_BYTES - 9)}
    assert _post(kiosk, canonical_json(body)) == (
        422,
        {
            "protocol_version": 1,
            "error": "malformed",
            "detail": f"body.ballots.1.encrypted_ballot: Value error, object is {MAX_ENCRYPTED_BALLOT_BYTES + 1} "
            f"bytes, the limit is {MAX_ENCRYPTED_BALLOT_BYTES}",
        },
    )


def test_a_ballot_that_is_not_canonical_json_is_refused(kiosks: dict[str, SimKiosk]) -> None:
    kiosk = kiosks[KIOSK]
    raw = canonical_json(_body(kiosk)).replace(b'"encrypted_ballot":{', b'"encrypted_ballot":{"nan":NaN,', 1)
    status, answer = _post(kiosk, raw)
    assert (status, answer["error"]) == (422, "malformed")
    assert answer["detail"] == "body: NaN is not a JSON number"  # refused at the edge (central.api.limits)


@pytest.mark.parametrize(
    ("change", "status", "error", "detail"),
    [
        (lambda b: b["ballots"].append(b["ballots"][0]), 422, "malformed", "body: Value error, a ballot id appears"),
        (lambda b: b.update(protocol_version=2), 400, "unsupported_version", "this office speaks sync protocol"),
        (lambda b: b.update(extra=1), 422, "malformed", "body.extra: Extra inputs are not permitted"),
        (lambda b: b["ballots"].clear(), 422, "malformed", "body: Value error, a batch links at least one ballot"),
        (lambda b: b.update(kiosk_id="K-PC-002-1"), 403, "kiosk_mismatch", ""),
        (lambda b: b.update(signature="A" * 86 + "=="), 422, "bad_signature", "kiosk signature"),
    ],
    ids=["duplicate-id", "version", "unknown-field", "no-ballots", "other-kiosk", "bad-signature"],
)
def test_refusals_are_answered_as_before(
    kiosks: dict[str, SimKiosk], change: Any, status: int, error: str, detail: str
) -> None:
    kiosk = kiosks[KIOSK]
    body = _body(kiosk)
    change(body)
    got_status, answer = _post(kiosk, canonical_json(body))
    assert (got_status, answer["error"]) == (status, error), answer
    assert answer["detail"].startswith(detail), answer


def test_a_body_that_is_not_a_json_object_is_malformed(kiosks: dict[str, SimKiosk]) -> None:
    kiosk = kiosks[KIOSK]
    for raw in (b"{not json", b"[]", b'"text"'):
        status, answer = _post(kiosk, raw)
        assert (status, answer["error"]) == (422, "malformed"), answer


def test_a_valid_batch_is_stored_and_its_retry_is_recognised(kiosks: dict[str, SimKiosk]) -> None:
    kiosk = kiosks["K-PC-002-1"]  # its chain is untouched by the refused batches above
    body = _body(kiosk, "BS-MU-01")
    first = _post(kiosk, canonical_json(body))
    assert first[0] == 200 and (first[1]["accepted"], first[1]["duplicate_batch"]) == (2, False), first
    pretty = canonical_json(body).decode().replace(",", ", ").encode()  # other bytes, same content: a retry
    again = _post(kiosk, pretty)
    assert again[0] == 200 and again[1]["duplicate_batch"] is True, again


def test_the_openapi_description_says_the_body_is_a_ballot_batch(app: Any) -> None:
    schema = app.openapi()
    body = schema["paths"]["/v1/batches"]["post"]["requestBody"]
    assert body == {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BallotBatch"}}},
        "required": True,
    }
    assert schema["components"]["schemas"]["BallotBatch"]["required"] == [
        "kiosk_id",
        "batch_id",
        "ballots",
        "provisional_codes",  # the provisional ballots the batch links (protocol v1.3)
        "chain_head",  # the kiosk-signed chain head (protocol v1.2)
        "signature",
    ]
