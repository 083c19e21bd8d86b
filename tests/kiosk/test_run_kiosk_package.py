"""``run_kiosk.py --package``: a package that fails verification stops the kiosk before anything starts,
with a message to staff that names the package and the damaged file, and exit code 2 (never a traceback)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from election.package import write_package

ROOT = Path(__file__).resolve().parents[2]
PHOTO = b"\x89PNG\r\n\x1a\n" + b"IDAT" + bytes(range(64))


def _package(tmp_path: Path) -> tuple[Path, Path]:
    """A package signed with a fresh commission key (TEST MATERIAL), and that key's public half."""
    key = Ed25519PrivateKey.generate()
    files = {"manifest.json": b'{"election_id": "TEST"}', "photos/C-001.png": PHOTO}
    package = tmp_path / "election.sanduq"
    package.write_bytes(write_package(files, key, created="2026-11-22T00:00:00Z"))
    public = tmp_path / "commission.pub.pem"
    public.write_bytes(key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    return package, public


def _run_kiosk(tmp_path: Path, package: Path, commission: Path) -> subprocess.CompletedProcess[str]:
    args = [
        sys.executable, str(ROOT / "run_kiosk.py"), "--offscreen",
        "--package", str(package), "--commission-key", str(commission), "--kiosk-id", "K-PC-001-1",
        "--central", "https://127.0.0.1:9", "--kiosk-cert", str(tmp_path / "kiosk.pem"),
        "--kiosk-key", str(tmp_path / "kiosk-key.pem"), "--central-ca", str(tmp_path / "ca.pem"),
        "--db", str(tmp_path / "ballot-box.sqlite3"),
    ]  # fmt: skip
    return subprocess.run(args, capture_output=True, text=True, timeout=60, cwd=ROOT, check=False)


def test_a_tampered_package_makes_the_kiosk_refuse_to_start_naming_the_file(tmp_path: Path) -> None:
    package, commission = _package(tmp_path)
    data = bytearray(package.read_bytes())
    at = data.find(b"IDAT")  # inside the stored photo
    data[at + 10] ^= 0xFF
    package.write_bytes(bytes(data))
    done = _run_kiosk(tmp_path, package, commission)
    assert done.returncode == 2
    assert "KIOSK REFUSES TO START" in done.stderr
    assert str(package) in done.stderr and "photos/C-001.png" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / "ballot-box.sqlite3").exists()  # nothing was set up


def test_a_package_signed_by_another_key_is_refused(tmp_path: Path) -> None:
    package, _ = _package(tmp_path)
    other = tmp_path / "other.pub.pem"
    pub = Ed25519PrivateKey.generate().public_key()
    other.write_bytes(pub.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    done = _run_kiosk(tmp_path, package, other)
    assert done.returncode == 2
    assert "does not verify with the election commission's key" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_a_missing_package_file_is_refused_without_a_traceback(tmp_path: Path) -> None:
    _, commission = _package(tmp_path)
    done = _run_kiosk(tmp_path, tmp_path / "nowhere.sanduq", commission)
    assert done.returncode == 2
    assert "nowhere.sanduq cannot be read" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
