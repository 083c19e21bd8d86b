"""Who is calling: kiosks by their TLS client certificate, staff by a card challenge-response.

Kiosks. uvicorn verifies the client certificate against the kiosk CA (``--ssl-cert-reqs 2``) but does not
hand the certificate to the application; ``central.tls`` adds it to each request's ASGI scope as the
standard ASGI "tls" extension (``scope["extensions"]["tls"]["client_cert_chain"]``). The kiosk id is the
certificate's SAN dNSName; the certificate's SHA-256 must equal the one enrolled for that kiosk
(administrator action, audited). Batches and envelopes are also signed with the same key, so a stored
batch proves its origin without the TLS session.

Staff. ``POST /api/staff/challenge`` gives a fresh nonce; the staff card signs ``STAFF_LOGIN_PREFIX + nonce``
with its authentication key; ``POST /api/staff/login`` checks the certificate (issued by the staff CA, valid
now, not on the staff CRL, role from its certificate policy), the staff CA itself as the kiosk checks every level
of a card's path (issued by the national root, valid now, covered by a current CRL of the root that does not list
it: :class:`RootRevocation`, ``[server] national_root`` and ``national_root_crl``), the signature and the nonce
(single use), and issues a bearer token (random, stored only as its SHA-256, expires). Every login is audited.
Both CRLs are checked again on every request of a card's token: a revocation ends the session.
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import hashlib
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from central.models import StaffChallenge, StaffToken
from sync import signing
from sync.direct_crls import DirectCrls
from sync.staff_roles import StaffRole

log = logging.getLogger(__name__)

STAFF_LOGIN_PREFIX = b"sanduq-central-staff-login:v1:"


class Role(enum.Enum):
    """The office's roles: the election staff roles (one definition, ``sync.staff_roles``, carried by staff cards)
    and the observer, a console-only read role that no card carries."""

    POLL_WORKER = StaffRole.POLL_WORKER.value
    COMMITTEE_MEMBER = StaffRole.COMMITTEE_MEMBER.value
    ADMINISTRATOR = StaffRole.ADMINISTRATOR.value
    OBSERVER = "observer"


# Role policy OIDs: one definition for kiosk and office (sync/staff_roles.py).
_POLICY_ROLES = {role.policy_oid_dotted: Role(role.value) for role in StaffRole}


class AuthError(Exception):
    """The caller could not be authenticated; the message says why (safe to show)."""


class CardRevoked(AuthError):
    """The staff card's certificate is on the staff CRL: its session ends (``end_session``)."""


#: the roles a console token (``python -m central issue-token``, no card) may carry: none of their actions needs
#: a second person. Committee members and administrators come only from a card-signed login.
CONSOLE_ROLES = frozenset({Role.OBSERVER, Role.POLL_WORKER})


@dataclass(frozen=True)
class Staff:
    subject: str
    role: Role
    cert_serial: str | None = None
    """Hex serial of the card certificate that logged in (None: a console token)."""
    console: bool = False


def cert_sha256(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()


def kiosk_id_of(cert: x509.Certificate) -> str:
    """``sync.signing.kiosk_id_of`` (the rule the kiosk checks itself by), refused as an ``AuthError``."""
    try:
        return signing.kiosk_id_of(cert)
    except signing.NotAKioskCertificate as exc:
        raise AuthError(str(exc)) from None


def verify_signature(cert: x509.Certificate, signature: bytes, data: bytes) -> None:
    """ECDSA P-256/SHA-256 (DER), RSA PKCS#1 v1.5/SHA-256 or Ed25519; raises AuthError if it does not verify."""
    key = cert.public_key()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, data)
        else:
            raise AuthError(f"unsupported key type {type(key).__name__}")
    except InvalidSignature:
        raise AuthError("signature does not verify") from None


def decode_b64(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        raise AuthError("not base64") from None


# ---- staff ----------------------------------------------------------------------------------------------


def new_challenge(session: Session, now: dt.datetime, ttl_seconds: int = 120) -> tuple[str, dt.datetime]:
    session.execute(delete(StaffChallenge).where(StaffChallenge.expires_at < now))
    nonce = secrets.token_hex(32)
    expires = now + dt.timedelta(seconds=ttl_seconds)
    session.add(StaffChallenge(nonce=nonce, expires_at=expires))
    return nonce, expires


def staff_role_of(cert: x509.Certificate) -> Role:
    try:
        policies = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    except x509.ExtensionNotFound:
        raise AuthError("staff certificate has no role policy") from None
    roles = {
        _POLICY_ROLES[p.policy_identifier.dotted_string]
        for p in policies
        if p.policy_identifier.dotted_string in _POLICY_ROLES
    }
    if len(roles) != 1:
        raise AuthError("staff certificate must carry exactly one role")
    return roles.pop()


def read_crl(raw: bytes) -> x509.CertificateRevocationList:
    """A CRL file's bytes, PEM or DER (``ValueError`` if neither)."""
    if raw.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_crl(raw)
    return x509.load_der_x509_crl(raw)


class CrlRefused(ValueError):
    """A CRL file's content is refused: not a CRL, or not the expected issuer's. The message names the file."""


def _any_issuer(crl: x509.CertificateRevocationList) -> None:
    """``CrlFile``'s default ``accept``: every parsed CRL (its caller checks issuer and signature at each use)."""


class CrlFile:
    """A CRL file (PEM or DER, parsed by ``read_crl``) read again whenever it changes (its modification time or
    size), so that a new CRL takes effect at the next request without restarting the office. ``accept`` refuses a
    parsed CRL that is not the expected issuer's (a ``ValueError`` saying why). The office's three CRLs use it: the
    staff CA's (``Office.current_crl``), the kiosk CA's (``Office.kiosk_crl``) and the national root's
    (``RootRevocation``).

    A version of the file that cannot be read, does not parse or is refused keeps the last good CRL and is logged
    (once per version); ``current()`` is None until a version was good, and the callers then refuse everyone: an
    office told to check revocation never runs unchecked. ``load()`` reads the file at once and raises instead, for
    a CRL that must be good when the office starts."""

    def __init__(
        self,
        path: Path,
        what: str,
        accept: Callable[[x509.CertificateRevocationList], None] = _any_issuer,
    ) -> None:
        self.path, self.what, self._accept = path, what, accept
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._crl: x509.CertificateRevocationList | None = None

    def load(self) -> x509.CertificateRevocationList:
        """Read the file now: ``OSError`` if it cannot be read, ``CrlRefused`` naming the file if it is refused."""
        stamp = self._stat()
        crl = self._read()
        with self._lock:
            self._stamp, self._crl = stamp, crl
        return crl

    def current(self) -> x509.CertificateRevocationList | None:
        """The CRL as the file holds it now (read again if it changed), or the last good one, or None."""
        try:
            stamp = self._stat()
        except OSError as exc:
            log.error("%s %s cannot be read (%s), keeping the last good one", self.what, self.path, exc.strerror)
            return self._crl
        with self._lock:
            if stamp != self._stamp:
                self._stamp = stamp
                try:
                    self._crl = self._read()
                except (OSError, CrlRefused) as exc:
                    log.error("%s refused, keeping the last good one: %s", self.what, exc)
            return self._crl

    def _stat(self) -> tuple[int, int]:
        st = self.path.stat()
        return (st.st_mtime_ns, st.st_size)

    def _read(self) -> x509.CertificateRevocationList:
        raw = self.path.read_bytes()
        try:
            crl = read_crl(raw)
        except ValueError as exc:
            raise CrlRefused(f"{self.path}: not a certificate revocation list ({exc})") from None
        try:
            self._accept(crl)
        except ValueError as exc:
            raise CrlRefused(f"{self.path}: {exc}") from None
        return crl


class RootRevocation:
    """The national root's CRL (its ARL: the issuing CAs it revoked) applied to the staff CA, as the kiosk applies
    it to every card's path (``kiosk.card.trust``, ``sync.direct_crls``): the staff CA must be issued by the root,
    valid now, and covered by a direct, complete, current CRL of the root that does not list it.

    The file is a ``CrlFile``: read again whenever it changes, so a revocation takes effect at the next request
    without a restart. Only a CRL whose issuer is the root and whose signature verifies with the root's key is
    taken; a file that cannot be read or is not the root's keeps the last good CRL (and is logged), or, with none
    yet, refuses every staff card: an office told to check revocation never runs unchecked."""

    def __init__(self, root: x509.Certificate, crl_path: Path) -> None:
        self.root = root
        self.crl_path = crl_path
        self._file = CrlFile(crl_path, "national root CRL", self._signed_by_root)
        self._direct: tuple[x509.CertificateRevocationList, DirectCrls] | None = None

    def _signed_by_root(self, crl: x509.CertificateRevocationList) -> None:
        if crl.issuer != self.root.subject or not crl.is_signature_valid(self.root.public_key()):  # type: ignore[arg-type]
            raise ValueError("the CRL is not signed by the national root")

    def _current(self) -> tuple[x509.CertificateRevocationList, DirectCrls] | None:
        crl = self._file.current()
        if crl is None:
            return None
        direct = self._direct
        if direct is None or direct[0] is not crl:
            direct = self._direct = (crl, DirectCrls([crl]))
        return direct

    def check(self, staff_ca: x509.Certificate, now: dt.datetime) -> None:
        """``AuthError`` if the staff CA cannot be trusted now; ``CardRevoked`` if the root revoked it."""
        try:
            staff_ca.verify_directly_issued_by(self.root)
        except (ValueError, TypeError, InvalidSignature):
            raise AuthError("the election staff CA is not issued by the national root") from None
        if not staff_ca.not_valid_before_utc <= now <= staff_ca.not_valid_after_utc:
            raise AuthError("the election staff CA is not valid now")
        current = self._current()
        if current is None:
            raise AuthError("the national root's CRL cannot be read: no staff card is accepted")
        crl, direct = current
        uncovered = direct.uncovered(staff_ca, self.root, now)
        if uncovered is not None:
            raise AuthError(f"the national root's CRL does not cover the election staff CA: {uncovered}")
        if crl.get_revoked_certificate_by_serial_number(staff_ca.serial_number) is not None:
            raise CardRevoked("the election staff CA is revoked by the national root")


def check_staff_certificate(
    cert: x509.Certificate,
    staff_ca: x509.Certificate,
    crl: x509.CertificateRevocationList | None,
    now: dt.datetime,
    root: RootRevocation | None = None,
) -> Staff:
    """The staff member of a card certificate (see the module's docstring), or ``AuthError`` saying why not."""
    try:
        cert.verify_directly_issued_by(staff_ca)
    except (ValueError, TypeError, InvalidSignature):
        raise AuthError("certificate is not issued by the election staff CA") from None
    if root is not None:
        root.check(staff_ca, now)
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise AuthError("certificate is not valid now")
    if crl is not None:
        if not crl.is_signature_valid(staff_ca.public_key()):  # type: ignore[arg-type]
            raise AuthError("staff CRL signature does not verify")
        if crl.next_update_utc is not None and crl.next_update_utc < now:
            raise AuthError("staff CRL is out of date")
        if crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None:
            raise AuthError("certificate is revoked")
    role = staff_role_of(cert)
    cn = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    serial = cert.subject.get_attributes_for_oid(x509.NameOID.SERIAL_NUMBER)
    name = str(cn[0].value) if cn else "staff"
    ident = str(serial[0].value) if serial else format(cert.serial_number, "x")
    return Staff(subject=f"{name} [{ident}]", role=role, cert_serial=format(cert.serial_number, "x"))


def check_not_revoked(
    serial_hex: str,
    staff_ca: x509.Certificate | None,
    crl: x509.CertificateRevocationList | None,
    now: dt.datetime,
    root: RootRevocation | None = None,
) -> None:
    """The card certificate ``serial_hex`` is not on the (fresh, signed) staff CRL and its staff CA not revoked by
    the national root (``root``): checked on every request."""
    if root is not None:
        if staff_ca is None:
            raise AuthError("no election staff CA is configured")
        root.check(staff_ca, now)
    if crl is None:
        return
    if staff_ca is None or not crl.is_signature_valid(staff_ca.public_key()):  # type: ignore[arg-type]
        raise AuthError("staff CRL signature does not verify")
    if crl.next_update_utc is not None and crl.next_update_utc < now:
        raise AuthError("staff CRL is out of date")
    if crl.get_revoked_certificate_by_serial_number(int(serial_hex, 16)) is not None:
        raise CardRevoked("certificate is revoked: the session is ended")


def consume_challenge(session: Session, nonce: str, now: dt.datetime) -> None:
    row = session.execute(delete(StaffChallenge).where(StaffChallenge.nonce == nonce, StaffChallenge.expires_at >= now))
    if row.rowcount != 1:  # type: ignore[attr-defined]
        raise AuthError("unknown or expired challenge")


def issue_token(session: Session, staff: Staff, now: dt.datetime, minutes: int) -> str:
    """A bearer token for ``staff`` (stored only as its SHA-256). A console token (``staff.console``) may only
    carry a role of ``CONSOLE_ROLES``; a card token keeps the card's certificate serial for the CRL check."""
    if staff.console and staff.role not in CONSOLE_ROLES:
        raise AuthError(f"the role {staff.role.value} comes only from a staff card login (POST /api/staff/login)")
    if not staff.console and staff.cert_serial is None:
        raise AuthError("a staff token needs the card certificate it was issued for")
    token = secrets.token_urlsafe(32)
    session.add(
        StaffToken(
            token_sha256=_token_key(token),
            subject=staff.subject,
            role=staff.role.value,
            expires_at=now + dt.timedelta(minutes=minutes),
            cert_serial=staff.cert_serial,
            console=staff.console,
        )
    )
    return token


def _token_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def staff_for_token(
    session: Session,
    token: str,
    now: dt.datetime,
    *,
    staff_ca: x509.Certificate | None = None,
    crl: x509.CertificateRevocationList | None = None,
    root: RootRevocation | None = None,
) -> Staff:
    """The staff member of a bearer token, checked on every request: known, not expired, a card token's
    certificate not on the staff CRL the office holds now (``CardRevoked``: the caller ends the session), a console
    token limited to ``CONSOLE_ROLES``."""
    row = session.scalar(select(StaffToken).where(StaffToken.token_sha256 == _token_key(token)))
    if row is None:
        raise AuthError("unknown token (logged out, expired or never issued)")
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=dt.UTC)
    if expires < now:
        raise AuthError("token expired")
    role = Role(row.role)
    if row.console:
        if role not in CONSOLE_ROLES:
            raise AuthError(f"a console token cannot carry the role {role.value}")
    elif row.cert_serial is None:
        raise AuthError("token has no card certificate: log in again with the staff card")
    else:
        check_not_revoked(row.cert_serial, staff_ca, crl, now, root)
    return Staff(subject=row.subject, role=role, cert_serial=row.cert_serial, console=row.console)


def end_session(session: Session, token: str) -> bool:
    """Logout: the token stops working at once. Returns whether it existed."""
    result = session.execute(delete(StaffToken).where(StaffToken.token_sha256 == _token_key(token)))
    return bool(result.rowcount)  # type: ignore[attr-defined]
