"""At close the collector hands each credential's last ballot to the REAL central office (``python -m central
serve``: HTTPS with mutual TLS, PostgreSQL, its ingest verifying every proof and the chain) through the real sync
client, as a kiosk-like source: check-ins first, then chained batches with signed heads, then the signed close; then
``remote/`` with the collector's signed statement over it. A voter who also voted at a kiosk is found by the poll
book and that credential is voided, not counted."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from pathlib import Path

import pytest
from nacl.public import PrivateKey

from central.pollbook import import_roll
from collector.handover import hand_over
from collector.record import STATEMENT, STATEMENT_LABEL, write_remote_part
from collector.service import Collector
from devtools.real_office import CentralOffice, RealElection, accepted_ids, central_view, expected_tally, tally_of
from devtools.test_pki import generate as generate_pki
from election.canonical import canonical_json
from election.chain_statement import kiosk_signature_holds
from sync.client import SyncClient, TlsIdentity
from sync.protocol import BallotDisposition, BatchBallot, CheckinRequest, CheckinStatus, VotedMark
from sync.signing import Signer, public_key_of_cert
from tests.collector.conftest import COLLECTOR_ID, RemoteElection, Served, VoterApp

pytestmark = pytest.mark.integration

KIOSK = "K-PC-001-1"


def vote_at_kiosk(port: int, real: RealElection, civil_number: str) -> None:
    """``civil_number`` votes in person at KIOSK (check-in and voted mark), and the office cannot tell the collector
    in time (no collector link configured in these tests)."""
    kiosk = SyncClient(f"https://127.0.0.1:{port}", real.tls(KIOSK))
    try:
        answer = kiosk.checkin(
            CheckinRequest(
                kiosk_id=KIOSK, centre_id="PC-001", civil_number=civil_number, idempotency_key=secrets.token_hex(16)
            )
        )
        assert answer.status is CheckinStatus.ELIGIBLE and answer.checkin_token
        kiosk.voted(answer.checkin_token, VotedMark(kiosk_id=KIOSK))
    finally:
        kiosk.close()


def office_election(remote: RemoteElection, root: Path) -> RealElection:
    """The same manifest and context, with the office's own PKI (kiosk certificates, the collector's among them)."""
    pki = generate_pki(root / "pki", [], [k.id for k in remote.manifest.kiosks], now=dt.datetime.now(dt.UTC))
    (root / "election").mkdir(parents=True)
    (root / "election" / "manifest.json").write_text(json.dumps(remote.manifest.to_dict()), encoding="utf-8")
    (root / "election" / "election-context.json").write_text(json.dumps(remote.context.to_dict()), encoding="utf-8")
    envelope = PrivateKey.generate()
    (root / "envelope.key").write_text(bytes(envelope).hex(), encoding="ascii")
    return RealElection(remote.manifest, remote.context, pki, envelope, root)


def test_counted_remote_ballots_reach_the_office_tally(
    served: Served, collector: Collector, remote_election: RemoteElection, pg_database: str, tmp_path: Path
) -> None:
    real = office_election(remote_election, tmp_path / "office-election")
    central = CentralOffice(real, pg_database, tmp_path / "office")
    central.initialise([])
    office = central.in_process()
    try:
        with office.db.transaction() as s:
            import_roll(s, office.manifest, list(remote_election.roll.values()))
    finally:
        office.close()
    apps = {c: VoterApp(served.client(), remote_election, c) for c in ("10000001", "10000002", "10000003")}
    last = {}
    for civil, app in apps.items():
        assert app.register().status_code == 200
        for _ in range(2 if civil == "10000001" else 1):  # voter 1 votes again: only the second counts
            ballot, _ = app.ballot()
            assert app.submit(app.submission(ballot)).status_code == 200
            last[civil] = ballot
    central.start()
    try:
        vote_at_kiosk(central.port, real, "10000003")  # voter 3 also votes at a kiosk
        pair = real.pki.kiosks[COLLECTOR_ID]
        client = SyncClient(
            f"https://127.0.0.1:{central.port}",
            TlsIdentity(pair.cert_path, pair.key_path, real.pki.central_ca.cert_path),
        )
        done = hand_over(
            collector.db,
            remote_election.manifest,
            remote_election.context.base_hash,
            COLLECTOR_ID,
            client,
            Signer.from_pem_file(pair.key_path),
            collector.now(),
        )
        client.close()
        view = central_view(central.db)
    finally:
        central.close()
    assert done.checked_in == 2 and done.already_voted == 1 and done.batches == 1
    assert accepted_ids(view, COLLECTOR_ID) == {last["10000001"].ballot_id, last["10000002"].ballot_id}
    assert view.chain_heads[COLLECTOR_ID] == done.last_root
    assert view.voted == 3  # two remote voters and the one who voted in person
    statuses = {s["ballot_id"]: s["status"] for s in done.part.files["remote/submissions.json"]["submissions"]}
    assert statuses[last["10000003"].ballot_id] == "voided"
    assert done.part.files["remote/counts.json"]["counted"] == 2
    counted = [
        BatchBallot(
            ballot_id=c.ballot_id, ballot_style_id=c.style_id, disposition=BallotDisposition.CAST,
            confirmation_code="0" * 64, encrypted_ballot=c.ballot,
        )
        for c in done.part.counted
    ]  # fmt: skip
    assert tally_of(view) == expected_tally(real, counted)  # the office's tally is the counted ballots' sum

    # remote/ as written carries the collector's statement: each file's SHA-256 as written, the counts, the root of
    # the chain the office holds, signed by the collector's enrolled kiosk key under its own label
    out = tmp_path / "record"
    write_remote_part(done.part, out)
    statement = json.loads((out / STATEMENT).read_bytes())
    for name in ("credentials.json", "voided.json", "submissions.json", "counts.json"):
        assert statement["files"][name] == hashlib.sha256((out / "remote" / name).read_bytes()).hexdigest()
    assert statement["root"] == view.chain_heads[COLLECTOR_ID] and statement["collector_id"] == COLLECTOR_ID
    assert statement["counts"]["counted"] == 2 and statement["counts"]["voided"] == 1
    body = {k: v for k, v in statement.items() if k != "signature"}
    key = public_key_of_cert(pair.cert())
    assert kiosk_signature_holds(key, STATEMENT_LABEL + b"\x00" + canonical_json(body), statement["signature"])
    assert not kiosk_signature_holds(key, b"sanduq/chain-close/v2\x00" + canonical_json(body), statement["signature"])
