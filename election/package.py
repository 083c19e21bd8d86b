"""The signed election package: one archive with everything a kiosk needs for election day.

Layout (format ``sanduq-election-package``, version 1; see docs/election-package.md and
election/schemas/package-index.schema.json):

    index.json            the signed index: format, version, election id, manifest hash, every file's
                          SHA-256 and size
    index.sig             Ed25519 signature by the election commission over the exact bytes of index.json
    manifest.json         the election definition (election.manifest)
    photos/...            candidates' photos (PNG), paths as referenced by the manifest
    audio/{ar,en}/...     audio clips, paths as referenced by the manifest
    trust/card-roots/*.pem          roots that voter and staff card certificates must chain to
    trust/card-intermediates/*.pem  issuing CAs (cards hold only their own certificate)
    trust/kiosk-ca.pem              the CA of kiosk certificates (mutual TLS, audit signatures)
    trust/central-ca.pem            the CA of the central office's TLS certificate (pinned by kiosks)
    trust/collector.pem             optional: the vote collector's TLS certificate, pinned by the voter app
                                    (elections with remote_voting; docs/remote-voting.md section 11)
    trust/card-policies.json        optional: card certificate policy OIDs (staff-card CAs, eID authentication)
    crl/*.crl                       revocation lists (DER) for every level of the card PKI (issuing CAs and
                                    the roots' CRLs covering the CAs)
    keys/election-context.json      the election public key and base hash, once the key ceremony is done
    keys/central-envelope.pub       the central office's X25519 key for sealing provisional envelopes

Loading is all or nothing: the signature, every file's hash, the absence of unlisted files and the
content rules are checked before anything is returned, and the first failure is raised as one
``PackageError`` naming the file and the problem. The zip container itself (deterministic writing, bounded and
safe reading) is election/package_archive.py.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from PIL import Image, UnidentifiedImageError

from election.audio_clips import check_clips
from election.canonical import canonical_json, sha256_hex
from election.manifest import Manifest, ManifestError
from election.package_archive import (
    PackageError,
    check_member_name,
    read_members,
    write_archive,
)

__all__ = [
    "CARD_INTERMEDIATES_DIR",
    "CARD_POLICIES",
    "CARD_ROOTS_DIR",
    "CENTRAL_CA",
    "CENTRAL_ENVELOPE_KEY",
    "COLLECTOR_CERT",
    "CRL_DIR",
    "ELECTION_CONTEXT",
    "INDEX",
    "KIOSK_CA",
    "MANIFEST",
    "PACKAGE_FORMAT",
    "PACKAGE_FORMAT_VERSION",
    "RECORD_MEMBERS",
    "SIGNATURE",
    "TRUST_DIR",
    "CardPolicies",
    "ElectionPackage",
    "PackageError",
    "load_package",
    "read_commission_key",
    "record_members",
    "write_package",
]

PACKAGE_FORMAT = "sanduq-election-package"
PACKAGE_FORMAT_VERSION = 1

INDEX = "index.json"
SIGNATURE = "index.sig"
MANIFEST = "manifest.json"
CARD_ROOTS_DIR = "trust/card-roots/"
CARD_INTERMEDIATES_DIR = "trust/card-intermediates/"
KIOSK_CA = "trust/kiosk-ca.pem"
CENTRAL_CA = "trust/central-ca.pem"
COLLECTOR_CERT = "trust/collector.pem"
CRL_DIR = "crl/"
CARD_POLICIES = "trust/card-policies.json"
ELECTION_CONTEXT = "keys/election-context.json"
CENTRAL_ENVELOPE_KEY = "keys/central-envelope.pub"


@dataclass(frozen=True)
class CardPolicies:
    """``trust/card-policies.json``: ``{"staff_ca_policy_oids": [...], "auth_policy_oids": [...]}`` (dotted OIDs).

    A CA certificate asserting a staff-CA policy issues staff cards (roles by policy OID, see
    sync/staff_roles.py); an authentication policy stands in for the clientAuth EKU on a card certificate.
    """

    staff_ca_policy_oids: tuple[str, ...]
    auth_policy_oids: tuple[str, ...]


@dataclass(frozen=True)
class ElectionPackage:
    """A package that passed every check. Photos and audio stay as bytes, keyed by package path."""

    manifest: Manifest
    package_hash: str
    index: Mapping[str, Any]
    files: Mapping[str, bytes]
    card_roots: tuple[x509.Certificate, ...]
    card_intermediates: tuple[x509.Certificate, ...]
    kiosk_ca: x509.Certificate
    central_ca: x509.Certificate
    crls: tuple[x509.CertificateRevocationList, ...]
    election_context: Mapping[str, Any] | None
    central_envelope_key: bytes | None
    warnings: tuple[str, ...] = field(default=())
    card_policies: CardPolicies | None = None  # None: trust/card-policies.json absent (project defaults apply)

    def file(self, path: str) -> bytes:
        return self.files[path]

    @property
    def audio_clip_count(self) -> int:
        return sum(1 for p in self.files if p.startswith("audio/") and p.endswith(".ogg"))


# ---- writing ------------------------------------------------------------------------------------


def write_package(files: Mapping[str, bytes], signing_key: Ed25519PrivateKey, *, created: str) -> bytes:
    """Sign and archive ``files`` (package path -> content). ``files`` must include manifest.json.

    ``created`` is an ISO 8601 timestamp supplied by the caller (the core reads no clock).
    """
    if MANIFEST not in files:
        raise PackageError(MANIFEST, "missing from the files to package")
    for path in files:
        check_member_name(path)
        if path in (INDEX, SIGNATURE):
            raise PackageError(path, "is reserved for the signed index")
    manifest = json.loads(files[MANIFEST])
    index = {
        "format": PACKAGE_FORMAT,
        "format_version": PACKAGE_FORMAT_VERSION,
        "election_id": manifest.get("election_id"),
        "created": created,
        "manifest_sha256": sha256_hex(files[MANIFEST]),
        "files": {p: {"sha256": sha256_hex(b), "size": len(b)} for p, b in sorted(files.items())},
    }
    index_bytes = canonical_json(index)
    signature = signing_key.sign(index_bytes)
    return write_archive([(INDEX, index_bytes), (SIGNATURE, signature), *sorted(files.items())])


# ---- loading ------------------------------------------------------------------------------------


def load_package(data: bytes, commission_key: Ed25519PublicKey, *, archive_name: str = "package") -> ElectionPackage:
    """Verify and load a package from its bytes; raises PackageError on the first problem."""
    members = read_members(data, archive_name)
    index_bytes = members.pop(INDEX, None)
    signature = members.pop(SIGNATURE, None)
    if index_bytes is None:
        raise PackageError(INDEX, "missing: the package has no signed index")
    if signature is None:
        raise PackageError(SIGNATURE, "missing: the package is not signed")
    try:
        commission_key.verify(signature, index_bytes)
    except InvalidSignature:
        raise PackageError(SIGNATURE, "the signature does not verify with the election commission's key") from None
    index = _parse_index(index_bytes)

    listed: Mapping[str, Mapping[str, Any]] = index["files"]
    for path in sorted(members):
        if path not in listed:
            raise PackageError(path, "unknown file: not listed in the signed index")
    for path, entry in sorted(listed.items()):
        content = members.get(path)
        if content is None:
            raise PackageError(path, "missing: listed in the signed index but not in the archive")
        if len(content) != entry["size"] or sha256_hex(content) != entry["sha256"]:
            raise PackageError(path, "content does not match its signed hash (the file was changed)")
    if MANIFEST not in members:
        raise PackageError(MANIFEST, "missing")
    if sha256_hex(members[MANIFEST]) != index["manifest_sha256"]:
        raise PackageError(INDEX, "manifest_sha256 does not match manifest.json")

    manifest = _parse_manifest(members[MANIFEST])
    if manifest.election_id != index["election_id"]:
        raise PackageError(INDEX, f"election id {index['election_id']!r} differs from the manifest's")
    warnings = tuple(manifest.validate())
    _check_candidate_media(manifest, members)
    audio_problem = check_clips(manifest, members)
    if audio_problem is not None:
        raise PackageError(*audio_problem)

    context = None
    if ELECTION_CONTEXT in members:
        context = _parse_json(ELECTION_CONTEXT, members[ELECTION_CONTEXT])
        if not isinstance(context, dict):
            raise PackageError(ELECTION_CONTEXT, "expected a JSON object")
    envelope_key = members.get(CENTRAL_ENVELOPE_KEY)
    if envelope_key is not None and len(envelope_key) != 32:
        raise PackageError(CENTRAL_ENVELOPE_KEY, "expected a raw 32-byte X25519 public key")

    return ElectionPackage(
        manifest=manifest,
        package_hash=sha256_hex(data),
        index=index,
        files=members,
        card_roots=_certificates(members, CARD_ROOTS_DIR, required=True),
        card_intermediates=_certificates(members, CARD_INTERMEDIATES_DIR, required=False),
        kiosk_ca=_certificate(members, KIOSK_CA),
        central_ca=_certificate(members, CENTRAL_CA),
        crls=_crls(members),
        election_context=context,
        central_envelope_key=envelope_key,
        warnings=warnings,
        card_policies=_card_policies(members),
    )


#: what the election record publishes of the package (record part ``package/``, docs/election-record.md): the
#: signed index and its signature, the manifest and election context as packaged, and every trust file
RECORD_MEMBERS = (INDEX, SIGNATURE, MANIFEST, ELECTION_CONTEXT)
TRUST_DIR = "trust/"


def read_commission_key(path: Path) -> Ed25519PublicKey:
    """The election commission's Ed25519 public key (PEM), which signs the package; ``ValueError`` saying why not.
    The kiosk, the voter app, the collector, the guardians and the verifier all read it here."""
    try:
        key = load_pem_public_key(path.read_bytes())
    except OSError as exc:
        raise ValueError(f"the election commission's key {path} cannot be read ({exc.strerror})") from None
    except (ValueError, TypeError):
        raise ValueError(f"the election commission's key {path} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"the election commission's key {path} is not an Ed25519 public key")
    return key


def record_members(data: bytes, *, archive_name: str = "package") -> dict[str, bytes]:
    """The package's members the election record publishes (``RECORD_MEMBERS`` and every ``trust/`` file), byte
    for byte, after checking each against the index's hash. The signature is NOT checked here: whoever holds the
    record checks it with the commission key they trust (the verifier's ``package`` check)."""
    members = read_members(data, archive_name)
    if INDEX not in members or SIGNATURE not in members:
        raise PackageError(INDEX, "missing: the package has no signed index")
    index = _parse_index(members[INDEX])
    chosen = {p: b for p, b in members.items() if p in RECORD_MEMBERS or p.startswith(TRUST_DIR)}
    for path, content in chosen.items():
        if path in (INDEX, SIGNATURE):
            continue
        entry = index["files"].get(path)
        if entry is None or entry["sha256"] != sha256_hex(content) or entry["size"] != len(content):
            raise PackageError(path, "content does not match its signed hash (the file was changed)")
    return dict(sorted(chosen.items()))


def _card_policies(members: Mapping[str, bytes]) -> CardPolicies | None:
    data = members.get(CARD_POLICIES)
    if data is None:
        return None
    value = _parse_json(CARD_POLICIES, data)
    keys = ("staff_ca_policy_oids", "auth_policy_oids")
    if not isinstance(value, dict) or set(value) != set(keys):
        raise PackageError(CARD_POLICIES, f"expected an object with exactly {', '.join(keys)}")
    lists: list[tuple[str, ...]] = []
    for key in keys:
        oids = value[key]
        if not isinstance(oids, list) or not all(
            isinstance(o, str) and re.fullmatch(r"[0-2](\.(0|[1-9][0-9]*))+", o) for o in oids
        ):
            raise PackageError(CARD_POLICIES, f"{key}: expected a list of dotted OIDs")
        lists.append(tuple(oids))
    return CardPolicies(lists[0], lists[1])


def _parse_json(path: str, data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PackageError(path, f"not valid UTF-8 JSON ({exc})") from None


def _parse_index(data: bytes) -> dict[str, Any]:
    index = _parse_json(INDEX, data)
    if not isinstance(index, dict):
        raise PackageError(INDEX, "expected a JSON object")
    if index.get("format") != PACKAGE_FORMAT:
        raise PackageError(INDEX, f"not an election package (format {index.get('format')!r})")
    if index.get("format_version") != PACKAGE_FORMAT_VERSION:
        raise PackageError(
            INDEX,
            f"format version {index.get('format_version')!r} is not supported (expected {PACKAGE_FORMAT_VERSION})",
        )
    files = index.get("files")
    if not isinstance(files, dict) or not isinstance(index.get("manifest_sha256"), str):
        raise PackageError(INDEX, "malformed: 'files' and 'manifest_sha256' are required")
    for path, entry in files.items():
        check_member_name(path)
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("sha256"), str)
            or not isinstance(entry.get("size"), int)
        ):
            raise PackageError(INDEX, f"malformed entry for {path!r}")
    return index


def _parse_manifest(data: bytes) -> Manifest:
    try:
        return Manifest.from_dict(_parse_json(MANIFEST, data))
    except ManifestError as exc:
        raise PackageError(MANIFEST, str(exc)) from None


def _check_candidate_media(manifest: Manifest, members: Mapping[str, bytes]) -> None:
    for contest in manifest.contests:
        for candidate in contest.candidates:
            photo = members.get(candidate.photo)
            if photo is None:
                raise PackageError(candidate.photo, f"missing: the photo of candidate {candidate.id!r}")
            try:
                with Image.open(io.BytesIO(photo)) as image:
                    image.verify()
            except (UnidentifiedImageError, OSError, SyntaxError) as exc:
                raise PackageError(candidate.photo, f"not a valid image ({exc})") from None
            for clip in (candidate.audio.ar, candidate.audio.en):
                audio = members.get(clip)
                if audio is None:
                    raise PackageError(clip, f"missing: an audio clip of candidate {candidate.id!r}")
                if len(audio) < 64:
                    raise PackageError(clip, f"the audio clip of candidate {candidate.id!r} is empty or truncated")


def _certificate(members: Mapping[str, bytes], path: str) -> x509.Certificate:
    data = members.get(path)
    if data is None:
        raise PackageError(path, "missing: a required trust anchor")
    try:
        return x509.load_pem_x509_certificate(data)
    except (ValueError, x509.InvalidVersion) as exc:  # InvalidVersion is not a ValueError
        raise PackageError(path, f"not a valid PEM certificate ({exc})") from None


def _certificates(members: Mapping[str, bytes], directory: str, *, required: bool) -> tuple[x509.Certificate, ...]:
    paths = sorted(p for p in members if p.startswith(directory) and p.endswith(".pem"))
    if required and not paths:
        raise PackageError(directory, "missing: at least one certificate is required")
    return tuple(_certificate(members, p) for p in paths)


def _crls(members: Mapping[str, bytes]) -> tuple[x509.CertificateRevocationList, ...]:
    crls = []
    for path in sorted(p for p in members if p.startswith(CRL_DIR)):
        try:
            crls.append(x509.load_der_x509_crl(members[path]))
        except (ValueError, x509.InvalidVersion) as exc:  # InvalidVersion is not a ValueError
            raise PackageError(path, f"not a valid DER revocation list ({exc})") from None
    return tuple(crls)
