"""The real transport: uvicorn with mutual TLS hands the kiosk certificate to the app (central.tls); and the
OpenAPI description fuzzed with schemathesis (in-process ASGI) never produces a server error."""

from __future__ import annotations

import os
import ssl
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from tests.central.https import https_office

pytestmark = pytest.mark.integration


def test_kiosk_identity_comes_from_the_tls_client_certificate(app, election, kiosks) -> None:
    pki = election.pki
    ca = ssl.create_default_context(cafile=str(pki.central_server.cert_path.parent / "ca.pem"))
    kiosk = pki.kiosks["K-PC-003-1"]
    ca_with_cert = ssl.create_default_context(cafile=str(pki.central_server.cert_path.parent / "ca.pem"))
    ca_with_cert.load_cert_chain(str(kiosk.cert_path), str(kiosk.key_path))
    body = {"kiosk_id": "K-PC-003-1", "centre_id": "PC-003", "civil_number": "55555555", "idempotency_key": "0" * 32}
    with https_office(app, election) as office:
        base = office.base
        with httpx.Client(verify=ca_with_cert) as c:
            r = c.post(base + "/v1/checkins", json=body)
            assert r.status_code == 200 and r.json()["status"] == "not_on_roll"
            # The body cannot claim to be another kiosk.
            r = c.post(base + "/v1/checkins", json={**body, "kiosk_id": "K-PC-002-1", "centre_id": "PC-002"})
            assert r.status_code == 403 and r.json()["error"] == "kiosk_mismatch"
        with httpx.Client(verify=ca) as c:  # no client certificate: the dashboard is public, the protocol is not
            assert c.get(base + "/en").status_code == 200
            r = c.post(base + "/v1/checkins", json=body)
            assert r.status_code == 401 and r.json()["error"] == "unknown_kiosk"


EXAMPLES = int(os.environ.get("SANDUQ_FUZZ_EXAMPLES", "8"))
"""Generated requests per operation and credential (``make fuzz`` runs many more)."""


def test_openapi_fuzzing_with_credentials_reaches_every_operation_without_a_server_error(app, election, kiosks) -> None:
    """Every operation of /openapi.json, in-process over ASGI, with a kiosk's TLS client certificate in the scope
    (where central.tls puts it) and real staff tokens (an administrator's, then a committee member's, from card
    logins): so that the generated requests reach the handlers instead of stopping at 401. No answer is a 5xx,
    and every operation answered something other than 401 at least once."""

    from central.tls import _WithTls
    from devtools.kiosksim import client_for
    from tests.central.staffsim import login

    pair = election.pki.kiosks["K-PC-001-1"]
    pem = pair.cert_path.read_text()
    kiosk_app = _WithTls(app, {"client_cert_chain": [pem], "tls_version": "TLSv1.3", "cipher_suite": None})
    with client_for(app, None) as http:
        credentials = [login(http, election.pki, "staff-admin-1"), login(http, election.pki, "staff-cm-1")]
    schema = schemathesis.openapi.from_asgi("/openapi.json", kiosk_app)
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) > 25
    operations.sort(key=lambda op: op.label.endswith("/staff/logout"))  # logout ends the session: fuzzed last
    statuses: dict[str, set[int]] = {}
    for operation in operations:
        for headers in credentials:
            _fuzz_operation(operation, headers, statuses)
    only_401 = sorted(label for label, seen in statuses.items() if seen <= {401})
    assert not only_401, f"operations that never got past authentication: {only_401}"


def _fuzz_operation(operation: Any, headers: dict[str, str], statuses: dict[str, set[int]]) -> None:
    from hypothesis import given

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def fuzz(case: Any) -> None:
        generated = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        response = case.call(headers={**generated, **headers})
        statuses.setdefault(operation.label, set()).add(response.status_code)
        case.validate_response(response, checks=[not_a_server_error])

    fuzz()


def test_dashboard_pages_outside_the_schema_answer_no_server_error(app) -> None:
    """The dashboard's routes are not in the OpenAPI description (HTML pages): fuzzed here by hand."""
    from hypothesis import given
    from hypothesis import strategies as st

    from devtools.kiosksim import client_for

    text = st.text(st.characters(codec="utf-8"), max_size=40)
    with client_for(app, None) as http:

        @given(lang=text, code=text)
        @settings(max_examples=EXAMPLES * 10, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(lang: str, code: str) -> None:
            segment = quote(lang, safe="")
            for path, params in (
                (f"/{segment}/confirm", {"code": code}),
                (f"/{segment}", {}),
                ("/en/confirm", {"code": code}),
            ):
                r = http.get(path.replace("?", "%3F").replace("#", "%23"), params=params)
                assert r.status_code < 500, (path, params, r.status_code, r.text[:200])

        fuzz()


def test_stateful_fuzzing_follows_the_links_between_operations_without_a_server_error(app, election, kiosks) -> None:
    """Sequences of calls that feed one answer into the next request (a check-in's token into its voted mark and
    release, a challenge's nonce into a login, a sheet's id into its approval...), as schemathesis infers the
    links from the schema; with a kiosk certificate and an administrator's token. No answer is a 5xx."""
    from central.tls import _WithTls
    from devtools.kiosksim import client_for
    from tests.central.staffsim import login

    pem = election.pki.kiosks["K-PC-001-1"].cert_path.read_text()
    kiosk_app = _WithTls(app, {"client_cert_chain": [pem], "tls_version": "TLSv1.3", "cipher_suite": None})
    with client_for(app, None) as http:
        admin = login(http, election.pki, "staff-admin-1")
    schema = schemathesis.openapi.from_asgi("/openapi.json", kiosk_app)
    base = schema.as_state_machine()
    transitions = base._transitions.operations  # type: ignore[attr-defined]
    links = sorted(f"{src} -> {link.target.label}" for src, t in transitions.items() for link in t.outgoing)
    assert {
        "POST /v1/checkins -> POST /v1/checkins/{token}/voted",
        "POST /api/manual-sheets -> POST /api/manual-sheets/{sheet_id}/approve",
    } <= set(links)
    steps: list[int] = []

    class Machine(base):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            kwargs = super().get_call_kwargs(case)
            generated = {k: v for k, v in (kwargs.get("headers") or {}).items() if k.lower() != "authorization"}
            return {**kwargs, "headers": {**generated, **admin}}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            steps.append(response.status_code)
            case.validate_response(response, checks=[not_a_server_error])

    Machine.run(
        settings=settings(
            max_examples=EXAMPLES, stateful_step_count=6, deadline=None, suppress_health_check=list(HealthCheck)
        )
    )
    print(f"\nstateful: {len(steps)} calls, statuses {sorted(set(steps))}, {len(links)} links")
    assert steps and 500 not in steps, (links, steps[:20])
