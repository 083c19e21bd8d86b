"""Serving the collector: uvicorn with TLS on the public port, and the internal port whose TLS handshake
requires a client certificate from the office's CA; one asyncio loop for both."""

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


def servers(collector: Collector, tls: Tls, host: str, port: int, internal_port: int) -> list[uvicorn.Server]:
    def server(app: ASGIApp, listen: int, *, client_ca: Path | None) -> uvicorn.Server:
        extra: dict[str, object] = {}
        if client_ca is not None:
            extra = {"ssl_ca_certs": str(client_ca), "ssl_cert_reqs": ssl.CERT_REQUIRED}
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
        server(create_app(collector), port, client_ca=None),
        server(create_internal_app(collector), internal_port, client_ca=tls.office_ca),
    ]


def serve(collector: Collector, tls: Tls, host: str, port: int, internal_port: int) -> None:
    async def both() -> None:
        await asyncio.gather(*(s.serve() for s in servers(collector, tls, host, port, internal_port)))

    asyncio.run(both())
