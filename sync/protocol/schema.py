"""The endpoint table (``ENDPOINTS``: method, path, request and response model of each call) and the JSON Schema
of every message, written by ``python -m sync.protocol schema`` to docs/sync-protocol.schema.json."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from pydantic.json_schema import models_json_schema

from sync.protocol.fields import PROTOCOL_VERSION, _Message, _Model
from sync.protocol.kiosk_messages import (
    AuditSegment,
    BallotBatch,
    ChainCloseSubmission,
    CheckinRelease,
    CheckinRequest,
    Heartbeat,
    IdentityEnvelopeContent,
    ProvisionalSubmission,
    VotedMark,
)
from sync.protocol.office_answers import (
    AuditSegmentAck,
    BatchReceipt,
    ChainCloseAck,
    CheckinResponse,
    ErrorBody,
    HeartbeatAck,
    ProvisionalAck,
    ReleaseAck,
    VotedMarkAck,
)


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    request: type[_Message]
    response: type[_Message]


ENDPOINTS: Final[Mapping[str, Endpoint]] = {
    "checkin": Endpoint("POST", "/v1/checkins", CheckinRequest, CheckinResponse),
    "voted": Endpoint("POST", "/v1/checkins/{token}/voted", VotedMark, VotedMarkAck),
    "release": Endpoint("POST", "/v1/checkins/{token}/release", CheckinRelease, ReleaseAck),
    "batch": Endpoint("POST", "/v1/batches", BallotBatch, BatchReceipt),
    "provisional": Endpoint("POST", "/v1/provisional", ProvisionalSubmission, ProvisionalAck),
    "audit_segment": Endpoint("POST", "/v1/audit-segments", AuditSegment, AuditSegmentAck),
    "chain_close": Endpoint("POST", "/v1/chain-close", ChainCloseSubmission, ChainCloseAck),
    "heartbeat": Endpoint("POST", "/v1/heartbeat", Heartbeat, HeartbeatAck),
}

ALL_MODELS: Final[tuple[type[_Model], ...]] = (
    CheckinRequest,
    CheckinResponse,
    VotedMark,
    VotedMarkAck,
    CheckinRelease,
    ReleaseAck,
    BallotBatch,
    BatchReceipt,
    IdentityEnvelopeContent,
    ProvisionalSubmission,
    ProvisionalAck,
    AuditSegment,
    AuditSegmentAck,
    ChainCloseSubmission,
    ChainCloseAck,
    Heartbeat,
    HeartbeatAck,
    ErrorBody,
)


def json_schema() -> dict[str, Any]:
    """One JSON Schema document with every message under ``$defs`` and the endpoint table."""
    _, schema = models_json_schema(
        [(m, "validation") for m in ALL_MODELS],
        title=f"Sanduq kiosk <-> central office sync protocol v{PROTOCOL_VERSION}",
    )
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["x-endpoints"] = {
        name: {"method": e.method, "path": e.path, "request": e.request.__name__, "response": e.response.__name__}
        for name, e in ENDPOINTS.items()
    }
    return schema


def main(argv: list[str]) -> int:
    if len(argv) >= 1 and argv[0] == "schema":
        out = Path(argv[2]) if len(argv) == 3 and argv[1] == "--out" else Path("docs/sync-protocol.schema.json")
        out.write_text(json.dumps(json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {out}")
        return 0
    print("usage: python -m sync.protocol schema [--out PATH]", file=sys.stderr)
    return 2
