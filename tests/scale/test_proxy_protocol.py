"""The PROXY protocol behind HAProxy (``central.proxy_protocol``): an office instance behind HAProxy in TCP mode
sees each client's own address, so the staff-login limiter holds clients apart; only HAProxy's address may send the
header, and HAProxy's connections must carry it."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import Iterator
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from proxyprotocol.result import ProxyResultIPv4, ProxyResultIPv6, ProxyResultLocal
from proxyprotocol.v2 import ProxyProtocolV2

from central.config import ConfigError, parse_config
from central.proxy_protocol import MAX_HEADER, HeaderReader, NotProxied, ProxiedListener, is_trusted, trusted_networks
from devtools.cluster import PROXY_SOURCE, Cluster
from devtools.real_office import RealElection, roll

PROXY = ("10.0.0.5", 40000)


def read(reader: HeaderReader, stream: bytes) -> tuple[str, int] | None:
    """Feed ``stream`` as the listener does (``wanted()`` bytes at a time); None: the header is incomplete."""
    while stream:
        take = reader.wanted()
        chunk, stream = stream[:take], stream[take:]
        client = reader.feed(chunk)
        if client is not None:
            assert stream == b"" or reader.wanted() == 0
            return client
    return None


def header(result: ProxyResultIPv4 | ProxyResultIPv6 | ProxyResultLocal) -> bytes:
    return ProxyProtocolV2().pack(result)


# ---- the header, parsed by the library, bounded here -------------------------------------------------------------


def test_a_proxied_tcp_client_is_the_address_the_header_names() -> None:
    v4 = ProxyResultIPv4(
        (IPv4Address("192.0.2.7"), 51234), (IPv4Address("10.0.0.11"), 8443), protocol=socket.SOCK_STREAM
    )
    assert read(HeaderReader(PROXY), header(v4)) == ("192.0.2.7", 51234)
    v6 = ProxyResultIPv6(
        (IPv6Address("2001:db8::7"), 443), (IPv6Address("2001:db8::1"), 8443), protocol=socket.SOCK_STREAM
    )
    assert read(HeaderReader(PROXY), header(v6)) == ("2001:db8::7", 443)


def test_haproxys_health_check_keeps_the_proxys_own_address() -> None:
    assert read(HeaderReader(PROXY), header(ProxyResultLocal())) == PROXY


def test_the_reader_never_reads_past_the_header() -> None:
    v4 = ProxyResultIPv4((IPv4Address("192.0.2.7"), 1), (IPv4Address("10.0.0.11"), 2), protocol=socket.SOCK_STREAM)
    reader, wanted = HeaderReader(PROXY), []
    stream = header(v4) + b"\x16\x03\x01 the client hello that TLS must get whole"
    while True:
        wanted.append(reader.wanted())
        chunk, stream = stream[: wanted[-1]], stream[wanted[-1] :]
        if reader.feed(chunk) is not None:
            break
    assert wanted == [16, 12]
    assert stream.startswith(b"\x16\x03\x01")


@pytest.mark.parametrize(
    ("stream", "why"),
    [
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(32), "no PROXY v2 header"),  # a TLS ClientHello
        (b"PROXY TCP4 192.0.2.7 10.0.0.11 51234 8443\r\n", "no PROXY v2 header"),  # v1 is not accepted
        (b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x04" + bytes(4), "no PROXY v2 header"),  # IPv4 with 4 address bytes
        (b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\xff\xff", "at most"),  # 64 KiB announced
        (b"\r\n\r\n\x00\r\nQUIT\n\x21\x00\x00\x00", "no TCP client"),  # PROXY of an unknown family
        (b"\r\n\r\n\x00\r\nQUIT\n\x21\x12\x00\x0c" + bytes(12), "no TCP client"),  # UDP
    ],
)
def test_a_stream_that_is_not_a_usable_header_is_refused(stream: bytes, why: str) -> None:
    with pytest.raises(NotProxied, match=why):
        read(HeaderReader(PROXY), stream)


@given(st.binary(max_size=2 * MAX_HEADER))
def test_any_bytes_give_an_address_a_refusal_or_a_wish_for_more_within_the_bound(stream: bytes) -> None:
    reader = HeaderReader(PROXY)
    consumed = 0
    try:
        while stream:
            take = reader.wanted()
            assert take > 0 and consumed + take <= MAX_HEADER
            chunk, stream = stream[:take], stream[take:]
            consumed += len(chunk)
            if reader.feed(chunk) is not None:
                return
    except NotProxied:
        return


@given(st.binary(min_size=4, max_size=64))
def test_a_header_with_any_tlv_bytes_after_its_address_is_parsed_or_refused(tail: bytes) -> None:
    prefix = b"\r\n\r\n\x00\r\nQUIT\n\x21\x11" + (12 + len(tail)).to_bytes(2, "big")
    stream = prefix + bytes([192, 0, 2, 7, 10, 0, 0, 11, 0, 80, 0, 81]) + tail
    with contextlib.suppress(NotProxied):
        assert read(HeaderReader(PROXY), stream) == ("192.0.2.7", 80)


def test_trusted_proxies_are_addresses_or_networks_and_anything_else_is_a_clear_error(tmp_path: Path) -> None:
    trusted = trusted_networks(["10.0.0.5", "10.0.1.0/28", "2001:db8::1"])
    assert is_trusted("10.0.1.9", trusted) and is_trusted("10.0.0.5", trusted) and is_trusted("2001:db8::1", trusted)
    assert not is_trusted("10.0.0.6", trusted) and not is_trusted("not-an-address", trusted)
    base = {"database": {"url": "sqlite:///x.db"}, "election": {"dir": "e"}}
    for bad in ("10.0.0.5", ["haproxy.local"], ["10.0.1.1/28"], [5]):
        with pytest.raises(ConfigError, match=r"server\.trusted_proxies"):
            parse_config({**base, "server": {"trusted_proxies": bad}}, base=tmp_path)


# ---- the listener, in process (without TLS: the header, then the stream handed on whole) ----------------------


class Recorder(asyncio.Protocol):
    def __init__(self, client: tuple[str, int], seen: asyncio.Queue[tuple[tuple[str, int], bytes]]) -> None:
        self.client, self.seen, self.data = client, seen, b""

    def data_received(self, data: bytes) -> None:
        self.data += data
        if self.data.endswith(b"\n"):
            self.seen.put_nowait((self.client, self.data))


async def serve_proxied(trusted: str, seen: asyncio.Queue[tuple[tuple[str, int], bytes]]) -> asyncio.Server:
    listener = ProxiedListener(lambda client: Recorder(client, seen), None, trusted_networks([trusted]), 0.5)
    return await asyncio.get_running_loop().create_server(listener, "127.0.0.1", 0)


async def send(server: asyncio.Server, source: str, stream: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    writer.write(stream)
    await writer.drain()
    return reader, writer


def test_the_listener_hands_on_the_stream_after_the_header_and_drops_a_silent_proxy() -> None:
    v4 = ProxyResultIPv4((IPv4Address("192.0.2.7"), 51234), (IPv4Address("127.0.0.1"), 1), protocol=socket.SOCK_STREAM)

    async def scenario() -> None:
        seen: asyncio.Queue[tuple[tuple[str, int], bytes]] = asyncio.Queue()
        server = await serve_proxied("127.0.0.9", seen)
        try:
            # from the proxy, header and first bytes in one segment: the client named, no byte lost
            _, w1 = await send(server, "127.0.0.9", header(v4) + b"GET / HTTP/1.1\n")
            assert await asyncio.wait_for(seen.get(), 5) == (("192.0.2.7", 51234), b"GET / HTTP/1.1\n")
            # from anyone else: nothing is read as a header, the client is the peer
            _, w2 = await send(server, "127.0.0.1", b"hello\n")
            client, data = await asyncio.wait_for(seen.get(), 5)
            assert (client[0], data) == ("127.0.0.1", b"hello\n")
            # from the proxy, nothing within the deadline: dropped
            r3, w3 = await send(server, "127.0.0.9", b"")
            assert await asyncio.wait_for(r3.read(), 5) == b""
            for w in (w1, w2, w3):
                w.close()
        finally:
            server.close()
            await server.wait_closed()

    asyncio.run(scenario())


# ---- through real HAProxy ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster(
    real_election: RealElection, pg_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    c = Cluster.create(real_election, pg_database, tmp_path_factory.mktemp("proxied") / "cluster")
    c.initialise(roll(4, 94_000_000))
    try:
        c.start_instance()
        c.start_haproxy()
        yield c
    finally:
        c.close()


def tls_context(election: RealElection) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(election.pki.central_ca.cert_path))


def refused_login(client: httpx.Client, url: str, certificate_pem: str) -> int:
    body = {"certificate_pem": certificate_pem, "nonce": "ab" * 32, "signature": "A" * 64}
    return client.post(f"{url}/api/staff/login", json=body).status_code


def test_two_clients_behind_haproxy_are_limited_separately(cluster: Cluster, real_election: RealElection) -> None:
    pem = real_election.pki.central_server.cert_path.read_text(encoding="ascii")
    context = tls_context(real_election)

    def client_from(address: str) -> httpx.Client:
        return httpx.Client(transport=httpx.HTTPTransport(local_address=address, verify=context), timeout=10)

    with client_from("127.0.0.2") as first, client_from("127.0.0.3") as second:
        # nonce unknown: each is a refused login (401), counted for the client that sent it
        assert [refused_login(first, cluster.url, pem) for _ in range(10)] == [401] * 10
        assert refused_login(first, cluster.url, pem) == 429
        assert refused_login(second, cluster.url, pem) == 401  # HAProxy's address would be over the limit by now
        assert refused_login(first, cluster.url, pem) == 429


def tls_request(context: ssl.SSLContext, port: int, *, source: str, before_tls: bytes = b"") -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0)) as raw:
        raw.sendall(before_tls)
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.sendall(b"GET /api/public/turnout HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return tls.recv(64)


def test_a_forged_header_or_a_proxy_without_one_is_refused(cluster: Cluster, real_election: RealElection) -> None:
    context, instance = tls_context(real_election), next(iter(cluster.instances))
    forged = ProxyProtocolV2().pack(
        ProxyResultIPv4(
            (IPv4Address("127.0.0.3"), 5), (IPv4Address("127.0.0.1"), instance), protocol=socket.SOCK_STREAM
        )
    )
    # Any other address reaches the instance directly, with its own address; a PROXY header from it is refused.
    assert tls_request(context, instance, source="127.0.0.1").startswith(b"HTTP/1.1 200")
    with pytest.raises(OSError):  # the header is not a ClientHello: the handshake fails (SSLError or a reset)
        tls_request(context, instance, source="127.0.0.1", before_tls=forged)
    # HAProxy's own address must send the header: TLS from it without one is dropped.
    with pytest.raises(OSError):
        tls_request(context, instance, source=PROXY_SOURCE)
    # ... and with one the connection is served (as HAProxy's are).
    assert tls_request(context, instance, source=PROXY_SOURCE, before_tls=forged).startswith(b"HTTP/1.1 200")
