"""The verifier's ``remote`` check (election/verify/remote.py) on a whole sample record whose manifest has a vote
collector: the collector's cast ballots are its credentials' last ballots, with superseded and voided submissions
listed, and ``remote/statement.json`` is the collector's signature over the part.

What a dishonest office (it publishes the record, without the collector's key) gets when it changes the part and
recomputes ``counts.json`` so the lists agree: a dropped superseded submission, a dropped credential, an edited
count, a forged or missing statement each fail, naming the file. What a dishonest collector (which signs what it
writes) gets: a superseded ballot counted, an unregistered credential, two counted for one credential, a voided
credential counted, a forged credential signature, a cast ballot of the collector without a counted submission,
more remote ballots than remote voters in the poll book, counts that do not match: each fails on what it says."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from collector.record import STATEMENT, RemotePart, signed_part, write_remote_part
from devtools.sample_election import build_sample_record
from devtools.sample_election.kiosks import sample_kiosk_key, sign_statement
from devtools.sample_record import SeededRandom, build_test_manifest
from election.canonical import canonical_json
from election.chain_statement import SignedStatement, StatementKind
from election.manifest import Manifest
from election.remote_statement import BallotStatement, credential_hex
from election.verify.__main__ import verify_record
from sync.signing import Signer

COLLECTOR = "REMOTE-01"
#: TEST MATERIAL: the collector's enrolled kiosk key in these records (the sample record's own kiosk keys are made
#: inside it): ``enrol_collector`` puts its certificate in kiosks/REMOTE-01.json and re-signs the chain close with it
COLLECTOR_KEY, COLLECTOR_CERT = sample_kiosk_key(COLLECTOR, SeededRandom(1818))
COLLECTOR_SIGNER = Signer(COLLECTOR_KEY)
LISTS = ("credentials.json", "voided.json", "submissions.json", "counts.json")


def manifest_with_collector() -> Manifest:
    data = build_test_manifest().to_dict()
    centre = data["centres"][0]["id"]
    data["kiosks"].append({"id": COLLECTOR, "centre": centre})
    opens = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    data["remote_voting"] = {
        "collector_ids": [COLLECTOR],
        "windows": [
            {"group": "home", "opens": opens.isoformat(), "closes": (opens + dt.timedelta(days=1)).isoformat()}
        ],
    }
    return Manifest.from_dict(data)


def sign(manifest: Manifest, key: Ed25519PrivateKey, sequence: int, ballot_id: str, ballot_hash: str) -> dict[str, Any]:
    statement = BallotStatement(
        str(manifest.election_id),
        COLLECTOR,
        credential_hex(key),
        os.urandom(16).hex(),
        sequence,
        ballot_id,
        ballot_hash,
    )
    return statement.to_dict() | {"signature": statement.sign(key)}


def enrol_collector(root: Path) -> tuple[str, str]:
    """Make ``COLLECTOR_KEY`` the collector's enrolled key in the sample record (its certificate, its chain close and
    last head re-signed with it); returns the chain's (genesis, root) as its close states them."""
    path = root / "kiosks" / f"{COLLECTOR}.json"
    data = json.loads(path.read_text())
    close = SignedStatement.from_dict(data["close"], StatementKind.CLOSE).statement
    head = SignedStatement.from_dict(data["last_head"], StatementKind.HEAD).statement
    data["certificate_pem"] = COLLECTOR_CERT
    data["close"] = sign_statement(COLLECTOR_KEY, close).to_dict()
    data["last_head"] = sign_statement(COLLECTOR_KEY, head).to_dict()
    path.write_bytes(canonical_json(data))
    return close.genesis, close.root


def sign_part(root: Path, manifest: Manifest, sign: Any, chain: tuple[str, str]) -> None:
    """Write remote/statement.json over the lists as they are in ``root`` with the collector's own code
    (``collector.record.signed_part``): what the collector signs at its handover."""
    files = {f"remote/{name}": json.loads((root / "remote" / name).read_text()) for name in LISTS}
    part = signed_part(
        RemotePart(files, ()),
        election_id=str(manifest.election_id),
        collector_id=COLLECTOR,
        genesis=chain[0],
        root=chain[1],
        sign=sign,
    )
    write_remote_part(part, root)


def resign(root: Path) -> None:
    """A dishonest collector signs what it changed: the statement over the lists as they now are."""
    statement = json.loads((root / STATEMENT).read_text())
    manifest = Manifest.from_dict(json.loads((root / "manifest.json").read_text()))
    sign_part(root, manifest, COLLECTOR_SIGNER.sign, (statement["genesis"], statement["root"]))


def write_remote(
    root: Path, manifest: Manifest, *, sign_with: Any = None, chain: tuple[str, str] | None = None
) -> dict[str, Any]:
    """remote/ as the collector writes it for the record's cast ballots of the collector: each the last of its
    credential; the first credential re-voted twice; one more credential voided (voted in person); and its
    statement signed by ``sign_with`` over the collector's chain ``chain`` (genesis, root), by default with
    ``COLLECTOR_KEY`` enrolled in the record's kiosks/ (``enrol_collector``)."""
    cast = [json.loads(p.read_text()) for p in sorted((root / "ballots" / "cast").glob("*.json"))]
    ours = [c for c in cast if c["kiosk"] == COLLECTOR]
    assert len(ours) >= 2
    credentials, submissions = [], []
    for i, c in enumerate(ours):
        key = Ed25519PrivateKey.generate()
        ballot = c["ballot"]
        digest = json.loads(json.dumps(ballot))
        bhash = hashlib.sha256(canonical_json(digest)).hexdigest()
        credentials.append({"credential": credential_hex(key), "style_id": ballot["style_id"]})
        earlier = 2 if i == 0 else 0
        for seq in range(1, earlier + 1):
            submissions.append(
                sign(manifest, key, seq, f"old-{i}-{seq}", os.urandom(32).hex()) | {"status": "superseded"}
            )
        submissions.append(sign(manifest, key, earlier + 1, ballot["ballot_id"], bhash) | {"status": "counted"})
    voided_key = Ed25519PrivateKey.generate()
    credentials.append({"credential": credential_hex(voided_key), "style_id": ours[0]["ballot"]["style_id"]})
    submissions.append(sign(manifest, voided_key, 1, "in-person-1", os.urandom(32).hex()) | {"status": "voided"})
    for s in submissions:
        del s["election_id"], s["collector_id"]
    credentials.sort(key=lambda c: c["credential"])
    submissions.sort(key=lambda s: (s["credential"], s["sequence"]))
    files = {
        "credentials.json": {"format_version": 1, "collector_id": COLLECTOR, "credentials": credentials},
        "voided.json": {"format_version": 1, "voided": [credential_hex(voided_key)]},
        "submissions.json": {"format_version": 1, "submissions": submissions},
        "counts.json": {
            "format_version": 1,
            "credentials": len(credentials),
            "voided": 1,
            "submissions": len(submissions),
            "counted": len(ours),
            "superseded": 2,
        },
    }
    (root / "remote").mkdir()
    for name, content in files.items():
        (root / "remote" / name).write_bytes(canonical_json(content))
    if sign_with is None:
        sign_with, chain = COLLECTOR_SIGNER.sign, enrol_collector(root)
    assert chain is not None
    sign_part(root, manifest, sign_with, chain)
    return {"ours": ours, "voided": credential_hex(voided_key)}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("remote-record") / "record"
    manifest = manifest_with_collector()
    build_sample_record(out, manifest, ballots=10, challenged=0, random_bytes=SeededRandom(18), n=3, k=2)
    return out, write_remote(out, manifest)


@pytest.fixture
def record(sample: tuple[Path, dict[str, Any]], tmp_path: Path) -> Path:
    copy = tmp_path / "record"
    shutil.copytree(sample[0], copy)
    return copy


def run(root: Path, check: str = "remote ballots by credential") -> tuple[bool, str]:
    out = io.StringIO()
    ok = verify_record(root, out, jobs=1)
    line = next((x for x in out.getvalue().splitlines() if f"{check}:" in x), "")
    return ok, line


def edit(root: Path, name: str, change: Any, *, signed: bool = True) -> None:
    """Change a file of remote/; ``signed``: by the collector, which signs the statement over it again; otherwise
    by the office, which cannot."""
    path = root / "remote" / name
    data = json.loads(path.read_text())
    change(data)
    path.write_bytes(canonical_json(data))
    if signed:
        resign(root)


def recount(root: Path) -> None:
    """counts.json recomputed from the lists, as an office that dropped entries would, to keep them consistent."""
    lists = {name: json.loads((root / "remote" / name).read_text()) for name in LISTS}
    submissions = subs(lists["submissions.json"])
    counts = {
        "format_version": 1,
        "credentials": len(lists["credentials.json"]["credentials"]),
        "voided": len(lists["voided.json"]["voided"]),
        "submissions": len(submissions),
        "counted": sum(1 for s in submissions if s["status"] == "counted"),
        "superseded": sum(1 for s in submissions if s["status"] == "superseded"),
    }
    (root / "remote" / "counts.json").write_bytes(canonical_json(counts))


def subs(data: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = data["submissions"]
    return result


def test_the_honest_record_verifies_with_its_remote_part(record: Path) -> None:
    ok, line = run(record)
    assert ok, line
    assert "counted (each its credential's last)" in line and "remote" in line and "1 voided" in line
    assert f"remote/statement.json signed by the certificate of {COLLECTOR}" in line, line
    ok, turnout = run(record, "remote turnout against poll book")
    assert "at kiosks +" in turnout and "remote <=" in turnout and turnout.startswith("PASS")


def test_a_superseded_ballot_counted_fails(record: Path) -> None:
    def swap(data: dict[str, Any]) -> None:
        first = next(s for s in subs(data) if s["sequence"] == 3)
        older = next(s for s in subs(data) if s["credential"] == first["credential"] and s["sequence"] == 2)
        first["status"], older["status"] = "superseded", "counted"

    edit(record, "submissions.json", swap)
    ok, line = run(record)
    assert not ok and "a superseded ballot is counted instead of its last" in line


def test_an_unregistered_credential_fails(record: Path) -> None:
    submissions = json.loads((record / "remote" / "submissions.json").read_text())
    counted = next(s["credential"] for s in subs(submissions) if s["status"] == "counted")

    def drop(data: dict[str, Any]) -> None:  # a counted ballot's credential was never registered
        data["credentials"] = [c for c in data["credentials"] if c["credential"] != counted]

    edit(record, "credentials.json", drop)
    ok, line = run(record)
    assert not ok and "unregistered credential" in line


def test_two_counted_for_one_credential_fails(record: Path) -> None:
    def both(data: dict[str, Any]) -> None:
        for s in subs(data):
            if s["status"] == "superseded":
                s["status"] = "counted"

    edit(record, "submissions.json", both)
    ok, line = run(record)
    assert not ok and "counted ballots (exactly one)" in line


def test_a_voided_credential_counted_fails(record: Path, sample: tuple[Path, dict[str, Any]]) -> None:
    voided = sample[1]["voided"]

    def count_it(data: dict[str, Any]) -> None:
        for s in subs(data):
            if s["credential"] == voided:
                s["status"] = "counted"

    edit(record, "submissions.json", count_it)
    ok, line = run(record)
    assert not ok and "voided credential" in line and "is counted" in line


def test_a_forged_signature_fails(record: Path) -> None:
    def forge(data: dict[str, Any]) -> None:
        s = subs(data)[0]
        s["sequence"] += 10  # the office moves a ballot up: the credential never signed that

    edit(record, "submissions.json", forge)
    ok, line = run(record)
    assert not ok and "signature does not verify" in line


def test_a_collector_ballot_without_a_counted_submission_fails(record: Path) -> None:
    def uncount(data: dict[str, Any]) -> None:
        data["submissions"] = [s for s in subs(data) if s["status"] != "counted" or s["sequence"] != 3]
        data["submissions"] = [s for s in subs(data) if s["status"] != "superseded"]

    edit(record, "submissions.json", uncount)
    ok, line = run(record)
    assert not ok and "is no counted remote submission" in line


def test_more_remote_ballots_than_remote_voters_in_the_poll_book_fails(
    record: Path, sample: tuple[Path, dict[str, Any]]
) -> None:
    style = sample[1]["ours"][0]["ballot"]["style_id"]
    path = record / "pollbook_counts.json"
    book = json.loads(path.read_text())
    book["ballots_per_style"][style] -= 1
    path.write_bytes(canonical_json(book))
    ok, line = run(record, "remote turnout against poll book")
    assert not ok and "more remote ballots counted than remote voters in the poll book" in line


def test_counts_that_do_not_match_fail(record: Path) -> None:
    edit(record, "counts.json", lambda d: d.update(counted=d["counted"] + 1))
    ok, line = run(record)
    assert not ok and "counts.json does not match" in line


def test_a_remote_part_without_remote_voting_in_the_manifest_fails(tmp_path: Path) -> None:
    out = tmp_path / "record"
    build_sample_record(out, build_test_manifest(), ballots=3, challenged=0, random_bytes=SeededRandom(3), n=3, k=2)
    assert run(out)[0]
    (out / "remote").mkdir()
    (out / "remote" / "counts.json").write_text("{}")
    ok, line = run(out)
    assert not ok and "the manifest has no remote_voting" in line


# ---- the office, which publishes the record but does not hold the collector's key ----------------------------


def drop_a_superseded(data: dict[str, Any]) -> None:
    data["submissions"].remove(next(s for s in subs(data) if s["status"] == "superseded"))


def test_the_office_drops_a_superseded_submission_and_recounts_it_fails(record: Path) -> None:
    edit(record, "submissions.json", drop_a_superseded, signed=False)  # the re-vote of a coerced voter, gone
    recount(record)
    ok, line = run(record)
    assert not ok and line.startswith("FAIL"), line
    assert "remote/submissions.json is not the file the collector signed" in line, line
    resign(record)  # the same lists signed by the collector verify: only the statement shows the office's change
    assert run(record)[0]


def test_the_office_drops_a_credential_and_recounts_it_fails(record: Path, sample: tuple[Path, dict[str, Any]]) -> None:
    voided = sample[1]["voided"]  # its submission is only listed: nothing in the chain or the tally shows it

    def without_credential(data: dict[str, Any]) -> None:
        data["credentials"] = [c for c in data["credentials"] if c["credential"] != voided]

    def without_submissions(data: dict[str, Any]) -> None:
        data["submissions"] = [s for s in subs(data) if s["credential"] != voided]

    edit(record, "credentials.json", without_credential, signed=False)
    edit(record, "voided.json", lambda data: data.update(voided=[]), signed=False)
    edit(record, "submissions.json", without_submissions, signed=False)
    recount(record)
    ok, line = run(record)
    assert not ok and "remote/credentials.json is not the file the collector signed" in line, line
    resign(record)
    assert run(record)[0]


def test_the_office_edits_a_count_it_fails(record: Path) -> None:
    edit(record, "counts.json", lambda data: data.update(superseded=data["superseded"] - 1), signed=False)
    ok, line = run(record)
    assert not ok and "remote/counts.json is not the file the collector signed" in line, line


def test_a_forged_statement_signature_fails(record: Path) -> None:
    """The office drops a superseded submission and signs the statement over the new lists with a key of its own."""
    edit(record, "submissions.json", drop_a_superseded, signed=False)
    recount(record)
    statement = json.loads((record / STATEMENT).read_text())
    impostor = Signer(sample_kiosk_key(COLLECTOR, SeededRandom(99))[0])
    manifest = Manifest.from_dict(json.loads((record / "manifest.json").read_text()))
    sign_part(record, manifest, impostor.sign, (statement["genesis"], statement["root"]))
    ok, line = run(record)
    assert not ok, line
    assert "remote/statement.json: its signature does not verify with the collector's certificate" in line, line
    assert f"kiosks/{COLLECTOR}.json" in line


def test_a_chain_statement_signature_does_not_serve_as_the_record_statement(record: Path) -> None:
    """The collector's signed chain close, in the statement's place: another label, so it does not verify."""
    statement = json.loads((record / STATEMENT).read_text())
    close = json.loads((record / "kiosks" / f"{COLLECTOR}.json").read_text())["close"]
    statement["signature"] = close["signature"]
    (record / STATEMENT).write_bytes(canonical_json(statement))
    ok, line = run(record)
    assert not ok and "remote/statement.json: its signature does not verify" in line, line


def test_a_missing_statement_fails(record: Path) -> None:
    (record / STATEMENT).unlink()
    ok, line = run(record)
    assert not ok and "remote/statement.json is missing" in line, line


def test_a_statement_for_another_chain_fails(record: Path) -> None:
    """The collector signed a chain other than the one the record publishes for it (a ballot more or less)."""
    manifest = Manifest.from_dict(json.loads((record / "manifest.json").read_text()))
    statement = json.loads((record / STATEMENT).read_text())
    sign_part(record, manifest, COLLECTOR_SIGNER.sign, (statement["genesis"], "ab" * 32))
    ok, line = run(record)
    assert not ok and f"the record's kiosk_chains/{COLLECTOR}.json ends at" in line, line


def test_a_statement_without_the_collectors_certificate_fails(record: Path) -> None:
    (record / "kiosks" / f"{COLLECTOR}.json").unlink()
    ok, line = run(record)
    assert not ok and f"kiosks/{COLLECTOR}.json (the collector's enrolled certificate" in line, line
