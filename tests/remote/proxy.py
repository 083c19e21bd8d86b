"""A TCP proxy on loopback between the voter app and the collector that can lose answers: the request reaches the
collector (which applies it), the answer never reaches the app and the connection is cut, as when a voter's
network drops just after submitting.

It sees only TLS records: an answer is lost on a connection once the app has sent more than ``BIG`` bytes of
application data on it (a ballot submission; the handshake's Finished and small requests stay below), and the
connection is cut ``CUT_AFTER`` seconds after the first lost byte, once the collector has answered.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

BIG = 4000
CUT_AFTER = 1.5


class _Connection:
    def __init__(self, proxy: LossyProxy, client: socket.socket, server: socket.socket) -> None:
        self.proxy, self.client, self.server = proxy, client, server
        self.sent_app = 0
        self.losing = False
        threading.Thread(target=self._upstream, daemon=True).start()
        threading.Thread(target=self._downstream, daemon=True).start()

    def close(self) -> None:
        for s in (self.client, self.server):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def _upstream(self) -> None:
        try:
            while data := self.client.recv(65536):
                self.sent_app += len(data)
                self.server.sendall(data)
        except OSError:
            pass

    def _downstream(self) -> None:
        try:
            while data := self.server.recv(65536):
                if self.proxy.lose_answers and self.sent_app > BIG:
                    if not self.losing:
                        self.losing = True
                        self.proxy.lost += 1
                        threading.Timer(CUT_AFTER, self.close).start()
                    continue
                self.client.sendall(data)
        except OSError:
            pass
        finally:
            if not self.losing:
                self.close()


class LossyProxy:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.lose_answers = False
        self.lost = 0
        self.connections: list[_Connection] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.listener.close()
        for connection in self.connections:
            connection.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.connections.append(
                _Connection(self, client, socket.create_connection(("127.0.0.1", self.target_port)))
            )


def wait_until(predicate: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not callable(predicate) or not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.02)
