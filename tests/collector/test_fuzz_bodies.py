"""Fuzzing the collector's routes through real HTTPS: any JSON body (or none, or bytes that are not JSON) to any
route is answered with a typed 4xx refusal, never a 500, a hang or a stored row."""

from __future__ import annotations

import string
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from collector.models import CredentialRow, SubmissionRow
from tests.collector.conftest import Served

pytestmark = pytest.mark.integration

ROUTES = ["/r1/challenge", "/r1/credentials", "/r1/ballots", "/r1/my-votes"]
KEYS = ["challenge_id", "credential", "certificate", "signature", "ecdsa_format", "submission_id", "sequence",
        "ballot", "civil_number"]  # fmt: skip
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=80)
)
hexes = st.text(alphabet="0123456789abcdef", min_size=0, max_size=130)
values = st.recursive(
    scalars | hexes,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
bodies = st.dictionaries(st.sampled_from(KEYS) | st.text(string.ascii_lowercase, max_size=6), values, max_size=7)


def rows(served: Served) -> tuple[int, int]:
    with served.collector.db.transaction() as s:
        return (
            int(s.scalar(select(func.count()).select_from(CredentialRow)) or 0),
            int(s.scalar(select(func.count()).select_from(SubmissionRow)) or 0),
        )


def test_any_body_to_any_route_is_a_typed_refusal(served: Served) -> None:
    client = served.client()
    office = served.office()

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(route=st.sampled_from([*ROUTES, "/internal/v1/void", "/internal/v1/status"]), body=bodies | values)
    def probe(route: str, body: Any) -> None:
        http = office if route.startswith("/internal") else client
        r = http.post(route, json=body)
        if route == "/r1/challenge" and body == {}:
            assert r.status_code == 200
            return
        if (
            route.startswith("/internal")
            and isinstance(body, dict)
            and set(body) == {"civil_number"}
            and r.status_code == 200
        ):
            return  # a well-formed civil number
        assert 400 <= r.status_code < 500, (route, body, r.status_code, r.text)
        assert set(r.json()) == {"error", "detail"}

    probe()
    assert rows(served) == (0, 0)
    for raw in (b"\x00", b"{", b'{"a":1e400}', b"\xc3\x28", b"null", b'"x"', b"{}" * 3):
        r = client.post("/r1/ballots", content=raw, headers={"content-type": "application/json"})
        assert r.status_code == 422 and r.json()["error"] == "bad_request", raw
