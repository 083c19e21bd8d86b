"""Mutual TLS under uvicorn, with the client certificate handed to the application.

uvicorn verifies the kiosk's certificate (``ssl_cert_reqs=CERT_REQUIRED``, ``ssl_ca_certs`` = kiosk CA) but
puts nothing about it in the ASGI scope. ``TlsH11Protocol`` is uvicorn's h11 protocol plus one step: when a
connection is made it reads the peer certificate from the SSL transport and wraps the app so that every
request on that connection carries the ASGI TLS extension
(``scope["extensions"]["tls"] = {"client_cert_chain": [PEM], "tls_version": ..., "cipher_suite": ...}``).
The application reads only that extension, so the same code works behind any ASGI server that implements it.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import MutableMapping
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

ASGIApp = Any


class _WithTls:
    def __init__(self, app: ASGIApp, tls: dict[str, Any]) -> None:
        self.app, self.tls = app, tls

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") == "http":
            scope = {**scope, "extensions": {**scope.get("extensions", {}), "tls": self.tls}}
        await self.app(scope, receive, send)


class TlsH11Protocol(H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object: ssl.SSLObject | None = transport.get_extra_info("ssl_object")
        if ssl_object is None:
            return
        der = ssl_object.getpeercert(binary_form=True)
        chain = [ssl.DER_cert_to_PEM_cert(der)] if der else []
        cipher = ssl_object.cipher()
        self.app = _WithTls(
            self.app,
            {
                "client_cert_chain": chain,
                "tls_version": ssl_object.version(),
                "cipher_suite": cipher[0] if cipher else None,
            },
        )
