"""The voter app's composition: the kiosk's session machine and ports, filled with the remote adapters.

Nothing of the kiosk is copied: the session machine (kiosk.session), its driver (kiosk.driver), the card layer
(kiosk.card through kiosk.adapters.card.PcscCard), the election core's encryption, and (in ``remote.__main__``)
the Kivy screens, audio and accessibility of kiosk/ui/app.py. What differs is behind the ports:

=================  =============================================================================
port               voter app
=================  =============================================================================
CardPort           :class:`remote.card.RemoteCard` (PIN, signature over the collector's challenge,
                   credential registered)
PollBookPort       :class:`remote.card.RemotePollBook` (the registration's ballot style)
BallotPort         :class:`remote.ballots.RemoteBallots` (encrypt, sign, submit until known)
StaffPort          :class:`NoStaff` (no staff functions on a voter's computer)
=================  =============================================================================
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509

from election.context import ElectionContext
from election.package import ElectionPackage
from kiosk.adapters.card import trust_anchors_of
from kiosk.card.profile import CardProfile
from kiosk.card.session import CardAuthenticator
from kiosk.session import events as ev
from kiosk.session.model import StaffIdentity
from remote import client as c
from remote.ballots import RemoteBallots
from remote.card import RemoteCard, RemotePollBook
from remote.credential import Credential, load_or_create
from remote.outbox import Outbox


class ComposeError(Exception):
    """The voter app cannot start; the message says why."""


class NoStaff:
    def run(self, action: ev.StaffAction, staff: StaffIdentity) -> ev.StaffDone:
        return ev.StaffDone(action, ("no staff functions in the voter app",), ok=False)


@dataclass
class LocalAudit:
    """The app's own audit trail (kinds of events only; the kiosk session records no voter data in it)."""

    entries: list[tuple[str, str]] = field(default_factory=list)

    def record(self, kind: str, detail: str) -> None:
        self.entries.append((kind, detail))


@dataclass
class VoterPorts:
    card: RemoteCard
    poll_book: RemotePollBook
    ballots: RemoteBallots
    staff: NoStaff
    audit: LocalAudit
    collector: c.CollectorClient
    outbox: Outbox


def collector_of(package: ElectionPackage) -> tuple[str, x509.Certificate]:
    """The collector's kiosk id (the manifest's ``remote_voting``) and its pinned TLS certificate
    (``trust/collector.pem`` of the signed package)."""
    from remote.verify import COLLECTOR_CERT

    remote = package.manifest.remote_voting
    if remote is None or not remote.collector_ids:
        raise ComposeError("this election has no remote voting (the package's manifest has no remote_voting)")
    data = package.files.get(COLLECTOR_CERT)
    if data is None:
        raise ComposeError(f"the election package has no {COLLECTOR_CERT}: the collector cannot be authenticated")
    try:
        return str(remote.collector_ids[0]), x509.load_pem_x509_certificate(data)
    except ValueError:
        raise ComposeError(f"the election package's {COLLECTOR_CERT} is not a certificate") from None


def voter_ports(
    package: ElectionPackage,
    *,
    collector_url: str,
    reader: str,
    profile: CardProfile,
    profiles: tuple[CardProfile, ...],
    data_dir: Path,
    passphrase: Callable[[], str],
    certificate: x509.Certificate | None = None,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> VoterPorts:
    """``certificate`` overrides the package's pinned collector certificate (tests only)."""
    if package.election_context is None:
        raise ComposeError("the election package has no election key (a package from before the key ceremony)")
    collector_id, pinned = collector_of(package) if certificate is None else (collector_of_id(package), certificate)
    election_id = str(package.manifest.election_id)
    collector = c.CollectorClient(collector_url, pinned, collector_id=collector_id, election_id=election_id)
    cache: dict[str, Credential] = {}

    def credential() -> Credential:
        if "key" not in cache:
            cache["key"], _ = load_or_create(data_dir, election_id, passphrase())
        return cache["key"]

    authenticator = CardAuthenticator(
        profile, trust_anchors_of(package), collector_id, election_id, clock, secrets.token_bytes, profiles=profiles
    )
    card = RemoteCard(
        reader,
        authenticator,
        collector=collector,
        credential=credential,
        styles=frozenset(str(s.id) for s in package.manifest.ballot_styles),
    )
    outbox = Outbox(data_dir, election_id)
    context = ElectionContext.from_dict(dict(package.election_context))
    ballots = RemoteBallots(package.manifest, context, collector, credential, outbox)
    return VoterPorts(card, RemotePollBook(card), ballots, NoStaff(), LocalAudit(), collector, outbox)


def collector_of_id(package: ElectionPackage) -> str:
    remote = package.manifest.remote_voting
    if remote is None or not remote.collector_ids:
        raise ComposeError("this election has no remote voting (the package's manifest has no remote_voting)")
    return str(remote.collector_ids[0])
