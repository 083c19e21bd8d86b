"""Run an ASGI app under uvicorn with mutual TLS on 127.0.0.1, in a thread; stoppable and restartable on the
same port (to simulate the central office going down and coming back)."""

from __future__ import annotations

import gc
import socket
import ssl
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TlsServer:
    def __init__(self, app: Any, *, cert: Path, key: Path, client_ca: Path, port: int | None = None) -> None:
        self.app = app
        self.cert, self.key, self.client_ca = cert, key, client_ca
        self.port = port or free_port()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def start(self) -> None:
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            ssl_certfile=str(self.cert),
            ssl_keyfile=str(self.key),
            ssl_ca_certs=str(self.client_ca),
            ssl_cert_reqs=ssl.CERT_REQUIRED,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("test TLS server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)
        self._server = None
        self._thread = None
        # uvicorn leaves the transports of connections that were open at shutdown (the kiosk's keep-alive
        # sockets) to the garbage collector, which warns; collect them here, where that is expected.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()
