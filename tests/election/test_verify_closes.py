"""The verifier's closes check (election/verify/closes.py) on the sample record: each kiosk chain must end exactly at
the kiosk's signed chain close; a kiosk that never closed fails by name unless ``--allow-unclosed`` names it."""

from __future__ import annotations

import dataclasses
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from devtools.sample_election import build_sample_record
from devtools.sample_election.kiosks import sample_kiosk_key, sign_statement
from devtools.sample_record import SeededRandom, build_test_manifest
from election.chain_statement import ChainStatement, StatementKind
from election.record import KioskStatements
from election.verify.__main__ import verify_record


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("record") / "record"
    build_sample_record(out, build_test_manifest(), ballots=9, challenged=2, withheld=1, random_bytes=SeededRandom(5))
    return out


@pytest.fixture
def record(sample: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "record"
    shutil.copytree(sample, copy)
    return copy


def closes(root: Path, allow: tuple[str, ...] = ()) -> str:
    """The closes check's line of the verifier's output."""
    out = io.StringIO()
    verify_record(root, out, jobs=1, allow_unclosed=allow)
    return next(line for line in out.getvalue().splitlines() if "kiosk chain closes:" in line)


def kiosk_file(root: Path, n: int = 0) -> Path:
    return sorted((root / "kiosks").glob("*.json"))[n]


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def resigned(root: Path, path: Path, **counts: Any) -> None:
    """Replace the kiosk's certificate and close by ones made with a new key: a validly signed close at the same
    root that says ``counts`` (a dishonest office cannot do this for a real kiosk: the enrolled certificate binds
    its key)."""
    data = load(path)
    close = ChainStatement.from_dict(data["close"])
    key, pem = sample_kiosk_key(data["kiosk"], SeededRandom(99))
    changed = dataclasses.replace(close, **counts)
    made = KioskStatements(data["kiosk"], pem, sign_statement(key, changed), None)
    path.write_text(json.dumps(made.to_dict()), encoding="utf-8")


def test_the_sample_records_chains_end_at_their_signed_closes(sample: Path) -> None:
    line = closes(sample)
    assert line.startswith("PASS") and "3 kiosk chains end at their signed close" in line, line


def test_a_close_changed_after_signing_fails(record: Path) -> None:
    path = kiosk_file(record)
    data = load(path)
    data["close"]["cast"] += 1
    path.write_text(json.dumps(data), encoding="utf-8")
    line = closes(record)
    assert line.startswith("FAIL") and f"the chain-close of kiosk {data['kiosk']} has a signature that does not" in line


@pytest.mark.parametrize("change", [{"cast": 1}, {"challenged": 1}, {"provisional": 1}])
def test_a_validly_signed_close_with_other_counts_fails_naming_the_kiosk(record: Path, change: dict[str, int]) -> None:
    path = kiosk_file(record)
    data = load(path)
    before = ChainStatement.from_dict(data["close"])
    resigned(record, path, **{k: getattr(before, k) + v for k, v in change.items()})
    line = closes(record)
    assert line.startswith("FAIL") and f"kiosk {data['kiosk']}: its chain does not end at its signed close" in line


def test_a_close_with_the_links_relabelled_fails(record: Path) -> None:
    """Same number of links, ending at the same code, but one challenged ballot counted as cast."""
    path = kiosk_file(record)
    data = load(path)
    before = ChainStatement.from_dict(data["close"])
    if before.challenged == 0:
        path = kiosk_file(record, 1)
        data = load(path)
        before = ChainStatement.from_dict(data["close"])
    assert before.challenged > 0
    resigned(record, path, cast=before.cast + 1, challenged=before.challenged - 1)
    line = closes(record)
    assert line.startswith("FAIL") and "its chain's links differ from its signed close" in line, line


def test_a_kiosk_that_never_closed_fails_by_name_unless_allowed(record: Path) -> None:
    path = kiosk_file(record)
    data = load(path)
    kiosk, head = data["kiosk"], data["last_head"]
    data["close"] = None
    path.write_text(json.dumps(data), encoding="utf-8")
    line = closes(record)
    assert line.startswith("FAIL") and f"kiosk {kiosk} never closed its chain" in line, line
    assert f"ending at root {head['root'][:16]}" in line and f"--allow-unclosed {kiosk}" in line
    line = closes(record, allow=(kiosk,))
    assert line.startswith("PASS") and f"never closed, accepted by --allow-unclosed: {kiosk}" in line, line
    done = subprocess.run(
        [sys.executable, "-m", "election.verify", str(record), "--jobs", "1", "--allow-unclosed", kiosk],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "PASS  kiosk chain closes:" in done.stdout, done.stdout


def test_a_chain_without_any_kiosk_statements_fails(record: Path) -> None:
    path = kiosk_file(record)
    kiosk = load(path)["kiosk"]
    path.unlink()
    line = closes(record)
    assert (
        line.startswith("FAIL")
        and f"kiosk {kiosk} never closed its chain (no signed chain close; no signed head" in line
    )


def test_an_unclosed_kiosk_allowed_by_name_must_still_hold_its_last_signed_head(record: Path) -> None:
    path = kiosk_file(record)
    data = load(path)
    kiosk = data["kiosk"]
    chain_path = record / "kiosk_chains" / f"{kiosk}.json"
    chain = load(chain_path)
    data["close"] = None
    path.write_text(json.dumps(data), encoding="utf-8")
    dropped = chain["batches"].pop()  # the office dropped the last batch and its ballots
    chain_path.write_text(json.dumps(chain), encoding="utf-8")
    for link in dropped["links"]:
        if link["status"] != "withheld":
            (record / "ballots" / link["status"] / f"{link['ballot_id']}.json").unlink()
    line = closes(record, allow=(kiosk,))
    assert line.startswith("FAIL") and f"kiosk {kiosk}: its chain does not hold its last signed head" in line, line


def test_statements_of_an_empty_chain_must_end_at_the_genesis() -> None:
    with pytest.raises(ValueError, match="empty chain ends at its genesis"):
        ChainStatement(StatementKind.CLOSE, "K-1", "00" * 32, "11" * 32, 0, 0, 0, 1)
