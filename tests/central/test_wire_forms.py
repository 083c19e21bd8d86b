"""The ingest path takes a batch's canonical forms (idempotency hash, signed bytes) from the decoded body instead
of dumping the validated model twice; they must be byte-identical to the protocol's own functions, or a kiosk's
valid signature would be refused (or a retry taken for a conflict)."""

from __future__ import annotations

import json

from central.ingest import wire_forms
from sync.protocol import BallotBatch, signing_bytes, to_wire
from tests.central.kiosksim import Election, SimKiosk


def test_canonical_forms_from_the_decoded_body_equal_the_protocols(election: Election) -> None:
    kiosk = SimKiosk(election, "K-PC-001-1", app=None)
    kiosk.cast("BS-MA-04")
    kiosk.challenge("BS-MU-01")  # a challenged ballot carries its seed: another payload shape
    kiosk.cast("BS-MU-02")
    batch = kiosk.make_batch()
    dumped = batch.model_dump(mode="json")
    without_version = {k: v for k, v in dumped.items() if k != "protocol_version"}
    # As the kiosk sends it, pretty-printed in another key order, and without the (default) version field.
    for body in (
        json.dumps(dumped, sort_keys=True, separators=(",", ":")),
        json.dumps(dict(reversed(list(dumped.items()))), indent=2),
        json.dumps(without_version, ensure_ascii=True),
    ):
        data = json.loads(body)
        assert BallotBatch.model_validate(data) == batch
        forms = wire_forms(data)
        assert forms.body == to_wire(batch)
        assert forms.signed == signing_bytes(batch)
    # A signature over other bytes would not match: the forms follow the content.
    other = wire_forms({**dumped, "batch_id": "0" * 32})
    assert other.signed != signing_bytes(batch) and other.body != to_wire(batch)
