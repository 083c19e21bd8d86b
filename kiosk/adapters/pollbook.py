"""PollBookPort over the central office's poll book (sync client, mutual TLS).

Offline, a voter on the centre's copy of the roll gets a provisional ticket (the election's offline
policy); every call blocks (HTTPS, SQL) and returns one session event.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass, field

from election.manifest import BallotStyleId
from kiosk.ballot_box import BallotBox
from kiosk.session import events as ev
from kiosk.session.model import CheckInTicket, VoterIdentity
from sync.client import Rejected, SyncClient, Unreachable
from sync.protocol import CheckinRelease, CheckinRequest, CheckinStatus, ReleaseReason

_CHECKIN_FAILURES = {
    CheckinStatus.NOT_ON_ROLL: ev.Failure.NOT_ON_ROLL,
    CheckinStatus.ALREADY_VOTED: ev.Failure.ALREADY_VOTED,
    CheckinStatus.LOCKED_ELSEWHERE: ev.Failure.VOTER_LOCKED,
    CheckinStatus.INELIGIBLE: ev.Failure.WRONG_CENTRE,
    CheckinStatus.WRONG_CENTRE: ev.Failure.WRONG_CENTRE,
}


@dataclass
class CentralPollBook:
    """PollBookPort over the sync client. Offline, a voter on the centre's copy of the roll gets a
    provisional ticket (the election's offline policy) with an identity envelope sealed at cast time."""

    client: SyncClient
    box: BallotBox
    kiosk_id: str
    centre_id: str
    offline_roll: dict[str, str]  # civil number -> ballot style, the centre's copy of the roll
    provisional_voters: dict[str, str] = field(default_factory=dict)  # token -> civil number (memory only)
    last_status: str = ""

    def check_in(self, voter: VoterIdentity) -> ev.CheckedIn | ev.Failed:
        request = CheckinRequest(
            kiosk_id=self.kiosk_id,
            centre_id=self.centre_id,
            civil_number=voter.civil_number,
            idempotency_key=secrets.token_hex(16),
        )
        try:
            answer = self.client.checkin(request)
        except Unreachable:
            style = self.offline_roll.get(voter.civil_number)
            self.last_status = "unreachable"
            if style is None:
                return ev.Failed(ev.Failure.POLL_BOOK_UNAVAILABLE)
            token = f"provisional-{secrets.token_hex(12)}"
            self.provisional_voters[token] = voter.civil_number
            return ev.CheckedIn(CheckInTicket(BallotStyleId(style), provisional=True, token=token))
        except Rejected:
            self.last_status = "rejected"
            return ev.Failed(ev.Failure.POLL_BOOK_UNAVAILABLE)
        self.last_status = answer.status.value
        if answer.status is not CheckinStatus.ELIGIBLE:
            return ev.Failed(_CHECKIN_FAILURES.get(answer.status, ev.Failure.INTERNAL))
        assert answer.checkin_token is not None and answer.ballot_style_id is not None
        self.box.record_checkin(answer.checkin_token, answer.ballot_style_id)
        ticket = CheckInTicket(
            BallotStyleId(answer.ballot_style_id),
            provisional=False,
            token=answer.checkin_token,
            remote_vote_replaced=answer.remote_vote_replaced,
        )
        return ev.CheckedIn(ticket)

    def cancel(self, ticket: CheckInTicket) -> None:
        if ticket.provisional:
            self.provisional_voters.pop(ticket.token, None)
            return
        self.box.release_checkin(ticket.token, ReleaseReason.VOTER_LEFT)
        release = CheckinRelease(kiosk_id=self.kiosk_id, reason=ReleaseReason.VOTER_LEFT)
        with contextlib.suppress(Unreachable, Rejected):  # queued in the ballot box; the sync worker sends it
            self.client.release(ticket.token, release)
