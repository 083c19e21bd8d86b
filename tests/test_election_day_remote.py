"""The election day's remote voting as scripted (devtools/election_day/plan.py) and set up
(devtools/election_day/collector_site.py): the script's expected tally counts each remote voter's last ballot and
not a remote ballot an in-person vote replaced; the day's manifest opens both windows now; the collector's
configuration is one ``python -m collector`` accepts."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from collector.config import load_config
from devtools.election_day.collector_site import COLLECTOR_ID, collector_site, day_definition
from devtools.election_day.plan import Phase, Plan, make_plan
from election.manifest import Manifest, VoterGroup
from election.roll import load_roll


@pytest.fixture(scope="module")
def definition(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("day") / "definition-small"
    subprocess.run([sys.executable, "-m", "devtools.demo_election", "--scale", "small", "--seed", "2023", "--out",
                    str(out), "--force"], check=True, capture_output=True)  # fmt: skip
    return out


def plan_of(definition: Path, collector: str) -> tuple[Plan, Manifest]:
    manifest = Manifest.from_dict(json.loads((definition / "manifest.json").read_text(encoding="utf-8")))
    return make_plan(manifest, load_roll(definition / "roll.csv", manifest), seed=2023, collector=collector), manifest


def test_the_script_counts_the_last_remote_ballot_and_not_one_replaced_in_person(definition: Path) -> None:
    plan, manifest = plan_of(definition, COLLECTOR_ID)
    remote = [v for v in plan.voters if v.phase == Phase.REMOTE.value]
    assert all(v.kiosk == COLLECTOR_ID for v in remote)
    assert {v.group for v in remote} == {"home", "abroad"}
    assert sorted(v.civil_number for v in remote if v.group == "abroad") == sorted(plan.abroad)
    twice = [c for c, n in Counter(v.civil_number for v in remote).items() if n == 2]
    assert len(twice) == 1  # the re-vote: the first not counted, the last counted and checked on a second device
    first, last = (v for v in remote if v.civil_number == twice[0])
    assert (first.counted, last.counted, last.second_device) == (False, True, True)
    remote_civil = {r.civil_number for r in remote}
    in_person = [v for v in plan.voters if v.phase != Phase.REMOTE.value and v.civil_number in remote_civil]
    assert len(in_person) == 1 and in_person[0].counted and in_person[0].kiosk in plan.kiosks
    replaced = next(v for v in remote if v.civil_number == in_person[0].civil_number)
    assert not replaced.counted
    # the expected tally is the counted voters' choices: 6 remote ballots and every counted kiosk voter
    without = [v for v in plan.voters if v.counted and v.phase != Phase.REMOTE.value]
    expected = plan.expected_electronic(manifest)
    ballots = sum(sum(n for n in c.values()) for c in expected.values())
    marks = sum(len(ch) or 1 for v in [*without, *(r for r in remote if r.counted)] for ch in v.choices.values())
    assert ballots == marks
    assert sum(1 for r in remote if r.counted) == 6  # 3 at home, 2 abroad, the re-vote
    assert Plan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan


def test_without_a_collector_the_day_has_no_remote_voters(definition: Path) -> None:
    plan, _ = plan_of(definition, "")
    assert not [v for v in plan.voters if v.phase == Phase.REMOTE.value or v.group] and plan.abroad == ()


def test_the_days_election_adds_the_collector_with_both_windows_open_now(definition: Path, tmp_path: Path) -> None:
    now = dt.datetime.now(dt.UTC)
    day = day_definition(definition, tmp_path, COLLECTOR_ID, now)
    manifest = Manifest.from_dict(json.loads((day / "manifest.json").read_text(encoding="utf-8")))
    assert manifest.remote_voting is not None and list(manifest.remote_voting.collector_ids) == [COLLECTOR_ID]
    for group in VoterGroup:
        window = manifest.remote_voting.window(group)
        assert window is not None and window.is_open(now + dt.timedelta(minutes=30))
    assert COLLECTOR_ID in {str(k.id) for k in manifest.kiosks}
    assert (day / "roll.csv").read_bytes() == (definition / "roll.csv").read_bytes()

    site = collector_site(tmp_path, COLLECTOR_ID, 18443, 18444, now)
    (tmp_path / "package.sanduq").write_bytes(b"")
    pem = tmp_path / "x.pem"
    pem.write_bytes(b"")
    site.write_config(package=tmp_path / "package.sanduq", commission_key=pem, roll=day / "roll.csv",
                      abroad=["12345678"], office_url="https://127.0.0.1:1", kiosk_cert=pem, kiosk_key=pem,
                      office_server_ca=pem)  # fmt: skip
    config = load_config(site.config)
    assert (config.collector_id, config.port, config.internal_port) == (COLLECTOR_ID, 18443, 18444)
    assert config.abroad is not None and "12345678" in config.abroad.read_text(encoding="utf-8")
    assert config.tls_cert == site.tls.server_cert.resolve() and config.office_ca == site.tls.ca.resolve()
