"""The PROXY protocol (v2) from trusted proxies, read before the TLS handshake (issue 20; docs/operations.md).

HAProxy runs in TCP mode and passes TLS through to the instances, so an instance's TCP peer is HAProxy, never the
client. With ``[server] trusted_proxies`` HAProxy sends a PROXY v2 header (``send-proxy-v2``) at the start of each
connection, before the client's first TLS byte, and the instance takes the client's address from it: uvicorn's
``scope["client"]``, and so the staff-login limiter (``central.api.login_limits``) and the log lines, name the
client, not HAProxy.

- A connection **from a trusted proxy** must begin with a complete PROXY v2 header within ``head_timeout``; exactly
  the header's bytes are read (a ``BufferedProtocol`` asks for no more), then the TLS handshake runs on the rest of
  the stream as usual. Without a header, with a malformed one, or with one that names no TCP client, the
  connection is dropped. A ``LOCAL`` header (HAProxy's own health checks) keeps the proxy's address.
- A connection **from any other address** goes straight to TLS: none of its bytes is ever read as a PROXY header,
  so nobody else can choose the address the office sees; a forged header is not a TLS ClientHello and the
  handshake refuses the connection.

The header is parsed by the ``proxy-protocol`` library (``ProxyProtocolV2.unpack``); this module only bounds its
length, maps the library's errors to one ``NotProxied`` and picks the source address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import ssl
import struct
from collections.abc import Callable, Iterable
from typing import Any, Final

from proxyprotocol import ProxyProtocolIncompleteError
from proxyprotocol.result import is_ipv4, is_ipv6, is_local
from proxyprotocol.v2 import ProxyProtocolV2

log = logging.getLogger(__name__)

Address = tuple[str, int]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

HEAD: Final = 16
"""The fixed part of a v2 header: 12-byte signature, version and command, family and protocol, length."""
MAX_HEADER: Final = HEAD + 1024
"""Addresses (at most 216 bytes, for UNIX sockets) and TLVs; HAProxy's ``send-proxy-v2`` without options sends
12 (IPv4) or 36 (IPv6). A longer header is refused rather than buffered."""

_V2: Final = ProxyProtocolV2()


class NotProxied(Exception):
    """A trusted proxy's connection did not begin with a usable PROXY v2 header; the message says why."""


def trusted_networks(value: object) -> tuple[Network, ...]:
    """``[server] trusted_proxies``: a list of addresses or networks (``"10.0.0.5"``, ``"10.0.1.0/28"``)."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError('expected a list of addresses or networks, e.g. ["10.0.0.5"]')
    try:
        return tuple(ipaddress.ip_network(v, strict=True) for v in value)
    except ValueError as exc:
        raise ValueError(f"not an address or network: {exc}") from None


def is_trusted(host: str, trusted: Iterable[Network]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in trusted)


class HeaderReader:
    """Reads one PROXY v2 header from a trusted proxy, in as many pieces as the network delivers it: ``wanted()``
    bytes at a time (never past the header's end), ``feed`` returns the client's address once it is complete."""

    def __init__(self, proxy: Address) -> None:
        self.proxy = proxy
        self._data = bytearray()
        self._wanted = HEAD

    def wanted(self) -> int:
        return self._wanted

    def feed(self, chunk: bytes) -> Address | None:
        if not chunk or len(chunk) > self._wanted:
            raise ValueError("feed takes at most wanted() bytes, and at least one")
        self._data += chunk
        self._wanted -= len(chunk)
        if self._wanted:
            return None
        try:
            result = _V2.unpack(bytes(self._data))
        except ProxyProtocolIncompleteError as exc:  # the fixed part is read: now its address and TLV bytes
            more = exc.want_read.want_bytes or 0
            if len(self._data) + more > MAX_HEADER:
                raise NotProxied(f"PROXY v2 header of {len(self._data) + more} bytes (at most {MAX_HEADER})") from None
            self._wanted = more
            return None
        except (ValueError, struct.error) as exc:  # the library's syntax and checksum errors are ValueErrors
            raise NotProxied(f"no PROXY v2 header ({exc})") from None
        if is_local(result):
            return self.proxy
        if (is_ipv4(result) or is_ipv6(result)) and result.protocol == socket.SOCK_STREAM:
            host, port = result.source
            return str(host), int(port)
        raise NotProxied("the PROXY v2 header names no TCP client address")


class ProxiedListener:
    """The protocol factory of a listener behind trusted proxies: hand it to ``loop.create_server`` *without*
    ``ssl``; it reads the PROXY header (from trusted peers only), then runs the TLS handshake itself
    (``loop.start_tls``) and hands the connection to ``make_protocol(client address)``."""

    def __init__(
        self,
        make_protocol: Callable[[Address], asyncio.Protocol],
        ssl_context: ssl.SSLContext | None,
        trusted: tuple[Network, ...],
        timeout: float,
    ) -> None:
        self.make_protocol, self.ssl_context, self.trusted, self.timeout = make_protocol, ssl_context, trusted, timeout
        self._handshakes: set[asyncio.Task[None]] = set()

    def __call__(self) -> asyncio.BaseProtocol:
        return _Front(self)


class _Front(asyncio.BufferedProtocol):
    def __init__(self, listener: ProxiedListener) -> None:
        self.listener = listener
        self.transport: asyncio.Transport | None = None
        self.reader: HeaderReader | None = None
        self._buffer = bytearray(HEAD)
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        proxy: Address = (str(peer[0]), int(peer[1])) if isinstance(peer, tuple) else ("unknown", 0)
        if not is_trusted(proxy[0], self.listener.trusted):
            transport.pause_reading()  # not one byte read here: TLS gets the stream as it came
            self._proceed(proxy)
            return
        self.reader = HeaderReader(proxy)
        self._timer = asyncio.get_running_loop().call_later(self.listener.timeout, self._timed_out)

    def get_buffer(self, sizehint: int) -> bytearray:
        assert self.reader is not None
        self._buffer = bytearray(self.reader.wanted())
        return self._buffer

    def buffer_updated(self, nbytes: int) -> None:
        assert self.reader is not None and self.transport is not None
        try:
            client = self.reader.feed(bytes(self._buffer[:nbytes]))
        except NotProxied as exc:
            log.warning("connection from trusted proxy %s dropped: %s", self.reader.proxy[0], exc)
            self._drop()
            return
        if client is not None:
            self._cancel_timer()
            self.transport.pause_reading()
            self._proceed(client)

    def eof_received(self) -> bool:
        return False  # closed before its header was complete

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timer()

    def _timed_out(self) -> None:
        self._timer = None
        assert self.reader is not None
        log.warning("connection from trusted proxy %s dropped: no PROXY v2 header in time", self.reader.proxy[0])
        self._drop()

    def _drop(self) -> None:
        self._cancel_timer()
        if self.transport is not None:
            self.transport.abort()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _proceed(self, client: Address) -> None:
        transport, listener = self.transport, self.listener
        assert transport is not None
        if listener.ssl_context is None:
            protocol = listener.make_protocol(client)
            transport.set_protocol(protocol)
            protocol.connection_made(transport)
            transport.resume_reading()
            return
        task = asyncio.get_running_loop().create_task(self._handshake(transport, client, listener.ssl_context))
        listener._handshakes.add(task)
        task.add_done_callback(listener._handshakes.discard)

    async def _handshake(self, transport: asyncio.Transport, client: Address, context: ssl.SSLContext) -> None:
        holding = _Holding()
        try:
            tls = await asyncio.get_running_loop().start_tls(
                transport, holding, context, server_side=True, ssl_handshake_timeout=self.listener.timeout
            )
        except asyncio.CancelledError:
            transport.abort()
            raise
        except Exception as exc:  # a failed or timed-out handshake: as uvicorn's own listener, nothing to answer
            log.debug("TLS handshake with %s failed: %r", client[0], exc)
            transport.abort()
            return
        if tls is None:  # pragma: no cover (start_tls returns None only for a transport that is closing)
            transport.abort()
            return
        holding.hand_over(tls, self.listener.make_protocol(client))


class _Holding(asyncio.Protocol):
    """The TLS layer's protocol between the end of the handshake and the hand-over: ``start_tls`` may pass on the
    client's first request before its coroutine returns the transport (TLS 1.3 clients send it right after their
    Finished), and the HTTP protocol must see ``connection_made`` before any data."""

    def __init__(self) -> None:
        self.data: list[bytes] = []
        self.eof = False
        self.lost: tuple[Exception | None] | None = None

    def data_received(self, data: bytes) -> None:
        self.data.append(data)

    def eof_received(self) -> bool:
        self.eof = True
        return True  # decided by the protocol it is handed to

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = (exc,)

    def hand_over(self, transport: asyncio.Transport, protocol: asyncio.Protocol) -> None:
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        for chunk in self.data:
            if transport.is_closing():
                break
            protocol.data_received(chunk)
        if self.eof and not transport.is_closing() and not protocol.eof_received():
            transport.close()
        if self.lost is not None:
            protocol.connection_lost(self.lost[0])


def proxied_server(
    create_server: Callable[..., Any], trusted: tuple[Network, ...], timeout: float
) -> Callable[..., Any]:
    """Wrap ``loop.create_server`` so that every listener it makes takes PROXY headers from ``trusted`` (uvicorn
    builds its listeners itself with ``create_server(protocol_factory, ..., ssl=context)``). ``protocol_factory``
    must return a protocol with a ``proxied_client`` attribute (``central.tls.TlsH11Protocol``)."""

    async def create(protocol_factory: Callable[[], Any], *args: Any, **kw: Any) -> asyncio.Server:
        context: ssl.SSLContext | None = kw.pop("ssl", None)
        kw.pop("ssl_handshake_timeout", None)

        def make_protocol(client: Address) -> asyncio.Protocol:
            protocol = protocol_factory()
            protocol.proxied_client = client
            assert isinstance(protocol, asyncio.Protocol)
            return protocol

        server: asyncio.Server = await create_server(
            ProxiedListener(make_protocol, context, trusted, timeout), *args, **kw
        )
        return server

    return create
