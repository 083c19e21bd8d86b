"""The demo election generator: real-scale counts, determinism, withdrawn candidates, portraits, roll."""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from devtools.demo_election import (
    DefinitionExistsError,
    Scale,
    build_definition,
    load_strings,
    manifest_json,
    small_manifest,
    write_definition,
)
from devtools.demo_election.__main__ import main
from election.manifest import Manifest
from election.roll import load_roll


@pytest.fixture(scope="module")
def national():
    return build_definition(Scale.NATIONAL, 2023)


def test_national_scale_matches_the_2023_shura_election(national):
    m = national.manifest
    assert len(m.governorates) == 11
    assert len(m.wilayats) == 63
    seats = Counter(c.seats for c in m.contests)
    assert seats == {2: 27, 1: 36}
    assert sum(c.seats for c in m.contests) == 90
    assert 800 <= sum(len(c.candidates) for c in m.contests) <= 880
    assert all(8 <= len(c.candidates) <= 20 for c in m.contests)
    assert all(c.kind.value == "shura" for c in m.contests)
    assert len(m.centres) == 110
    assert sum(c.unified for c in m.centres) == 8
    assert {m.style_for_wilayat(w.code).id for w in m.wilayats} == {f"BS-{w.code}" for w in m.wilayats}
    per_centre = Counter(k.centre for k in m.kiosks)
    assert set(per_centre) == {c.id for c in m.centres}
    assert all(2 <= n <= 4 for n in per_centre.values())
    assert all(re.fullmatch(rf"K-{k.centre}-\d", k.id) for k in m.kiosks)
    assert (m.election_id, m.timezone, str(m.polls_open), str(m.polls_close)) == (
        "shura-2027",
        "Asia/Muscat",
        "07:00:00",
        "19:00:00",
    )
    # the manifest survives its own JSON round trip, which re-validates every content rule
    assert Manifest.from_dict(json.loads(json.dumps(m.to_dict()))) == m


def test_unified_centres_serve_every_wilayat_and_others_their_own(national):
    m = national.manifest
    every = {w.code for w in m.wilayats}
    for centre in m.centres:
        assert set(centre.serves) == (every if centre.unified else {centre.wilayat})


def test_candidates_are_numbered_from_one_with_distinct_names(national):
    for contest in national.manifest.contests:
        assert [k.ballot_number for k in contest.candidates] == list(range(1, len(contest.candidates) + 1))
        assert len({k.name.ar for k in contest.candidates}) == len(contest.candidates)
        for k in contest.candidates:
            assert re.fullmatch(r"\S+ (بن|بنت) \S+ \S+", k.name.ar), k.name.ar
            assert (" bin " in k.name.en) == (" بن " in k.name.ar)
            assert k.photo == f"photos/{k.id}.png"
            assert (k.audio.ar, k.audio.en) == (f"audio/ar/{k.id}.ogg", f"audio/en/{k.id}.ogg")


def test_withdrawn_candidates_stay_in_the_contest_but_leave_the_ballot(national):
    m = national.manifest
    withdrawn = [(c, k) for c in m.contests for k in c.candidates if k.withdrawn]
    assert 3 <= len(withdrawn) <= 12
    for contest, candidate in withdrawn:
        style = m.style_for_wilayat(contest.wilayat)
        (listed,) = [sc.candidates for sc in style.contests if sc.contest == contest.id]
        assert candidate.id not in listed
        assert len(listed) == len(contest.candidates) - 1


def test_small_election_shape():
    m = small_manifest(seed=2023)
    assert len(m.wilayats) == 3 and 1 <= len(m.governorates) <= 2
    assert sorted(c.seats for c in m.contests) == [1, 1, 2]
    assert all(4 <= len(c.candidates) <= 6 for c in m.contests)
    assert sum(k.withdrawn for c in m.contests for k in c.candidates) >= 1
    assert len(m.centres) == 3 and sum(c.unified for c in m.centres) == 1
    kiosks = {c.id: [k.id for k in m.kiosks if k.centre == c.id] for c in m.centres}
    unified = next(c.id for c in m.centres if c.unified)
    assert {c: len(ks) for c, ks in kiosks.items()} == {c.id: 2 if c.unified else 1 for c in m.centres}
    assert kiosks[unified] == [f"K-{unified}-1", f"K-{unified}-2"]
    assert m.validate() == []


def test_a_different_seed_gives_a_different_election():
    assert small_manifest(seed=1).to_dict() != small_manifest(seed=2).to_dict()


def test_strings_catalogue_is_complete_and_in_the_manifest():
    strings = load_strings()
    assert 50 <= len(strings) <= 120
    for key in (
        "attract.insert_card",
        "pin.wrong",
        "ballot.instructions",
        "ballot.overvote",
        "cast.button",
        "challenge.explanation",
        "confirmation.code",
        "card.remove",
        "session.timeout",
        "error.generic",
    ):
        assert key in strings
    for key, text in strings.items():
        # placeholders must match, or a translated screen would show a raw {name} or lose a value
        assert set(re.findall(r"{(\w+)}", text.ar)) == set(re.findall(r"{(\w+)}", text.en)), key
        assert re.search(r"[\u0600-\u06FF]", text.ar) or key == "language.english", key
    assert "{tries}" in strings["pin.wrong"].en and "{seats}" in strings["ballot.instructions"].ar
    assert "staff member" in strings["error.generic"].en
    assert small_manifest().strings == strings


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_writes_byte_identical_definitions(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    write_definition(build_definition("small", 2023), a, workers=1)
    write_definition(build_definition("small", 2023), b, workers=1)
    assert _tree(a) == _tree(b)
    m = small_manifest(2023)
    assert sorted(p.name for p in (a / "photos").iterdir()) == sorted(
        f"{k.id}.png" for c in m.contests for k in c.candidates
    )
    assert "synthetic" in (a / "README.txt").read_text(encoding="utf-8").lower()
    assert Manifest.from_dict(json.loads((a / "manifest.json").read_text(encoding="utf-8"))) == m


def test_small_roll_loads_against_its_manifest(tmp_path):
    defn = build_definition("small", 2023)
    write_definition(defn, tmp_path, workers=1)
    roll = load_roll(tmp_path / "roll.csv", defn.manifest)
    assert len(roll) == 300
    assert set(roll.eligible_by_wilayat()) == {w.code for w in defn.manifest.wilayats}
    assert 1 <= sum(not e.eligible for e in roll) <= 20
    assert all(e.name_ar and e.name_en and e.birth_date for e in roll)
    assert all(e.birth_date.year <= 2006 for e in roll if e.birth_date)  # 21 or older on election day


def test_national_roll_size_is_a_flag_and_civil_numbers_are_unique(tmp_path):
    assert main(["--scale", "small", "--out", str(tmp_path), "--roll-size", "2000"]) == 0
    lines = (tmp_path / "roll.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2001
    assert len({line.split(",")[0] for line in lines[1:]}) == 2000


def test_existing_definition_is_not_overwritten_without_force(tmp_path, capsys):
    assert main(["--scale", "small", "--out", str(tmp_path)]) == 0
    with pytest.raises(DefinitionExistsError):
        write_definition(build_definition("small", 2023), tmp_path)
    assert main(["--scale", "small", "--out", str(tmp_path)]) == 2
    assert "already holds a definition" in capsys.readouterr().err
    assert main(["--scale", "small", "--out", str(tmp_path), "--force"]) == 0


def test_portraits_are_valid_small_and_all_different(national):
    contests = national.manifest.contests[:10]  # a sixth of the country; the slow test does all
    digests = set()
    for contest in contests:
        for candidate in contest.candidates:
            png = national.photo_png(candidate.id)
            assert png.startswith(b"\x89PNG\r\n\x1a\n")
            assert len(png) < 25_000
            image = Image.open(io.BytesIO(png))
            image.verify()
            assert image.size == (240, 300)
            digests.add(hashlib.sha256(Image.open(io.BytesIO(png)).convert("RGB").tobytes()).hexdigest())
    assert len(digests) == sum(len(c.candidates) for c in contests)
    # a portrait is a pure function of its spec and ballot number: distinct pairs, distinct pictures
    pairs = {(national.portraits[k.id], k.ballot_number) for c in national.manifest.contests for k in c.candidates}
    assert len(pairs) == len(national.portraits)


def test_national_manifest_and_photos_are_reproducible(national):
    again = build_definition(Scale.NATIONAL, 2023)
    assert manifest_json(again) == manifest_json(national)
    sample = [c.candidates[-1].id for c in national.manifest.contests[::9]]
    assert [again.photo_png(k) for k in sample] == [national.photo_png(k) for k in sample]


@pytest.mark.slow
def test_national_definition_on_disk_has_every_portrait_distinct(tmp_path):
    assert main(["--scale", "national", "--seed", "2023", "--out", str(tmp_path)]) == 0
    tree = _tree(tmp_path)
    photos = [data for name, data in tree.items() if name.startswith("photos/")]
    assert len(photos) == len(set(photos)) == 843
    assert max(len(p) for p in photos) < 25_000
    m = Manifest.from_dict(json.loads(tree["manifest.json"]))
    assert len(load_roll(tmp_path / "roll.csv", m)) == 5_000


def test_portraits_differ_beyond_the_number_badge(national):
    # Two candidates with the same ballot number in different contests must still look different.
    firsts = [c.candidates[0] for c in national.manifest.contests]
    crops = {
        Image.open(io.BytesIO(national.photo_png(k.id))).convert("RGB").crop((0, 0, 240, 200)).tobytes() for k in firsts
    }
    assert len(crops) > len(firsts) * 0.9
