"""The office publishes the election package's signed index and trust files in the record (``package/``, from
``<election dir>/election-package.sanduq``), in the guardians' pre-decryption archive and in the published record;
its own verifier run checks them with the commission's key (``<election dir>/commission.pub``), and an observer's
run with the commission's key ties every kiosk certificate and the office's certificate to the package's CAs. An
observer holding another commission key is told the index is not signed by it."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from central.office import Office
from central.record_writer import COMMISSION_KEY_FILE, PACKAGE_FILE
from devtools.kiosksim import Election, SimKiosk
from election.package import write_package
from tests.central.test_guardian_record import ceremony_for, decrypt, vote_and_close

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def election(election: Election, tmp_path_factory: pytest.TempPathFactory) -> Election:
    """The session's election in an election directory of its own that also holds the signed package (the kiosks'
    trust anchors: the test PKI's kiosk and central CAs) and the commission's public key."""
    root = tmp_path_factory.mktemp("packaged-election")
    shutil.copytree(election.root / "election", root / "election")
    shutil.copy(election.root / "envelope.key", root / "envelope.key")
    pki = election.pki
    files = {
        "manifest.json": json.dumps(election.manifest.to_dict(), ensure_ascii=False).encode(),
        "keys/election-context.json": json.dumps(election.context.to_dict()).encode(),
        "trust/kiosk-ca.pem": pki.kiosk_ca.cert().public_bytes(Encoding.PEM),
        "trust/central-ca.pem": pki.central_ca.cert().public_bytes(Encoding.PEM),
    }
    package = write_package(files, pki.commission_private_key(), created="2027-10-01T00:00:00+00:00")
    (root / "election" / PACKAGE_FILE).write_bytes(package)
    shutil.copy(pki.commission_public_path, root / "election" / COMMISSION_KEY_FILE)
    return replace(election, root=root)


def observer(record: Path, key: Path) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-m", "election.verify", str(record), "--jobs", "1", "--commission-key",
                           str(key)], capture_output=True, text=True, check=False)  # fmt: skip
    return done.returncode, done.stdout + done.stderr


def test_the_record_ties_kiosk_and_office_certificates_to_the_package(
    election: Election, office: Office, kiosks: dict[str, SimKiosk], app, tmp_path: Path, capsys
) -> None:
    http, admin, _victim = vote_and_close(election, office, kiosks, app)
    archive = http.get("/api/guardian/record")
    assert archive.status_code == 200, archive.text
    with tarfile.open(fileobj=io.BytesIO(archive.content)) as tar:
        names = set(tar.getnames())
    assert {"record/package/index.json", "record/package/index.sig", "record/package/manifest.json",
            "record/package/trust/kiosk-ca.pem", "record/package/trust/central-ca.pem"} <= names  # fmt: skip
    record = tmp_path / "record.tar"
    record.write_bytes(archive.content)
    ceremony, shares = ceremony_for(election, tmp_path), tmp_path / "shares"
    assert decrypt(ceremony, 1, record, shares) == 0
    assert decrypt(ceremony, 2, record, shares) == 0
    assert decrypt(ceremony, 1, record, shares, "--missing", "3") == 0
    assert decrypt(ceremony, 2, record, shares, "--missing", "3") == 0
    err = capsys.readouterr().err
    # a guardian given no commission key says so: the package check is left to the observers (and the office)
    assert "no --commission-key given" in err
    for path in sorted(shares.glob("*.json")):
        assert http.post("/api/guardian-shares", json=json.loads(path.read_text()), headers=admin).status_code == 200
    published = http.post("/api/results", headers=admin)
    assert published.status_code == 200 and published.json()["verified"] is True, published.text
    record_dir = Path(published.json()["record_dir"])
    code, out = observer(record_dir, election.pki.commission_public_path)
    assert code == 0, out
    line = next(x for x in out.splitlines() if "certificates against package:" in x)
    assert line.startswith("PASS") and "the office's to trust/central-ca.pem" in line, line
    assert out.rstrip().endswith("the record verifies")
    other = tmp_path / "other-commission.pub"
    other.write_bytes(
        Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    code, out = observer(record_dir, other)
    assert code == 1 and "not signed by the commission key given" in out, out
