"""``python -m remote`` refuses to start, in one line, when it cannot trust what it would use."""

from __future__ import annotations

from pathlib import Path

import pytest

from remote.__main__ import main
from tests.remote.helpers import build_election


def start(tmp_path: Path, package: Path, key: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    (tmp_path / "pass").write_text("correct horse battery\n")
    code = main(["--package", str(package), "--commission-key", str(key), "--collector", "https://127.0.0.1:9",
                 "--reader", "none", "--data-dir", str(tmp_path / "device"), "--passphrase-file",
                 str(tmp_path / "pass")])  # fmt: skip
    return code, capsys.readouterr().err


def test_a_package_not_signed_by_the_commission_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    election, other = build_election(tmp_path / "a"), build_election(tmp_path / "b")
    code, err = start(tmp_path, election.package_path, other.commission_pub, capsys)
    assert code == 2 and "CANNOT START" in err and "signature" in err


def test_a_package_without_the_collectors_certificate_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    election = build_election(tmp_path, collector_cert=False)
    code, err = start(tmp_path, election.package_path, election.commission_pub, capsys)
    assert code == 2 and "trust/collector.pem" in err


def test_a_collector_address_that_is_not_https_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    election = build_election(tmp_path)
    argv = ["--package", str(election.package_path), "--commission-key", str(election.commission_pub)]
    code = main([*argv, "--collector", "http://127.0.0.1:9", "--reader", "none", "--data-dir", str(tmp_path / "d")])
    assert code == 2 and "https://" in capsys.readouterr().err


def test_a_wrong_device_passphrase_is_refused_and_the_credential_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from remote.credential import key_path, load_or_create

    election = build_election(tmp_path)
    made, new = load_or_create(tmp_path / "device", "test-2027", "another passphrase")
    assert new
    before = key_path(tmp_path / "device", "test-2027").read_bytes()
    code, err = start(tmp_path, election.package_path, election.commission_pub, capsys)
    assert code == 2 and "wrong passphrase" in err
    assert key_path(tmp_path / "device", "test-2027").read_bytes() == before  # never a new key over the old one
    again, new = load_or_create(tmp_path / "device", "test-2027", "another passphrase")
    assert not new and again.public_hex == made.public_hex
    assert key_path(tmp_path / "device", "test-2027").stat().st_mode & 0o777 == 0o600
