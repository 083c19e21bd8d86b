"""Serving the collector: uvicorn with TLS on the public port, and the internal port whose TLS handshake
requires a client certificate from the office's CA; one asyncio loop for both.

Behind a load balancer that ends TLS and opens its own TLS connection to the instance (HAProxy in HTTP mode,
docs/operations.md), every request arrives from the balancer's address: ``trusted_proxies`` names the balancers
whose ``X-Forwarded-For`` gives the client's address (for the per-client rate limit); from any other peer the
header is ignored. Without it the header is never read (uvicorn would otherwise believe it from 127.0.0.1)."""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from collector.api import ASGIApp, create_app, create_internal_app
from collector.service import Collector


@dataclass(frozen=True)
class Tls:
    cert: Path
    key: Path
    office_ca: Path


def servers(
    collector: Collector,
    tls: Tls,
    host: str,
    port: int,
    internal_port: int,
    trusted_proxies: tuple[str, ...] = (),
) -> list[uvicorn.Server]:
    def server(app: ASGIApp, listen: int, *, client_ca: Path | None, proxies: tuple[str, ...]) -> uvicorn.Server:
        extra: dict[str, object] = {"proxy_headers": bool(proxies), "forwarded_allow_ips": list(proxies) or None}
        if client_ca is not None:
            extra |= {"ssl_ca_certs": str(client_ca), "ssl_cert_reqs": ssl.CERT_REQUIRED}
        config = uvicorn.Config(
            app,
            host=host,
            port=listen,
            log_level="warning",
            lifespan="off",
            access_log=False,  # an access log would tie client addresses to ballot ids
            ssl_certfile=str(tls.cert),
            ssl_keyfile=str(tls.key),
            timeout_keep_alive=5,
            limit_concurrency=1024,
            **extra,  # type: ignore[arg-type]
        )
        return uvicorn.Server(config)

    return [
        server(create_app(collector), port, client_ca=None, proxies=trusted_proxies),
        server(create_internal_app(collector), internal_port, client_ca=tls.office_ca, proxies=()),
    ]


def serve(
    collector: Collector, tls: Tls, host: str, port: int, internal_port: int, trusted_proxies: tuple[str, ...] = ()
) -> None:
    async def both() -> None:
        listeners = servers(collector, tls, host, port, internal_port, trusted_proxies)
        await asyncio.gather(*(s.serve() for s in listeners))

    asyncio.run(both())
