"""The real office over HTTPS for tests: uvicorn with mutual TLS (central.tls) on a free loopback port, httpx
clients for a kiosk (its client certificate) and for staff (no client certificate), and simulated kiosks whose
requests go over that connection."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import uvicorn

from central.tls import TlsH11Protocol
from devtools.kiosksim import Election, SimKiosk


class Https:
    """The running office's base URL and the clients made for it (all closed when the server stops)."""

    def __init__(self, base: str, election: Election, app: Any) -> None:
        self.base, self.election, self.app = base, election, app
        self.clients: list[httpx.Client] = []

    def _client(self, ctx: ssl.SSLContext) -> httpx.Client:
        client = httpx.Client(base_url=self.base, verify=ctx, timeout=120)
        self.clients.append(client)
        return client

    def staff(self) -> httpx.Client:
        """A client without a TLS client certificate (staff, observers, the public)."""
        return self._client(_context(self.election))

    def kiosk(self, kiosk_id: str) -> SimKiosk:
        """A simulated kiosk whose requests go over HTTPS with its TLS client certificate."""
        kiosk = SimKiosk(self.election, kiosk_id, self.app)
        kiosk.http.close()
        pair = self.election.pki.kiosks[kiosk_id]
        ctx = _context(self.election)
        ctx.load_cert_chain(str(pair.cert_path), str(pair.key_path))
        kiosk.http = self._client(ctx)  # type: ignore[assignment]
        return kiosk


@contextlib.contextmanager
def https_office(app: Any, election: Election) -> Iterator[Https]:
    """Serve ``app`` as ``python -m central serve`` does with TLS (mutual TLS for kiosks)."""
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
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the office did not start"
    https = Https(f"https://127.0.0.1:{port}", election, app)
    try:
        yield https
    finally:
        for client in https.clients:
            client.close()
        server.should_exit = True
        thread.join(timeout=10)


def _context(election: Election) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(election.pki.central_server.cert_path.parent / "ca.pem"))
