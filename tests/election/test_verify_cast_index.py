"""The verifier's on-disk index of the cast ballots (election.verify.cast_index, issue #20): it answers what the
dictionary it replaces answered, keeps no file after it is closed, and a verification leaves no file behind."""

from __future__ import annotations

import gc
import io
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis.strategies import lists, text

from devtools.sample_election import build_sample_record
from devtools.sample_record import SeededRandom, build_test_manifest
from election.canonical import json_hash
from election.verify.__main__ import verify_record
from election.verify.cast_index import BATCH, PAGE, CastIndex, CastInfo
from election.verify.tally import ids_hash

HASH = bytes(range(32))
#: ids whose sorted order is not their file names' ("a-" < "a" as "a-.json" < "a.json"), the empty id, Arabic,
#: a character beyond the BMP and a lone surrogate (a JSON string may hold one)
ODD_IDS = ["a", "a-", "", "K1-000002", "K1-000010", "\u0628\u0637\u0627\u0642\u0629", "\U0001f5f3", "\ud800x"]


def info(kiosk: object = "K1", style: str = "BS-1", code: object = b"\x01" * 32) -> CastInfo:
    return (kiosk, style, HASH, code)


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """The index's temporary directory under ``tmp_path``, to see it made and removed."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_every_ballot_added_is_found_with_what_was_kept_of_it_across_batches() -> None:
    index = CastIndex()
    count = 2 * BATCH + PAGE + 7
    for i in range(count):
        index.add(f"K{i % 5}-{i:06d}", info(kiosk=f"K{i % 5}", style=f"BS-{i % 3}", code=i.to_bytes(32, "big")))
    assert len(index) == count
    assert index.get("K3-000003") == ("K3", "BS-0", HASH, (3).to_bytes(32, "big"))
    last = f"K{(count - 1) % 5}-{count - 1:06d}"
    assert last in index  # still waiting to be written
    assert "K3-000004" not in index and 7 not in index and index.get(None) is None
    assert [bid for bid, _info in index.items()] == [f"K{i % 5}-{i:06d}" for i in range(count)]
    assert list(index.ids()) == sorted(f"K{i % 5}-{i:06d}" for i in range(count))
    assert index.per_style() == Counter(f"BS-{i % 3}" for i in range(count))
    assert index.per_style(except_kiosk="K0") == Counter(f"BS-{i % 3}" for i in range(count) if i % 5)
    assert [bid for bid, _ in index.of_kiosk("K4")] == sorted(f"K4-{i:06d}" for i in range(4, count, 5))
    index.close()


def test_ids_come_back_in_pythons_order_and_odd_values_read_back_equal() -> None:
    index = CastIndex()
    kept = {
        bid: info(kiosk=kiosk, code=code)
        for bid, kiosk, code in zip(
            ODD_IDS,
            ["K1", 7, "K1", ["K", 1], "K\udcff", None, "K2", "K2"],
            [b"\x02" * 32, "not hex", {"a": [1, 2.5]}, None, b"\x03" * 32, "", True, -1],
            strict=True,
        )
    }
    for bid, value in kept.items():
        index.add(bid, value)
    assert list(index.ids()) == sorted(ODD_IDS)
    assert dict(index.items()) == kept  # before and after they are written
    assert all(index.get(bid) == value for bid, value in kept.items())
    assert [bid for bid, _ in index.of_kiosk("K1")] == ["", "a"]
    # a kiosk that is no string (stored apart) is another kiosk than the collector's
    assert index.per_style(except_kiosk="K2") == {"BS-1": 6}
    index.close()


def test_the_chain_links_seen_and_the_published_ballots_no_link_names() -> None:
    index = CastIndex()
    for bid in ["K1-3", "K1-1", "K1-2"]:
        index.add(bid, info())
    assert index.see("K1-2") and index.see("withheld-1") and index.see("")
    assert not index.see("K1-2")
    assert index.seen_count() == 3
    assert index.unseen(["ch-9", ""]) == (3, "K1-1")
    assert index.unseen(["A-challenged"]) == (3, "A-challenged")
    for bid in ["K1-1", "K1-3", "A-challenged"]:
        index.see(bid)
    assert index.unseen(["A-challenged"]) == (0, None)
    index.close()


def test_file_names_are_read_back_sorted_without_a_list_in_memory() -> None:
    index = CastIndex()
    names = [f"{bid}.json" for bid in ODD_IDS] + [f"K9-{i:06d}.json" for i in range(PAGE + 3, 0, -1)]
    assert index.stage_names(iter(names)) == len(names)
    assert list(index.staged_names()) == sorted(names)
    assert index.stage_names(iter(["b.json", "a.json"])) == 2  # staging again replaces the names
    assert list(index.staged_names()) == ["a.json", "b.json"]
    index.close()


@settings(max_examples=200, deadline=None)
@given(lists(text(), unique=True))
def test_the_streamed_ids_hash_is_the_json_hash_of_the_sorted_ids(ids: list[str]) -> None:
    try:
        expected = json_hash(sorted(ids))
    except UnicodeEncodeError:  # a lone surrogate has no UTF-8: neither hash exists
        with pytest.raises(UnicodeEncodeError):
            ids_hash(sorted(ids))
        return
    assert ids_hash(sorted(ids)) == expected


def test_the_file_is_removed_when_the_index_is_closed_or_collected(scratch: Path) -> None:
    index = CastIndex()
    assert list(scratch.iterdir()) == []  # nothing made before it is used
    index.add("K1-1", info())
    assert list(index.ids()) == ["K1-1"]  # written
    (made,) = scratch.iterdir()
    assert (made / "cast.sqlite3").is_file()
    index.close()
    assert list(scratch.iterdir()) == [] and len(index) == 0 and "K1-1" not in index
    other = CastIndex()
    other.see("K1-1")
    assert len(list(scratch.iterdir())) == 1
    del other
    gc.collect()
    assert list(scratch.iterdir()) == []


def test_a_verification_with_a_pool_verifies_and_leaves_no_file_behind(scratch: Path, tmp_path_factory) -> None:
    record = tmp_path_factory.mktemp("indexed") / "record"
    build_sample_record(
        record, build_test_manifest(), ballots=70, challenged=2, withheld=1, random_bytes=SeededRandom(5)
    )
    out = io.StringIO()
    assert verify_record(record, out, jobs=2, skip=("package",)), out.getvalue()
    assert "70 cast ballots, every proof valid" in out.getvalue()
    gc.collect()
    assert list(scratch.iterdir()) == []
    shutil.rmtree(record.parent)


def test_record_files_lists_every_unexpected_file_in_path_order(tmp_path) -> None:
    """The files check walks the record without a list of its files; what it reports is still in path order."""
    record = tmp_path / "record"
    build_sample_record(
        record, build_test_manifest(), ballots=3, challenged=0, withheld=0, random_bytes=SeededRandom(3)
    )
    for extra in ["z.txt", "a-b/x", "a/x", "a.json.bak", "ballots/cast/.hidden", "ballots/cast/K1-x.txt", "tally/b"]:
        (record / extra).parent.mkdir(parents=True, exist_ok=True)
        (record / extra).write_text("{}")
    out = io.StringIO()
    assert not verify_record(record, out, skip=("package",))
    line = next(x for x in out.getvalue().splitlines() if "unexpected file(s)" in x)
    shown = ["a/", "a/x", "a-b/", "a-b/x", "a.json.bak"]  # "a" < "a-b" < "a.json.bak", a directory's files after it
    assert f"9 unexpected file(s) or directory(ies) in the record: {', '.join(shown)} and 4 more" in line
