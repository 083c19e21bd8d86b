"""Request dependencies: the office, the calling kiosk (TLS client certificate), the calling staff member."""

from __future__ import annotations

import logging
from typing import Annotated

from cryptography import x509
from fastapi import Depends, Header, Request

from central import audit
from central.api.errors import ApiError
from central.auth import (
    AuthError,
    CardRevoked,
    CrlFile,
    Role,
    Staff,
    cert_sha256,
    end_session,
    kiosk_id_of,
    staff_for_token,
)
from central.models import Kiosk
from central.office import Office
from sync.protocol import ErrorCode

log = logging.getLogger(__name__)


def get_office(request: Request) -> Office:
    office: Office = request.app.state.office
    return office


OfficeDep = Annotated[Office, Depends(get_office)]


def peer_certificate(request: Request) -> x509.Certificate | None:
    """The client certificate from the ASGI "tls" extension (set by central.tls under uvicorn)."""
    tls = request.scope.get("extensions", {}).get("tls") or {}
    chain = tls.get("client_cert_chain") or []
    if not chain:
        return None
    try:
        return x509.load_pem_x509_certificate(chain[0].encode("ascii"))
    except ValueError:
        return None


def calling_kiosk(request: Request, office: OfficeDep) -> str:
    cert = peer_certificate(request)
    if cert is None:
        raise ApiError(401, ErrorCode.UNKNOWN_KIOSK, "a kiosk TLS client certificate is required")
    try:
        kiosk_id = kiosk_id_of(cert)
    except AuthError as exc:
        raise ApiError(403, ErrorCode.UNKNOWN_KIOSK, str(exc)) from None
    with office.db.transaction() as s:
        kiosk = s.get(Kiosk, kiosk_id)
        if kiosk is None or kiosk.cert_sha256 is None:
            raise ApiError(403, ErrorCode.UNKNOWN_KIOSK, f"kiosk {kiosk_id!r} is not enrolled")
        if kiosk.cert_sha256 != cert_sha256(cert):
            raise ApiError(403, ErrorCode.UNKNOWN_KIOSK, f"certificate is not the one enrolled for {kiosk_id!r}")
    if office.kiosk_crl is not None and _revoked(office.kiosk_crl, cert):
        raise ApiError(403, ErrorCode.UNKNOWN_KIOSK, f"the certificate of kiosk {kiosk_id!r} is revoked")
    return kiosk_id


def _revoked(crl: CrlFile, cert: x509.Certificate) -> bool:
    """Whether the kiosk CA's CRL lists ``cert``: ``CrlFile`` re-reads it when the file changes, so revoking a kiosk
    takes effect at its next request without restarting the office. A file that cannot be read or verified keeps the
    last good list (logged), or, with none yet, refuses every kiosk: an office told to check revocation never runs
    unchecked."""
    current = crl.current()
    return current is None or current.get_revoked_certificate_by_serial_number(cert.serial_number) is not None


KioskDep = Annotated[str, Depends(calling_kiosk)]


def same_kiosk(peer: str, claimed: str) -> None:
    if peer != claimed:
        raise ApiError(403, ErrorCode.KIOSK_MISMATCH, f"body names kiosk {claimed!r}, certificate names {peer!r}")


def calling_staff(office: OfficeDep, authorization: Annotated[str | None, Header()] = None) -> Staff:
    if not authorization or not authorization.startswith("Bearer "):
        raise ApiError(401, ErrorCode.UNKNOWN_TOKEN, "staff bearer token required (POST /api/staff/login)")
    token, now = authorization.removeprefix("Bearer ").strip(), office.clock()
    crl = office.current_crl()  # read again when the CRL file changed: a revoked card stops at its next request
    with office.db.transaction() as s:
        try:
            return staff_for_token(s, token, now, staff_ca=office.staff_ca, crl=crl, root=office.staff_root)
        except AuthError as exc:
            refused = exc
    if isinstance(refused, CardRevoked):
        with office.db.transaction() as s:
            if end_session(s, token):
                audit.append(
                    s, at=now, actor="office", action="staff.session_revoked", details={"reason": str(refused)}
                )
    raise ApiError(401, ErrorCode.UNKNOWN_TOKEN, str(refused))


StaffDep = Annotated[Staff, Depends(calling_staff)]


def require(staff: Staff, *roles: Role) -> None:
    if staff.role not in roles:
        allowed = ", ".join(r.value for r in roles)
        raise ApiError(403, ErrorCode.TOKEN_NOT_YOURS, f"this action needs the role {allowed}")
