"""The voter app's card: the kiosk's card port over PC/SC (``kiosk.adapters.card.PcscCard``), with the signature
made over the *collector's* fresh challenge, and the credential registered with it.

The kiosk's card layer is reused unchanged: ``CardAuthenticator.read`` reads and checks the certificate against
the package's trust anchors (so a card the collector would refuse is refused on the device first), and
``CardAuthenticator.authenticate`` verifies the PIN once and has the card sign. For the signature, the app asks
the collector for a challenge first and gives the authenticator exactly the statement the collector expects
(docs/remote-voting.md, section 4): the kiosk's statement with the collector's id in the kiosk's place, the
challenge's time, and the purpose-bound nonce ``card_nonce(register, nonce, credential)``. The card's signature
and certificate then register this device's credential (``POST /r1/credentials``); the answer carries the
voter's ballot style, which the app's "check-in" (:class:`RemotePollBook`) hands to the session.

The transport stays behind ``kiosk.card.transport`` (a PC/SC reader today); an NFC transport would be another
``ApduChannel`` under the same ``CardAuthenticator``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization

from election.remote_statement import CardPurpose
from kiosk.adapters.card import PcscCard, card_failure
from kiosk.card.results import AuthFailure, FailureReason
from kiosk.card.session import Authenticated, CardAuthenticator
from kiosk.session import events as ev
from kiosk.session.model import CheckInTicket, Secret, VoterIdentity
from remote import client as c
from remote import protocol as p
from remote.credential import Credential

log = logging.getLogger(__name__)

# The collector's refusals at registration and what the voter is shown (the session's own messages).
_REGISTRATION_REFUSALS: dict[str, ev.Failure] = {
    "not_on_roll": ev.Failure.NOT_ON_ROLL,
    "not_eligible": ev.Failure.NOT_ON_ROLL,
    "window_closed": ev.Failure.POLLS_CLOSED,
    "voted_in_person": ev.Failure.ALREADY_VOTED,
    "rate_limited": ev.Failure.VOTER_LOCKED,
}


def refusal_failure(error: p.ErrorAnswer) -> ev.Failed:
    """The voter-facing failure for a collector refusal (a card refusal by its kiosk.card reason)."""
    if error.error == "card_refused":
        reason = error.detail.split(":")[0].strip().upper()
        if reason in FailureReason.__members__:
            return card_failure(AuthFailure(FailureReason[reason], "refused by the collector"))
        return ev.Failed(ev.Failure.CERT_UNTRUSTED)
    return ev.Failed(_REGISTRATION_REFUSALS.get(error.error, ev.Failure.POLL_BOOK_UNAVAILABLE))


@dataclass
class RemoteCard(PcscCard):
    """CardPort of the voter app: read and check as the kiosk does; PIN and signature over the collector's
    challenge; the credential registered."""

    collector: c.CollectorClient | None = None
    credential: Callable[[], Credential] | None = None
    """Gives this device's credential (made on first use, encrypted at rest: remote.credential)."""
    styles: frozenset[str] = frozenset()
    registration: p.Registration | None = None
    refusal: p.ErrorAnswer | None = field(default=None, repr=False)

    def verify_pin(self, pin: Secret) -> ev.PinAccepted | ev.PinRejected | ev.Failed:
        assert self.credential is not None
        self.registration, self.refusal = None, None
        if self._conn is None or self._read is None:
            return ev.Failed(ev.Failure.CARD_REMOVED)
        try:
            credential = self.credential()
        except c.CollectorError:
            self.close()
            return ev.Failed(ev.Failure.POLL_BOOK_UNAVAILABLE)
        signed = self._sign(pin, CardPurpose.REGISTER, credential.public_bytes)
        if not isinstance(signed, tuple):
            return signed
        return self._register(signed[0], signed[1], credential)

    def ask_my_votes(self, pin: Secret) -> p.MyVotes | ev.PinRejected | ev.Failed:
        """What the collector holds under this card's identity (``POST /r1/my-votes``): the PIN, the card's
        signature over a fresh my-votes challenge; nothing is registered or changed. The card stays open (for
        another try after a wrong PIN) until the caller closes it."""
        signed = self._sign(pin, CardPurpose.MY_VOTES, b"")
        if not isinstance(signed, tuple):
            return signed
        auth, challenge = signed
        assert self.collector is not None and self._read is not None
        certificate = self._read.certificate.public_bytes(serialization.Encoding.DER)
        try:
            return self.collector.my_votes(
                challenge,
                certificate_der=certificate,
                signature=auth.signature,
                ecdsa_format=self._read.profile.signing.ecdsa_format.value,
            )
        except c.Refused as exc:
            log.info("my-votes refused by the collector: %s", exc.error.error)
            return refusal_failure(exc.error)
        except c.CollectorError:
            return ev.Failed(ev.Failure.POLL_BOOK_UNAVAILABLE)

    def _sign(
        self, pin: Secret, purpose: CardPurpose, extra: bytes
    ) -> tuple[Authenticated, p.IssuedChallenge] | ev.PinRejected | ev.Failed:
        """The PIN, then the card's signature over the collector's fresh challenge for ``purpose``."""
        if self._conn is None or self._read is None:
            return ev.Failed(ev.Failure.CARD_REMOVED)
        if self._read.role is not None:
            self.close()
            return ev.Failed(ev.Failure.NOT_AN_ID_CARD)  # staff cards do not vote remotely
        assert self.collector is not None
        try:
            challenge = self.collector.challenge()
        except c.CollectorError:
            self.close()
            return ev.Failed(ev.Failure.POLL_BOOK_UNAVAILABLE)
        statement = challenge.card_challenge(purpose, extra)
        base = self.authenticator
        signer = CardAuthenticator(
            base.profile,
            base.anchors,
            statement.kiosk_id,
            statement.election_id,
            lambda: statement.issued_at,
            lambda n: statement.nonce,
            profiles=base.profiles,
        )
        result = self.try_pin(signer, pin)
        if not isinstance(result, Authenticated):
            return result
        if result.challenge.digest != statement.digest:  # the authenticator signed another statement: a bug
            self.close()
            return ev.Failed(ev.Failure.INTERNAL)
        return result, challenge

    def _register(
        self, auth: Authenticated, challenge: p.IssuedChallenge, credential: Credential
    ) -> ev.PinAccepted | ev.Failed:
        assert self.collector is not None and self._read is not None
        certificate = self._read.certificate.public_bytes(serialization.Encoding.DER)
        try:
            self.registration = self.collector.register(
                challenge,
                credential_hex=credential.public_hex,
                certificate_der=certificate,
                signature=auth.signature,
                ecdsa_format=self._read.profile.signing.ecdsa_format.value,
                styles=self.styles,
            )
        except c.Refused as exc:
            self.refusal = exc.error
            log.info("registration refused by the collector: %s", exc.error.error)
            self.close()
            return refusal_failure(exc.error)
        except c.Unreachable:
            self.close()
            return ev.Failed(ev.Failure.POLL_BOOK_UNAVAILABLE)
        self._auth = auth
        return ev.PinAccepted()


@dataclass
class RemotePollBook:
    """PollBookPort of the voter app: the "check-in" is the credential's registration (done with the card
    signature); it gives the ballot style the collector registered for this voter."""

    card: RemoteCard

    def check_in(self, voter: VoterIdentity) -> ev.CheckedIn | ev.Failed:
        registration = self.card.registration
        if registration is None:
            return ev.Failed(ev.Failure.POLL_BOOK_UNAVAILABLE)
        from election.manifest import BallotStyleId

        return ev.CheckedIn(CheckInTicket(BallotStyleId(registration.style_id), provisional=False))

    def cancel(self, ticket: CheckInTicket) -> None:
        return None  # nothing is held at the collector until a ballot is submitted
