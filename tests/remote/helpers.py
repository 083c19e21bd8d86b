"""Test material for the voter app and the second-device check (TEST MATERIAL: keys made per test run).

* a signed election package built from the package tests' small election, with an election key from a small key
  ceremony, a ``remote_voting`` member naming the collector and the collector's TLS certificate in
  ``trust/collector.pem``;
* a collector TLS certificate for 127.0.0.1 issued by a test CA (the package pins the leaf itself);
* a tiny HTTPS server (uvicorn in a thread, no client certificate) serving recorded collector answers.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from devtools.sample_election import run_key_ceremony
from devtools.sample_record import SeededRandom
from election.ballot import EncryptedBallot, PlaintextBallot, encrypt_ballot
from election.context import ElectionContext
from election.manifest import BallotStyleId, CandidateId, ContestId, Manifest
from election.package import ElectionPackage, load_package, write_package
from tests.package.conftest import CREATED, package_files, small_manifest_dict

COLLECTOR_ID = "K-1"
NOW = dt.datetime(2027, 10, 27, 8, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class TlsMaterial:
    cert_pem: bytes
    key_pem: bytes
    cert: x509.Certificate


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def tls_material(common: str = "collector TEST MATERIAL") -> TlsMaterial:
    """A CA and a leaf for 127.0.0.1 under it; the leaf (and its key) is returned."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    key = ec.generate_private_key(ec.SECP256R1())
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    end = start + dt.timedelta(days=30)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common))
        .issuer_name(_name("collector CA TEST MATERIAL"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return TlsMaterial(cert.public_bytes(serialization.Encoding.PEM), key_pem, cert)


@dataclass(frozen=True)
class Election:
    package: ElectionPackage
    package_path: Path
    commission_pub: Path
    context: ElectionContext
    manifest: Manifest
    tls: TlsMaterial


def build_election(tmp: Path, *, collector_cert: bool = True) -> Election:
    manifest_dict = small_manifest_dict()
    manifest_dict["remote_voting"] = {
        "collector_ids": [COLLECTOR_ID],
        "windows": [
            {"group": "home", "opens": "2027-10-20T04:00:00+00:00", "closes": "2027-10-27T15:00:00+00:00"},
        ],
    }
    files = package_files(manifest_dict)
    manifest = Manifest.from_dict(json.loads(files["manifest.json"]))
    context, _, _ = run_key_ceremony(manifest.manifest_hash, 3, 2, SeededRandom(7))
    files["keys/election-context.json"] = json.dumps(context.to_dict()).encode()
    tls = tls_material()
    if collector_cert:
        files["trust/collector.pem"] = tls.cert_pem
    commission = Ed25519PrivateKey.generate()
    data = write_package(files, commission, created=CREATED)
    path = tmp / "election.zip"
    path.write_bytes(data)
    pub = tmp / "commission.pub"
    pub.write_bytes(
        commission.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    package = load_package(data, commission.public_key())
    return Election(package, path, pub, context, package.manifest, tls)


def encrypt(
    election: Election, choices: dict[str, list[str]], ballot_id: str, seed: bytes, style: str = "BS-MCT"
) -> EncryptedBallot:
    plain = PlaintextBallot(
        BallotStyleId(style), {ContestId(c): frozenset(CandidateId(x) for x in v) for c, v in choices.items()}
    )
    return encrypt_ballot(election.context, election.manifest, plain, ballot_id=ballot_id, seed=seed)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class HttpsServer:
    """An ASGI app under uvicorn with TLS (server certificate only) on 127.0.0.1, in a thread."""

    def __init__(self, app: Any, tls: TlsMaterial, tmp: Path) -> None:
        self.cert, self.key = tmp / "srv-cert.pem", tmp / "srv-key.pem"
        self.cert.write_bytes(tls.cert_pem)
        self.key.write_bytes(tls.key_pem)
        self.app = app
        self.port = free_port()
        self._server: uvicorn.Server | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def __enter__(self) -> HttpsServer:
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, ssl_certfile=str(self.cert), ssl_keyfile=str(self.key),
            log_level="warning", lifespan="off", timeout_graceful_shutdown=1,
        )  # fmt: skip
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("test HTTPS server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.should_exit = True
        self._thread.join(timeout=5)


def voter_package(e: Any) -> ElectionPackage:
    """The package as the app holds it after load_package (its signature checks are tested in test_verify_cli)."""
    pki = e.pki
    return ElectionPackage(
        manifest=e.manifest,
        package_hash="0" * 64,
        index={},
        files={"trust/collector.pem": pki.central_server.cert().public_bytes(Encoding.PEM)},
        card_roots=tuple(pki.trust_roots()),
        card_intermediates=tuple(pki.intermediates()),
        kiosk_ca=pki.kiosk_ca.cert(),
        central_ca=pki.central_ca.cert(),
        crls=tuple(pki.crls()),
        election_context=e.context.to_dict(),
        central_envelope_key=None,
    )
