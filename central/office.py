"""The central office's composition: database, election definition, crypto port, keys and clock in one value
that the API, the CLI and the tests share. Reading files happens here (the edge), once. The services take the
narrow views of it in ``central.capabilities``."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select
from sqlalchemy.orm import Session

from central import audit, phase
from central.auth import AuthError, CrlFile, RootRevocation, cert_sha256, kiosk_id_of
from central.capabilities import Clock
from central.checker import BallotChecker, shutdown_quietly
from central.config import CentralConfig
from central.crypto import ElectionChecker
from central.db import Database
from central.models import CentreStatus, Kiosk, TallyState
from election.context import ElectionContext
from election.manifest import Manifest


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


MANIFEST_FILE = "manifest.json"
CONTEXT_FILE = "election-context.json"


@dataclass
class Office:
    """The whole office. Services take only the part they use (``central.capabilities``), which this satisfies."""

    config: CentralConfig
    db: Database
    manifest: Manifest
    context: ElectionContext
    checker: BallotChecker
    clock: Clock = utc_now
    staff_ca: x509.Certificate | None = None
    envelope_key: bytes | None = None
    kiosk_ca: x509.Certificate | None = None
    signer: audit.OfficeSigner | None = None
    staff_crl_file: CrlFile | None = None
    """The staff CA's CRL (``[server] staff_crl``), loaded at start (a bad file stops the office)."""
    staff_root: RootRevocation | None = None
    """The national root's CRL for the staff CA (``[server] national_root``, ``national_root_crl``)."""
    kiosk_crl: CrlFile | None = None
    """The kiosk CA's CRL (``[server] kiosk_crl``), read at the first kiosk request (``central.api.deps``)."""

    @classmethod
    def open(cls, config: CentralConfig, *, clock: Clock = utc_now) -> Office:
        manifest = Manifest.from_dict(json.loads((config.election_dir / MANIFEST_FILE).read_text(encoding="utf-8")))
        context = ElectionContext.from_dict(
            json.loads((config.election_dir / CONTEXT_FILE).read_text(encoding="utf-8"))
        )
        if context.manifest_hash != manifest.manifest_hash:
            raise ValueError("the election context belongs to another manifest")
        staff_ca = x509.load_pem_x509_certificate(config.staff_ca.read_bytes()) if config.staff_ca else None
        key = _read_envelope_key(config.envelope_private_key) if config.envelope_private_key else None
        kiosk_ca_path = config.kiosk_ca or (config.tls.kiosk_ca if config.tls else None)
        kiosk_ca = x509.load_pem_x509_certificate(kiosk_ca_path.read_bytes()) if kiosk_ca_path else None
        staff_crl = _staff_crl_file(config.staff_crl, staff_ca) if config.staff_crl else None
        if staff_crl is not None:
            staff_crl.load()
        office = cls(
            config,
            Database(config.database_url),
            manifest,
            context,
            _checker(config, context, manifest),
            clock,
            staff_ca,
            key,
            kiosk_ca,
            signer=_read_signer(config),
            staff_crl_file=staff_crl,
            kiosk_crl=_kiosk_crl_file(config.kiosk_crl, kiosk_ca) if config.kiosk_crl else None,
        )
        if config.national_root is not None and config.national_root_crl is not None:
            root = x509.load_pem_x509_certificate(config.national_root.read_bytes())
            office.staff_root = RootRevocation(root, config.national_root_crl)
        return office

    @property
    def signing(self) -> phase.Signing:
        return phase.Signing(str(self.manifest.election_id), self.manifest.manifest_hash, self.signer)

    def current_crl(self) -> x509.CertificateRevocationList | None:
        """The staff CRL as its file holds it now (``CrlFile``: read again when the file changed, so a new CRL takes
        effect at the next request). A version that no longer parses or is not the staff CA's keeps the CRL loaded
        before (logged; the CRL's signature and freshness are still checked on every request)."""
        return self.staff_crl_file.current() if self.staff_crl_file is not None else None

    @property
    def staff_crl(self) -> x509.CertificateRevocationList | None:
        return self.current_crl()

    @property
    def embassies(self) -> tuple[str, ...]:
        return self.config.embassies

    @property
    def turnout_bucket_minutes(self) -> int:
        return self.config.turnout_bucket_minutes

    @property
    def election_dir(self) -> Path:
        return self.config.election_dir

    @property
    def record_dir(self) -> Path:
        return self.config.record_dir

    @property
    def pollbook_secret(self) -> bytes:
        """The key of the poll book's keyed hashes (a check-in request on its lock, a spent token): derived from the
        office's secret envelope key; without one (an office that cannot open provisional envelopes) the hashes
        are unkeyed, which still names no kiosk and, for a spent token, needs the token to test a kiosk."""
        if self.envelope_key is None:
            return b""
        return hmac.new(self.envelope_key, b"sanduq-central-pollbook-secret:v1", hashlib.sha256).digest()

    def close(self) -> None:
        """Stop the verification workers and close the database connections (idempotent)."""
        shutdown_quietly(self.checker)
        self.db.dispose()

    def prepare(self) -> None:
        """Create the rows every later step locks: one per kiosk, centre and contest (idempotent)."""
        with self.db.transaction() as s:
            have = set(s.scalars(select(Kiosk.kiosk_id)))
            for k in self.manifest.kiosks:
                if k.id not in have:
                    s.add(Kiosk(kiosk_id=k.id, centre_id=k.centre, status={}, ballots_accepted=0))
            centres = set(s.scalars(select(CentreStatus.centre_id)))
            for c in self.manifest.centres:
                if c.id not in centres:
                    s.add(CentreStatus(centre_id=c.id, manual=False))
            tallies = set(s.scalars(select(TallyState.contest_id)))
            for contest in self.manifest.contests:
                if contest.id not in tallies:
                    s.add(TallyState(contest_id=contest.id, state=self.checker.empty_tally(contest.id), ballots=0))
            phase.ensure_row(s, self.clock(), self.signing)


def _checker(config: CentralConfig, context: ElectionContext, manifest: Manifest) -> BallotChecker:
    """In-process checks (a pool of ``[ingest] workers``), or the job queue's workers (``[ingest] queue``)."""
    if config.ingest_queue:
        from central.jobs import QueueChecker

        return QueueChecker(context, manifest, config.database_url, timeout=config.queue_timeout)
    return ElectionChecker(context, manifest, workers=config.ingest_workers)


def _staff_crl_file(path: Path, staff_ca: x509.Certificate | None) -> CrlFile:
    """The staff CA's CRL (PEM or DER); its signature and freshness are checked at every login."""
    if staff_ca is None:
        raise ValueError("server.staff_crl is set but server.staff_ca is not")

    def issued_by_staff_ca(crl: x509.CertificateRevocationList) -> None:
        if crl.issuer != staff_ca.subject:
            raise ValueError("the CRL is not issued by the staff CA")

    return CrlFile(path, "staff CRL", issued_by_staff_ca)


def _kiosk_crl_file(path: Path, kiosk_ca: x509.Certificate | None) -> CrlFile:
    """The kiosk CA's CRL: only one signed by the kiosk CA counts."""

    def signed_by_kiosk_ca(crl: x509.CertificateRevocationList) -> None:
        if kiosk_ca is None:
            raise ValueError("no kiosk CA is configured to check the CRL's signature")
        if crl.issuer != kiosk_ca.subject or not crl.is_signature_valid(kiosk_ca.public_key()):  # type: ignore[arg-type]
            raise ValueError("the CRL is not signed by the kiosk CA")

    return CrlFile(path, "kiosk CRL", signed_by_kiosk_ca)


def _read_signer(config: CentralConfig) -> audit.OfficeSigner | None:
    """The office's head-signing key and certificate (both or neither)."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    if config.office_signing_key is None or config.office_certificate is None:
        return None
    key = load_pem_private_key(config.office_signing_key.read_bytes(), password=None)
    cert = x509.load_pem_x509_certificate(config.office_certificate.read_bytes())
    if cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo) != key.public_key().public_bytes(
        Encoding.DER, PublicFormat.SubjectPublicKeyInfo
    ):
        raise ValueError(f"{config.office_certificate}: not the certificate of {config.office_signing_key}")
    return audit.OfficeSigner(key, cert.public_bytes(Encoding.PEM).decode())


def _read_envelope_key(path: Path) -> bytes:
    raw = path.read_bytes().strip()
    key = bytes.fromhex(raw.decode()) if len(raw) == 64 else raw
    if len(key) != 32:
        raise ValueError(f"{path}: expected a 32-byte X25519 private key (raw or hex)")
    return key


def enrol_kiosk(s: Session, office: Office, cert: x509.Certificate, *, actor: str, now: dt.datetime) -> str:
    """Bind a kiosk certificate (SAN = kiosk id, from the election's kiosk CA) to the manifest's kiosk."""
    kiosk_id = kiosk_id_of(cert)
    kiosk = s.get(Kiosk, kiosk_id)
    if kiosk is None:
        raise AuthError(f"kiosk {kiosk_id!r} is not in the manifest")
    if office.kiosk_ca is not None:
        try:
            cert.verify_directly_issued_by(office.kiosk_ca)
        except (ValueError, TypeError, InvalidSignature):
            raise AuthError("certificate is not issued by the election's kiosk CA") from None
    pem = cert.public_bytes(Encoding.PEM).decode()
    kiosk.cert_sha256, kiosk.public_key_pem = cert_sha256(cert), pem
    kiosk.enrolled_at, kiosk.enrolled_by = now, actor
    audit.append(
        s,
        at=now,
        actor=actor,
        action="kiosk.enrolled",
        details={"kiosk_id": kiosk_id, "cert_sha256": kiosk.cert_sha256},
    )
    return kiosk_id
