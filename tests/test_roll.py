"""Electoral roll import: typed entries, and every kind of bad line reported with its line number."""

from __future__ import annotations

import datetime as dt

import pytest

from devtools.demo_election import small_manifest
from election.roll import (
    MAX_REPORTED_PROBLEMS,
    CivilNumberError,
    RollError,
    load_roll,
    parse_civil_number,
)

HEADER = "civil_number,wilayat,eligible,name_ar,name_en,birth_date"


@pytest.fixture(scope="module")
def manifest():
    return small_manifest(seed=2023)


@pytest.fixture(scope="module")
def wilayat(manifest):
    return manifest.wilayats[0].code


def _errors(lines, manifest) -> list[str]:
    with pytest.raises(RollError) as info:
        load_roll(lines, manifest)
    return list(info.value.problems)


def test_a_good_roll_becomes_typed_entries(manifest, wilayat, tmp_path):
    path = tmp_path / "roll.csv"
    path.write_text(
        "\ufeff" + HEADER + "\n"
        f"12345678,{wilayat},yes,سالم بن علي الحارثي,Salim bin Ali Al Harthy,1980-05-01\n"
        f"123456789,{wilayat},no,,,\n"
        "\n",
        encoding="utf-8",
    )
    roll = load_roll(path, manifest)
    assert len(roll) == 2
    first = roll.get(parse_civil_number("12345678"))
    assert first is not None
    assert (first.eligible, first.name_en, first.birth_date) == (True, "Salim bin Ali Al Harthy", dt.date(1980, 5, 1))
    second = roll.get(parse_civil_number("123456789"))
    assert second is not None and not second.eligible and second.name_ar is None and second.birth_date is None
    assert roll.get(parse_civil_number("87654321")) is None
    assert roll.eligible_by_wilayat() == {wilayat: 1}


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("1234567,{w},yes,,,", "malformed civil number '1234567'"),
        ("0123456789,{w},yes,,,", "malformed civil number '0123456789'"),
        ("01234567,{w},yes,,,", "malformed civil number '01234567'"),
        ("1234567890,{w},yes,,,", "malformed civil number"),
        ("1234A678,{w},yes,,,", "malformed civil number"),
        ("12345678,XX-99,yes,,,", "unknown wilayat 'XX-99'"),
        ("12345678,{w},true,,,", "eligible must be 'yes' or 'no', found 'true'"),
        ("12345678,{w},,,,", "eligible must be 'yes' or 'no', found ''"),
        ("12345678,{w},yes,,,1980-13-01", "bad birth date '1980-13-01'"),
        ("12345678,{w},yes,,,01/05/1980", "bad birth date '01/05/1980'"),
        ("12345678,{w},yes,,,19800501", "bad birth date '19800501'"),
        ("12345678,{w},yes", "expected 6 fields, found 3"),
        ('12345678,{w},yes,"unterminated,,', "line 3"),
    ],
)
def test_each_bad_kind_is_reported_with_its_line(manifest, wilayat, row, expected):
    lines = [HEADER, f"87654321,{wilayat},yes,,,", row.format(w=wilayat)]
    problems = _errors(lines, manifest)
    assert len(problems) == 1
    assert problems[0].startswith("line 3: ")
    assert expected in problems[0]


def test_duplicates_name_both_lines(manifest, wilayat):
    lines = [HEADER, f"12345678,{wilayat},yes,,,", f"22345678,{wilayat},yes,,,", f"12345678,{wilayat},no,,,"]
    assert _errors(lines, manifest) == ["line 4: duplicate civil number 12345678 (first on line 2)"]


@pytest.mark.parametrize(
    "header",
    [
        "civil_number,wilayat,eligible",
        "wilayat,civil_number,eligible,name_ar,name_en,birth_date",
        "civil,wilayat,eligible,name_ar,name_en,birth_date",
    ],
)
def test_wrong_header_is_refused(manifest, wilayat, header):
    problems = _errors([header, f"12345678,{wilayat},yes,,,"], manifest)
    assert len(problems) == 1 and problems[0].startswith("line 1: header must be")


def test_empty_file_is_refused(manifest):
    assert _errors([], manifest) == ["line 1: the file is empty (expected the header)"]


def test_all_problems_are_collected_in_one_error(manifest, wilayat):
    lines = [HEADER, "1,XX,maybe,,,2000-02-30", f"12345678,{wilayat},yes,,,", f"12345678,{wilayat},yes,,,"]
    with pytest.raises(RollError) as info:
        load_roll(lines, manifest)
    assert info.value.total == 5
    assert [p.split(":")[0] for p in info.value.problems] == ["line 2"] * 4 + ["line 4"]
    message = str(info.value)
    assert "malformed civil number '1'" in message and "unknown wilayat 'XX'" in message
    assert "eligible must be" in message and "bad birth date '2000-02-30'" in message


def test_error_list_is_capped_but_counts_everything(manifest):
    lines = [HEADER] + [f"{i},XX,yes,,," for i in range(10_000_000, 10_000_000 + MAX_REPORTED_PROBLEMS + 50)]
    with pytest.raises(RollError) as info:
        load_roll(lines, manifest)
    assert len(info.value.problems) == MAX_REPORTED_PROBLEMS
    assert info.value.total == MAX_REPORTED_PROBLEMS + 50
    assert str(info.value).endswith("... and 50 more")


def test_file_that_is_not_utf8_is_refused(manifest, wilayat, tmp_path):
    path = tmp_path / "roll.csv"
    path.write_bytes(f"{HEADER}\n12345678,{wilayat},yes,\xe6,,\n".encode("latin-1"))
    problems = _errors(path, manifest)
    assert problems == ["line 2: not valid UTF-8 text"]


@pytest.mark.parametrize("text", ["", "1234567", "0123456789", "１２３４５６７８", "12 345 678", "12345678 "])
def test_parse_civil_number_refuses_malformed(text):
    with pytest.raises(CivilNumberError):
        parse_civil_number(text)


def test_a_centres_offline_copy_holds_the_eligible_voters_of_the_wilayats_it_serves(manifest):
    """The kiosk's offline roll comes from the one roll parser: a voter marked ``no`` or of a wilayat the
    centre does not serve is not in it; a unified centre serves every wilayat."""
    home = next(c for c in manifest.centres if not c.unified)
    first = home.wilayat
    second = next(w.code for w in manifest.wilayats if w.code != first)
    roll = load_roll(
        [HEADER, f"11000001,{first},yes,,,", f"11000002,{first},no,,,", f"11000003,{second},yes,,,"], manifest
    )
    unified = next(c for c in manifest.centres if c.unified)
    style = {w: manifest.style_for_wilayat(w).id for w in (first, second)}
    assert roll.styles_at_centre(manifest, home.id) == {"11000001": style[first]}
    assert roll.styles_at_centre(manifest, unified.id) == {"11000001": style[first], "11000003": style[second]}


def test_a_roll_without_the_eligible_column_is_refused_not_taken_as_all_eligible(manifest, wilayat):
    with pytest.raises(RollError, match="header must be"):
        load_roll(["civil_number,wilayat,name_ar,name_en,birth_date", f"11000001,{wilayat},,,"], manifest)


def test_the_kiosks_offline_roll_is_read_by_the_one_parser(manifest, tmp_path):
    """The station kiosk's ``--offline-roll`` (provisional ballots while the office is unreachable) goes through
    ``load_roll``: a file without the ``eligible`` column stops the kiosk at start-up with the parser's reason
    (it was read as "everyone eligible"); a good file gives the voters the centre serves."""
    from kiosk.bootstrap import StartRefused, read_offline_roll

    home = next(c for c in manifest.centres if not c.unified)
    path = tmp_path / "roll.csv"
    path.write_text(f"civil_number,wilayat\n11000001,{home.wilayat}\n", encoding="utf-8")
    with pytest.raises(StartRefused, match="header must be"):
        read_offline_roll(path, manifest, home.id)
    path.write_text(f"{HEADER}\n11000001,{home.wilayat},yes,,,\n11000002,{home.wilayat},no,,,\n", encoding="utf-8")
    assert read_offline_roll(path, manifest, home.id) == {"11000001": manifest.style_for_wilayat(home.wilayat).id}
