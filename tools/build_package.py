"""Build and sign an election package from a definition directory.

    python -m tools.build_package <definition dir> --out <package file> --pki out/test-pki \
        [--election-context FILE] [--central-envelope-key FILE] [--collector-cert PEM]

The definition directory holds manifest.json, the photos it references and, optionally, recorded audio
clips. Clips the election office did not record are synthesised with espeak-ng in Arabic and English
(cached, so a rebuild re-synthesises nothing). Trust anchors, revocation lists and the commission's
signing key come from a PKI directory (the test PKI in development). An election with remote voting
(``remote_voting`` in the manifest) needs ``--collector-cert``: the vote collector's TLS certificate (PEM), packaged
as ``trust/collector.pem`` and signed in the index as every file; the voter app pins it (docs/remote-voting.md,
section 11). The package is loaded back and verified before the command reports success.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from devtools.test_pki import TestPki, load
from election.audio_clips import CLIP_INDEX
from election.manifest import Candidate, Language, Manifest, ManifestError
from election.package import (
    CARD_INTERMEDIATES_DIR,
    CARD_POLICIES,
    CARD_ROOTS_DIR,
    CENTRAL_CA,
    CENTRAL_ENVELOPE_KEY,
    COLLECTOR_CERT,
    CRL_DIR,
    ELECTION_CONTEXT,
    KIOSK_CA,
    MANIFEST,
    ElectionPackage,
    PackageError,
    load_package,
    write_package,
)
from sync.staff_roles import STAFF_CA_POLICY_OID, TEST_EID_AUTH_POLICY_OID
from tools.audio_catalogue import catalogue_jobs, clip_index
from tools.console import Progress, table

DEFAULT_AUDIO_CACHE = Path("out/audio-cache")


class BuildError(Exception):
    """The definition cannot be packaged; the message says which file and why."""


@dataclass(frozen=True)
class BuildResult:
    package_path: Path
    package: ElectionPackage
    clips_recorded: int
    clips_synthesised: int


def candidate_announcement(candidate: Candidate, language: Language) -> str:
    """What the audio ballot says for a candidate: the ballot number, then the name."""
    if language is Language.ARABIC:
        return f"رقم {candidate.ballot_number}. {candidate.name.ar}"
    return f"Number {candidate.ballot_number}. {candidate.name.en}"


def build(
    definition: Path,
    out: Path,
    pki: TestPki,
    *,
    audio_cache: Path = DEFAULT_AUDIO_CACHE,
    election_context: Path | None = None,
    central_envelope_key: Path | None = None,
    collector_cert: Path | None = None,
    created: dt.datetime | None = None,
    quiet: bool = False,
) -> BuildResult:
    manifest_path = definition / MANIFEST
    try:
        manifest_bytes = manifest_path.read_bytes()
        manifest = Manifest.from_dict(json.loads(manifest_bytes))
    except FileNotFoundError:
        raise BuildError(f"{manifest_path}: not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BuildError(f"{manifest_path}: not valid JSON ({exc})") from None
    except ManifestError as exc:
        raise BuildError(f"{manifest_path}: {exc}") from None

    files: dict[str, bytes] = {MANIFEST: manifest_bytes}
    if collector_cert is not None or manifest.remote_voting is not None:
        files[COLLECTOR_CERT] = _collector_certificate(manifest, collector_cert)
    for contest in manifest.contests:
        for candidate in contest.candidates:
            files[candidate.photo] = _read(definition, candidate.photo, f"the photo of candidate {candidate.id!r}")

    recorded, to_synthesise = _audio_jobs(manifest, definition, files)
    # The rest of the audio ballot: every string, number, code letter, contest and wilayat name.
    clips = clip_index(manifest)
    files[CLIP_INDEX] = clips.to_json()
    more_recorded, more_jobs = catalogue_jobs(clips, definition, files)
    recorded, to_synthesise = recorded + more_recorded, to_synthesise + more_jobs
    if to_synthesise:
        _synthesise_all(to_synthesise, files, audio_cache, quiet=quiet)

    files.update(_trust_files(pki))
    if election_context is not None:
        files[ELECTION_CONTEXT] = election_context.read_bytes()
    if central_envelope_key is not None:
        files[CENTRAL_ENVELOPE_KEY] = central_envelope_key.read_bytes()

    created_at = (created or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    archive = write_package(files, pki.commission_private_key(), created=created_at)
    # Refuse to hand out a package that our own loader would refuse.
    try:
        package = load_package(archive, pki.commission_public_key(), archive_name=str(out))
    except PackageError as exc:
        raise BuildError(f"the built package does not verify: {exc}") from None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(archive)
    return BuildResult(out, package, recorded, len(to_synthesise))


def _collector_certificate(manifest: Manifest, path: Path | None) -> bytes:
    """``trust/collector.pem``: the collector's TLS certificate, for an election with remote voting only."""
    if manifest.remote_voting is None:
        raise BuildError("--collector-cert given, but the manifest has no remote_voting (no vote collector to pin)")
    if path is None:
        raise BuildError(
            "the manifest has remote_voting: give the vote collector's TLS certificate with --collector-cert PEM "
            f"(packaged as {COLLECTOR_CERT}; the voter app trusts no other)"
        )
    try:
        data = path.read_bytes()
        certificate = x509.load_pem_x509_certificate(data)
    except OSError as exc:
        raise BuildError(f"{path}: cannot be read ({exc.strerror})") from None
    except ValueError:
        raise BuildError(f"{path}: not a PEM certificate (the collector's TLS certificate)") from None
    try:
        certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        raise BuildError(f"{path}: the certificate names no host (no subjectAltName) for the voter app") from None
    return certificate.public_bytes(Encoding.PEM)


def _read(definition: Path, relative: str, what: str) -> bytes:
    path = definition / relative
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise BuildError(f"{path}: missing ({what})") from None


_SynthJob = tuple[str, Language, str]  # (text, language, package path)


def _audio_jobs(manifest: Manifest, definition: Path, files: dict[str, bytes]) -> tuple[int, list[_SynthJob]]:
    recorded = 0
    jobs: list[_SynthJob] = []
    for contest in manifest.contests:
        for candidate in contest.candidates:
            for language in Language:
                clip = candidate.audio.in_language(language)
                source = definition / clip
                if source.is_file():
                    files[clip] = source.read_bytes()
                    recorded += 1
                else:
                    jobs.append((candidate_announcement(candidate, language), language, clip))
    return recorded, jobs


def _synthesise_all(jobs: list[_SynthJob], files: dict[str, bytes], cache: Path, *, quiet: bool) -> None:
    from tools.speech import SpeechError, synthesise

    work = cache / "clips"
    work.mkdir(parents=True, exist_ok=True)

    def one(job: _SynthJob) -> tuple[str, bytes]:
        text, language, clip = job
        target = work / clip.replace("/", "_")
        synthesise(text, language.value, target, cache_dir=cache)
        return clip, target.read_bytes()

    progress: Callable[[], None]
    with Progress("Synthesising audio clips", len(jobs), stream=io.StringIO() if quiet else None) as bar:
        progress = bar.advance
        try:
            with ThreadPoolExecutor(max_workers=2) as pool:
                for clip, data in pool.map(one, jobs):
                    files[clip] = data
                    progress()
        except SpeechError as exc:
            raise BuildError(f"speech synthesis failed: {exc}") from None


def _trust_files(pki: TestPki) -> dict[str, bytes]:
    files = {f"{CARD_ROOTS_DIR}national-root.pem": pki.national_root.cert_path.read_bytes()}
    for name, pair in (("card-ca", pki.card_ca), ("staff-ca", pki.staff_ca)):
        files[f"{CARD_INTERMEDIATES_DIR}{name}.pem"] = pair.cert_path.read_bytes()
    files[KIOSK_CA] = pki.kiosk_ca.cert().public_bytes(Encoding.PEM)
    files[CENTRAL_CA] = pki.central_ca.cert().public_bytes(Encoding.PEM)
    files[f"{CRL_DIR}card-ca.crl"] = pki.card_crl_path.read_bytes()
    files[f"{CRL_DIR}staff-ca.crl"] = pki.staff_crl_path.read_bytes()
    # The national root's CRL covers the issuing CAs: the kiosk checks revocation at every level (issue 16).
    files[f"{CRL_DIR}national-root.crl"] = pki.root_crl_path.read_bytes()
    # Staff-card CAs and eID authentication by policy OID (sync/staff_roles.py), never by name text.
    files[CARD_POLICIES] = json.dumps(
        {"staff_ca_policy_oids": [STAFF_CA_POLICY_OID], "auth_policy_oids": [TEST_EID_AUTH_POLICY_OID]}, indent=1
    ).encode()
    return files


def summary(result: BuildResult) -> str:
    m = result.package.manifest
    candidates = [k for c in m.contests for k in c.candidates]
    withdrawn = sum(1 for k in candidates if k.withdrawn)
    rows: list[tuple[str, object]] = [
        ("governorates", len(m.governorates)),
        ("wilayats", len(m.wilayats)),
        ("contests", len(m.contests)),
        ("seats", sum(c.seats for c in m.contests)),
        (
            "two-seat / one-seat contests",
            f"{sum(c.seats == 2 for c in m.contests)} / {sum(c.seats == 1 for c in m.contests)}",
        ),
        ("candidates (withdrawn)", f"{len(candidates)} ({withdrawn})"),
        ("polling centres (unified)", f"{len(m.centres)} ({sum(c.unified for c in m.centres)})"),
        ("kiosks", len(m.kiosks)),
        ("ballot styles", len(m.ballot_styles)),
        ("photos", len({k.photo for k in candidates})),
        (
            "audio clips (recorded / synthesised)",
            f"{result.package.audio_clip_count} ({result.clips_recorded} / {result.clips_synthesised})",
        ),
        ("card trust anchors / CRLs", f"{len(result.package.card_roots)} / {len(result.package.crls)}"),
        ("package size", f"{result.package_path.stat().st_size / 1e6:.1f} MB"),
        ("manifest hash", m.manifest_hash),
        ("package hash (SHA-256)", result.package.package_hash),
    ]
    lines = [f"{m.name.en}", f"{m.name.ar}", f"election id {m.election_id}, {m.date.isoformat()}", ""]
    lines.append(table(["Election package", "value"], rows, align_right=[False, False]))
    lines += [f"warning: {w}" for w in result.package.warnings]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.build_package", description=__doc__.split("\n")[0])
    parser.add_argument("definition", type=Path, help="definition directory (manifest.json, photos/, audio/)")
    parser.add_argument("--out", type=Path, required=True, help="package file to write")
    parser.add_argument("--pki", type=Path, default=Path("out/test-pki"), help="PKI directory (devtools.test_pki)")
    parser.add_argument("--audio-cache", type=Path, default=DEFAULT_AUDIO_CACHE)
    parser.add_argument("--election-context", type=Path, help="election public key and base hash (JSON)")
    parser.add_argument("--central-envelope-key", type=Path, help="central office X25519 public key (32 bytes)")
    parser.add_argument(
        "--collector-cert", type=Path,
        help=f"the vote collector's TLS certificate (PEM), packaged as {COLLECTOR_CERT}: needed with remote_voting",
    )  # fmt: skip
    args = parser.parse_args(argv)
    try:
        pki = load(args.pki)
    except (OSError, ValueError, KeyError) as exc:
        print(f"error: cannot read the PKI in {args.pki}: {exc}", file=sys.stderr)
        return 2
    try:
        result = build(
            args.definition,
            args.out,
            pki,
            audio_cache=args.audio_cache,
            election_context=args.election_context,
            central_envelope_key=args.central_envelope_key,
            collector_cert=args.collector_cert,
        )
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(summary(result))
    print(f"wrote {result.package_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
