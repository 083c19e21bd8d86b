"""The client's retry policy and its typed outcomes against a real mutual-TLS server."""

from __future__ import annotations

import random
import secrets

import pytest

from devtools.tls_server import free_port
from sync.client import Backoff, Rejected, SyncClient, TlsIdentity, Unreachable, with_retries
from sync.protocol import CheckinRequest, CheckinStatus, ErrorCode, VotedMark
from tests.sync.conftest import TestDoubleOffice


def test_backoff_grows_exponentially_with_full_jitter_and_a_cap() -> None:
    top = Backoff(base=1.0, cap=8.0, rng=_Max())
    assert [top.next_delay() for _ in range(6)] == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    top.reset()
    assert top.next_delay() == 1.0
    jittered = Backoff(base=1.0, cap=8.0, rng=random.Random(1))
    delays = [jittered.next_delay() for _ in range(50)]
    assert all(0 <= d <= 8.0 for d in delays) and len(set(delays)) == 50


class _Max(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return b


def test_with_retries_stops_at_the_first_success_and_gives_up_after_n() -> None:
    calls: list[int] = []
    sleeps: list[float] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise Unreachable("down")
        return "ok"

    assert with_retries(flaky, attempts=5, backoff=Backoff(rng=random.Random(0)), sleep=sleeps.append) == "ok"
    assert len(calls) == 3 and len(sleeps) == 2
    with pytest.raises(Unreachable):
        with_retries(
            lambda: (_ for _ in ()).throw(Unreachable("x")), attempts=2, backoff=Backoff(), sleep=sleeps.append
        )


@pytest.mark.integration
def test_typed_outcomes_over_mutual_tls(
    client: SyncClient, test_double_office: TestDoubleOffice, tls: TlsIdentity
) -> None:
    request = CheckinRequest(
        kiosk_id="K-001", centre_id="C-01", civil_number="9000001", idempotency_key=secrets.token_hex(16)
    )
    first = client.checkin(request)
    assert first.status is CheckinStatus.ELIGIBLE
    assert client.checkin(request).checkin_token == first.checkin_token  # a retried check-in: same lock
    with pytest.raises(Rejected) as info:
        client.voted("u" * 32, VotedMark(kiosk_id="K-001"))
    assert info.value.status == 404 and info.value.error.error is ErrorCode.UNKNOWN_TOKEN
    nobody = SyncClient(f"https://127.0.0.1:{free_port()}", tls, connect_timeout=0.5)
    with pytest.raises(Unreachable):
        nobody.checkin(request)
    nobody.close()


@pytest.mark.integration
def test_a_server_outside_the_pinned_ca_is_unreachable(
    test_double_office: TestDoubleOffice, tls: TlsIdentity, pki
) -> None:
    wrong_root = TlsIdentity(cert=tls.cert, key=tls.key, ca=pki.kiosk_ca.cert_path)  # not the office CA
    client = SyncClient(test_double_office.server.url, wrong_root)
    with pytest.raises(Unreachable, match="SSLError"):
        client.checkin(
            CheckinRequest(
                kiosk_id="K-001", centre_id="C-01", civil_number="9000002", idempotency_key=secrets.token_hex(16)
            )
        )
    client.close()
