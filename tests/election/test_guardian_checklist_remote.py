"""Remote ballots in the guardians' archive: the verifier's ``remote`` check runs before decryption, so the guardian
CLI (``python -m election.guardian decrypt-share``) refuses a pre-decryption record whose ``remote/`` part is
tampered, and writes no share. The record: an election with a vote collector whose cast ballots are its
credentials' last ballots (one re-voted twice, one credential voided by an in-person vote), and the collector's
signed statement over the part (an office that drops a superseded submission is refused too)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from devtools.sample_election import build_sample_record, run_key_ceremony
from devtools.sample_record import SeededRandom
from election.canonical import canonical_json
from election.guardian.__main__ import main
from tests.collector.test_record_remote import manifest_with_collector, recount, resign, write_remote
from tests.election.ceremony_dir import write_ceremony_dir

PASSPHRASE = "guardian remote test (TEST MATERIAL)"  # a test vault passphrase
SEED = 23
POST_DECRYPTION = ("tally/shares", "results.json", "pollbook_counts.json", "office")


@pytest.fixture(scope="module")
def election(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Any]]:
    """(ceremony directory, pre-decryption record with remote/, what write_remote made)."""
    root = tmp_path_factory.mktemp("guardian-remote")
    manifest = manifest_with_collector()
    published = root / "published"
    build_sample_record(published, manifest, ballots=10, challenged=0, random_bytes=SeededRandom(SEED), n=3, k=2)
    made = write_remote(published, manifest)
    context, records, secrets = run_key_ceremony(manifest.manifest_hash, 3, 2, SeededRandom(SEED))
    ceremony = write_ceremony_dir(root / "ceremony", manifest.manifest_hash, context, records, secrets, PASSPHRASE)
    before = root / "before-decryption"
    shutil.copytree(published, before)
    for part in POST_DECRYPTION:
        path = before / part
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    return ceremony, before, made


def decrypt_share(ceremony: Path, record: Path, out: Path) -> int:
    (ceremony.parent / "pw").write_text(PASSPHRASE + "\n")
    pw = str(ceremony.parent / "pw")
    return main(["--ceremony", str(ceremony), "decrypt-share", "--sequence", "1", "--passphrase-file", pw,
                 "--scrypt-n", "1024", "--jobs", "1", str(record), "--out", str(out)])  # fmt: skip


def edit(root: Path, name: str, change: Callable[[dict[str, Any]], None], *, signed: bool = True) -> None:
    """Change a file of remote/: by the collector (``signed``: it signs its statement over the part again) or by
    the office (which cannot)."""
    path = root / "remote" / name
    data = json.loads(path.read_text())
    change(data)
    path.write_bytes(canonical_json(data))
    if signed:
        resign(root)


def test_the_genuine_record_with_remote_ballots_is_decrypted(election, tmp_path, capsys) -> None:
    ceremony, before, _made = election
    out = tmp_path / "shares"
    assert decrypt_share(ceremony, before, out) == 0
    err = capsys.readouterr().err
    row = next(line for line in err.splitlines() if line.startswith("remote ballots by credential"))
    assert row.split()[-1] == "PASS", err
    assert "remote turnout" not in err  # the poll book's counts come with the results, after decryption
    assert (out / "guardian-1.json").is_file()


def _superseded_counted(data: dict[str, Any], _made: dict[str, Any]) -> None:
    last = next(s for s in data["submissions"] if s["sequence"] == 3)
    older = next(s for s in data["submissions"] if s["credential"] == last["credential"] and s["sequence"] == 2)
    last["status"], older["status"] = "superseded", "counted"


def _two_counted(data: dict[str, Any], _made: dict[str, Any]) -> None:
    for s in data["submissions"]:
        if s["status"] == "superseded":
            s["status"] = "counted"


def _voided_counted(data: dict[str, Any], made: dict[str, Any]) -> None:
    for s in data["submissions"]:
        if s["credential"] == made["voided"]:
            s["status"] = "counted"


ATTACKS = {
    "a superseded ballot counted": ("submissions.json", _superseded_counted, "a superseded ballot is counted"),
    "two counted for one credential": ("submissions.json", _two_counted, "counted ballots (exactly one)"),
    "a voided credential counted": ("submissions.json", _voided_counted, "voided credential"),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_tampered_remote_part_is_refused_and_no_share_is_written(election, tmp_path, capsys, attack) -> None:
    ceremony, before, made = election
    record = tmp_path / "record"
    shutil.copytree(before, record)
    name, change, reason = ATTACKS[attack]
    edit(record, name, lambda data: change(data, made))
    out = tmp_path / "shares"
    assert decrypt_share(ceremony, record, out) == 1
    err = capsys.readouterr().err
    assert "error: refused:" in err and "remote ballots by credential" in err and reason in err, err
    assert not out.exists() or not any(out.iterdir())


def test_a_submission_the_office_dropped_is_refused(election, tmp_path, capsys) -> None:
    ceremony, before, _made = election
    record = tmp_path / "record"
    shutil.copytree(before, record)

    def drop(data: dict[str, Any]) -> None:  # the superseded ballots of the voter who re-voted, gone
        data["submissions"] = [s for s in data["submissions"] if s["status"] != "superseded"]

    edit(record, "submissions.json", drop, signed=False)
    recount(record)  # the lists agree with each other again
    out = tmp_path / "shares"
    assert decrypt_share(ceremony, record, out) == 1
    err = capsys.readouterr().err
    assert "error: refused:" in err and "remote/submissions.json is not the file the collector signed" in err, err
    assert not out.exists() or not any(out.iterdir())


def test_an_unregistered_credential_is_refused(election, tmp_path, capsys) -> None:
    ceremony, before, _made = election
    record = tmp_path / "record"
    shutil.copytree(before, record)
    counted = next(
        s["credential"]
        for s in json.loads((record / "remote" / "submissions.json").read_text())["submissions"]
        if s["status"] == "counted"
    )

    def drop(data: dict[str, Any]) -> None:
        data["credentials"] = [c for c in data["credentials"] if c["credential"] != counted]

    edit(record, "credentials.json", drop)
    out = tmp_path / "shares"
    assert decrypt_share(ceremony, record, out) == 1
    err = capsys.readouterr().err
    assert "error: refused:" in err and "unregistered credential" in err, err
    assert not out.exists() or not any(out.iterdir())


def test_a_record_without_the_remote_part_is_refused(election, tmp_path, capsys) -> None:
    """An election with remote voting whose archive lacks remote/: the guardian cannot see which remote ballots
    count, so no share."""
    ceremony, before, _made = election
    record = tmp_path / "record"
    shutil.copytree(before, record)
    shutil.rmtree(record / "remote")
    out = tmp_path / "shares"
    assert decrypt_share(ceremony, record, out) == 1
    err = capsys.readouterr().err
    assert "error: refused:" in err and "remote/credentials.json" in err, err
