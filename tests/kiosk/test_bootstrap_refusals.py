"""``kiosk.bootstrap.build_station`` refuses every configuration problem with a ``StartRefused`` that tells staff
which file is wrong and how, and leaves nothing half-started: no thread running, no ballot box left open, and no
ballot box created when the problem is found before it is opened.

The election is the package tests' small election (kiosks K-1 and K-2), with an election key from a small key
ceremony and an office envelope key, signed with the test PKI's commission key; the kiosk's TLS material is the
test PKI's (TEST MATERIAL, made per run). The reader is named, so no pcscd is needed except where the reader
lookup itself is the problem (a fake PC/SC context stands in for pcscd there).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from cryptography.x509.oid import NameOID
from nacl.public import PrivateKey as SealPrivateKey

import kiosk.start_checks as start_checks
from devtools.sample_election import run_key_ceremony
from devtools.sample_record import SeededRandom
from devtools.test_pki import generate as generate_pki
from devtools.test_pki.model import TestPki
from election.manifest import Manifest
from election.package import CENTRAL_ENVELOPE_KEY, ELECTION_CONTEXT, KIOSK_CA, write_package
from kiosk.ballot_box import BallotBox
from kiosk.bootstrap import STAFF_ADVICE, StartRefused, StationConfig, build_station
from kiosk.card.transport import CardIoError
from sync.signing import Signer
from tests.package.conftest import CREATED, package_files, small_manifest_dict

KIOSK = "K-1"
OTHER_KIOSK = "K-2"  # the election's other kiosk, at another centre
READER = "Sanduq TEST reader 0"


@dataclasses.dataclass(frozen=True)
class Election:
    root: Path
    pki: TestPki
    files: dict[str, bytes]
    """The package's members (manifest, media, trust, the election context and the envelope key)."""
    package: Path
    """The good package, signed with the test PKI's commission key."""

    def signed(self, name: str, files: dict[str, bytes]) -> Path:
        """Another package with these members, signed with the same commission key."""
        path = self.root / name
        path.write_bytes(write_package(files, self.pki.commission_private_key(), created=CREATED))
        return path


@pytest.fixture(scope="module")
def election(tmp_path_factory: pytest.TempPathFactory) -> Election:
    root = tmp_path_factory.mktemp("bootstrap")
    pki = generate_pki(root / "pki", [], [KIOSK, OTHER_KIOSK], now=dt.datetime.now(dt.UTC))
    files = package_files(small_manifest_dict())
    files[KIOSK_CA] = pki.kiosk_ca.cert().public_bytes(Encoding.PEM)  # the CA of this PKI's kiosk certificates
    manifest = Manifest.from_dict(json.loads(files["manifest.json"]))
    context, _, _ = run_key_ceremony(manifest.manifest_hash, 1, 1, SeededRandom(19))
    files[ELECTION_CONTEXT] = json.dumps(context.to_dict()).encode()
    files[CENTRAL_ENVELOPE_KEY] = bytes(SealPrivateKey.generate().public_key)
    e = Election(root, pki, files, root / "election.sanduq")
    e.signed(e.package.name, files)
    return e


@pytest.fixture
def config(election: Election, tmp_path: Path) -> StationConfig:
    return _with_config(election, tmp_path)


def _with_config(election: Election, tmp_path: Path) -> StationConfig:
    """Kiosk K-1 with its own TLS material from the test PKI, its ballot box under ``tmp_path``."""
    tls = election.pki.kiosks[KIOSK]
    return StationConfig(
        package=election.package, commission_key=election.pki.commission_public_path, kiosk_id=KIOSK,
        central_url="https://127.0.0.1:9", kiosk_cert=tls.cert_path, kiosk_key=tls.key_path,
        central_ca=election.pki.out_dir / "central" / "ca.pem", db=tmp_path / "ballot-box.sqlite3", reader=READER,
    )  # fmt: skip


class _WatchedBox(BallotBox):
    """The real ballot box, remembering every one opened and whether it was closed."""

    opened: ClassVar[list[_WatchedBox]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.closed = False
        _WatchedBox.opened.append(self)

    def close(self) -> None:
        self.closed = True
        super().close()


@pytest.fixture
def boxes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[_WatchedBox]]:
    _WatchedBox.opened = []
    monkeypatch.setattr(start_checks, "BallotBox", _WatchedBox)
    yield _WatchedBox.opened
    for box in _WatchedBox.opened:
        if not box.closed:
            BallotBox.close(box)


def refused(config: StationConfig, boxes: list[_WatchedBox]) -> str:
    """The refusal's message; and nothing is left running or open."""
    threads = set(threading.enumerate())
    with pytest.raises(StartRefused) as refusal:
        build_station(config)
    assert set(threading.enumerate()) <= threads, "a thread was left running"
    assert all(box.closed for box in boxes), "the ballot box was left open"
    return str(refusal.value)


def refused_before_the_box(config: StationConfig, boxes: list[_WatchedBox]) -> str:
    message = refused(config, boxes)
    assert boxes == [] and not config.db.exists(), "a ballot box was set up for a kiosk that does not start"
    return message


def _with(config: StationConfig, field: str, path: Path) -> StationConfig:
    changes: dict[str, Any] = {field: path}
    return dataclasses.replace(config, **changes)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_the_good_configuration_starts_and_shuts_down(config: StationConfig, boxes: list[_WatchedBox]) -> None:
    """The control: what the refusals below change is the only thing wrong with them."""
    station = build_station(config, start_worker=False)
    try:
        assert station.box.kiosk_id == KIOSK and station.reader == READER
    finally:
        station.shutdown()
    assert [box.closed for box in boxes] == [True]


# ---- the election package and the commission's key ---------------------------------------------


def test_a_missing_package_is_refused(config: StationConfig, boxes: list[_WatchedBox], tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.sanduq"
    message = refused_before_the_box(dataclasses.replace(config, package=missing), boxes)
    assert f"the election package {missing} cannot be read" in message
    assert STAFF_ADVICE in message


def test_a_damaged_package_is_refused_naming_the_damaged_file(
    election: Election, config: StationConfig, boxes: list[_WatchedBox], tmp_path: Path
) -> None:
    data = bytearray(election.package.read_bytes())
    at = data.find(election.files["photos/MCT-1.png"][-40:])  # inside a stored (uncompressed) photo
    assert at > 0
    data[at + 5] ^= 0xFF
    damaged = _write(tmp_path / "damaged.sanduq", bytes(data))
    message = refused_before_the_box(dataclasses.replace(config, package=damaged), boxes)
    assert str(damaged) in message and "photos/MCT-1.png" in message and STAFF_ADVICE in message


def test_a_file_that_is_not_a_package_is_refused(
    config: StationConfig, boxes: list[_WatchedBox], tmp_path: Path
) -> None:
    junk = _write(tmp_path / "junk.sanduq", b"this is not a zip archive\n")
    message = refused_before_the_box(dataclasses.replace(config, package=junk), boxes)
    assert f"the election package {junk} is refused" in message


def test_a_package_signed_by_another_key_is_refused(
    config: StationConfig, boxes: list[_WatchedBox], tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    other = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    message = refused_before_the_box(
        dataclasses.replace(config, commission_key=_write(tmp_path / "o.pem", other)), boxes
    )
    assert str(config.package) in message and "does not verify with the election commission's key" in message


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "cannot be read"),
        (b"not a key\n", "is not a PEM public key"),
        ("ec", "is not an Ed25519 public key"),
    ],
    ids=["missing", "not PEM", "not Ed25519"],
)
def test_a_bad_commission_key_file_is_refused(
    config: StationConfig, boxes: list[_WatchedBox], tmp_path: Path, content: bytes | str | None, problem: str
) -> None:
    path = tmp_path / "commission.pub.pem"
    if content == "ec":
        path.write_bytes(
            ec.generate_private_key(ec.SECP256R1())
            .public_key()
            .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        )
    elif isinstance(content, bytes):
        path.write_bytes(content)
    message = refused_before_the_box(dataclasses.replace(config, commission_key=path), boxes)
    assert f"the election commission's key {path} {problem}" in message


@pytest.mark.parametrize("missing", [ELECTION_CONTEXT, CENTRAL_ENVELOPE_KEY])
def test_a_package_from_before_the_key_ceremony_is_refused(
    election: Election, config: StationConfig, boxes: list[_WatchedBox], missing: str
) -> None:
    package = election.signed(f"without-{missing.replace('/', '-')}.sanduq",
                              {k: v for k, v in election.files.items() if k != missing})  # fmt: skip
    message = refused_before_the_box(dataclasses.replace(config, package=package), boxes)
    assert str(package) in message and "before the key ceremony" in message


def test_a_package_whose_election_key_is_damaged_is_refused(
    election: Election, config: StationConfig, boxes: list[_WatchedBox]
) -> None:
    """Signed by the commission but not a valid election context (a builder's mistake): the kiosk could encrypt
    no ballot with it."""
    context = json.loads(election.files[ELECTION_CONTEXT])
    context["joint_public_key"] = "00" * 31 + "01"  # not a group element
    package = election.signed("bad-context.sanduq", {**election.files, ELECTION_CONTEXT: json.dumps(context).encode()})
    message = refused_before_the_box(dataclasses.replace(config, package=package), boxes)
    assert str(package) in message and ELECTION_CONTEXT in message and STAFF_ADVICE in message


def test_a_package_whose_election_key_is_for_another_manifest_is_refused(
    election: Election, config: StationConfig, boxes: list[_WatchedBox]
) -> None:
    """Ballots encrypted under another election's context would be refused by the office, every one."""
    other, _, _ = run_key_ceremony("ab" * 32, 1, 1, SeededRandom(23))
    package = election.signed(
        "other-context.sanduq", {**election.files, ELECTION_CONTEXT: json.dumps(other.to_dict()).encode()}
    )
    message = refused_before_the_box(dataclasses.replace(config, package=package), boxes)
    assert str(package) in message and ELECTION_CONTEXT in message and "another manifest" in message


def test_a_kiosk_id_not_in_the_manifest_is_refused(config: StationConfig, boxes: list[_WatchedBox]) -> None:
    message = refused_before_the_box(dataclasses.replace(config, kiosk_id="K-9"), boxes)
    assert "kiosk 'K-9' is not in the election package's manifest" in message


# ---- the office, the kiosk's TLS identity and signing key -------------------------------------


def test_a_central_office_address_without_tls_is_refused(config: StationConfig, boxes: list[_WatchedBox]) -> None:
    message = refused_before_the_box(dataclasses.replace(config, central_url="http://127.0.0.1:9"), boxes)
    assert "must be https://" in message and "'http://127.0.0.1:9'" in message


@pytest.mark.parametrize(
    ("field", "what"),
    [("kiosk_cert", "kiosk certificate"), ("kiosk_key", "kiosk key"), ("central_ca", "central office CA")],
)
def test_a_missing_tls_file_is_refused(
    config: StationConfig, boxes: list[_WatchedBox], tmp_path: Path, field: str, what: str
) -> None:
    missing = tmp_path / f"{field}.pem"
    message = refused_before_the_box(_with(config, field, missing), boxes)
    assert f"the {what} file {missing} is missing" in message


@pytest.mark.parametrize(
    ("field", "what"),
    [("kiosk_cert", "the kiosk certificate"), ("central_ca", "the central office CA")],
)
def test_a_tls_certificate_file_that_is_not_a_certificate_is_refused(
    config: StationConfig, boxes: list[_WatchedBox], tmp_path: Path, field: str, what: str
) -> None:
    """It was accepted at start, and then every sync round failed its TLS handshake."""
    junk = _write(tmp_path / f"{field}.pem", b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    message = refused_before_the_box(_with(config, field, junk), boxes)
    assert f"{what} {junk}" in message and "PEM certificate" in message


def test_a_kiosk_key_that_is_not_the_certificates_key_is_refused(
    election: Election, config: StationConfig, boxes: list[_WatchedBox]
) -> None:
    """Another kiosk's key with this kiosk's certificate: the TLS handshake would fail on every round, and the
    ballots' signatures would not verify with the certificate."""
    other_key = election.pki.kiosks[OTHER_KIOSK].key_path
    message = refused_before_the_box(dataclasses.replace(config, kiosk_key=other_key), boxes)
    assert str(config.kiosk_cert) in message and str(other_key) in message and "not the certificate of" in message


def test_a_kiosk_key_that_is_not_a_key_is_refused(
    config: StationConfig, boxes: list[_WatchedBox], tmp_path: Path
) -> None:
    junk = _write(tmp_path / "kiosk-key.pem", b"not a key\n")
    message = refused_before_the_box(dataclasses.replace(config, kiosk_key=junk), boxes)
    assert f"the kiosk key {junk} cannot be used" in message


def test_a_kiosk_key_under_a_passphrase_is_refused(
    config: StationConfig, boxes: list[_WatchedBox], tmp_path: Path
) -> None:
    """The kiosk has no one to ask for a passphrase: it was a traceback."""
    key = Signer.from_pem_file(config.kiosk_key).private_key
    locked = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(b"TEST passphrase"))
    path = _write(tmp_path / "kiosk-key.pem", locked)
    message = refused_before_the_box(dataclasses.replace(config, kiosk_key=path), boxes)
    assert f"the kiosk key {path} cannot be used" in message and "passphrase" in message


# ---- the kiosk's own options -------------------------------------------------------------------


def test_an_unknown_card_profile_is_refused(config: StationConfig, boxes: list[_WatchedBox]) -> None:
    message = refused_before_the_box(dataclasses.replace(config, card_profile="no_such_card"), boxes)
    assert "the card profile 'no_such_card' cannot be loaded" in message


@pytest.mark.parametrize("min_batch", [0, 10_000])
def test_a_batch_size_out_of_range_is_refused(config: StationConfig, boxes: list[_WatchedBox], min_batch: int) -> None:
    """It was a traceback after the ballot box had been created."""
    message = refused_before_the_box(dataclasses.replace(config, min_batch=min_batch), boxes)
    assert f"the batch size {min_batch}" in message


@pytest.mark.parametrize(
    ("content", "problem"),
    [(None, "FileNotFoundError"), (b"civil_number,wilayat\n11000001,SLL\n", "header must be")],
    ids=["missing", "no eligible column"],
)
def test_an_unreadable_offline_roll_is_refused(
    config: StationConfig, boxes: list[_WatchedBox], tmp_path: Path, content: bytes | None, problem: str
) -> None:
    roll = tmp_path / "roll.csv"
    if content is not None:
        roll.write_bytes(content)
    message = refused_before_the_box(dataclasses.replace(config, offline_roll=roll), boxes)
    assert f"the centre's offline roll {roll} cannot be read" in message and problem in message


# ---- the ballot box ----------------------------------------------------------------------------


def test_another_kiosks_ballot_box_is_refused_and_closed(
    election: Election, config: StationConfig, boxes: list[_WatchedBox]
) -> None:
    tls = election.pki.kiosks[OTHER_KIOSK]
    other = dataclasses.replace(config, kiosk_id=OTHER_KIOSK, kiosk_cert=tls.cert_path, kiosk_key=tls.key_path)
    build_station(other, start_worker=False).shutdown()  # K-2's box at this path
    message = refused(config, boxes)
    assert f"the ballot box {config.db} belongs to kiosk {OTHER_KIOSK}, not {KIOSK}" in message
    assert len(boxes) == 2 and all(box.closed for box in boxes)


@pytest.mark.parametrize(
    "make",
    [
        lambda db: db.write_bytes(b"this is not a database, it is a text file that is long enough " * 20),
        lambda db: db.mkdir(),
    ],
    ids=["not a database", "a directory"],
)
def test_a_ballot_box_path_that_is_not_a_ballot_box_is_refused(
    config: StationConfig, boxes: list[_WatchedBox], make: Callable[[Path], object]
) -> None:
    make(config.db)
    message = refused(config, boxes)
    assert f"the ballot box {config.db} cannot be opened" in message


def test_a_ballot_box_in_a_missing_folder_is_refused(
    config: StationConfig, boxes: list[_WatchedBox], tmp_path: Path
) -> None:
    db = tmp_path / "no-such-folder" / "ballot-box.sqlite3"
    message = refused(dataclasses.replace(config, db=db), boxes)
    assert f"the ballot box {db} cannot be opened" in message
    assert not db.parent.exists()


# ---- the card reader ---------------------------------------------------------------------------


class _FakePcsc:
    """pcscd as the reader lookup sees it: ``readers`` (None: the service is not running)."""

    readers_seen: ClassVar[list[str] | None] = None

    def __init__(self) -> None:
        if self.readers_seen is None:
            raise CardIoError("SCardEstablishContext: the service is not available (TEST)")

    def readers(self) -> list[str]:
        assert self.readers_seen is not None
        return list(self.readers_seen)

    def close(self) -> None:
        pass


@pytest.mark.parametrize(
    ("readers", "problem"),
    [(None, "the card reader service (pcscd) is not available"), ([], "no card reader is connected")],
    ids=["no pcscd", "no reader"],
)
def test_no_card_reader_is_refused_before_the_ballot_box_is_opened(
    config: StationConfig,
    boxes: list[_WatchedBox],
    monkeypatch: pytest.MonkeyPatch,
    readers: list[str] | None,
    problem: str,
) -> None:
    monkeypatch.setattr(_FakePcsc, "readers_seen", readers)
    monkeypatch.setattr(start_checks, "PcscContext", _FakePcsc)
    message = refused_before_the_box(dataclasses.replace(config, reader=None), boxes)
    assert problem in message


# ---- the kiosk's certificate against the package -------------------------------------------------------


def test_another_kiosks_certificate_and_key_are_refused(
    election: Election, config: StationConfig, boxes: list[_WatchedBox]
) -> None:
    """A matching pair, issued by the package's kiosk CA, but K-2's: every ballot this kiosk signed as K-1 would be
    refused by the office (and a K-2 box reopened under K-1's name is another refusal)."""
    tls = election.pki.kiosks[OTHER_KIOSK]
    message = refused_before_the_box(
        dataclasses.replace(config, kiosk_cert=tls.cert_path, kiosk_key=tls.key_path), boxes
    )
    assert f"the kiosk certificate {tls.cert_path} is for {OTHER_KIOSK}, not kiosk {KIOSK}" in message


def test_a_certificate_from_another_kiosk_ca_of_the_same_name_is_refused(
    config: StationConfig, boxes: list[_WatchedBox], tmp_path: Path
) -> None:
    """Another test PKI: its kiosk CA has the same name as the package's, and its K-1 certificate the same
    subject; only the signature tells them apart."""
    other = generate_pki(tmp_path / "other-pki", [], [KIOSK], now=dt.datetime.now(dt.UTC)).kiosks[KIOSK]
    message = refused_before_the_box(
        dataclasses.replace(config, kiosk_cert=other.cert_path, kiosk_key=other.key_path), boxes
    )
    assert f"the kiosk certificate {other.cert_path} is not issued by the election package's kiosk CA" in message


@pytest.mark.parametrize("years", [-3, 3], ids=["before it was issued", "after it expired"])
def test_a_kiosk_certificate_not_valid_now_is_refused(
    config: StationConfig, boxes: list[_WatchedBox], years: int
) -> None:
    moment = dt.datetime.now(dt.UTC) + dt.timedelta(days=365 * years)
    threads = set(threading.enumerate())
    with pytest.raises(StartRefused) as refusal:
        build_station(config, now=lambda: moment)
    assert set(threading.enumerate()) <= threads and boxes == [] and not config.db.exists()
    assert f"the kiosk certificate {config.kiosk_cert} is not valid now" in str(refusal.value)


def _issued_by_the_kiosk_ca(election: Election, tmp_path: Path, dns_names: list[str]) -> StationConfig:
    """A configuration with a fresh key and a certificate for it from the package's kiosk CA, common name K-1 and
    the given subjectAltName DNS names (none: no subjectAltName)."""
    ca = election.pki.kiosk_ca
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, KIOSK)]))
        .issuer_name(ca.cert().subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
    )
    if dns_names:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in dns_names]), False)
    cert = _write(tmp_path / "kiosk-cert.pem", builder.sign(ca.key(), hashes.SHA256()).public_bytes(Encoding.PEM))
    key_path = _write(
        tmp_path / "kiosk-key.TEST.pem", key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    )
    return dataclasses.replace(_with_config(election, tmp_path), kiosk_cert=cert, kiosk_key=key_path)


def test_a_certificate_whose_common_name_is_this_kiosk_but_dns_name_another_is_refused(
    election: Election, boxes: list[_WatchedBox], tmp_path: Path
) -> None:
    """The office identifies a kiosk by its certificate's DNS name (sync.signing.kiosk_id_of), not by its common
    name: a certificate saying K-1 in one and K-2 in the other is K-2's to the office."""
    config = _issued_by_the_kiosk_ca(election, tmp_path, [OTHER_KIOSK])
    message = refused_before_the_box(config, boxes)
    assert f"the kiosk certificate {config.kiosk_cert} is for {OTHER_KIOSK}, not kiosk {KIOSK}" in message


@pytest.mark.parametrize("dns_names", [[], [KIOSK, OTHER_KIOSK]], ids=["no DNS name", "two DNS names"])
def test_a_certificate_that_does_not_name_exactly_one_kiosk_is_refused(
    election: Election, boxes: list[_WatchedBox], tmp_path: Path, dns_names: list[str]
) -> None:
    config = _issued_by_the_kiosk_ca(election, tmp_path, dns_names)
    message = refused_before_the_box(config, boxes)
    assert f"the kiosk certificate {config.kiosk_cert} is refused: kiosk certificate" in message


def test_a_certificate_naming_this_kiosk_from_the_kiosk_ca_starts(
    election: Election, boxes: list[_WatchedBox], tmp_path: Path
) -> None:
    """The same making as the refused ones above, with the right DNS name: it is the name that was refused."""
    build_station(_issued_by_the_kiosk_ca(election, tmp_path, [KIOSK]), start_worker=False).shutdown()
