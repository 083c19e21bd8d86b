"""Check ``package``: the record's certificates are tied to the signed election package (docs/election-record.md,
"The election package"; issue 14's known gap).

The record part ``package/`` holds the package's signed index (``index.json``), its Ed25519 signature
(``index.sig``), the manifest and election context as packaged, and every ``trust/`` file, each byte for byte as
in the package. The observer gives the verifier the election commission's public key (``--commission-key``): the
office's word is never taken for it. The check requires:

- ``index.sig`` verifies over the exact bytes of ``index.json`` with that key; the index is a
  ``sanduq-election-package`` of version 1;
- every file of ``package/`` is listed in the index with its SHA-256 and size, and every ``trust/`` file the index
  lists is there, as are ``manifest.json`` and ``keys/election-context.json``;
- the record's ``manifest.json`` is the package's manifest (the same manifest hash) and the record's
  ``context.json`` the package's election context (the same JSON value);
- each kiosk certificate of ``kiosks/<kiosk>.json`` chains to the package's ``trust/kiosk-ca.pem`` and the
  office's certificate ``office/office_certificate.pem`` (when the record has it) to ``trust/central-ca.pem``:
  RFC 5280 path validation by pyhanko-certvalidator (the kiosk's own validator), at the close of the polls on the
  election day (``manifest.date`` at ``manifest.polls_close`` in ``manifest.timezone``), without revocation
  information (the package carries no CRL of these CAs).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator import errors as pv_errors

from election.manifest import Manifest, ManifestError
from election.path_validation import validate_path
from election.verify.parts import Progress
from election.verify.primitives import Invalid, obj
from election.verify.strict_json import load, loads

if TYPE_CHECKING:
    from election.verify.state import State

PART = "package"
INDEX, SIGNATURE, MANIFEST, CONTEXT = "index.json", "index.sig", "manifest.json", "keys/election-context.json"
KIOSK_CA, CENTRAL_CA = "trust/kiosk-ca.pem", "trust/central-ca.pem"
#: the record part's files (for ``RECORD_PARTS``), relative to ``package/``
PATTERNS = (INDEX, SIGNATURE, MANIFEST, CONTEXT, "trust/*", "trust/*/*")
OFFICE_CERTIFICATE = "office/office_certificate.pem"
PACKAGE_FORMAT = "sanduq-election-package"


def not_run(s: State) -> str | None:
    """Why the check is not run: no commission key was given (the table says so; the command line then exits 3,
    "the record is NOT fully verified", unless the observer accepts it with ``--skip package``)."""
    if s.commission_key is None:
        return "no --commission-key given: the record's kiosk and office certificates are not tied to the package"
    return None


def fingerprint(key: Any) -> str:
    return hashlib.sha256(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()


def _read(root: Path, name: str) -> bytes:
    try:
        return (root / name).read_bytes()
    except FileNotFoundError:
        raise Invalid(f"missing file {PART}/{name}") from None


def _published(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _index(s: State, root: Path) -> dict[str, Any]:
    raw, signature = _read(root, INDEX), _read(root, SIGNATURE)
    try:
        s.commission_key.verify(signature, raw)  # type: ignore[union-attr]
    except InvalidSignature:
        raise Invalid(
            f"{PART}/{SIGNATURE}: the package's index is not signed by the commission key given (--commission-key, "
            f"SHA-256 {fingerprint(s.commission_key)[:16]}...)"
        ) from None
    index = loads(raw, f"{PART}/{INDEX}")
    if not isinstance(index, dict) or index.get("format") != PACKAGE_FORMAT or index.get("format_version") != 1:
        raise Invalid(f"{PART}/{INDEX}: not the index of a {PACKAGE_FORMAT} of version 1")
    files = index.get("files")
    if not isinstance(files, dict) or not isinstance(index.get("manifest_sha256"), str):
        raise Invalid(f"{PART}/{INDEX}: no files or manifest_sha256")
    for name, entry in files.items():
        obj(entry, ["sha256", "size"], f"{PART}/{INDEX}: the entry of {name}")
    return index


def _files_match(root: Path, index: dict[str, Any]) -> None:
    files: dict[str, dict[str, Any]] = index["files"]
    published = [n for n in _published(root) if n not in (INDEX, SIGNATURE)]
    for name in published:
        entry = files.get(name)
        if entry is None:
            raise Invalid(f"{PART}/{name} is not a file of the package's signed index")
        data = (root / name).read_bytes()
        if hashlib.sha256(data).hexdigest() != entry["sha256"] or len(data) != entry["size"]:
            raise Invalid(f"{PART}/{name} is not the file the package's signed index lists (its hash differs)")
    wanted = [n for n in files if n.startswith("trust/")] + [MANIFEST, CONTEXT, KIOSK_CA, CENTRAL_CA]
    missing = sorted({n for n in wanted if n not in published})
    if missing:
        raise Invalid(f"{PART}/: missing {', '.join(missing)} (the package's signed index lists every file it holds)")


def _same_election(s: State, root: Path, index: dict[str, Any]) -> None:
    raw = (root / MANIFEST).read_bytes()
    if hashlib.sha256(raw).hexdigest() != index["manifest_sha256"]:
        raise Invalid(f"{PART}/{INDEX}: manifest_sha256 is not the hash of {PART}/{MANIFEST}")
    try:
        packaged = Manifest.from_dict(loads(raw, f"{PART}/{MANIFEST}"))
    except ManifestError as exc:
        raise Invalid(f"{PART}/{MANIFEST}: {exc}") from None
    if packaged.manifest_hash != s.m.manifest_hash:
        raise Invalid(
            f"manifest.json is not the election package's manifest (manifest hash {s.m.manifest_hash[:16]}... in "
            f"the record, {packaged.manifest_hash[:16]}... in the package)"
        )
    if loads((root / CONTEXT).read_bytes(), f"{PART}/{CONTEXT}") != load(s.root / "context.json"):
        raise Invalid("context.json is not the election package's election context (keys/election-context.json)")


def _certificate(data: bytes, what: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError:
        raise Invalid(f"{what}: not a PEM certificate") from None


def chain_problem(cert: x509.Certificate, ca: x509.Certificate, moment: dt.datetime) -> str | None:
    """None when ``cert`` has a valid path to ``ca`` (the only trust root) at ``moment``, else why not."""
    try:
        context = ValidationContext(
            trust_roots=[asn1_x509.Certificate.load(ca.public_bytes(Encoding.DER))],
            moment=moment,
            allow_fetching=False,
            revocation_mode="soft-fail",
        )
        end_entity = asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))
        validate_path(CertificateValidator(end_entity, validation_context=context))
    except pv_errors.PathError:
        return "no path to it"
    except pv_errors.PathValidationError as exc:
        return str(exc.failure_msg if hasattr(exc, "failure_msg") else exc)
    except (pv_errors.ValidationError, ValueError, TypeError, KeyError, IndexError) as exc:
        return f"the certificate cannot be validated ({type(exc).__name__}: {exc})"
    return None


def polls_close_utc(manifest: Manifest) -> dt.datetime:
    """The moment the certificates are validated at: ``manifest.date`` at ``manifest.polls_close`` in the
    manifest's ``timezone`` (19:00 Asia/Muscat is 15:00 UTC), as UTC."""
    try:
        zone = zoneinfo.ZoneInfo(manifest.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"manifest.json: timezone {manifest.timezone!r} is not an IANA time zone") from None
    return dt.datetime.combine(manifest.date, manifest.polls_close, tzinfo=zone).astimezone(dt.UTC)


def check_package(s: State, progress: Progress) -> str:
    root = s.root / PART
    index = _index(s, root)
    _files_match(root, index)
    _same_election(s, root, index)
    kiosk_ca = _certificate((root / KIOSK_CA).read_bytes(), f"{PART}/{KIOSK_CA}")
    central_ca = _certificate((root / CENTRAL_CA).read_bytes(), f"{PART}/{CENTRAL_CA}")
    moment = polls_close_utc(s.m)
    kiosks = sorted((s.root / "kiosks").glob("*.json")) if (s.root / "kiosks").is_dir() else []
    for i, path in enumerate(kiosks, start=1):
        progress(i, len(kiosks) + 1)
        data = load(path, f"kiosks/{path.name}")
        pem = data.get("certificate_pem") if isinstance(data, dict) else None
        cert = _certificate(str(pem).encode("ascii", "replace"), f"kiosks/{path.name}: certificate_pem")
        problem = chain_problem(cert, kiosk_ca, moment)
        if problem is not None:
            raise Invalid(
                f"kiosks/{path.name}: the kiosk's certificate does not chain to the package's kiosk CA "
                f"({KIOSK_CA}) on {moment:%Y-%m-%d %H:%M}Z: {problem}"
            )
    office = ""
    office_path = s.root / OFFICE_CERTIFICATE
    if office_path.is_file() and office_path.read_bytes().strip():
        problem = chain_problem(_certificate(office_path.read_bytes(), OFFICE_CERTIFICATE), central_ca, moment)
        if problem is not None:
            raise Invalid(
                f"{OFFICE_CERTIFICATE}: the office's certificate does not chain to the package's central CA "
                f"({CENTRAL_CA}) on {moment:%Y-%m-%d %H:%M}Z: {problem}"
            )
        office = f", the office's to {CENTRAL_CA}"
    progress(1, 1)
    return (
        f"index signed by the commission key {fingerprint(s.commission_key)[:16]}...; manifest and context are the "
        f"package's; {len(kiosks)} kiosk certificate(s) chain to {KIOSK_CA}{office}"
    )


__all__ = ["PATTERNS", "check_package", "not_run"]
