"""Mutual TLS under uvicorn, with the client certificate handed to the application; and the connection limits
that keep the office reachable for kiosks when anyone can open connections to it (issue 15, point 7).

uvicorn verifies the kiosk's certificate (``ssl_cert_reqs=CERT_OPTIONAL``, ``ssl_ca_certs`` = kiosk CA) but
puts nothing about it in the ASGI scope. ``TlsH11Protocol`` is uvicorn's h11 protocol plus:

- when a connection is made it reads the peer certificate from the SSL transport and wraps the app so that every
  request on that connection carries the ASGI TLS extension
  (``scope["extensions"]["tls"] = {"client_cert_chain": [PEM], "tls_version": ..., "cipher_suite": ...}``); the
  application reads only that extension, so the same code works behind any ASGI server that implements it;
- a **request-head deadline**: a connection must deliver a complete request line and headers within
  ``head_timeout`` seconds of being made (and of the previous response), else it is dropped without an answer.
  uvicorn alone has none, so connections that trickle a header byte now and then were held for ever;
- **connection caps**: at most ``max_anonymous`` connections without a client certificate (browsers, staff,
  the public) and ``max_connections`` in all. A connection over its cap is dropped at once. Kiosks present
  certificates, so anonymous connections can never take the places kiosks need.

The TLS handshake itself is bounded by ``serve``'s ``ssl_handshake_timeout`` (``central.__main__``); the body
by ``central.api.limits.RequestLimits``.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any, ClassVar

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

ASGIApp = Any


@dataclass(frozen=True)
class ConnectionLimits:
    head_timeout: float = 10.0
    """Seconds a connection may take to send a complete request head (line and headers)."""
    max_anonymous: int = 512
    """Connections without a client certificate, at once."""
    max_connections: int = 4096
    """Connections in all (kept below the process's file-descriptor limit by ``serve``)."""


class _WithTls:
    def __init__(self, app: ASGIApp, tls: dict[str, Any]) -> None:
        self.app, self.tls = app, tls

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") == "http":
            scope = {**scope, "extensions": {**scope.get("extensions", {}), "tls": self.tls}}
        await self.app(scope, receive, send)


class TlsH11Protocol(H11Protocol):
    limits: ClassVar[ConnectionLimits] = ConnectionLimits()
    """Set once by ``serve`` (uvicorn builds the protocol itself, with no place for extra arguments)."""

    _head_timer: asyncio.TimerHandle | None = None
    anonymous: bool = True
    proxied_client: tuple[str, int] | None = None
    """The client's address from a trusted proxy's PROXY header (``central.proxy_protocol``), set before
    ``connection_made``; it replaces the TCP peer (the proxy) in every request's ``scope["client"]``."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if self.proxied_client is not None:
            self.client = self.proxied_client
        ssl_object: ssl.SSLObject | None = transport.get_extra_info("ssl_object")
        if ssl_object is not None:
            der = ssl_object.getpeercert(binary_form=True)
            chain = [ssl.DER_cert_to_PEM_cert(der)] if der else []
            self.anonymous = not chain
            cipher = ssl_object.cipher()
            self.app = _WithTls(
                self.app,
                {
                    "client_cert_chain": chain,
                    "tls_version": ssl_object.version(),
                    "cipher_suite": cipher[0] if cipher else None,
                },
            )
        if self._over_cap():
            transport.abort()  # dropped at once: no answer, no log line per connection
            return
        self._arm_head_timer()

    def _over_cap(self) -> bool:
        limits = self.limits
        if len(self.connections) > limits.max_connections:
            return True
        if self.anonymous:
            anonymous = sum(1 for c in self.connections if getattr(c, "anonymous", True))
            return anonymous > limits.max_anonymous
        return False

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self.limits.head_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.abort()

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state is not h11.IDLE:
            self._cancel_head_timer()  # the request head is complete: the body has its own deadline

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_head_timer()

    def shutdown(self) -> None:
        """Server shutdown: an idle connection is dropped at once (a TLS close would wait up to 30 s for a peer that
        keeps its socket open without reading); one in the middle of a request finishes it first."""
        if self.cycle is None or self.cycle.response_complete:
            self._cancel_head_timer()
            self.transport.abort()
        else:
            super().shutdown()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)
