"""Two voters with a ballot cast over the internet, through the real Kivy kiosk offscreen: one cancels, one votes here.

Run by tests/ui/test_remote_vote_ui.py in its own process (Kivy's global state must not leak):
``python -m tests.ui.remote_vote_journey RESULTS.json SHOTS_DIR``. The demo world's poll book answers as the office
does for a voter the vote collector holds a ballot for (``remote_vote_replaced``, kiosk/adapters/pollbook.py maps the
office's answer to the same ticket); the rest is the kiosk as it ships.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from devtools.kiosk_worlds import demo_world  # noqa: E402
from run_kiosk import configure_kivy  # noqa: E402

configure_kivy(offscreen=True)

from devtools.touch import run_script, snapshot_png  # noqa: E402
from election.manifest import Language  # noqa: E402
from kiosk.session import events as ev  # noqa: E402
from kiosk.session.model import CheckInTicket, Phase, VoterIdentity  # noqa: E402
from kiosk.ui.app import KioskApp  # noqa: E402
from tests.ui.kiosk_journeys import Journey  # noqa: E402


@dataclass
class RemoteVotersPollBook:
    """The poll book as the office answers with ``[remote]`` configured: an eligible voter the collector holds a ballot
    for gets ``remote_vote_replaced``; releases and voted marks go to the demo's poll book."""

    inner: Any
    remote_voters: set[str]

    def check_in(self, voter: VoterIdentity) -> ev.CheckedIn | ev.Failed:
        answer: ev.CheckedIn | ev.Failed = self.inner.check_in(voter)
        if isinstance(answer, ev.CheckedIn) and voter.civil_number in self.remote_voters:
            return ev.CheckedIn(replace(answer.ticket, remote_vote_replaced=True))
        return answer

    def cancel(self, ticket: CheckInTicket) -> None:
        self.inner.cancel(ticket)


def _next_voter(j: Journey) -> str:
    deck = j.world.deck
    return str(deck.voters[deck.position % len(deck.voters)].civil_number)


def cancels(j: Journey, r: dict[str, Any], shots: Path) -> Iterator[None]:
    """An Arabic-speaking voter is told, reads it in English too, and cancels: nothing is cast."""
    j.world.deck.insert_next_voter()
    yield from j.at(Phase.PIN_ENTRY)
    yield from j.type_pin("1234")
    yield from j.at(Phase.REMOTE_VOTE)
    r["language"] = j.lang.value
    r["arabic_shown"] = all(
        j.sees(j.t(k)) for k in ("kiosk.remote_vote.title", "kiosk.remote_vote.explanation", "kiosk.remote_vote.cancel")
    )
    r["checked_in_while_told"] = len(j.world.poll_book.checked_in)
    snapshot_png(str(shots / "ar_kiosk_remote_vote.png"))
    yield from j.touch(j.app.root.ids.language.text)  # the language button every screen has
    yield from j.until(lambda: j.lang is Language.ENGLISH, "English")
    yield
    r["english_shown"] = j.sees(j.t("kiosk.remote_vote.explanation")) and j.sees(j.t("kiosk.remote_vote.continue"))
    snapshot_png(str(shots / "en_kiosk_remote_vote.png"))
    yield from j.touch(j.app.root.ids.language.text)
    yield from j.until(lambda: j.lang is Language.ARABIC, "Arabic")
    yield from j.touch(j.t("kiosk.remote_vote.cancel"))
    yield from j.at(Phase.NOTICE)
    r["kept_shown"] = j.sees(j.t("kiosk.remote_vote.kept")) and j.sees(j.t("kiosk.remote_vote.kept_title"))
    r["remove_card_asked"] = j.sees(j.t("card.remove"))
    snapshot_png(str(shots / "ar_kiosk_remote_vote_kept.png"))
    r["checked_in_after_cancel"] = len(j.world.poll_book.checked_in)
    r["cast_after_cancel"] = j.world.ballots.cast_count
    yield from j.remove_card()


def votes_here(j: Journey, r: dict[str, Any], shots: Path) -> Iterator[None]:
    """An English-speaking voter is told, goes on, and casts: the ballot is cast under the same check-in."""
    j.app.send(ev.ChooseLanguage(Language.ENGLISH))
    voter = _next_voter(j)
    j.world.deck.insert_next_voter()
    yield from j.at(Phase.PIN_ENTRY)
    yield from j.type_pin("1234")
    yield from j.at(Phase.REMOTE_VOTE)
    yield from j.touch(j.t("kiosk.remote_vote.continue"))
    yield from j.at(Phase.ACCESSIBILITY)
    yield from j.touch(j.t("nav.next"))
    yield from j.at(Phase.BALLOT)
    yield from j.touch(j.candidate_names()[0])
    yield from j.touch(j.t("kiosk.ballot.review"))
    yield from j.at(Phase.REVIEW)
    yield from j.touch(j.t("kiosk.review.seal"))
    yield from j.at(Phase.CAST_OR_CHALLENGE)
    yield from j.touch(j.t("cast.button"))
    yield from j.at(Phase.CONFIRMATION)
    r["cast"] = j.world.ballots.cast_count
    r["voter_marked_voted"] = voter in j.world.poll_book.voted
    yield from j.remove_card()


def main(argv: list[str]) -> int:
    out, shots = Path(argv[0]), Path(argv[1])
    shots.mkdir(parents=True, exist_ok=True)
    world = demo_world()
    deck = world.deck
    remote = {str(deck.voters[deck.position].civil_number), str(deck.voters[deck.position + 1].civil_number)}
    world.services.poll_book = RemoteVotersPollBook(world.poll_book, remote)
    app = KioskApp(world.services, show_demo_panel=False)
    j = Journey(app, world)
    results: dict[str, Any] = {}

    def script() -> Iterator[None]:
        yield from j.until(lambda: app.ready, "start-up")
        for name, scenario in (("cancels", cancels), ("votes_here", votes_here)):
            record: dict[str, Any] = {}
            results[name] = record
            try:
                yield from scenario(j, record, shots)
            except Exception as exc:
                record["error"] = "".join(traceback.format_exception(exc))
                world.deck.remove()
                yield from j.until(lambda: j.phase in (Phase.ATTRACT, Phase.CLOSED), "recovery")

    errors = run_script(app, script())
    if errors:
        results["_errors"] = ["".join(traceback.format_exception(e)) for e in errors]
    out.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Exception:
        traceback.print_exc(file=sys.__stderr__)  # Kivy has replaced sys.stderr with its silenced logger
        sys.exit(1)
