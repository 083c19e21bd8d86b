"""What the polling-station kiosk checks before it starts. Every configuration problem is a ``StartRefused`` whose
message names the file or option that is wrong and what staff can do (``run_kiosk.py`` prints it under
``KIOSK REFUSES TO START``, never a traceback).

``kiosk.bootstrap.build_station`` runs these in order: the signed election package with the commission's key, its
election key and office envelope key; the kiosk's TLS identity and signing key; the centre's offline roll; the card
reader; and last the ballot box, so that a kiosk that does not start has set nothing up. Checking the TLS files here,
not at the first sync round's handshake, is what lets a wrong file stop the kiosk instead of every sync failing.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from election.context import ContextError, ElectionContext
from election.manifest import CentreId, Manifest
from election.package import ELECTION_CONTEXT, ElectionPackage, PackageError, load_package, read_commission_key
from election.roll import RollError, load_roll
from kiosk.ballot_box import BallotBox, BallotBoxError
from kiosk.card.transport import CardIoError, PcscContext
from sync.protocol import MAX_BATCH_BALLOTS
from sync.signing import NotAKioskCertificate, Signer, kiosk_id_of

log = logging.getLogger("kiosk")

REFUSED = "KIOSK REFUSES TO START"
STAFF_ADVICE = "No voting on this kiosk: load the package again from the commission's copy and call the central office."


class StartRefused(Exception):
    """The kiosk must not start; the message tells staff what is wrong and what to do."""


def load_election_package(path: Path, commission_key: Path) -> ElectionPackage:
    """Read and verify the signed election package; every problem is a ``StartRefused`` naming the file."""
    try:
        key = read_commission_key(commission_key)
    except ValueError as exc:
        raise StartRefused(str(exc)) from None
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StartRefused(f"the election package {path} cannot be read ({exc.strerror}). {STAFF_ADVICE}") from None
    try:
        return load_package(data, key, archive_name=path.name)
    except PackageError as exc:
        raise StartRefused(
            f"the election package {path} is refused: {exc.file}: {exc.problem}. {STAFF_ADVICE}"
        ) from None


def election_keys(path: Path, package: ElectionPackage) -> tuple[ElectionContext, bytes]:
    """The election key the kiosk encrypts under and the office's envelope key: both must be in the package, and
    the election key must be this manifest's (the office would refuse every ballot encrypted under another)."""
    if package.election_context is None or package.central_envelope_key is None:
        raise StartRefused(
            f"the election package {path} has no election key or no office envelope key (a package from "
            f"before the key ceremony). {STAFF_ADVICE}"
        )
    try:
        context = ElectionContext.from_dict(dict(package.election_context))
    except ContextError as exc:
        raise StartRefused(
            f"the election package {path} is refused: {ELECTION_CONTEXT}: {exc}. {STAFF_ADVICE}"
        ) from None
    if context.manifest_hash != package.manifest.manifest_hash:
        raise StartRefused(
            f"the election package {path} is refused: {ELECTION_CONTEXT}: the election key is for another manifest "
            f"(hash {context.manifest_hash[:16]}..., this manifest's is {package.manifest.manifest_hash[:16]}...). "
            + STAFF_ADVICE
        )
    return context, package.central_envelope_key


def kiosk_identity(
    cert: Path, key: Path, central_ca: Path, *, kiosk_id: str, kiosk_ca: x509.Certificate, now: dt.datetime
) -> Signer:
    """The kiosk's signing key (it signs the ballots and the audit log, and is its TLS client key), with its
    certificate, which must be the key's, issued by the election package's kiosk CA, valid now and for this kiosk
    (``sync.signing.kiosk_id_of``: its one DNS name, as the office reads it, is ``kiosk_id``), and the central
    office's CA, which must be a certificate. A kiosk started with another kiosk's certificate, or one the office
    did not enrol, would have every ballot it signs refused by the office; it is refused here, before it takes a
    voter."""
    for what, path in (("kiosk certificate", cert), ("kiosk key", key), ("central office CA", central_ca)):
        if not path.is_file():
            raise StartRefused(f"the {what} file {path} is missing")
    try:
        signer = Signer.from_pem_file(key)
    except TypeError:  # cryptography: the key is encrypted and no password was given
        raise StartRefused(
            f"the kiosk key {key} cannot be used (it is under a passphrase, and the kiosk has no one to ask for it: "
            "install the key without one)"
        ) from None
    except (OSError, ValueError) as exc:
        raise StartRefused(f"the kiosk key {key} cannot be used ({exc})") from None
    certificates = []
    for what, path in (("kiosk certificate", cert), ("central office CA", central_ca)):
        try:
            certificates.append(x509.load_pem_x509_certificates(path.read_bytes())[0])
        except (OSError, ValueError) as exc:
            reason = str(exc).split(". ")[0]  # cryptography's message, without its FAQ link
            raise StartRefused(f"the {what} {path} is not a PEM certificate ({reason})") from None
    mine = certificates[0]
    if mine.public_key() != signer.public_key():
        raise StartRefused(
            f"the kiosk certificate {cert} is not the certificate of the kiosk key {key} (install this kiosk's own "
            "certificate and key, made as a pair)"
        )
    try:
        mine.verify_directly_issued_by(kiosk_ca)
    except (ValueError, TypeError, InvalidSignature):
        raise StartRefused(
            f"the kiosk certificate {cert} is not issued by the election package's kiosk CA "
            f"({kiosk_ca.subject.rfc4514_string()}): install the certificate the office enrolled this kiosk with"
        ) from None
    if not mine.not_valid_before_utc <= now <= mine.not_valid_after_utc:
        raise StartRefused(
            f"the kiosk certificate {cert} is not valid now (valid from {mine.not_valid_before_utc:%Y-%m-%d %H:%M} "
            f"to {mine.not_valid_after_utc:%Y-%m-%d %H:%M} UTC): have the office enrol this kiosk again"
        )
    try:
        named = kiosk_id_of(mine)  # the name the office reads from it
    except NotAKioskCertificate as exc:
        raise StartRefused(f"the kiosk certificate {cert} is refused: {exc}") from None
    if named != kiosk_id:
        raise StartRefused(
            f"the kiosk certificate {cert} is for {named}, not kiosk {kiosk_id} (install this kiosk's own "
            "certificate and key)"
        )
    return signer


def read_offline_roll(path: Path, manifest: Manifest, centre: str) -> dict[str, str]:
    """The centre's copy of the roll (the roll's CSV, docs/roll-format.md, read by its one parser
    ``election.roll.load_roll``): civil number -> ballot style of the eligible voters of the wilayats the centre
    serves. Used only while the office is unreachable (provisional ballots)."""
    try:
        styles = load_roll(path, manifest).styles_at_centre(manifest, CentreId(centre))
    except (OSError, RollError) as exc:
        raise StartRefused(f"the centre's offline roll {path} cannot be read ({type(exc).__name__}: {exc})") from None
    roll = {str(civil): str(style) for civil, style in styles.items()}
    log.info("offline roll: %d voters for centre %s", len(roll), centre)
    return roll


def first_reader() -> str:
    """The first card reader pcscd reports (for a kiosk configured without ``--reader``)."""
    try:
        ctx = PcscContext()
        readers = ctx.readers()
        ctx.close()
    except CardIoError as exc:
        raise StartRefused(f"the card reader service (pcscd) is not available ({exc})") from None
    if not readers:
        raise StartRefused("no card reader is connected (pass --reader or connect one)")
    return readers[0]


def open_box(db: Path, signer: Signer, kiosk_id: str, centre: str, genesis: str, *, min_batch: int) -> BallotBox:
    """This kiosk's ballot box: reopened after a restart, created on the first start. Another kiosk's box, or a
    path that is not a ballot box, is refused (and closed if it was opened)."""
    if not 1 <= min_batch <= MAX_BATCH_BALLOTS:
        raise StartRefused(f"the batch size {min_batch} is not between 1 and {MAX_BATCH_BALLOTS} ballots")
    try:
        if db.exists():
            box = BallotBox.open(db, signer, min_batch=min_batch)
            if box.kiosk_id != kiosk_id:
                box.close()
                raise StartRefused(f"the ballot box {db} belongs to kiosk {box.kiosk_id}, not {kiosk_id}")
            log.info("restarted: ballot box reopened (%d cast so far)", box.counts().cast)
            return box
        return BallotBox.create(db, signer, kiosk_id=kiosk_id, centre_id=centre, chain_genesis=genesis,
                                min_batch=min_batch)  # fmt: skip
    except BallotBoxError as exc:
        raise StartRefused(f"the ballot box {db} cannot be opened ({exc})") from None
    except SQLAlchemyError as exc:  # not a database, a folder, in a folder that does not exist, no permission
        reason = exc.orig if isinstance(exc, DBAPIError) else exc
        raise StartRefused(f"the ballot box {db} cannot be opened ({reason})") from None
