"""Fixtures for the vote collector: the small demo election with remote voting (a collector kiosk, windows for
voters abroad and at home), a real key ceremony, a test card PKI (a revoked card, a staff card), a roll, the
collector on SQLite or PostgreSQL served by uvicorn over real TLS on loopback, and a simulated voter app."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import os
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.serialization import Encoding

from collector.db import Database, migrate
from collector.election_data import ElectionData
from collector.limits import Limiter, RateLimits
from collector.server import Tls, servers
from collector.service import Collector
from devtools import test_pki
from devtools.demo_election.build import small_manifest
from devtools.pg import pg_database, pg_server  # noqa: F401  (fixtures re-exported for this directory)
from devtools.sample_election import random_plaintext, run_key_ceremony
from election.ballot import EncryptedBallot, encrypt_ballot
from election.canonical import canonical_json
from election.context import ElectionContext
from election.manifest import KioskId, Manifest
from election.remote_statement import BallotStatement, CardPurpose, card_nonce, credential_hex
from election.roll import CivilNumber, RollEntry
from kiosk.card.pki import Challenge
from kiosk.card.trust import TrustAnchors

COLLECTOR_ID = "REMOTE-01"
T0 = dt.datetime.now(dt.UTC).replace(microsecond=0)  # both windows open (the test PKI's CRLs are current now)
HOME_OPENS = T0 - dt.timedelta(hours=1)
ABROAD_OPENS = T0 - dt.timedelta(days=7)
CLOSES = T0 + dt.timedelta(hours=11)
# voters of the card PKI (civil numbers 10000001..): 1-3 at home, 4 abroad, 5 not eligible, 6 revoked
ABROAD = "10000004"
NOT_ELIGIBLE = "10000005"
REVOKED = "10000006"
NOT_ON_ROLL = "10000007"


def remote_manifest() -> Manifest:
    data = small_manifest().to_dict()
    data["centres"].append(
        {"id": "REMOTE", "name": {"ar": "التصويت عن بعد", "en": "Remote voting"}, "wilayat": "MA-04", "unified": True,
         "serves": []}
    )  # fmt: skip
    data["kiosks"].append({"id": COLLECTOR_ID, "centre": "REMOTE"})
    data["remote_voting"] = {
        "collector_ids": [COLLECTOR_ID],
        "windows": [
            {"group": "abroad", "opens": ABROAD_OPENS.isoformat(), "closes": CLOSES.isoformat()},
            {"group": "home", "opens": HOME_OPENS.isoformat(), "closes": CLOSES.isoformat()},
        ],
    }
    return Manifest.from_dict(data)


@dataclass(frozen=True)
class RemoteElection:
    manifest: Manifest
    context: ElectionContext
    secrets: Any
    pki: test_pki.TestPki
    anchors: TrustAnchors
    roll: dict[CivilNumber, RollEntry]


@pytest.fixture(scope="session")
def remote_election(tmp_path_factory: pytest.TempPathFactory) -> RemoteElection:
    manifest = remote_manifest()
    context, _guardians, secrets = run_key_ceremony(manifest.manifest_hash, 3, 2, os.urandom)
    now = dt.datetime.now(dt.UTC)
    voters = test_pki.synthetic_voters(7, now)
    pki = test_pki.generate(
        tmp_path_factory.mktemp("collector-pki") / "pki", voters, ["office-client"], now=now, revoke=[REVOKED]
    )
    anchors = TrustAnchors(pki.trust_roots(), pki.intermediates(), pki.crls())
    wilayats = [w.code for w in manifest.wilayats]
    roll = {
        CivilNumber(v.civil_number): RollEntry(
            CivilNumber(v.civil_number), wilayats[i % 3], v.civil_number != NOT_ELIGIBLE
        )
        for i, v in enumerate(voters)
        if v.civil_number != NOT_ON_ROLL
    }
    return RemoteElection(manifest, context, secrets, pki, anchors, roll)


@dataclass
class Clock:
    now: dt.datetime = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += dt.timedelta(**kwargs)


def make_collector(election: RemoteElection, url: str, clock: Clock, limits: RateLimits | None = None) -> Collector:
    migrate(url)
    data = ElectionData(
        election.manifest,
        election.context,
        election.anchors,
        election.roll,
        frozenset({CivilNumber(ABROAD)}),
        KioskId(COLLECTOR_ID),
    )
    return Collector(
        Database(url), data, clock, os.urandom, Limiter(limits or RateLimits(client_rate=1000, client_burst=1000))
    )


@dataclass
class Served:
    base: str
    internal: str
    collector: Collector
    election: RemoteElection
    clients: list[httpx.Client] = field(default_factory=list)

    def _ctx(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.election.pki.central_ca.cert_path))

    def client(self) -> httpx.Client:
        c = httpx.Client(base_url=self.base, verify=self._ctx(), timeout=60)
        self.clients.append(c)
        return c

    def office(self, *, with_certificate: bool = True) -> httpx.Client:
        ctx = self._ctx()
        if with_certificate:
            pair = self.election.pki.kiosks["office-client"]
            ctx.load_cert_chain(str(pair.cert_path), str(pair.key_path))
        c = httpx.Client(base_url=self.internal, verify=ctx, timeout=60)
        self.clients.append(c)
        return c


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve(collector: Collector, election: RemoteElection) -> Iterator[Served]:
    """The collector as ``python -m collector serve`` runs it: uvicorn, TLS (the test PKI's server certificate),
    the internal listener requiring a client certificate (here from the test PKI's kiosk CA, standing in for the
    office's)."""
    pki = election.pki
    port, internal = _port(), _port()
    tls = Tls(pki.central_server.cert_path, pki.central_server.key_path, pki.kiosk_ca.cert_path)
    both = servers(collector, tls, "127.0.0.1", port, internal)
    threads = [threading.Thread(target=s.run, daemon=True) for s in both]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while not all(s.started for s in both) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert all(s.started for s in both), "the collector did not start"
    served = Served(f"https://127.0.0.1:{port}", f"https://127.0.0.1:{internal}", collector, election)
    try:
        yield served
    finally:
        for c in served.clients:
            c.close()
        for s in both:
            s.should_exit = True
        for t in threads:
            t.join(timeout=10)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def collector(remote_election: RemoteElection, tmp_path: Path, clock: Clock) -> Collector:
    return make_collector(remote_election, f"sqlite:///{tmp_path / 'collector.db'}", clock)


@pytest.fixture
def served(collector: Collector, remote_election: RemoteElection) -> Iterator[Served]:
    with serve(collector, remote_election) as s:
        yield s


# ---- a simulated voter app (what remote/ does with a real card; here the card's key signs directly) -------------


@dataclass
class VoterApp:
    """The protocol steps of the voter app; the 'card' is the test PKI card's key (ECDSA P-256, DER)."""

    http: httpx.Client
    election: RemoteElection
    civil_number: str
    credential_key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    sequence: int = 0

    @property
    def card(self) -> test_pki.CardFiles:
        return self.election.pki.card(self.civil_number)

    @property
    def credential(self) -> str:
        return credential_hex(self.credential_key)

    def post(self, path: str, body: Any) -> httpx.Response:
        return self.http.post(path, content=canonical_json(body), headers={"content-type": "application/json"})

    def challenge(self) -> dict[str, Any]:
        r = self.post("/r1/challenge", {})
        assert r.status_code == 200, r.text
        return dict(r.json())

    def card_sign(self, challenge: dict[str, Any], purpose: CardPurpose, extra: bytes) -> dict[str, Any]:
        statement = Challenge(
            card_nonce(purpose, bytes.fromhex(challenge["nonce"]), extra),
            challenge["collector_id"],
            challenge["election_id"],
            dt.datetime.fromisoformat(challenge["issued_at"]),
        )
        key = self.card.auth.key()
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        signature = key.sign(statement.digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        der = self.card.auth.cert().public_bytes(Encoding.DER)
        return {
            "challenge_id": challenge["challenge_id"],
            "certificate": base64.b64encode(der).decode(),
            "signature": base64.b64encode(signature).decode(),
            "ecdsa_format": "der",
        }

    def register(self, challenge: dict[str, Any] | None = None) -> httpx.Response:
        challenge = challenge or self.challenge()
        raw = self.credential_key.public_key().public_bytes_raw()
        body = self.card_sign(challenge, CardPurpose.REGISTER, raw) | {"credential": self.credential}
        return self.post("/r1/credentials", body)

    def my_votes(self) -> httpx.Response:
        return self.post("/r1/my-votes", self.card_sign(self.challenge(), CardPurpose.MY_VOTES, b""))

    def ballot(self, style_id: str | None = None) -> tuple[EncryptedBallot, bytes]:
        manifest = self.election.manifest
        style = style_id or manifest.style_for_wilayat(self.election.roll[CivilNumber(self.civil_number)].wilayat).id
        seed = os.urandom(32)
        plain = random_plaintext(manifest, style, os.urandom)  # type: ignore[arg-type]
        return encrypt_ballot(self.election.context, manifest, plain, ballot_id=os.urandom(16).hex(), seed=seed), seed

    def submission(self, ballot: EncryptedBallot, *, sequence: int | None = None) -> dict[str, Any]:
        if sequence is None:
            self.sequence += 1
            sequence = self.sequence
        statement = BallotStatement(
            str(self.election.manifest.election_id),
            COLLECTOR_ID,
            self.credential,
            os.urandom(16).hex(),
            sequence,
            ballot.ballot_id,
            ballot.ballot_hash.hex(),
        )
        return {
            "submission_id": statement.submission_id,
            "credential": self.credential,
            "sequence": sequence,
            "ballot": ballot.to_dict(),
            "signature": statement.sign(self.credential_key),
        }

    def submit(self, body: dict[str, Any]) -> httpx.Response:
        return self.post("/r1/ballots", body)
