"""The verifier on several machines: ``--shard i/n --out FILE`` for each shard, then ``--merge`` of the results,
through the command line (``election.verify.__main__.main``) on a small sample record.

The merge must give the verdict of a run on one machine, and fail when the shard results do not cover the record
exactly: a result missing, given twice, altered, made on another record or listing, holding another shard's
ballot, a shard whose own checks failed, or a ballot file changed after its shard checked it."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from devtools.sample_election import build_sample_record
from devtools.sample_record import SeededRandom, build_test_manifest
from election.verify.__main__ import main, verify_record
from election.verify.merge import result_hash
from election.verify.shard import Shard, ShardError, shard_of

SHARDS = 3


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("shards") / "record"
    build_sample_record(out, build_test_manifest(), ballots=30, challenged=3, withheld=1, random_bytes=SeededRandom(5))
    return out


@pytest.fixture(scope="module")
def results(sample: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The shard results of ``sample``, made through the command line, one shard after another."""
    out = tmp_path_factory.mktemp("shard-results")
    paths = []
    for i in range(1, SHARDS + 1):
        path = out / f"shard-{i}.json"
        assert main([str(sample), "--jobs", "1", "--shard", f"{i}/{SHARDS}", "--out", str(path)]) == 0
        paths.append(path)
    return paths


def merge(record: Path, results: list[Path]) -> tuple[int, str]:
    out = io.StringIO()
    ok = verify_record(record, out, merge=tuple(results), skip=("package",))  # no commission key: said by name
    return (0 if ok else 1), out.getvalue()


def ballots_row(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("cast ballots "))


def copies(results: list[Path], tmp_path: Path) -> list[Path]:
    paths = []
    for path in results:
        copy = tmp_path / path.name
        shutil.copy(path, copy)
        paths.append(copy)
    return paths


def rewrite(path: Path, change, *, rehash: bool = True) -> None:
    data = json.loads(path.read_text())
    change(data)
    if rehash:  # as someone who knows the format would: the result hash alone does not hold it
        data["result_hash"] = result_hash(data)
    path.write_text(json.dumps(data))


def test_the_shards_split_the_ballots_and_the_merge_verifies_like_one_machine(sample, results, capsys) -> None:
    whole = io.StringIO()
    assert verify_record(sample, whole, skip=("package",))
    code, merged = merge(sample, results)
    assert code == 0, merged
    assert merged.rstrip().endswith("the record verifies, except the skipped check(s): package")  # no key given
    assert "from 3 shard results covering each of the 33 ballot files exactly once" in merged
    # every line but the ballots' is the same as on one machine (the same tally, results, turnout, closes)
    drop = ("PASS  cast ballots", "PASS  challenged ballots")
    assert [ln for ln in merged.splitlines() if not ln.startswith(drop)] == [
        ln for ln in whole.getvalue().splitlines() if not ln.startswith(drop)
    ]
    counts = [len(json.loads(p.read_text())["cast"]) + len(json.loads(p.read_text())["challenged"]) for p in results]
    assert sum(counts) == 33 and all(counts)  # 30 cast + 3 challenged, each in one shard, none empty here
    names = [p.name for kind in ("cast", "challenged") for p in (sample / "ballots" / kind).glob("*.json")]
    for i, path in enumerate(results, start=1):
        data = json.loads(path.read_text())
        held = {f"{row[0]}.json" for row in data["cast"] + data["challenged"]}
        assert held == {n for n in names if shard_of(n, SHARDS) == i}


def test_a_missing_shard_result_fails_the_merge(sample, results) -> None:
    code, output = merge(sample, results[:2])
    assert code == 1
    assert "FAIL  cast ballots: shard result(s) missing: 3/3" in output
    assert output.rstrip().endswith("the record does NOT verify")


def test_a_shard_result_given_twice_fails(sample, results) -> None:
    code, output = merge(sample, [results[0], results[1], results[0]])
    assert code == 1 and "are both shard 1/3" in ballots_row(output)


def test_an_altered_shard_result_fails(sample, results, tmp_path) -> None:
    paths = copies(results, tmp_path)
    rewrite(paths[1], lambda d: d["cast"].pop(), rehash=False)
    code, output = merge(sample, paths)
    assert code == 1 and "altered after it was written" in ballots_row(output)


def test_a_result_that_drops_a_ballot_and_is_rehashed_leaves_a_file_uncovered(sample, results, tmp_path) -> None:
    paths = copies(results, tmp_path)
    rewrite(paths[1], lambda d: d["cast"].pop())
    code, output = merge(sample, paths)
    assert code == 1 and "the shard results cover 32 of the record's 33 ballot files" in ballots_row(output)


def test_a_result_with_changed_sums_fails_the_tally(sample, results, tmp_path) -> None:
    paths = copies(results, tmp_path)
    # the sums of two selections swapped: every ballot proof "passed", the tally check sees the difference
    rewrite(paths[0], lambda d: d["sums"][0].__setitem__(slice(2, 4), d["sums"][1][2:4]))
    code, output = merge(sample, paths)
    assert code == 1 and "FAIL  encrypted tally" in output and "is not the sum of the cast ballots" in output


def test_a_ballot_moved_to_another_shards_result_fails(sample, results, tmp_path) -> None:
    paths = copies(results, tmp_path)
    first, second = (json.loads(p.read_text()) for p in paths[:2])
    moved = first["cast"].pop()
    rewrite(paths[0], lambda d: d["cast"].pop())
    rewrite(paths[1], lambda d: d["cast"].append(moved))
    code, output = merge(sample, paths)
    assert code == 1 and f"holds {moved[0]}, a ballot of shard 1" in ballots_row(output)
    assert second  # the second result was genuine before the move


def test_a_ballot_file_changed_after_its_shard_checked_it_fails(sample, results, tmp_path) -> None:
    record = tmp_path / "record"
    shutil.copytree(sample, record)
    victim = sorted((record / "ballots" / "cast").glob("*.json"))[0]
    data = json.loads(victim.read_text())
    data["ballot"]["contests"][0]["selections"][0]["proof"]["v"].reverse()  # a proof no shard saw
    victim.write_text(json.dumps(data))
    code, output = merge(record, results)
    assert code == 1 and f"ballots/cast/{victim.name} differs from the file" in ballots_row(output)


def test_a_result_of_another_listing_fails(sample, results, tmp_path) -> None:
    record = tmp_path / "record"
    shutil.copytree(sample, record)
    (sorted((record / "ballots" / "challenged").glob("*.json"))[0]).unlink()
    code, output = merge(record, results)
    assert code == 1 and "was made on another listing of the ballot files (33 files" in ballots_row(output)


def test_a_shard_whose_own_check_failed_fails_the_merge(sample, results, tmp_path) -> None:
    record = tmp_path / "record"
    shutil.copytree(sample, record)
    victim = next(p for p in sorted((record / "ballots" / "cast").glob("*.json")) if shard_of(p.name, SHARDS) == 2)
    data = json.loads(victim.read_text())
    data["ballot"]["contests"][0]["selections"][0]["proof"]["v"].reverse()
    victim.write_text(json.dumps(data))
    bad = tmp_path / "shard-2.json"
    assert main([str(record), "--jobs", "1", "--shard", "2/3", "--out", str(bad)]) == 1  # the shard itself fails
    code, output = merge(record, [results[0], bad, results[2]])
    assert code == 1
    assert "(shard 2/3): its check ballots did not pass (FAIL:" in ballots_row(output) and victim.stem in output


def test_the_command_line_refuses_bad_shard_arguments(sample, tmp_path, capsys) -> None:
    for args in (["--shard", "0/3", "--out", "x"], ["--shard", "4/3", "--out", "x"], ["--shard", "1/3"],
                 ["--shard", "1/3", "--out", "x", "--merge", "y"]):  # fmt: skip
        with pytest.raises(SystemExit) as exc:
            main([str(sample), *args])
        assert exc.value.code == 2
    capsys.readouterr()
    assert main([str(sample), "--merge", str(tmp_path / "none.json")]) == 2
    assert "no such shard result" in capsys.readouterr().err
    with pytest.raises(ShardError):
        Shard.parse("1/0")
