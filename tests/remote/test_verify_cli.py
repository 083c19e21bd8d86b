"""The second-device check (``python -m remote.verify``): QR payload parsing, a kiosk-challenged ballot from the
published record, a remote ballot fetched over pinned TLS, and the refusals a voter must understand."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from election.benaloh import challenge_ballot
from remote.payload import CheckPayload, PayloadError, parse_payload, payload_from_image, qr_png
from remote.verify import FAILED, NOT_CHECKED, PASSED, main
from tests.remote.helpers import Election, HttpsServer, build_election, encrypt, tls_material

SEED = bytes(range(32))
OTHER_SEED = bytes(range(1, 33))
BALLOT_ID = "0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def election(tmp_path_factory: pytest.TempPathFactory) -> Election:
    return build_election(tmp_path_factory.mktemp("election"))


def run(election: Election, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(
        ["--package", str(election.package_path), "--commission-key", str(election.commission_pub), *args], out=out
    )
    return code, out.getvalue()


# ---- the payload ---------------------------------------------------------------------------------


def test_payload_round_trips_with_a_collector_url_that_has_a_port() -> None:
    payload = CheckPayload("https://127.0.0.1:8443", BALLOT_ID, SEED)
    text = payload.text()
    assert text == f"sanduq-verify:1:https://127.0.0.1:8443:{BALLOT_ID}:{SEED.hex()}"
    assert parse_payload(text + "\n") == payload
    assert parse_payload(f"sanduq-verify:1:kiosk:{BALLOT_ID}:{SEED.hex()}").from_kiosk


@pytest.mark.parametrize(
    "text",
    [
        f"sanduq-verify:2:kiosk:{BALLOT_ID}:{SEED.hex()}",  # another version
        f"SANDUQ1:{BALLOT_ID}:{SEED.hex()}",  # a confirmation code's QR, not a check code
        f"sanduq-verify:1:kiosk:{BALLOT_ID}:{SEED.hex().upper()}",
        f"sanduq-verify:1:kiosk:{BALLOT_ID}:{SEED.hex()[:-2]}",
        f"sanduq-verify:1:kiosk:{BALLOT_ID}",
        f"sanduq-verify:1:http://127.0.0.1:8080:{BALLOT_ID}:{SEED.hex()}",  # not https
        f"sanduq-verify:1:https://evil host:{BALLOT_ID}:{SEED.hex()}",
        f"sanduq-verify:1:kiosk:{BALLOT_ID.upper()}:{SEED.hex()}",
        "sanduq-verify:1:kiosk:" + "a" * 5000,
        "",
    ],
)
def test_anything_but_a_check_code_is_refused_in_words(text: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_payload(text)
    assert str(caught.value)


def test_the_qr_code_is_read_back_from_a_photo_file(tmp_path: Path) -> None:
    payload = CheckPayload("https://127.0.0.1:8443", BALLOT_ID, SEED)
    image = tmp_path / "qr.png"
    image.write_bytes(qr_png(payload))
    assert payload_from_image(image) == payload
    not_image = tmp_path / "notes.png"
    not_image.write_bytes(b"not an image")
    with pytest.raises(PayloadError, match="not an image"):
        payload_from_image(not_image)
    from PIL import Image

    blank = tmp_path / "blank.png"
    Image.new("L", (200, 200), 255).save(blank)
    with pytest.raises(PayloadError, match="no QR code"):
        payload_from_image(blank)


# ---- a kiosk's challenged ballot, from the published record ---------------------------------------


def write_record(
    tmp: Path, election: Election, *, choices: dict[str, list[str]], seed: bytes, published: bytes
) -> Path:
    ballot = encrypt(election, choices, BALLOT_ID, seed)
    record = tmp / "record"
    (record / "ballots" / "challenged").mkdir(parents=True)
    challenged = challenge_ballot(ballot, seed).to_dict() | {"seed": published.hex()}
    entry = {"kiosk": "K-1", "confirmation_code": "00" * 16, "challenged": challenged}
    (record / "ballots" / "challenged" / f"{BALLOT_ID}.json").write_text(json.dumps(entry))
    return record


def test_a_kiosk_challenge_is_opened_from_the_record_and_shows_the_names(tmp_path: Path, election: Election) -> None:
    record = write_record(tmp_path, election, choices={"C-MCT": ["MCT-1", "MCT-4"]}, seed=SEED, published=SEED)
    code, out = run(election, "--code", f"sanduq-verify:1:kiosk:{BALLOT_ID}:{SEED.hex()}", "--record", str(record))
    assert code == PASSED, out
    assert "1: Candidate 1" in out and "4: Candidate 4" in out and "Candidate 2" not in out
    assert "cancelled and never counted" in out
    code, out = run(election, "--language", "ar", "--code", f"sanduq-verify:1:kiosk:{BALLOT_ID}:{SEED.hex()}",
                    "--record", str(record))  # fmt: skip
    assert code == PASSED and "مرشح 1" in out


def test_a_kiosk_that_showed_another_seed_than_it_published_fails_the_check(tmp_path: Path, election: Election) -> None:
    record = write_record(tmp_path, election, choices={"C-MCT": ["MCT-1"]}, seed=SEED, published=OTHER_SEED)
    code, out = run(election, "--code", f"sanduq-verify:1:kiosk:{BALLOT_ID}:{SEED.hex()}", "--record", str(record))
    assert code == FAILED and "CHECK FAILED" in out


def test_a_ballot_that_the_seed_does_not_open_fails_the_check(tmp_path: Path, election: Election) -> None:
    # the kiosk encrypted with one seed and revealed (and published) another: the nonces do not match
    record = write_record(tmp_path, election, choices={"C-MCT": ["MCT-1"]}, seed=OTHER_SEED, published=SEED)
    code, out = run(election, "--code", f"sanduq-verify:1:kiosk:{BALLOT_ID}:{SEED.hex()}", "--record", str(record))
    assert code == FAILED and "does not open" in out


def test_a_kiosk_code_without_a_record_or_not_in_it_is_not_checked(tmp_path: Path, election: Election) -> None:
    text = f"sanduq-verify:1:kiosk:{BALLOT_ID}:{SEED.hex()}"
    code, out = run(election, "--code", text)
    assert code == NOT_CHECKED and "--record" in out
    (tmp_path / "empty").mkdir()
    code, out = run(election, "--code", text, "--record", str(tmp_path / "empty"))
    assert code == NOT_CHECKED and "not among the challenged ballots" in out


def test_a_package_not_signed_by_the_commission_is_refused(tmp_path: Path, election: Election) -> None:
    other = build_election(tmp_path)
    out = io.StringIO()
    code = main(["--package", str(election.package_path), "--commission-key", str(other.commission_pub),
                 "--code", f"sanduq-verify:1:kiosk:{BALLOT_ID}:{SEED.hex()}"], out=out)  # fmt: skip
    assert code == NOT_CHECKED and "signature" in out.getvalue()


# ---- a remote ballot, fetched from a collector over pinned TLS (recorded answers) -------------------


def collector_app(ballot_json: dict[str, Any], *, fetches: int = 3) -> FastAPI:
    app = FastAPI()
    left = {"n": fetches}

    @app.get("/r1/ballots/{ballot_id}")
    def fetch(ballot_id: str) -> JSONResponse:
        if ballot_id != ballot_json["ballot_id"]:
            return JSONResponse({"error": "not_found", "detail": "no such ballot"}, status_code=404)
        if left["n"] == 0:
            return JSONResponse({"error": "expired", "detail": "fetch limit reached"}, status_code=410)
        left["n"] -= 1
        return JSONResponse({"ballot_id": ballot_id, "ballot": ballot_json, "received_at": "2027-10-27T08:00:00+00:00",
                             "fetches_left": left["n"]})  # fmt: skip

    return app


def test_a_remote_ballot_is_fetched_opened_and_the_fetch_limit_refused(tmp_path: Path, election: Election) -> None:
    ballot = encrypt(election, {"C-MCT": ["MCT-2"]}, BALLOT_ID, SEED)
    with HttpsServer(collector_app(ballot.to_dict()), election.tls, tmp_path) as server:
        text = CheckPayload(server.url, BALLOT_ID, SEED).text()
        for left in (2, 1, 0):
            code, out = run(election, "--code", text)
            assert code == PASSED, out
            assert "2: Candidate 2" in out and f"fetches left: {left}" in out
        code, out = run(election, "--code", text)
        assert code == NOT_CHECKED and "at most 3 times" in out
        code, out = run(election, "--code", CheckPayload(server.url, "f" * 32, SEED).text())
        assert code == NOT_CHECKED and "did not arrive" in out


def test_a_collector_serving_a_ballot_the_seed_does_not_open_fails_the_check(
    tmp_path: Path, election: Election
) -> None:
    ballot = encrypt(election, {"C-MCT": ["MCT-2"]}, BALLOT_ID, OTHER_SEED)
    with HttpsServer(collector_app(ballot.to_dict()), election.tls, tmp_path) as server:
        code, out = run(election, "--code", CheckPayload(server.url, BALLOT_ID, SEED).text())
    assert code == FAILED and "CHECK FAILED" in out


def test_a_server_without_the_packages_collector_certificate_is_not_trusted(tmp_path: Path, election: Election) -> None:
    # a tampered voter app's QR pointing to a server of its own (valid-looking certificate for 127.0.0.1, other key)
    ballot = encrypt(election, {"C-MCT": ["MCT-2"]}, BALLOT_ID, SEED)
    with HttpsServer(collector_app(ballot.to_dict()), tls_material("impostor"), tmp_path) as server:
        code, out = run(election, "--code", CheckPayload(server.url, BALLOT_ID, SEED).text())
    assert code == NOT_CHECKED and "cannot be trusted" in out


def test_the_code_can_come_from_an_image_or_stdin(tmp_path: Path, election: Election) -> None:
    record = write_record(tmp_path, election, choices={}, seed=SEED, published=SEED)
    image = tmp_path / "qr.png"
    image.write_bytes(qr_png(CheckPayload("kiosk", BALLOT_ID, SEED)))
    code, out = run(election, "--image", str(image), "--record", str(record))
    assert code == PASSED and "nobody (blank)" in out
    out_io = io.StringIO()
    code = main(["--package", str(election.package_path), "--commission-key", str(election.commission_pub),
                 "--record", str(record)], stdin=io.StringIO(f"sanduq-verify:1:kiosk:{BALLOT_ID}:{SEED.hex()}\n"),
                out=out_io)  # fmt: skip
    assert code == PASSED


def test_a_ballot_the_voter_app_challenged_is_opened_from_its_file(tmp_path: Path, election: Election) -> None:
    from remote.check import ballot_code

    ballot = encrypt(election, {"C-MCT": ["MCT-1", "MCT-2"]}, BALLOT_ID, SEED)
    saved = tmp_path / f"challenged-{BALLOT_ID}.json"
    saved.write_text(json.dumps(challenge_ballot(ballot, SEED).to_dict()))
    code, out = run(election, "--challenged", str(saved))
    assert code == PASSED, out
    assert ballot_code(ballot) in out and "1: Candidate 1" in out and "2: Candidate 2" in out
    saved.write_text(json.dumps(challenge_ballot(ballot, OTHER_SEED).to_dict()))  # not the seed it was made with
    code, out = run(election, "--challenged", str(saved))
    assert code == FAILED and "CHECK FAILED" in out
    saved.write_text("{}")
    code, out = run(election, "--challenged", str(saved))
    assert code == NOT_CHECKED and "not a challenged ballot" in out
