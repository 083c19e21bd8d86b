"""The package builder adds the vote collector's TLS certificate (``--collector-cert``, or ``collector.pem`` in the
commission's trust directory -> ``trust/collector.pem``, signed in the index as every file) to an election with
remote voting, and the voter app pins exactly that certificate: a server with another certificate, even for the same
address, is refused with a clear message and gets no request. A remote-voting election without the certificate is
refused by the builder, and so is a certificate given twice."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from devtools.test_pki import TestPki, load
from election.package import COLLECTOR_CERT, load_package
from remote import client as c
from remote.compose import collector_of
from tests.remote.helpers import HttpsServer, tls_material
from tools.build_package import BuildError, BuildResult, build, main
from tools.trust_material import TrustMaterial, load_trust

pytestmark = pytest.mark.integration

COLLECTOR = "REMOTE-01"


def _tone(seconds: float, out: Path) -> None:
    subprocess.run(
        ["sox", "-R", "-n", "-r", "16000", "-c", "1", str(out), "synth", f"{seconds:.2f}", "sine", "440"],
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="module")
def definition_and_pki(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The small demo definition with a vote collector and a home-voting window, and a test PKI."""
    root = tmp_path_factory.mktemp("collector-package")
    definition, pki = root / "definition", root / "pki"
    for argv in (
        ["-m", "devtools.demo_election", "--scale", "small", "--seed", "7", "--out", str(definition)],
        ["-m", "devtools.test_pki", "--out", str(pki), "--voters", "3", "--kiosks", "1"],
    ):
        subprocess.run([sys.executable, *argv], check=True, capture_output=True)
    manifest = json.loads((definition / "manifest.json").read_text(encoding="utf-8"))
    manifest["kiosks"].append({"id": COLLECTOR, "centre": manifest["centres"][0]["id"]})
    opens = dt.datetime(2027, 10, 20, 4, tzinfo=dt.UTC)
    window = {"group": "home", "opens": opens.isoformat(), "closes": (opens + dt.timedelta(days=7)).isoformat()}
    manifest["remote_voting"] = {"collector_ids": [COLLECTOR], "windows": [window]}
    (definition / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return definition, pki


@pytest.fixture(scope="module")
def no_speech(tmp_path_factory: pytest.TempPathFactory):
    """Tones instead of espeak-ng (the audio is not what this test is about)."""
    import tools.speech

    tones = tmp_path_factory.mktemp("tones")
    lock = threading.Lock()  # the builder synthesises on two threads

    def fake_synthesise(text: str, language: str, out_path: Path, **_: object) -> Path:
        seconds = round(max(0.5, len(text) / 12), 1)
        tone = tones / f"{seconds}.ogg"
        with lock:
            if not tone.exists():
                _tone(seconds, tone)
        shutil.copyfile(tone, out_path)
        return out_path

    patch = pytest.MonkeyPatch()
    patch.setattr(tools.speech, "synthesise", fake_synthesise)
    yield tones.parent / "cache"
    patch.undo()


def _build(
    pki: TestPki, definition: Path, out: Path, cache: Path, trust: TrustMaterial | None = None, **options: Any
) -> BuildResult:
    trust = trust or load_trust(pki.trust_dir)
    return build(definition, out, trust, pki.commission_private_key(), audio_cache=cache, quiet=True, **options)


def test_a_remote_voting_election_without_the_collector_certificate_is_not_packaged(
    definition_and_pki: tuple[Path, Path], no_speech: Path, tmp_path: Path
) -> None:
    definition, pki = definition_and_pki
    with pytest.raises(BuildError, match="--collector-cert"):
        _build(load(pki), definition, tmp_path / "p.sanduq", no_speech)
    assert not (tmp_path / "p.sanduq").exists()


def test_the_cli_names_a_file_that_is_not_a_certificate(
    definition_and_pki: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definition, pki = definition_and_pki
    (tmp_path / "not.pem").write_text("not a certificate")
    test_pki = load(pki)
    argv = [str(definition), "--out", str(tmp_path / "p.sanduq"), "--trust", str(test_pki.trust_dir),
            "--commission-key", str(test_pki.commission_key_path)]  # fmt: skip
    assert main([*argv, "--collector-cert", str(tmp_path / "not.pem")]) == 1
    assert "not a PEM certificate" in capsys.readouterr().err


def recorded() -> FastAPI:
    app = FastAPI()

    @app.post("/r1/challenge")
    async def challenge() -> JSONResponse:
        return JSONResponse({"error": "window_closed", "detail": "the remote window is closed"}, status_code=403)

    return app


def test_the_voter_app_pins_the_packaged_certificate_and_refuses_any_other(
    definition_and_pki: tuple[Path, Path], no_speech: Path, tmp_path: Path
) -> None:
    definition, pki_dir = definition_and_pki
    pki = load(pki_dir)
    genuine, impostor = tls_material("collector TEST MATERIAL"), tls_material("impostor TEST MATERIAL")
    (tmp_path / "collector.pem").write_bytes(genuine.cert_pem)
    result = _build(pki, definition, tmp_path / "p.sanduq", no_speech, collector_cert=tmp_path / "collector.pem")
    package = load_package(result.package_path.read_bytes(), pki.commission_public_key())
    entry = package.index["files"][COLLECTOR_CERT]
    assert entry["sha256"] == hashlib.sha256(genuine.cert_pem).hexdigest()  # signed in the index as every file
    collector_id, pinned = collector_of(package)  # what the voter app (remote.compose.voter_ports) pins
    assert collector_id == COLLECTOR and pinned == genuine.cert
    for tls, name in ((genuine, "genuine"), (impostor, "impostor")):
        (tmp_path / name).mkdir()
        with HttpsServer(recorded(), tls, tmp_path / name) as server:
            client = c.CollectorClient(server.url, pinned, collector_id=collector_id, election_id="x")
            try:
                if tls is genuine:  # the handshake succeeds: the collector's own answer comes through
                    with pytest.raises(c.Refused):
                        client.challenge()
                else:
                    with pytest.raises(c.Unreachable) as refused:
                        client.challenge()
                    assert "not the election's vote collector" in str(refused.value)
                    assert COLLECTOR_CERT in str(refused.value)
            finally:
                client.close()


def test_the_collector_certificate_in_the_trust_directory_is_packaged_and_not_twice(
    definition_and_pki: tuple[Path, Path], no_speech: Path, tmp_path: Path
) -> None:
    definition, pki_dir = definition_and_pki
    pki = load(pki_dir)
    genuine = tls_material("collector TEST MATERIAL")
    trust_dir = tmp_path / "trust"
    shutil.copytree(pki.trust_dir, trust_dir)
    (trust_dir / "collector.pem").write_bytes(genuine.cert_pem)
    trust = load_trust(trust_dir)
    result = _build(pki, definition, tmp_path / "p.sanduq", no_speech, trust)
    assert collector_of(result.package) == (COLLECTOR, genuine.cert)
    (tmp_path / "other.pem").write_bytes(tls_material("other TEST MATERIAL").cert_pem)
    with pytest.raises(BuildError, match="give the vote collector's certificate once"):
        _build(pki, definition, tmp_path / "q.sanduq", no_speech, trust, collector_cert=tmp_path / "other.pem")
    assert not (tmp_path / "q.sanduq").exists()
