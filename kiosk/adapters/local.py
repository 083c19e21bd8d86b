"""Ports for a kiosk that runs on its own (the demo and the UI tests): a local poll book over the centre's
roll, the real ballot box for check-ins, casts and polls reports, and staff functions over the ballot box.

The central poll book (sync) replaces ``LocalPollBook`` in a connected kiosk; the rest is the same.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from election.manifest import Manifest, WilayatCode
from kiosk.ballot_box import BallotBox, BallotBoxError
from kiosk.polls import PollsAction, StaffCard, StaffRole
from kiosk.ports import BallotPort
from kiosk.session import events as ev
from kiosk.session.model import CheckInTicket, SealedBallot, Selections, StaffIdentity, VoterIdentity
from sync.protocol import ReleaseReason


@dataclass
class LocalPollBook:
    """Check-in against the centre's roll; the token is random (it never carries the civil number)."""

    manifest: Manifest
    roll: Mapping[str, WilayatCode]
    box: BallotBox | None = None
    voted: set[str] = field(default_factory=set)
    checked_in: dict[str, str] = field(default_factory=dict)  # token -> civil number, memory only
    offline: bool = False
    provisional_voters: dict[str, str] = field(default_factory=dict)
    """Always empty: a standalone kiosk's check-ins are never provisional (``RealBallots`` reads it)."""

    def check_in(self, voter: VoterIdentity) -> ev.CheckedIn | ev.Failed:
        number = voter.civil_number
        if number in self.voted:
            return ev.Failed(ev.Failure.ALREADY_VOTED)
        if number in self.checked_in.values():
            return ev.Failed(ev.Failure.VOTER_LOCKED)
        wilayat = self.roll.get(number)
        if wilayat is None:
            return ev.Failed(ev.Failure.NOT_ON_ROLL)
        style = self.manifest.style_for_wilayat(wilayat).id
        token = secrets.token_hex(16)
        if self.box is not None:
            self.box.record_checkin(token, style)
        self.checked_in[token] = number
        return ev.CheckedIn(CheckInTicket(style=style, provisional=False, token=token))

    def cancel(self, ticket: CheckInTicket) -> None:
        if self.checked_in.pop(ticket.token, None) is not None and self.box is not None:
            with contextlib.suppress(BallotBoxError):
                self.box.release_checkin(ticket.token, ReleaseReason.VOTER_LEFT)

    def mark_voted(self, token: str) -> None:
        number = self.checked_in.pop(token, None)
        if number is not None:
            self.voted.add(number)


@dataclass
class CountingBallots:
    """Wraps a BallotPort: marks the voter as voted in the local poll book when the cast is stored, and
    counts casts and challenges (for the staff status and the tests)."""

    inner: BallotPort
    poll_book: LocalPollBook
    cast_count: int = 0
    spoiled_count: int = 0

    def seal(self, style: object, selections: Selections) -> ev.BallotSealed | ev.Failed:
        return self.inner.seal(style, selections)  # type: ignore[arg-type]

    def cast(self, sealed: SealedBallot, ticket: CheckInTicket) -> ev.BallotCast | ev.Failed:
        result = self.inner.cast(sealed, ticket)
        if isinstance(result, ev.BallotCast):
            self.poll_book.mark_voted(ticket.token)
            self.cast_count += 1
        return result

    def challenge(self, sealed: SealedBallot) -> ev.BallotChallenged | ev.Failed:
        result = self.inner.challenge(sealed)
        if isinstance(result, ev.BallotChallenged):
            self.spoiled_count += 1
        return result


@dataclass
class BoxStaff:
    """Staff functions over the ballot box: open polls (zero report), close polls (close report), status."""

    box: BallotBox
    fingerprint_of: Callable[[str], str]
    """The SHA-256 of a staff member's card certificate, by staff id (from the card layer)."""
    status_extra: Callable[[], tuple[str, ...]] = lambda: ()
    log: list[tuple[ev.StaffAction, str]] = field(default_factory=list)
    card_of: Callable[[str], StaffCard | None] | None = None
    """The staff card as the card layer authenticated it (role + fingerprint), by staff id; without it (the
    demo) every staff card counts as a committee member's."""

    def run(self, action: ev.StaffAction, staff: StaffIdentity) -> ev.StaffDone:
        self.log.append((action, staff.staff_id))
        if self.card_of is not None:
            found = self.card_of(staff.staff_id)
            if found is None:
                return ev.StaffDone(action, ("refused: this staff card was not authenticated on this kiosk",), ok=False)
            card = found
        else:
            card = StaffCard(staff.staff_id, StaffRole.COMMITTEE_MEMBER, self.fingerprint_of(staff.staff_id))
        polls = {ev.StaffAction.OPEN_POLLS: PollsAction.OPEN, ev.StaffAction.CLOSE_POLLS: PollsAction.CLOSE}
        polls[ev.StaffAction.REOPEN_POLLS] = PollsAction.REOPEN  # an administrator's card only (kiosk.polls)
        if action in polls:
            try:
                report = self.box.apply(polls[action], card)
            except BallotBoxError as exc:
                return ev.StaffDone(action, (f"refused: {exc}",), ok=False)
            return ev.StaffDone(action, tuple(f"{k}: {v}" for k, v in report.to_dict().items()))
        if action is ev.StaffAction.STATUS:
            c = self.box.counts()
            lines = (
                f"polls: {self.box.polls_state.value}",
                f"ballots cast: {c.cast}, challenged: {c.challenged}, provisional: {c.provisional}",
                f"ballots not yet sent: {c.unsent_ballots}",
                f"chain head: {self.box.chain_head[:16]}",
                *self.status_extra(),
            )
            return ev.StaffDone(action, lines)
        if action is ev.StaffAction.MANUAL_FALLBACK:
            # The ballot box pauses (no ballot can be cast, the switch and the staff card are in its signed log)
            # and its heartbeat tells the office the kiosk is paused, so the office expects a manual result sheet.
            try:
                self.box.apply(PollsAction.PAUSE, card)
            except BallotBoxError as exc:
                return ev.StaffDone(action, (f"refused: {exc}",), ok=False)
            return ev.StaffDone(
                action, ("centre switched to the manual method (Art. 8); kiosk closed to voters, office told",)
            )
        return ev.StaffDone(action, ("assisted voting armed for the next voter (audio on)",))
