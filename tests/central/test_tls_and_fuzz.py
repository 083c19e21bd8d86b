"""The real transport: uvicorn with mutual TLS hands the kiosk certificate to the app (central.tls); and the
OpenAPI description fuzzed with schemathesis (in-process ASGI) never produces a server error."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from central.tls import TlsH11Protocol

pytestmark = pytest.mark.integration


@contextlib.contextmanager
def tls_server(app, election) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pki = election.pki
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        http=TlsH11Protocol,
        ssl_certfile=str(pki.central_server.cert_path),
        ssl_keyfile=str(pki.central_server.key_path),
        ssl_ca_certs=str(pki.kiosk_ca.cert_path),
        ssl_cert_reqs=ssl.CERT_OPTIONAL,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_kiosk_identity_comes_from_the_tls_client_certificate(app, election, kiosks) -> None:
    pki = election.pki
    ca = ssl.create_default_context(cafile=str(pki.central_server.cert_path.parent / "ca.pem"))
    kiosk = pki.kiosks["K-PC-003-1"]
    ca_with_cert = ssl.create_default_context(cafile=str(pki.central_server.cert_path.parent / "ca.pem"))
    ca_with_cert.load_cert_chain(str(kiosk.cert_path), str(kiosk.key_path))
    body = {"kiosk_id": "K-PC-003-1", "centre_id": "PC-003", "civil_number": "55555555", "idempotency_key": "0" * 32}
    with tls_server(app, election) as base:
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


def test_openapi_fuzzing_finds_no_server_error(app, kiosks) -> None:
    """Every operation of /openapi.json, a bounded number of generated requests each, in-process over ASGI."""
    from hypothesis import given

    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) > 15
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case) -> None:
            case.call_and_validate(checks=[not_a_server_error])

        fuzz()
