"""A ballot challenged at a kiosk: the kiosk no longer certifies its own check; its report carries the check code
the screen shows as a QR, and the second-device check opens the published challenged ballot with it."""

from __future__ import annotations

import io
import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nacl.public import PrivateKey

from election.benaloh import challenge_ballot
from election.check_code import parse_payload
from election.confirmation import genesis_code
from election.manifest import BallotStyleId, CandidateId, ContestId
from kiosk.adapters.ballots import RealBallots
from kiosk.adapters.local import BoxStaff
from kiosk.ballot_box import BallotBox
from kiosk.polls import StaffCard, StaffRole
from kiosk.session import events as ev
from kiosk.session.model import StaffIdentity
from remote.verify import PASSED, main
from sync.signing import Signer
from tests.remote.helpers import Election, build_election

MEMBER = StaffCard("staff-cm-1", StaffRole.COMMITTEE_MEMBER, "b" * 64)


def kiosk_ballots(tmp_path: Path, election: Election) -> tuple[RealBallots, BallotBox]:
    genesis = genesis_code(election.context.base_hash, "K-1").hex()
    box = BallotBox.create(
        tmp_path / "box.sqlite3", Signer(Ed25519PrivateKey.generate()), kiosk_id="K-1", centre_id="PC-1",
        chain_genesis=genesis,
    )  # fmt: skip
    staff = BoxStaff(box, lambda _sid: "", card_of={MEMBER.staff_id: MEMBER}.get)
    assert staff.run(ev.StaffAction.OPEN_POLLS, StaffIdentity(MEMBER.staff_id, "Committee Member")).ok
    office_key = PrivateKey.generate().public_key
    return RealBallots(election.manifest, election.context, box, None, office_key), box  # type: ignore[arg-type]


def test_the_kiosk_shows_a_check_code_that_a_second_device_opens_to_the_voters_choices(tmp_path: Path) -> None:
    election = build_election(tmp_path)
    ballots, box = kiosk_ballots(tmp_path, election)
    sealed = ballots.seal(BallotStyleId("BS-MCT"), {ContestId("C-MCT"): (CandidateId("MCT-2"),)})
    assert isinstance(sealed, ev.BallotSealed)
    challenged = ballots.challenge(sealed.sealed)
    assert isinstance(challenged, ev.BallotChallenged)
    report = challenged.report
    payload = parse_payload(report.check_code)
    assert payload.from_kiosk
    # what the office publishes for it: ballots/challenged/<ballot id>.json with the ballot and its seed
    ballot = sealed.sealed.handle.ballot  # type: ignore[attr-defined]
    assert ballot.ballot_id == payload.ballot_id
    record = tmp_path / "record" / "ballots" / "challenged"
    record.mkdir(parents=True)
    entry = {"kiosk": "K-1", "confirmation_code": "00", "challenged": challenge_ballot(ballot, payload.seed).to_dict()}
    (record / f"{payload.ballot_id}.json").write_text(json.dumps(entry))
    out = io.StringIO()
    code = main(["--package", str(election.package_path), "--commission-key", str(election.commission_pub),
                 "--code", report.check_code, "--record", str(tmp_path / "record")], out=out)  # fmt: skip
    assert code == PASSED, out.getvalue()
    assert "2: Candidate 2" in out.getvalue() and "Candidate 1" not in out.getvalue()
    box.close()


def test_the_kiosk_screen_no_longer_says_the_check_passed() -> None:
    strings = json.loads((Path(__file__).parents[2] / "kiosk/accessibility/strings_kiosk.json").read_text())
    shown = strings["kiosk.challenge.verified"]["en"]
    assert "passed" not in shown.lower() and "device you trust" in shown
