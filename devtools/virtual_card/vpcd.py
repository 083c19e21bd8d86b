"""Connect a :class:`VirtualCard` to pcscd's vpcd driver (the virtual card is the TCP client).

vpcd protocol: each message is a 2-byte big-endian length and a payload. A 1-byte payload is a control
message (0 power off, 1 power on, 2 reset, 4 get ATR -> answer the ATR); anything else is a command APDU,
answered with the response APDU. Connected = card inserted; socket closed = card removed.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
import time
from collections.abc import Callable

from devtools.virtual_card.card import VirtualCard

log = logging.getLogger(__name__)

CTRL_OFF, CTRL_ON, CTRL_RESET, CTRL_ATR = 0, 1, 2, 4
RECONNECT_SECONDS = 0.05


def _quickack(sock: socket.socket) -> None:
    # vpcd writes the length and the payload separately; acknowledge at once so its Nagle algorithm does not
    # hold the second write for our delayed ACK (~40 ms per APDU otherwise). Linux re-arms delayed ACKs, so
    # this is set before every read.
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    data = b""
    while len(data) < n:
        _quickack(sock)
        chunk = sock.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


class VpcdLink:
    """Keeps ``card`` inserted in the vpcd slot at ``host:port`` until :meth:`remove`.

    If pcscd goes away (restart), the link reconnects by itself while the card is still "inserted".
    ``remove_at_apdu=n`` pulls the card when the n-th APDU (1-based) arrives, before answering it.
    """

    def __init__(
        self,
        card: VirtualCard,
        port: int,
        host: str = "127.0.0.1",
        remove_at_apdu: int | None = None,
        on_apdu: Callable[[int], None] | None = None,
    ) -> None:
        self.card = card
        self.host, self.port = host, port
        self.remove_at_apdu = remove_at_apdu
        self.on_apdu = on_apdu
        self._stop = threading.Event()
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self.connected = threading.Event()
        self.pulled = threading.Event()  # set when remove_at_apdu fired
        self._thread = threading.Thread(target=self._run, name=f"virtual-card:{port}", daemon=True)

    def insert(self) -> VpcdLink:
        self._thread.start()
        return self

    def remove(self) -> None:
        self._stop.set()
        with self._lock:
            if self._sock is not None:
                with contextlib.suppress(OSError):
                    self._sock.shutdown(socket.SHUT_RDWR)
                self._sock.close()
                self._sock = None
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                sock = socket.create_connection((self.host, self.port), timeout=1)
            except OSError:
                time.sleep(RECONNECT_SECONDS)
                continue
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                if self._stop.is_set():
                    sock.close()
                    return
                self._sock = sock
            self.connected.set()
            try:
                self._serve(sock)
            except OSError:
                pass
            finally:
                self.connected.clear()
                with self._lock:
                    if self._sock is sock:
                        self._sock = None
                sock.close()
            if self.pulled.is_set():
                return
            time.sleep(RECONNECT_SECONDS)

    def _serve(self, sock: socket.socket) -> None:
        while not self._stop.is_set():
            header = _recv_exact(sock, 2)
            if header is None:
                return
            (length,) = struct.unpack(">H", header)
            payload = _recv_exact(sock, length)
            if payload is None:
                return
            if length == 1:
                control = payload[0]
                if control == CTRL_ATR:
                    sock.sendall(struct.pack(">H", len(self.card.atr)) + self.card.atr)
                elif control in (CTRL_ON, CTRL_RESET):
                    self.card.power_on()
                elif control == CTRL_OFF:
                    self.card.power_off()
                continue
            count = self.card.apdu_count + 1
            if self.remove_at_apdu is not None and count >= self.remove_at_apdu:
                self.pulled.set()
                self._stop.set()
                return
            if self.on_apdu is not None:
                self.on_apdu(count)
            response = self.card.process(payload)
            if response is None:
                continue  # a card that never answers: pcscd waits (the kiosk's phase timeout must end it)
            sock.sendall(struct.pack(">H", len(response)) + response)
