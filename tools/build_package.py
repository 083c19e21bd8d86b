"""Build and sign an election package from a definition directory.

    python -m tools.build_package <definition dir> --out <package file> --trust DIR --commission-key PEM \
        [--commission-key-passphrase-file FILE] [--election-context FILE] [--central-envelope-key FILE] \
        [--collector-cert PEM]

The definition directory holds manifest.json, the photos it references and, optionally, recorded audio
clips. Clips the election office did not record are synthesised with espeak-ng in Arabic and English
(cached, so a rebuild re-synthesises nothing). Trust anchors and revocation lists come from the commission's
trust directory (``--trust``, layout in tools/trust_material.py and docs/election-package.md); the package is
signed with the commission's Ed25519 key (``--commission-key``, a PEM file; if it is encrypted, the passphrase
comes from ``--commission-key-passphrase-file``, else $SANDUQ_COMMISSION_KEY_PASSPHRASE, else a prompt). In
development the test PKI writes both (``out/test-pki/trust`` and ``out/test-pki/commission/commission-key.TEST.pem``).
An election with remote voting (``remote_voting`` in the manifest) needs the vote collector's TLS certificate
(PEM): ``collector.pem`` in the trust directory or ``--collector-cert``, packaged as ``trust/collector.pem`` and
signed in the index as every file; the voter app pins it (docs/remote-voting.md, section 11). The package is
loaded back and verified before the command reports success.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import os
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from election.audio_clips import CLIP_INDEX
from election.manifest import Candidate, Language, Manifest, ManifestError
from election.package import (
    CENTRAL_ENVELOPE_KEY,
    COLLECTOR_CERT,
    ELECTION_CONTEXT,
    MANIFEST,
    ElectionPackage,
    PackageError,
    load_package,
    write_package,
)
from tools.audio_catalogue import catalogue_jobs, clip_index
from tools.console import Progress, table
from tools.trust_material import (
    COLLECTOR_FILE,
    PASSPHRASE_ENV,
    TrustError,
    TrustMaterial,
    load_trust,
    read_collector_certificate,
    read_signing_key,
)

DEFAULT_AUDIO_CACHE = Path("out/audio-cache")


class BuildError(Exception):
    """The definition cannot be packaged; the message says which file and why."""


@dataclass(frozen=True)
class BuildResult:
    package_path: Path
    package: ElectionPackage
    clips_recorded: int
    clips_synthesised: int
    commission_key_sha256: str  # of the public key (SubjectPublicKeyInfo, DER): the key the devices must hold


def candidate_announcement(candidate: Candidate, language: Language) -> str:
    """What the audio ballot says for a candidate: the ballot number, then the name."""
    if language is Language.ARABIC:
        return f"رقم {candidate.ballot_number}. {candidate.name.ar}"
    return f"Number {candidate.ballot_number}. {candidate.name.en}"


def build(
    definition: Path,
    out: Path,
    trust: TrustMaterial,
    signing_key: Ed25519PrivateKey,
    *,
    audio_cache: Path = DEFAULT_AUDIO_CACHE,
    election_context: Path | None = None,
    central_envelope_key: Path | None = None,
    collector_cert: Path | None = None,
    created: dt.datetime | None = None,
    quiet: bool = False,
) -> BuildResult:
    """Package ``definition`` with ``trust`` (tools.trust_material), sign it with the commission's ``signing_key``,
    load it back as a kiosk would and write it to ``out``; :class:`BuildError` (nothing written) otherwise."""
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
    if collector_cert is not None or trust.collector is not None or manifest.remote_voting is not None:
        files[COLLECTOR_CERT] = _collector_certificate(manifest, collector_cert, trust)
    # Every input file is read before the audio is synthesised: a missing one stops the build in seconds, not minutes.
    if election_context is not None:
        files[ELECTION_CONTEXT] = _read_file(election_context, "the election context, --election-context")
    if central_envelope_key is not None:
        files[CENTRAL_ENVELOPE_KEY] = _read_file(
            central_envelope_key, "the office's envelope key, --central-envelope-key"
        )
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

    files.update(trust.package_files())

    created_at = (created or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    archive = write_package(files, signing_key, created=created_at)
    # Refuse to hand out a package that our own loader would refuse.
    try:
        package = load_package(archive, signing_key.public_key(), archive_name=str(out))
    except PackageError as exc:
        raise BuildError(f"the built package does not verify: {exc}") from None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(archive)
    public = signing_key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return BuildResult(out, package, recorded, len(to_synthesise), hashlib.sha256(public).hexdigest())


def _collector_certificate(manifest: Manifest, path: Path | None, trust: TrustMaterial) -> bytes:
    """``trust/collector.pem``: the collector's TLS certificate, for an election with remote voting only."""
    in_trust = trust.directory / COLLECTOR_FILE
    if path is not None and trust.collector is not None:
        raise BuildError(f"--collector-cert given, and {in_trust} too: give the vote collector's certificate once")
    if manifest.remote_voting is None:
        given = "--collector-cert given" if path is not None else f"{in_trust} is there"
        raise BuildError(f"{given}, but the manifest has no remote_voting (no vote collector to pin)")
    if path is not None:
        try:
            certificate = read_collector_certificate(path)
        except TrustError as exc:
            raise BuildError(str(exc)) from None
    elif trust.collector is not None:
        certificate = trust.collector
    else:
        raise BuildError(
            "the manifest has remote_voting: give the vote collector's TLS certificate with --collector-cert PEM "
            f"or as {in_trust} (packaged as {COLLECTOR_CERT}; the voter app trusts no other)"
        )
    return certificate.public_bytes(Encoding.PEM)


def _read(definition: Path, relative: str, what: str) -> bytes:
    return _read_file(definition / relative, what)


def _read_file(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise BuildError(f"{path}: missing ({what})") from None
    except OSError as exc:
        raise BuildError(f"{path}: cannot be read ({exc.strerror}; {what})") from None


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
        ("signed by (commission public key SHA-256)", result.commission_key_sha256),
    ]
    lines = [f"{m.name.en}", f"{m.name.ar}", f"election id {m.election_id}, {m.date.isoformat()}", ""]
    lines.append(table(["Election package", "value"], rows, align_right=[False, False]))
    lines += [f"warning: {w}" for w in result.package.warnings]
    return "\n".join(lines)


def _passphrase(file: Path | None) -> Callable[[], bytes]:
    """The signing key's passphrase, asked for only if the key is encrypted: the first line of ``file``, else
    $SANDUQ_COMMISSION_KEY_PASSPHRASE, else a prompt on the terminal (as the guardians' vault passphrase)."""

    def ask() -> bytes:
        if file is not None:
            try:
                lines = file.read_bytes().splitlines()
            except OSError as exc:
                raise TrustError(f"{file}: cannot be read ({exc.strerror}; the signing key's passphrase)") from None
            return lines[0] if lines else b""
        value = os.environ.get(PASSPHRASE_ENV)
        if value is None:
            if not sys.stdin.isatty():
                raise TrustError(
                    "the commission's signing key is encrypted: give its passphrase with "
                    f"--commission-key-passphrase-file or ${PASSPHRASE_ENV} (no terminal to ask on)"
                )
            import getpass

            value = getpass.getpass("passphrase of the commission's signing key: ")
        return value.encode()

    return ask


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.build_package", description=__doc__.split("\n")[0])
    parser.add_argument("definition", type=Path, help="definition directory (manifest.json, photos/, audio/)")
    parser.add_argument("--out", type=Path, required=True, help="package file to write")
    parser.add_argument(
        "--trust", type=Path, required=True, metavar="DIR",
        help="the commission's trust directory: card-roots/, card-intermediates/, kiosk-ca.pem, central-ca.pem, "
        "crl/, optional card-policies.json and collector.pem (docs/election-package.md)",
    )  # fmt: skip
    parser.add_argument(
        "--commission-key", type=Path, required=True, metavar="PEM",
        help="the election commission's Ed25519 signing key (PEM private key, optionally encrypted)",
    )  # fmt: skip
    parser.add_argument(
        "--commission-key-passphrase-file", type=Path, metavar="FILE",
        help=f"a file whose first line is the signing key's passphrase (else ${PASSPHRASE_ENV}, else a prompt)",
    )  # fmt: skip
    parser.add_argument("--audio-cache", type=Path, default=DEFAULT_AUDIO_CACHE)
    parser.add_argument("--election-context", type=Path, help="election public key and base hash (JSON)")
    parser.add_argument("--central-envelope-key", type=Path, help="central office X25519 public key (32 bytes)")
    parser.add_argument(
        "--collector-cert", type=Path,
        help=f"the vote collector's TLS certificate (PEM), packaged as {COLLECTOR_CERT}: needed with remote_voting "
        f"(unless the trust directory holds {COLLECTOR_FILE})",
    )  # fmt: skip
    args = parser.parse_args(argv)
    try:
        trust = load_trust(args.trust)
        signing_key = read_signing_key(args.commission_key, _passphrase(args.commission_key_passphrase_file))
    except TrustError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        result = build(
            args.definition,
            args.out,
            trust,
            signing_key,
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
