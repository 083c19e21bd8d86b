"""One voter through the polling-station kiosk (``kiosk.bootstrap.build_station``), offscreen, by touching the screen.

Run by tests/ui/test_station_kiosk.py in its own process: ``python -m tests.ui.station_journey CONFIG.json
RESULTS.json``. CONFIG holds the kiosk's station configuration (``StationConfig``'s fields) plus ``pki`` and
``voter`` (a civil number). The child starts its own isolated pcscd with the virtual reader, opens the polls with
the committee member's card record, votes with the voter's virtual ID card (check-in at the central office over
mutual TLS, real encryption, the ballot box), then delivers the backlog to the office and records what it saw.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from kiosk.bootstrap import StationConfig, build_station  # noqa: E402
from run_kiosk import configure_kivy  # noqa: E402

configure_kivy(offscreen=True)

from devtools.test_pki import load as load_pki  # noqa: E402
from devtools.touch import run_script  # noqa: E402
from devtools.virtual_card.card import VirtualCard  # noqa: E402
from devtools.virtual_card.harness import PcscHarness  # noqa: E402
from kiosk.card.profile import load_named_profile  # noqa: E402
from kiosk.polls import PollsAction, StaffCard, StaffRole  # noqa: E402
from kiosk.session.model import KioskMode, Phase  # noqa: E402
from kiosk.ui.app import KioskApp  # noqa: E402
from tests.ui.kiosk_journeys import Journey  # noqa: E402

PATHS = ("package", "commission_key", "kiosk_cert", "kiosk_key", "central_ca", "db", "offline_roll")


def main(argv: list[str]) -> int:
    config = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    out = Path(argv[1])
    pki = load_pki(Path(config["pki"]))
    harness = PcscHarness().start()
    fields: dict[str, Any] = {k: Path(v) if v is not None and k in PATHS else v for k, v in config["station"].items()}
    station = StationConfig(
        **fields,
        reader=harness.reader_name(0), card_profile="oman_ias",
    )  # fmt: skip
    world = build_station(station)
    # The committee member opens the polls (the zero report) before the first voter.
    from cryptography.hazmat.primitives import hashes

    member = pki.staff["staff-cm-1"].auth.cert().fingerprint(hashes.SHA256()).hex()
    world.box.apply(PollsAction.OPEN, StaffCard("staff-cm-1", StaffRole.COMMITTEE_MEMBER, member))
    world.services.kiosk_mode = KioskMode(polls_open=True)
    app = KioskApp(world.services, show_demo_panel=False)
    j = Journey(app, world)
    profile = load_named_profile("oman_ias")
    r: dict[str, Any] = {}

    def script() -> Iterator[None]:
        yield from j.until(lambda: app.ready, "start-up")
        harness.insert(VirtualCard.from_files(pki.card(config["voter"]), profile))
        yield from j.at(Phase.PIN_ENTRY)
        yield from j.type_pin("1234")
        yield from j.until(lambda: j.phase in (Phase.ACCESSIBILITY, Phase.NOTICE, Phase.PROVISIONAL), "check-in")
        r["after_check_in"] = j.phase.value
        r["failure"] = j.state.failure.value if j.state.failure else None
        r["ticket_provisional"] = j.state.ticket.provisional if j.state.ticket else None
        yield from j.touch(j.t("nav.next"))
        yield from j.at(Phase.BALLOT)
        contest = j.contest()
        names = j.candidate_names()[: contest.seats]
        for name in names:
            yield from j.touch(name)
        yield from j.touch(j.t("kiosk.ballot.review"))
        yield from j.at(Phase.REVIEW)
        yield from j.touch(j.t("kiosk.review.seal"))
        yield from j.at(Phase.CAST_OR_CHALLENGE)
        yield from j.touch(j.t("cast.button"))
        yield from j.at(Phase.CONFIRMATION)
        receipt = j.state.receipt
        r["code_on_screen"] = receipt is not None and j.sees(receipt.code)
        harness.remove(0)
        yield from j.until(lambda: j.phase is Phase.ATTRACT, "the idle screen")
        r["counts_cast"] = world.box.counts().cast

    try:
        errors = run_script(app, script())
        if errors:
            r["_errors"] = ["".join(traceback.format_exception(e)) for e in errors]
        else:
            # Deliver the backlog (what the sync worker does over the day), then report.
            world.box.seal_batches(force=True)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                world.worker.wake()
                c = world.box.counts()
                if c.unbatched == 0 and c.unsent_outbox == 0 and c.pending_voted_marks == 0:
                    break
                time.sleep(0.3)
            c = world.box.counts()
            r["delivered"] = c.unbatched == 0 and c.unsent_outbox == 0 and c.pending_voted_marks == 0
            r["backlog"] = c.__dict__
            r["sync"] = world.worker.status().__dict__
    finally:
        world.shutdown()
        harness.stop()
    out.write_text(json.dumps(r, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Exception:
        traceback.print_exc(file=sys.__stderr__)
        sys.exit(1)
