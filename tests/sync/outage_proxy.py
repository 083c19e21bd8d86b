"""A loopback TCP proxy between a kiosk and the central office, for network faults the office cannot fake.

The proxy relays bytes (TLS stays end to end between kiosk and office; the proxy sees only sizes). Faults:
- ``lose_next_big_answer(threshold)``: the next time the office answers a request of more than ``threshold``
  bytes (a ballot batch, not a voted mark or a heartbeat), the answer is thrown away and both connections are
  closed: the office has stored the batch, the kiosk never hears so (a lost acknowledgement).
- ``cut()`` / ``restore()``: close the listening socket and every relayed connection (the kiosk gets refused
  connections), then listen again on the same port.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading


class OutageProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        listener = self._listen(0)
        self.port = int(listener.getsockname()[1])
        self._listener: socket.socket | None = listener
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._drop_above: int | None = None
        self.answers_lost = 0
        self._stop = threading.Event()
        self._accepting = threading.Thread(target=self._accept_loop, daemon=True, name="proxy-accept")
        self._accepting.start()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @staticmethod
    def _listen(port: int) -> socket.socket:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(64)
        s.settimeout(0.1)
        return s

    def lose_next_big_answer(self, threshold: int) -> None:
        with self._lock:
            self._drop_above = threshold

    def cut(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            connections, self._connections = self._connections, set()
        if listener is not None:
            listener.close()
        for c in connections:
            with contextlib.suppress(OSError):
                c.close()

    def restore(self) -> None:
        with self._lock:
            if self._listener is None:
                self._listener = self._listen(self.port)

    def close(self) -> None:
        self._stop.set()
        self.cut()
        self._accepting.join(5)

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                listener = self._listener
            if listener is None:
                self._stop.wait(0.05)
                continue
            try:
                client, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._relay, args=(client,), daemon=True, name="proxy-relay").start()

    def _relay(self, client: socket.socket) -> None:
        try:
            office = socket.create_connection(self.upstream, timeout=2)
        except OSError:
            client.close()  # the office is down: the kiosk sees its connection closed
            return
        with self._lock:
            self._connections |= {client, office}
        asked = 0  # bytes of the request(s) relayed since the office last answered
        try:
            while not self._stop.is_set():
                readable, _, _ = select.select([client, office], [], [], 0.2)
                for s in readable:
                    data = s.recv(65536)
                    if not data:
                        return
                    if s is client:
                        office.sendall(data)
                        asked += len(data)
                        continue
                    with self._lock:
                        lose = self._drop_above is not None and asked > self._drop_above
                        if lose:
                            self._drop_above = None
                            self.answers_lost += 1
                    if lose:
                        return
                    client.sendall(data)
                    asked = 0
        except (OSError, ValueError):
            return
        finally:
            with self._lock:
                self._connections -= {client, office}
            for c in (client, office):
                with contextlib.suppress(OSError):
                    c.close()
