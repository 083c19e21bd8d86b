"""The guardian's checklist through the real guardian CLI (``election.guardian.__main__.main``): a share is made only
from a pre-decryption record that passes the verifier's checks, over the tally the guardian recomputed itself.

Before this, ``decrypt-share`` took a bare ``encrypted_tally.json`` and decrypted whatever it held: a "tally" of one
ballot, or a real tally with another ballot's ciphertexts smuggled in as extra selections, revealed one voter's
choices. Each attack below is refused with its reason and no share file is written."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from devtools.sample_election import build_sample_record, run_key_ceremony
from devtools.sample_record import SeededRandom, build_test_manifest
from election.ballot import EncryptedBallot
from election.canonical import canonical_json
from election.confirmation import batch_root
from election.context import ElectionContext
from election.guardian.__main__ import main
from election.manifest import Manifest
from election.tally import TallyAccumulator
from election.verify.__main__ import verify_record
from tests.election.ceremony_dir import write_ceremony_dir

PASSPHRASE = "guardian checklist test (TEST MATERIAL)"  # a test vault passphrase
SEED = 21
#: what the office may hand the guardians: the published record's parts that exist before decryption
POST_DECRYPTION = ("tally/shares", "results.json", "pollbook_counts.json", "office")


@pytest.fixture(scope="module")
def election(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path, Manifest]:
    """(ceremony directory, pre-decryption record, published record, manifest): a 2-of-3 election of 10 cast, 2
    challenged and 1 withheld ballots; the ceremony directory holds the same guardians' sealed secrets as the CLI's
    own ceremony would."""
    root = tmp_path_factory.mktemp("guardian-checklist")
    manifest = build_test_manifest()
    published = root / "published"
    build_sample_record(
        published, manifest, ballots=10, challenged=2, withheld=1, random_bytes=SeededRandom(SEED), n=3, k=2
    )
    # build_sample_record's first draw is this ceremony: the same seed gives the same guardians and secrets
    context, records, secrets = run_key_ceremony(manifest.manifest_hash, 3, 2, SeededRandom(SEED))
    assert json.loads((published / "context.json").read_text()) == json.loads(canonical_json(context.to_dict()))
    ceremony = write_ceremony_dir(root / "ceremony", manifest.manifest_hash, context, records, secrets, PASSPHRASE)
    before = root / "before-decryption"
    shutil.copytree(published, before)
    for part in POST_DECRYPTION:
        path = before / part
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    return ceremony, before, published, manifest


def guardian(ceremony: Path, command: str, sequence: int, record: Path, out: Path, *extra: str) -> int:
    (ceremony.parent / "pw").write_text(PASSPHRASE + "\n")
    return main(["--ceremony", str(ceremony), command, "--sequence", str(sequence), "--passphrase-file",
                 str(ceremony.parent / "pw"), "--scrypt-n", "1024", "--jobs", "1", str(record), "--out", str(out),
                 *extra])  # fmt: skip


def read(path: Path) -> Any:
    return json.loads(path.read_text())


def write(path: Path, data: object) -> None:
    path.write_text(json.dumps(data))


def test_the_genuine_record_is_decrypted_and_the_shares_make_a_record_that_verifies(election, tmp_path, capsys) -> None:
    ceremony, before, published, _manifest = election
    shares = tmp_path / "shares"
    archive = tmp_path / "record.tar"
    with tarfile.open(archive, "w") as tar:  # as GET /api/guardian/record serves it
        tar.add(before, arcname="record")
    assert guardian(ceremony, "decrypt-share", 1, archive, shares) == 0
    assert guardian(ceremony, "decrypt-share", 2, before, shares) == 0
    assert guardian(ceremony, "compensate", 1, before, shares, "--missing", "3") == 0
    assert guardian(ceremony, "compensate", 2, archive, shares, "--missing", "3") == 0
    err = capsys.readouterr().err
    rows = [line.split() for line in err.splitlines() if line.startswith("encrypted tally ")]
    assert rows and all(row[-1] == "PASS" for row in rows), err
    assert "decryption shares" not in err  # only the checks that exist before decryption
    # the CLI's shares, put in place of the sample's, give a published record that verifies
    copy = tmp_path / "published"
    shutil.copytree(published, copy)
    shutil.rmtree(copy / "tally" / "shares")
    shutil.copytree(shares, copy / "tally" / "shares")
    assert sorted(p.name for p in shares.iterdir()) == [
        "guardian-1.json", "guardian-2.json", "guardian-3-by-1.json", "guardian-3-by-2.json",
    ]  # fmt: skip
    out = io.StringIO()
    assert verify_record(copy, out), out.getvalue()


# ---- what a dishonest office might hand the guardians ------------------------------------------------------------


def _ballots(root: Path) -> list[dict]:
    return [read(p)["ballot"] for p in sorted((root / "ballots" / "cast").glob("*.json"))]


def _tally_of(root: Path, ballot: dict) -> Any:
    """The office's encrypted tally with every ciphertext replaced by those of ``ballot`` alone (the identity for
    contests it does not hold): decrypting it would reveal that voter's choices."""
    tally = read(root / "tally" / "encrypted_tally.json")
    zero = {"alpha": "00" * 32, "beta": "00" * 32}
    for row in tally["contests"].values():
        for sel in row:
            row[sel] = zero
    for contest in ballot["contests"]:
        row = tally["contests"][contest["contest_id"]]
        for sel in contest["selections"]:
            row[sel["candidate_id"]] = sel["ciphertext"]
        row["#blank"] = contest["blank"]
    return tally


def single_ballot_tally(root: Path) -> str:
    write(root / "tally" / "encrypted_tally.json", _tally_of(root, _ballots(root)[0]))
    return "is not the sum of the cast ballots"


def record_of_one_ballot(root: Path) -> str:
    # the office publishes only the victim's ballot and a "tally" of it
    victim = _ballots(root)[3]
    for path in (root / "ballots" / "cast").glob("*.json"):
        if path.stem != victim["ballot_id"]:
            path.unlink()
    write(root / "tally" / "encrypted_tally.json", _tally_of(root, victim))
    return "but no such ballot is published"


def smuggled_selection(root: Path) -> str:
    # the real tally, plus another ballot's W1 ciphertext as an extra "candidate" of W1
    tally = read(root / "tally" / "encrypted_tally.json")
    victim = next(b for b in _ballots(root) if b["contests"][0]["contest_id"] == "shura-W1")
    tally["contests"]["shura-W1"]["W1-C9"] = victim["contests"][0]["selections"][0]["ciphertext"]
    write(root / "tally" / "encrypted_tally.json", tally)
    return "selections of shura-W1 differ from the manifest"


def smuggled_contest(root: Path) -> str:
    tally = read(root / "tally" / "encrypted_tally.json")
    victim = _ballots(root)[0]["contests"][0]
    tally["contests"]["shura-W9"] = {s["candidate_id"]: s["ciphertext"] for s in victim["selections"]}
    write(root / "tally" / "encrypted_tally.json", tally)
    return "contests differ from the manifest"


def duplicated_selection(root: Path) -> str:
    # JSON with W1-C1 twice: a parser that keeps the last one would decrypt the smuggled ciphertext
    path = root / "tally" / "encrypted_tally.json"
    text = path.read_text()
    victim = json.dumps(_ballots(root)[0]["contests"][0]["selections"][0]["ciphertext"], separators=(",", ":"))
    path.write_text(text.replace('"shura-W1":{', '"shura-W1":{"W1-C1":' + victim + ",", 1))
    return "the key 'W1-C1' appears twice in one object"


def tally_not_the_sum(root: Path) -> str:
    tally = read(root / "tally" / "encrypted_tally.json")
    row = tally["contests"]["shura-W3"]
    row["W3-C1"], row["W3-C2"] = row["W3-C2"], row["W3-C1"]
    write(root / "tally" / "encrypted_tally.json", tally)
    return "encrypted tally of shura-W3/W3-C1 is not the sum of the cast ballots"


def bad_proof(root: Path) -> str:
    path = sorted((root / "ballots" / "cast").glob("*.json"))[2]
    data = read(path)
    data["ballot"]["contests"][0]["selections"][0]["proof"]["v"].reverse()
    write(path, data)
    return "range proof does not verify"


def last_ballot_dropped_and_tally_recomputed(root: Path) -> str:
    # the office drops a cast ballot from a kiosk's last batch, re-computes that batch's root (so the chain holds)
    # and hands over a tally that is the true sum of what remains: only the kiosk's signed chain close shows that
    # its chain was longer
    chain_file = next(
        p
        for p in sorted((root / "kiosk_chains").glob("*.json"))
        if any(link["status"] == "cast" for link in read(p)["batches"][-1]["links"])
    )
    chain = read(chain_file)
    last = chain["batches"][-1]
    dropped = next(link for link in last["links"] if link["status"] == "cast")
    last["links"].remove(dropped)
    if last["links"]:
        last["root"] = batch_root(
            bytes.fromhex(last["previous_root"]), chain["kiosk"], [bytes.fromhex(x["code"]) for x in last["links"]]
        ).hex()
    else:  # it was the batch's only link: the batch goes
        chain["batches"].pop()
    write(chain_file, chain)
    (root / "ballots" / "cast" / f"{dropped['ballot_id']}.json").unlink()
    context = ElectionContext.from_dict(read(root / "context.json"))
    acc = TallyAccumulator(context, build_test_manifest())
    for ballot in _ballots(root):
        acc.add(EncryptedBallot.from_dict(ballot))
    write(root / "tally" / "encrypted_tally.json", acc.result().to_dict())
    return f"kiosk {chain['kiosk']}: its chain does not end at its signed close"


def another_context(root: Path) -> str:
    context = read(root / "context.json")
    context["joint_public_key"] = context["commitments"][0][0]
    write(root / "context.json", context)
    return "is not the election context of this guardian's key ceremony"


def extra_file(root: Path) -> str:
    (root / "notes.json").write_text("{}")
    return "unexpected file(s) or directory(ies) in the record: notes.json"


def results_before_decryption(root: Path) -> str:
    write(root / "results.json", {"format_version": 1, "contests": {}})
    return "unexpected file(s) or directory(ies) in the record: results.json"


@pytest.mark.parametrize(
    "attack",
    [
        single_ballot_tally,
        record_of_one_ballot,
        smuggled_selection,
        smuggled_contest,
        duplicated_selection,
        tally_not_the_sum,
        bad_proof,
        last_ballot_dropped_and_tally_recomputed,
        another_context,
        extra_file,
        results_before_decryption,
    ],
)
@pytest.mark.parametrize("command", ["decrypt-share", "compensate"])
def test_each_attack_is_refused_with_its_reason_and_no_share_is_written(
    election, tmp_path, capsys, attack: Callable[[Path], str], command: str
) -> None:
    ceremony, before, _published, _manifest = election
    record = tmp_path / "record"
    shutil.copytree(before, record)
    reason = attack(record)
    out = tmp_path / "shares"
    extra = ["--missing", "3"] if command == "compensate" else []
    assert guardian(ceremony, command, 1, record, out, *extra) == 1
    err = capsys.readouterr().err
    assert "error: refused:" in err and reason in err, err
    assert not out.exists() or not any(out.iterdir())


def test_a_bare_encrypted_tally_is_no_longer_decrypted(election, tmp_path, capsys) -> None:
    # the old interface: the office's encrypted_tally.json alone (here a "tally" of one ballot)
    ceremony, before, _published, _manifest = election
    tally = tmp_path / "encrypted_tally.json"
    write(tally, _tally_of(before, _ballots(before)[0]))
    assert guardian(ceremony, "decrypt-share", 1, tally, tmp_path / "shares") == 1
    err = capsys.readouterr().err
    assert "is neither a record directory nor a tar archive of one" in err
    assert not (tmp_path / "shares").exists()


def test_an_archive_reaching_outside_the_record_is_refused(election, tmp_path, capsys) -> None:
    ceremony, before, _published, _manifest = election
    archive = tmp_path / "record.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(before, arcname="record")
        evil = tarfile.TarInfo("../outside.json")
        evil.size = 2
        tar.addfile(evil, io.BytesIO(b"{}"))
    assert guardian(ceremony, "decrypt-share", 1, archive, tmp_path / "shares") == 1
    assert "../outside.json points outside the record" in capsys.readouterr().err
    assert not (tmp_path / "outside.json").exists() and not (tmp_path / "shares").exists()


def test_a_tar_bomb_is_refused_before_anything_is_unpacked(election, tmp_path, capsys) -> None:
    # a gzip archive of the genuine record plus 64 MiB of zeros, which compress to about 64 KB
    ceremony, before, _published, _manifest = election
    archive = tmp_path / "record.tar.gz"
    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        tar.add(before, arcname="record")
        bomb = tarfile.TarInfo("record/padding.bin")
        bomb.size = 64 << 20
        tar.addfile(bomb, io.BytesIO(bytes(bomb.size)))
    assert archive.stat().st_size < 2 << 20
    assert guardian(ceremony, "decrypt-share", 1, archive, tmp_path / "shares") == 1
    err = capsys.readouterr().err
    assert "error: refused: record.tar.gz: refused as a tar bomb" in err, err
    assert "Traceback" not in err and not (tmp_path / "shares").exists()


def test_an_archive_over_the_member_or_size_limits_is_refused_with_the_limit(election, tmp_path) -> None:
    from election.guardian.checklist import ArchiveLimits, RecordRefused, unpack

    _ceremony, before, _published, _manifest = election
    archive = tmp_path / "record.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(before, arcname="record")
    members = sum(1 for _ in before.rglob("*")) + 1
    with pytest.raises(RecordRefused, match=f"more than {members - 1} members"):
        unpack(archive, tmp_path / "a", ArchiveLimits(members=members - 1))
    with pytest.raises(RecordRefused, match=r"\.json would unpack to \d+ bytes, more than 1000 \(no file of a record"):
        unpack(archive, tmp_path / "b", ArchiveLimits(member_bytes=1000))
    assert not (tmp_path / "a").exists() or not any((tmp_path / "a").iterdir())
    (tmp_path / "c").mkdir()
    assert unpack(archive, tmp_path / "c", ArchiveLimits(members=members)) == tmp_path / "c" / "record"
