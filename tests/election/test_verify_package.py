"""The verifier's ``package`` check (election/verify/package_part.py): the record publishes the election package's
signed index and trust files (``package/``), and with the commission's key the observer gives it
(``--commission-key``) the verifier ties the kiosks' and the office's certificates to the package's CAs and the
record's manifest and context to the package's. Tamper tests: a kiosk certificate from another CA, a package index
signed by another key, a manifest that differs from the package's, a trust file changed after signing."""

from __future__ import annotations

import base64
import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from devtools.sample_election import build_sample_record
from devtools.sample_election.kiosks import sign_statement
from devtools.sample_record import SeededRandom, build_test_manifest
from devtools.test_pki import x509_build as xb
from election.canonical import canonical_json
from election.chain_statement import SignedStatement, StatementKind
from election.package import record_members, write_package
from election.verify.office_audit import SIGNING_PREFIX

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
END = dt.datetime(2036, 1, 1, tzinfo=dt.UTC)


def _name(common: str) -> x509.Name:
    return xb.name((NameOID.COMMON_NAME, common), (NameOID.ORGANIZATION_NAME, "TEST MATERIAL"))


def make_ca(common: str) -> xb.Issuer:
    """A self-signed CA (the test PKI's builder): a second one of the same name is an impostor with another key."""
    key = xb.new_key()
    return xb.Issuer(xb.ca_certificate(_name(common), key, None, START, END, path_length=0), key)


def issue(
    ca: xb.Issuer, common: str, public_key: CertificatePublicKeyTypes, not_after: dt.datetime = END
) -> x509.Certificate:
    return xb.end_entity_certificate(
        _name(common), public_key, ca, START, not_after, xb.key_usage(digital_signature=True)
    )


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(Encoding.PEM)


def enrol_kiosk(
    record: Path,
    kiosk_file: Path,
    ca: xb.Issuer,
    not_after: dt.datetime = END,
) -> None:
    """The kiosk gets a key and a certificate of ``ca``; its close and last head are signed again with that key."""
    data = json.loads(kiosk_file.read_text())
    key = ec.generate_private_key(ec.SECP256R1())
    data["certificate_pem"] = pem(issue(ca, data["kiosk"], key.public_key(), not_after)).decode("ascii")
    for member, kind in (("close", StatementKind.CLOSE), ("last_head", StatementKind.HEAD)):
        if data[member] is not None:
            data[member] = sign_statement(key, SignedStatement.from_dict(data[member], kind).statement).to_dict()
    kiosk_file.write_bytes(canonical_json(data))


def enrol_office(record: Path, ca: xb.Issuer) -> None:
    key = Ed25519PrivateKey.generate()
    (record / "office" / "office_certificate.pem").write_bytes(pem(issue(ca, "Sanduq office", key.public_key())))
    path = record / "office" / "audit_heads.json"
    heads = json.loads(path.read_text())
    for head in heads["heads"]:
        signature = key.sign(SIGNING_PREFIX + canonical_json(head["statement"]))
        head["signature"] = base64.b64encode(signature).decode("ascii")
    path.write_text(json.dumps(heads))


def write_package_part(record: Path, files: dict[str, bytes], commission: Ed25519PrivateKey) -> None:
    archive = write_package(files, commission, created="2026-10-01T00:00:00+00:00")
    shutil.rmtree(record / "package", ignore_errors=True)
    for name, data in record_members(archive).items():
        (record / "package" / name).parent.mkdir(parents=True, exist_ok=True)
        (record / "package" / name).write_bytes(data)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Any]]:
    """(record with package/, the commission's public key file, what made them)."""
    root = tmp_path_factory.mktemp("package-record")
    record = root / "record"
    build_sample_record(record, build_test_manifest(), ballots=6, challenged=1, random_bytes=SeededRandom(14), n=3, k=2)
    kiosk_ca, central_ca = make_ca("Sanduq kiosk CA"), make_ca("Sanduq central CA")
    for path in sorted((record / "kiosks").glob("*.json")):
        enrol_kiosk(record, path, kiosk_ca)
    enrol_office(record, central_ca)
    commission = Ed25519PrivateKey.generate()
    files = {
        "manifest.json": json.dumps(json.loads((record / "manifest.json").read_text()), ensure_ascii=False).encode(),
        "keys/election-context.json": (record / "context.json").read_bytes(),
        "trust/kiosk-ca.pem": pem(kiosk_ca.cert),
        "trust/central-ca.pem": pem(central_ca.cert),
        # a real package's card PKI lives one directory deeper: record-files must know those directories too
        "trust/card-roots/national-root.pem": pem(make_ca("Sanduq national root").cert),
    }
    write_package_part(record, files, commission)
    key = root / "commission.pub"
    key.write_bytes(commission.public_key().public_bytes(Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return record, key, {"files": files, "commission": commission, "kiosk_ca": kiosk_ca}


@pytest.fixture
def record(sample: tuple[Path, Path, dict[str, Any]], tmp_path: Path) -> Path:
    copy = tmp_path / "record"
    shutil.copytree(sample[0], copy)
    return copy


def verify(record: Path, *extra: str) -> tuple[int, str, str]:
    done = subprocess.run([sys.executable, "-m", "election.verify", str(record), "--jobs", "1", *extra],
                          capture_output=True, text=True, check=False)  # fmt: skip
    line = next((x for x in done.stdout.splitlines() if "certificates against package:" in x), "")
    return done.returncode, line, done.stdout + done.stderr


def test_the_genuine_record_ties_its_certificates_to_the_package(sample) -> None:
    record, key, _made = sample
    code, line, out = verify(record, "--commission-key", str(key))
    assert code == 0, out
    assert line.startswith("PASS") and "kiosk certificate(s) chain to trust/kiosk-ca.pem" in line, out
    assert "the office's to trust/central-ca.pem" in line
    assert out.rstrip().endswith("the record verifies")


def test_without_the_commission_key_the_check_is_skipped_and_the_exit_status_says_so(sample) -> None:
    record, _key, _made = sample
    code, line, out = verify(record)
    assert code == 3, out  # not 0: nothing tied the record's certificates to the commission
    assert line.startswith("SKIPPED") and "no --commission-key given" in line
    assert out.rstrip().endswith("accept verifying without it with --skip package")
    assert "the record is NOT fully verified: SKIPPED package" in out
    code, line, out = verify(record, "--skip", "package")
    assert code == 0 and line.startswith("SKIPPED") and "--skip package" in line, out
    assert out.rstrip().endswith("the record verifies, except the skipped check(s): package")


def test_a_kiosk_certificate_from_another_ca_fails(record: Path, sample) -> None:
    _r, key, _made = sample
    victim = sorted((record / "kiosks").glob("*.json"))[0]
    enrol_kiosk(record, victim, make_ca("Sanduq kiosk CA"))  # same name, another key: an impostor CA
    code, line, out = verify(record, "--commission-key", str(key))
    assert code == 1, out
    assert line.startswith("FAIL") and f"kiosks/{victim.name}" in line and "does not chain" in line, line
    assert "PASS  kiosk chain closes" in out  # the closes still verify with the impostor's key: only this catches it


def test_certificates_are_validated_at_the_close_of_the_polls_in_the_manifests_time_zone(record: Path, sample) -> None:
    """The manifest's polls_close is local time (19:00 in Asia/Muscat, UTC+4: 15:00 UTC). A kiosk certificate that
    expires an hour after that moment was valid all day and passes; one that expired an hour before it fails."""
    _r, key, made = sample
    manifest = json.loads((record / "manifest.json").read_text())
    assert (manifest["timezone"], manifest["polls_close"]) == ("Asia/Muscat", "19:00")
    close_utc = dt.datetime.combine(dt.date.fromisoformat(manifest["date"]), dt.time(15, 0), tzinfo=dt.UTC)
    victim = sorted((record / "kiosks").glob("*.json"))[0]
    enrol_kiosk(record, victim, made["kiosk_ca"], not_after=close_utc + dt.timedelta(hours=1))
    code, line, out = verify(record, "--commission-key", str(key))
    assert code == 0 and line.startswith("PASS"), out
    enrol_kiosk(record, victim, made["kiosk_ca"], not_after=close_utc - dt.timedelta(hours=1))
    code, line, out = verify(record, "--commission-key", str(key))
    assert code == 1 and line.startswith("FAIL") and f"kiosks/{victim.name}" in line and "does not chain" in line, out


def test_a_package_index_signed_by_another_key_fails(record: Path, sample) -> None:
    _r, key, made = sample
    write_package_part(record, made["files"], Ed25519PrivateKey.generate())
    code, line, _out = verify(record, "--commission-key", str(key))
    assert code == 1 and line.startswith("FAIL") and "not signed by the commission key given" in line, line


def test_a_manifest_that_differs_from_the_packages_fails(record: Path, sample) -> None:
    _r, key, made = sample
    manifest = json.loads(made["files"]["manifest.json"])
    manifest["name"]["en"] = manifest["name"]["en"] + " (another election)"
    files = {**made["files"], "manifest.json": json.dumps(manifest, ensure_ascii=False).encode()}
    write_package_part(record, files, made["commission"])  # a genuine package, of another manifest
    code, line, _out = verify(record, "--commission-key", str(key))
    assert code == 1 and line.startswith("FAIL") and "manifest.json is not the election package's manifest" in line


def test_a_trust_file_changed_after_signing_fails(record: Path, sample) -> None:
    _r, key, _made = sample
    other = make_ca("Sanduq kiosk CA")
    (record / "package" / "trust" / "kiosk-ca.pem").write_bytes(pem(other.cert))
    for path in sorted((record / "kiosks").glob("*.json")):
        enrol_kiosk(record, path, other)  # the office swaps the CA and re-issues every kiosk certificate
    code, line, _out = verify(record, "--commission-key", str(key))
    assert code == 1 and "package/trust/kiosk-ca.pem is not the file the package's signed index lists" in line


def test_a_record_without_the_package_part_fails_when_the_key_is_given(record: Path, sample) -> None:
    _r, key, _made = sample
    shutil.rmtree(record / "package")
    code, line, _out = verify(record, "--commission-key", str(key))
    assert code == 1 and line.startswith("FAIL") and "missing package/index.json" in line, line


def test_a_commission_key_that_is_not_a_key_is_a_clear_error(record: Path, tmp_path: Path) -> None:
    (tmp_path / "k.pub").write_text("not a key")
    code, _line, out = verify(record, "--commission-key", str(tmp_path / "k.pub"))
    assert code == 2 and "is not a PEM public key" in out


def test_a_guardian_given_the_commission_key_refuses_a_kiosk_certificate_from_another_ca(
    record: Path, sample, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from devtools.sample_election import run_key_ceremony
    from election.guardian.__main__ import main as guardian
    from tests.election.ceremony_dir import write_ceremony_dir

    _r, key, _made = sample
    manifest_hash = json.loads((record / "context.json").read_text())["manifest_hash"]
    context, records, secrets = run_key_ceremony(manifest_hash, 3, 2, SeededRandom(14))  # the sample's first draw
    ceremony = write_ceremony_dir(tmp_path / "ceremony", manifest_hash, context, records, secrets, "pw (TEST)")
    (tmp_path / "pw").write_text("pw (TEST)\n")
    for part in ("tally/shares", "results.json", "pollbook_counts.json", "office"):  # what exists after decryption
        path = record / part
        shutil.rmtree(path) if path.is_dir() else path.unlink()

    def share(out: str) -> int:
        return guardian(["--ceremony", str(ceremony), "decrypt-share", "--sequence", "1", "--passphrase-file",
                         str(tmp_path / "pw"), "--scrypt-n", "1024", "--jobs", "1", str(record), "--out",
                         str(tmp_path / out), "--commission-key", str(key)])  # fmt: skip

    assert share("genuine") == 0
    row = next(x for x in capsys.readouterr().err.splitlines() if x.startswith("certificates against package"))
    assert row.split()[-1] == "PASS"
    enrol_kiosk(record, sorted((record / "kiosks").glob("*.json"))[0], make_ca("Sanduq kiosk CA"))
    assert share("refused") == 1
    err = capsys.readouterr().err
    assert "error: refused:" in err and "does not chain to the package's kiosk CA" in err, err
    assert not (tmp_path / "refused").exists() or not any((tmp_path / "refused").iterdir())
