"""The office on the open network (issue 15, points 5-10), each attack against the REAL ``python -m central serve``
process over TLS on 127.0.0.1 (PostgreSQL behind it), each bounded in time and stopping by itself.

- a 200 MB body without a certificate, and oversized bodies with one: refused before the body is read, the
  office's memory does not grow;
- kiosk routes without a client certificate: 401 without reading the body;
- slowloris (connections trickling a request head), connections that never finish the TLS handshake, and a
  flood of anonymous connections beyond the cap: dropped by the office, while a kiosk keeps being served;
- every bad input of point 9: a clear 4xx with the protocol's error body, never a 5xx;
- a revoked kiosk certificate (the kiosk CA's CRL in the office's config): refused at its next request.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import math
import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from central.api.login_limits import WINDOW
from devtools.real_office import CENTRE_ID, KIOSK_ID, CentralOffice, RealElection, build_election, free_port, roll
from devtools.test_pki import x509_build as xb
from sync.client import SyncClient
from sync.protocol import Backlog, Heartbeat, KioskPollsState
from tests.central.staffsim import login

pytestmark = pytest.mark.integration

HEAD_TIMEOUT = 2.0
MAX_ANONYMOUS = 64
MiB = 1024 * 1024


@dataclass
class Office:
    central: CentralOffice
    election: RealElection
    crl: Path
    kiosk_port: int

    @property
    def pid(self) -> int:
        process = self.central._process
        assert process is not None
        return process.pid

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmRSS")

    def anonymous_tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.election.pki.central_ca.cert_path))

    def kiosk_tls(self, kiosk_id: str = KIOSK_ID) -> ssl.SSLContext:
        context = self.anonymous_tls()
        pair = self.election.pki.kiosks[kiosk_id]
        context.load_cert_chain(str(pair.cert_path), str(pair.key_path))
        return context

    def http(self, *, kiosk: bool = False) -> httpx.Client:
        return httpx.Client(
            base_url=self.central.url, verify=self.kiosk_tls() if kiosk else self.anonymous_tls(), timeout=30
        )


@pytest.fixture(scope="module")
def office(pg_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Office]:
    root = tmp_path_factory.mktemp("hardening")
    election = build_election(root / "election")
    central = CentralOffice(election, pg_database, root / "office", workers=0)
    crl = root / "kiosk-crl.der"
    write_kiosk_crl(election, crl, revoked=[])
    kiosk_port = free_port()
    limits = [
        f"kiosk_port = {kiosk_port}",
        f"head_timeout = {HEAD_TIMEOUT}",
        "body_timeout = 3.0",
        f"max_anonymous_connections = {MAX_ANONYMOUS}",
        f'kiosk_crl = "{crl}"',
    ]
    text = central.config_path.read_text(encoding="utf-8")
    central.config_path.write_text(text.replace("[server]\n", "[server]\n" + "\n".join(limits) + "\n"), "utf-8")
    central.initialise(roll(50))
    central.start()
    yield Office(central, election, crl, kiosk_port)
    central.close()


def write_kiosk_crl(election: RealElection, path: Path, revoked: list[str]) -> None:
    ca = election.pki.kiosk_ca
    now = dt.datetime.now(dt.UTC)
    serials = [election.pki.kiosks[k].cert().serial_number for k in revoked]
    crl = xb.make_crl(xb.Issuer(ca.cert(), ca.key()), serials, now, now + dt.timedelta(days=1), len(revoked) + 1)
    xb.write_crl(path, crl)


def heartbeat_body(**backlog: int) -> dict[str, Any]:
    beat = Heartbeat(
        kiosk_id=KIOSK_ID,
        centre_id=CENTRE_ID,
        polls_state=KioskPollsState.OPEN,
        kiosk_clock=dt.datetime.now(dt.UTC),
        software_version="test",
        package_hash="0" * 64,
        backlog=Backlog(unbatched_ballots=0, outbox_items=0, pending_voted_marks=0, pending_releases=0),
        audit_count=0,
    )
    body: dict[str, Any] = json.loads(beat.model_dump_json())
    body["backlog"].update(backlog)
    return body


def kiosk_is_served(office: Office) -> bool:
    with office.http(kiosk=True) as c:
        r = c.post("/v1/heartbeat", json=heartbeat_body())
    return r.status_code == 200


def raw_request(
    context: ssl.SSLContext, port: int, head: bytes, body_chunk: bytes, total: int, deadline_s: float = 30.0
) -> tuple[int | None, int]:
    """Send ``head`` then up to ``total`` bytes of body; return (status of the answer, body bytes written)."""
    sent = 0
    deadline = time.monotonic() + deadline_s
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as s,
    ):
        s.sendall(head)
        s.settimeout(0.05)
        answer = b""
        while sent < total and time.monotonic() < deadline:
            try:
                answer += s.recv(65536)
                if answer:
                    break
            except (TimeoutError, ssl.SSLWantReadError):
                pass
            except OSError:
                break
            try:
                s.settimeout(5)
                s.sendall(body_chunk)
                sent += len(body_chunk)
                s.settimeout(0.05)
            except OSError:
                break
        s.settimeout(5)
        with contextlib.suppress(OSError):
            while b"\r\n" not in answer:
                more = s.recv(65536)
                if not more:
                    break
                answer += more
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else None
    return status, sent


# ---- point 5 and 6: bodies ---------------------------------------------------------------------------------


def test_a_200_mb_body_without_a_certificate_is_refused_before_it_is_read(office: Office) -> None:
    before = office.rss_mib()
    head = (
        b"POST /v1/heartbeat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 209715200\r\n\r\n"
    )
    status, sent = raw_request(office.anonymous_tls(), office.central.port, head, b"[" * MiB, 200 * MiB)
    assert status == 401  # no certificate: the kiosk route is refused, the body never read
    assert sent < 50 * MiB, f"the office took {sent / MiB:.0f} MiB of body before answering"
    assert office.rss_mib() - before < 30
    assert kiosk_is_served(office)


@pytest.mark.parametrize(
    ("path", "kiosk"),
    [("/v1/heartbeat", True), ("/v1/batches", True), ("/api/staff/login", False), ("/en", False)],
)
def test_an_oversized_body_is_refused_413_before_it_is_read(office: Office, path: str, kiosk: bool) -> None:
    before = office.rss_mib()
    context = office.kiosk_tls() if kiosk else office.anonymous_tls()
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {50 * MiB}"
    status, sent = raw_request(context, office.central.port, head.encode() + b"\r\n\r\n", b" " * MiB, 50 * MiB)
    assert status == 413
    assert sent < 20 * MiB
    assert office.rss_mib() - before < 30


def test_a_chunked_body_growing_past_the_limit_is_cut_off_413(office: Office) -> None:
    head = b"POST /api/staff/login HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunk = b"100000\r\n" + b" " * 0x100000 + b"\r\n"  # 1 MiB chunks, no declared length
    status, sent = raw_request(office.anonymous_tls(), office.central.port, head, chunk, 100 * MiB)
    assert status == 413
    assert sent < 20 * MiB


def test_kiosk_routes_refuse_a_client_without_certificate_before_the_body(office: Office) -> None:
    with office.http() as c:
        for path in ("/v1/checkins", "/v1/heartbeat", "/v1/batches", "/v1/audit-segments"):
            r = c.post(path, content=b"{not json at all")
            assert r.status_code == 401 and r.json()["error"] == "unknown_kiosk", (path, r.text)
        assert c.get("/en").status_code == 200  # the public dashboard needs no certificate


def test_the_kiosk_listener_refuses_a_client_without_certificate_in_the_tls_handshake(office: Office) -> None:
    answer = b""
    with socket.create_connection(("127.0.0.1", office.kiosk_port), timeout=5) as raw:
        try:
            with office.anonymous_tls().wrap_socket(raw, server_hostname="127.0.0.1") as s:
                s.sendall(b"POST /v1/heartbeat HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
                answer = s.recv(4096)  # TLS 1.3: the refusal of the handshake arrives with the first read
        except (ssl.SSLError, ConnectionError):
            pass
    assert answer == b"", f"an anonymous client got an answer on the kiosk listener: {answer[:80]!r}"
    with httpx.Client(base_url=f"https://127.0.0.1:{office.kiosk_port}", verify=office.kiosk_tls(), timeout=30) as c:
        assert c.post("/v1/heartbeat", json=heartbeat_body()).status_code == 200  # a kiosk is served there


# ---- point 7: held connections -----------------------------------------------------------------------------


def _hold(context: ssl.SSLContext | None, port: int, count: int) -> list[socket.socket]:
    held: list[socket.socket] = []
    for _ in range(count):
        raw = socket.create_connection(("127.0.0.1", port), timeout=5)
        if context is None:
            held.append(raw)  # TCP only: the TLS handshake never starts
            continue
        try:
            s = context.wrap_socket(raw, server_hostname="127.0.0.1")
            s.sendall(b"POST /api/staff/login HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            held.append(s)
        except OSError:
            raw.close()  # dropped at once over the cap
    return held


def _closed_by_office(s: socket.socket) -> bool:
    s.settimeout(0.01)
    try:
        s.sendall(b"X")  # slowloris: one more header byte
        return s.recv(1) == b""
    except (TimeoutError, ssl.SSLWantReadError):
        return False
    except OSError:
        return True


def test_slowloris_connections_are_dropped_and_kiosks_are_served_meanwhile(office: Office) -> None:
    log_before = office.central.log_path.stat().st_size
    trickling = _hold(office.anonymous_tls(), office.central.port, MAX_ANONYMOUS * 2)  # twice the cap
    silent = _hold(None, office.central.port, 100)
    try:
        assert len(trickling) <= MAX_ANONYMOUS * 2
        deadline = time.monotonic() + HEAD_TIMEOUT * 4
        served = 0
        while time.monotonic() < deadline:
            served += kiosk_is_served(office)
            open_ones = [s for s in trickling if not _closed_by_office(s)]
            if not open_ones and all(_closed_by_office(s) for s in silent):
                break
            time.sleep(0.2)
        still_open = [s for s in trickling if not _closed_by_office(s)]
        silent_open = [s for s in silent if not _closed_by_office(s)]
        assert not still_open, f"{len(still_open)} trickling connections still held after {HEAD_TIMEOUT * 4} s"
        assert not silent_open, f"{len(silent_open)} connections without a TLS handshake still held"
        assert served >= 3  # kiosks were answered all along
    finally:
        for s in trickling + silent:
            s.close()
    assert kiosk_is_served(office)
    grew = office.central.log_path.stat().st_size - log_before
    assert grew < 64 * 1024, f"the office's log grew {grew} bytes during the attack"


def test_a_slow_body_is_answered_408_within_the_body_timeout(office: Office) -> None:
    context = office.kiosk_tls()
    with (
        socket.create_connection(("127.0.0.1", office.central.port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as s,
    ):
        s.sendall(b"POST /v1/heartbeat HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{")
        started = time.monotonic()
        answer = s.recv(4096)
        waited = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
    assert waited < 10


# ---- point 9: bad input --------------------------------------------------------------------------------------


def nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def test_every_bad_input_is_a_clear_4xx(office: Office) -> None:
    pki = office.election.pki
    with office.http() as anon, office.http(kiosk=True) as kiosk:
        admin = login(anon, pki, "staff-admin-1")
        committee = login(anon, pki, "staff-cm-1")
        js = {"Content-Type": "application/json"}
        checkin = {"kiosk_id": KIOSK_ID, "centre_id": "PC\x00", "civil_number": "1", "idempotency_key": "0" * 32}
        infinity = json.dumps({"guardian": 1, "value": float("inf")})
        cases: list[tuple[str, httpx.Response]] = [
            ("NUL in a confirmation lookup", anon.get("/api/public/confirmation/AB%00CD")),
            ("NUL in a dashboard lookup", anon.get("/en/confirm", params={"code": "AB\x00CD"})),
            ("NUL in an envelope id", anon.post("/api/adjudication/e%00x", json={}, headers=committee)),
            ("NUL in a centre id", anon.post("/api/centres/PC%00/close", json={}, headers=admin)),
            (
                "NUL in a manual sheet's source_id",
                anon.post("/api/manual-sheets", content=b'{"source_id": "E-\\u0000"}', headers={**committee, **js}),
            ),
            ("NUL in a check-in's centre id", kiosk.post("/v1/checkins", content=json.dumps(checkin))),
            ("a sheet id beyond int32", anon.post("/api/manual-sheets/2147483648/approve", headers=committee)),
            ("a sheet id beyond 64 bits", anon.post(f"/api/manual-sheets/{2**70}/approve", headers=committee)),
            ("an audit cursor beyond int32", anon.get("/api/audit", params={"after": 2147483648}, headers=admin)),
            ("an audit cursor beyond 64 bits", anon.get("/api/audit", params={"after": 2**70}, headers=admin)),
            ("an audit seq of 2^40", kiosk.post("/v1/audit-segments", json=audit_segment(2**40))),
            ("JSON nested 255 levels (anonymous)", anon.post("/api/staff/login", content=nested(255))),
            ("JSON nested 5000 levels (kiosk)", kiosk.post("/v1/heartbeat", content=nested(5000))),
            (
                "a guardian share with Infinity",
                anon.post("/api/guardian-shares", content=infinity, headers={**admin, **js}),
            ),
            (
                "a guardian share with 1e400",
                anon.post("/api/guardian-shares", content=b'{"guardian": 1, "value": 1e400}', headers={**admin, **js}),
            ),
            ("a backlog of 2^70", kiosk.post("/v1/heartbeat", json=heartbeat_body(unbatched_ballots=2**70))),
            ("a backlog of 10^12", kiosk.post("/v1/heartbeat", json=heartbeat_body(pending_voted_marks=10**12))),
            ("an audit count of 10^15", kiosk.post("/v1/heartbeat", json={**heartbeat_body(), "audit_count": 10**15})),
        ]
    bad = {what: (r.status_code, r.text[:200]) for what, r in cases if not 400 <= r.status_code < 500}
    assert not bad, f"not a 4xx: {bad}"
    unclear = {what: r.text[:200] for what, r in cases if not _is_error_body(r)}
    assert not unclear, f"no protocol error body: {unclear}"
    assert kiosk_is_served(office)


def _is_error_body(r: httpx.Response) -> bool:
    try:
        body = r.json()
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("error"), str) and isinstance(body.get("detail"), str)


def audit_segment(seq: int) -> dict[str, Any]:
    entry = {
        "seq": seq,
        "kind": "session_event",
        "payload": {"event": "x"},
        "prev_hash": "0" * 64,
        "entry_hash": "0" * 64,
        "signature": base64.b64encode(b"x" * 64).decode(),
    }
    return {"protocol_version": 1, "kiosk_id": KIOSK_ID, "entries": [entry], "head": {**entry, "count": seq}}


# ---- point 10: a revoked kiosk -------------------------------------------------------------------------------


def test_a_revoked_kiosk_is_refused_at_its_next_request(office: Office) -> None:
    client = SyncClient(office.central.url, office.election.tls(), read_timeout=30)
    beat = Heartbeat.model_validate(heartbeat_body())
    try:
        client.heartbeat(beat)  # served; the connection stays open (keep-alive)
        other = "K-PC-002-1"
        other_beat = {**heartbeat_body(), "kiosk_id": other, "centre_id": "PC-002"}
        with httpx.Client(base_url=office.central.url, verify=office.kiosk_tls(other), timeout=30) as c:
            assert c.post("/v1/heartbeat", json=other_beat).status_code == 200
        write_kiosk_crl(office.election, office.crl, revoked=[KIOSK_ID])
        with pytest.raises(Exception) as refused:
            client.heartbeat(beat)
        assert "403" in str(refused.value) and "revoked" in str(refused.value)
        with httpx.Client(base_url=office.central.url, verify=office.kiosk_tls(other), timeout=30) as c:
            r = c.post("/v1/heartbeat", json=other_beat)
            assert r.status_code == 200  # only the revoked kiosk is refused
    finally:
        write_kiosk_crl(office.election, office.crl, revoked=[])
        client.close()
    assert kiosk_is_served(office)


# ---- point 8: failed logins ----------------------------------------------------------------------------------


def test_6000_failed_logins_are_limited_and_aggregated_in_the_audit_log(office: Office) -> None:
    from sqlalchemy import func, select

    from central.models import AuditEntry

    def refused_entries() -> int:
        with office.central.db.transaction() as s:
            n = s.scalar(select(func.count()).where(AuditEntry.action == "staff.login_refused"))
        return int(n or 0)

    before = refused_entries()
    pem = office.election.pki.card("staff-admin-1").auth.cert_path.read_text()
    body = {"certificate_pem": pem, "nonce": "0" * 64, "signature": base64.b64encode(bytes(48)).decode()}
    statuses: dict[int, int] = {}
    started = time.monotonic()
    with office.http() as anon:
        for _ in range(6000):
            status = anon.post("/api/staff/login", json=body).status_code
            statuses[status] = statuses.get(status, 0) + 1
        limited = anon.post("/api/staff/login", json=body)
    assert set(statuses) <= {401, 422, 429}, statuses
    assert statuses.get(429, 0) >= 5900, statuses  # all but the first few are refused before any work
    assert limited.status_code == 429 and limited.json()["error"] == "too_many_requests"
    # at most two entries per aggregation window (its first refusal at once, the rest when it ends), however many
    # refusals: 6,000 take under one window on a quiet machine, a few windows on a loaded one
    windows = math.ceil((time.monotonic() - started) / WINDOW)
    assert refused_entries() - before <= 2 * windows, "one audit entry per refused login"
    assert kiosk_is_served(office)
