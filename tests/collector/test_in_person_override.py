"""An in-person vote overrides a remote one, through the real office over HTTPS (mutual TLS, PostgreSQL) and the
collector's internal listener (mutual TLS): the kiosk's check-in answer says the voter's remote vote will be
replaced, the voted mark voids the credential at the collector; a voter who walks away keeps their remote vote;
an unreachable collector never stops the in-person vote."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from central.api import create_app
from central.config import CentralConfig
from central.db import migrate
from central.office import Office, enrol_kiosk
from central.pollbook import import_roll
from collector.handover import hand_over
from collector.record import remote_part
from devtools.pg import PostgresServer
from sync.client import SyncClient, TlsIdentity
from sync.protocol import CheckinRelease, CheckinRequest, CheckinResponse, CheckinStatus, ReleaseReason, VotedMark
from sync.remote_link import RemoteLinkConfig
from sync.signing import Signer
from tests.central.https import https_office
from tests.collector.conftest import COLLECTOR_ID, RemoteElection, Served, VoterApp
from tests.collector.test_handover import office_election

pytestmark = pytest.mark.integration

KIOSK = "K-PC-001-1"


def office_with_link(remote: RemoteElection, url: str, tmp: Path, collector_url: str) -> tuple[Office, object]:
    real = office_election(remote, tmp / "office-election")
    client = remote.pki.kiosks["office-client"]  # a certificate the collector's internal listener accepts
    config = CentralConfig(
        database_url=url,
        election_dir=real.election_dir,
        record_dir=tmp / "record",
        kiosk_ca=real.pki.kiosk_ca.cert_path,
        envelope_private_key=real.envelope_key_path,
        ingest_workers=0,
        office_signing_key=real.pki.central_server.key_path,
        office_certificate=real.pki.central_server.cert_path,
        remote_collector=RemoteLinkConfig(
            collector_url, client.cert_path, client.key_path, remote.pki.central_ca.cert_path
        ),
    )
    migrate(url)
    office = Office.open(config)
    office.prepare()
    with office.db.transaction() as s:
        for k in real.manifest.kiosks:
            enrol_kiosk(s, office, real.pki.kiosks[k.id].cert(), actor="test-setup", now=office.clock())
        import_roll(s, office.manifest, list(remote.roll.values()))
    return office, real


def checkin(kiosk: SyncClient, civil: str) -> CheckinResponse:
    return kiosk.checkin(
        CheckinRequest(kiosk_id=KIOSK, centre_id="PC-001", civil_number=civil, idempotency_key=secrets.token_hex(16))
    )


def test_the_kiosk_is_told_and_the_voted_mark_voids(
    served: Served, remote_election: RemoteElection, pg_database: str, tmp_path: Path
) -> None:
    voters = {c: VoterApp(served.client(), remote_election, c) for c in ("10000001", "10000002")}
    for app in voters.values():
        assert app.register().status_code == 200
        ballot, _ = app.ballot()
        assert app.submit(app.submission(ballot)).status_code == 200
    office, real = office_with_link(remote_election, pg_database, tmp_path, served.internal)
    try:
        with https_office(create_app(office), real) as https:  # type: ignore[arg-type]
            kiosk = SyncClient(https.base, real.tls(KIOSK))  # type: ignore[attr-defined]
            # voter 2 checks in, is told, and walks away: the remote vote stands
            answer = checkin(kiosk, "10000002")
            assert answer.status is CheckinStatus.ELIGIBLE and answer.remote_vote_replaced is True
            assert answer.checkin_token is not None
            kiosk.release(answer.checkin_token, CheckinRelease(kiosk_id=KIOSK, reason=ReleaseReason.CARD_REMOVED))
            assert voters["10000002"].my_votes().json()["voided"] is False
            # voter 1 checks in, is told, votes: the credential is voided at the collector
            answer = checkin(kiosk, "10000001")
            assert answer.remote_vote_replaced is True and answer.checkin_token is not None
            kiosk.voted(answer.checkin_token, VotedMark(kiosk_id=KIOSK))
            assert voters["10000001"].my_votes().json()["voided"] is True
            # a voter without a remote vote is told nothing
            answer = checkin(kiosk, "10000003")
            assert answer.status is CheckinStatus.ELIGIBLE and answer.remote_vote_replaced is False
            kiosk.close()
            # the handover's own check-ins and voted marks are not taken for in-person votes
            pair = real.pki.kiosks[COLLECTOR_ID]  # type: ignore[attr-defined]
            client = SyncClient(https.base, TlsIdentity(pair.cert_path, pair.key_path, real.pki.central_ca.cert_path))  # type: ignore[attr-defined]
            done = hand_over(
                served.collector.db,
                remote_election.manifest,
                remote_election.context.base_hash,
                COLLECTOR_ID,
                client,
                Signer.from_pem_file(pair.key_path),
                served.collector.now(),
            )
            client.close()
    finally:
        office.close()
    assert done.checked_in == 1 and done.already_voted == 0
    assert voters["10000002"].my_votes().json()["voided"] is False
    part = remote_part(served.collector.db, "REMOTE-01")
    assert part.files["remote/voided.json"]["voided"] == [voters["10000001"].credential]
    assert [c.credential for c in part.counted] == [voters["10000002"].credential]


def test_an_unreachable_collector_never_stops_an_in_person_vote(
    remote_election: RemoteElection, pg_server: PostgresServer, tmp_path: Path
) -> None:
    url = pg_server.create_database()
    office, real = office_with_link(remote_election, url, tmp_path, "https://127.0.0.1:9")  # nobody listens there
    try:
        with https_office(create_app(office), real) as https:  # type: ignore[arg-type]
            kiosk = SyncClient(https.base, real.tls(KIOSK))  # type: ignore[attr-defined]
            answer = checkin(kiosk, "10000001")
            assert answer.status is CheckinStatus.ELIGIBLE and answer.remote_vote_replaced is False
            assert answer.checkin_token is not None
            assert kiosk.voted(answer.checkin_token, VotedMark(kiosk_id=KIOSK)).status.value == "recorded"
            kiosk.close()
    finally:
        office.close()
