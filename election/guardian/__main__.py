"""python -m election.guardian: the key ceremony and tally decryption, one step per subcommand.

Ceremony directory (shared between guardians, e.g. on a USB stick or a file share)::

    ceremony.json                    manifest hash, n, k (written by `init`)
    guardians/guardian-<i>.json      public record of guardian i (`commit`)
    shares/<i>-to-<l>.json           share P_i(l), encrypted to guardian l (`share`)
    complaints/<l>-against-<i>.json  a share that failed verification (`verify-shares`)
    revealed/<i>-to-<l>.json         a share revealed in the clear to answer a complaint (`answer-complaint`)
    context.json                     the election context with the joint key (`publish-key`)

Decryption (``decrypt-share``, ``compensate``) takes the pre-decryption election record the office serves at
``GET /api/guardian/record`` (a tar archive, or its unpacked directory) and makes a share only if the record passes
the guardian's checklist (election/guardian/checklist.py; docs/crypto.md, "The guardian's checklist"): the
ceremony's own context and guardians, every cast ballot's proofs, the kiosk chains, and an encrypted tally with
exactly the manifest's contests and selections that equals the sum the guardian recomputes from the ballots.
Otherwise it refuses, says why, and writes nothing.

Each guardian's secrets live in their own vault file (``--vault``, default private/guardian-<i>.vault in the
ceremony directory), encrypted under their passphrase (``--passphrase-file`` or $SANDUQ_GUARDIAN_PASSPHRASE).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import nacl.public

from election.canonical import canonical_json
from election.context import ElectionContext, parameter_base_hash
from election.decryption import compute_share
from election.group import Scalar
from election.guardian.checklist import RecordRefused, check_record, unpack
from election.guardian.vault import SCRYPT_N, VaultError, open_vault, seal
from election.keyceremony import (
    Complaint,
    EncryptedShare,
    GuardianRecord,
    KeyCeremonyError,
    Polynomial,
    build_context,
    decrypt_share,
    encrypt_share,
    make_guardian_record,
    share_is_valid,
    verify_revealed_share,
)
from election.manifest import Manifest
from election.package import read_commission_key
from election.tally import EncryptedTally

PASSPHRASE_ENV = "SANDUQ_GUARDIAN_PASSPHRASE"  # noqa: S105 - the name of a variable, not a secret


class CliError(Exception):
    pass


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CliError(f"missing file {path}") from None
    except json.JSONDecodeError as exc:
        raise CliError(f"{path}: not JSON ({exc})") from None


def _write(path: Path, value: Any, *, private: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if private:
        path.parent.chmod(0o700)
    path.write_bytes(canonical_json(value) + b"\n")
    if private:
        path.chmod(0o600)


def _passphrase(args: argparse.Namespace) -> bytes:
    if args.passphrase_file:
        return Path(args.passphrase_file).read_bytes().rstrip(b"\r\n")
    value = os.environ.get(PASSPHRASE_ENV)
    if value is None:
        import getpass

        value = getpass.getpass("guardian passphrase: ")
    return value.encode()


def _vault_path(args: argparse.Namespace) -> Path:
    return Path(args.vault) if args.vault else args.ceremony / "private" / f"guardian-{args.sequence}.vault"


def _load_secrets(args: argparse.Namespace) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(open_vault(_read(_vault_path(args)), _passphrase(args)))
    except VaultError as exc:
        raise CliError(str(exc)) from None
    return data


def _save_secrets(args: argparse.Namespace, secrets: dict[str, Any]) -> None:
    vault = seal(
        canonical_json(secrets),
        _passphrase(args),
        sequence=args.sequence,
        salt=os.urandom(16),
        nonce=os.urandom(12),
        n=args.scrypt_n,
    )
    _write(_vault_path(args), vault, private=True)


def _ceremony(args: argparse.Namespace) -> tuple[str, int, int]:
    c = _read(args.ceremony / "ceremony.json")
    return str(c["manifest_hash"]), int(c["number_of_guardians"]), int(c["quorum"])


def _records(args: argparse.Namespace, n: int) -> list[GuardianRecord]:
    return [
        GuardianRecord.from_dict(_read(args.ceremony / "guardians" / f"guardian-{i}.json")) for i in range(1, n + 1)
    ]


# ---- subcommands --------------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> str:
    manifest = Manifest.from_dict(_read(Path(args.manifest)))
    parameter_base_hash(manifest.manifest_hash, args.guardians, args.quorum)  # validates n, k
    _write(
        args.ceremony / "ceremony.json",
        {"manifest_hash": manifest.manifest_hash, "number_of_guardians": args.guardians, "quorum": args.quorum},
    )
    return f"ceremony for {args.quorum} of {args.guardians} guardians, manifest {manifest.manifest_hash[:16]}..."


def cmd_commit(args: argparse.Namespace) -> str:
    manifest_hash, n, k = _ceremony(args)
    if not 1 <= args.sequence <= n:
        raise CliError(f"sequence must be 1..{n}")
    if _vault_path(args).exists():
        raise CliError(f"{_vault_path(args)} exists: this guardian has already committed")
    polynomial = Polynomial.random(k, os.urandom)
    box_key = os.urandom(32)
    record = make_guardian_record(
        args.sequence,
        args.name,
        polynomial,
        bytes(nacl.public.PrivateKey(box_key).public_key),
        base_hash=parameter_base_hash(manifest_hash, n, k),
        seed=os.urandom(32),
    )
    _save_secrets(
        args,
        {"coefficients": [a.hex() for a in polynomial.coefficients], "box_key": box_key.hex(), "received": {}},
    )
    _write(args.ceremony / "guardians" / f"guardian-{args.sequence}.json", record.to_dict())
    return f"guardian {args.sequence} committed; public record written, secrets sealed in {_vault_path(args)}"


def cmd_share(args: argparse.Namespace) -> str:
    manifest_hash, n, k = _ceremony(args)
    records = _records(args, n)
    base = parameter_base_hash(manifest_hash, n, k)
    for r in records:
        r.verify(base, k)
    secrets = _load_secrets(args)
    polynomial = Polynomial(tuple(Scalar.parse_hex(a) for a in secrets["coefficients"]))
    box_key = bytes.fromhex(secrets["box_key"])
    for r in records:
        share = encrypt_share(
            polynomial.evaluate(r.sequence),
            sender=args.sequence,
            recipient=r.sequence,
            sender_box_key=box_key,
            recipient_box_public=r.box_public_key,
            nonce=os.urandom(24),
        )
        _write(args.ceremony / "shares" / f"{args.sequence}-to-{r.sequence}.json", share.to_dict())
    return f"guardian {args.sequence}: {n} encrypted shares written"


def cmd_verify_shares(args: argparse.Namespace) -> str:
    _manifest_hash, n, _k = _ceremony(args)
    records = _records(args, n)
    secrets = _load_secrets(args)
    box_key = bytes.fromhex(secrets["box_key"])
    received: dict[str, str] = dict(secrets["received"])
    complaints = 0
    for sender in records:
        path = args.ceremony / "shares" / f"{sender.sequence}-to-{args.sequence}.json"
        reason = ""
        try:
            share = EncryptedShare.from_dict(_read(path))
            if (share.sender, share.recipient) != (sender.sequence, args.sequence):
                raise KeyCeremonyError("share is addressed differently")
            value = decrypt_share(share, recipient_box_key=box_key, sender_box_public=sender.box_public_key)
            if share_is_valid(value, args.sequence, sender.commitments):
                received[str(sender.sequence)] = value.hex()
                continue
            reason = "share does not match the sender's commitments"
        except (KeyCeremonyError, CliError) as exc:
            reason = str(exc)
        complaints += 1
        complaint = Complaint(sender.sequence, args.sequence, reason)
        _write(args.ceremony / "complaints" / f"{args.sequence}-against-{sender.sequence}.json", complaint.to_dict())
    secrets["received"] = received
    _save_secrets(args, secrets)
    if complaints:
        raise CliError(f"guardian {args.sequence}: {complaints} complaint(s) filed; see complaints/")
    return f"guardian {args.sequence}: all {n} shares verified against the senders' commitments"


def cmd_answer_complaint(args: argparse.Namespace) -> str:
    """The accused guardian reveals the disputed share in the clear; the complainant takes it if valid."""
    _manifest_hash, n, _k = _ceremony(args)
    secrets = _load_secrets(args)
    polynomial = Polynomial(tuple(Scalar.parse_hex(a) for a in secrets["coefficients"]))
    value = polynomial.evaluate(args.recipient)
    _write(
        args.ceremony / "revealed" / f"{args.sequence}-to-{args.recipient}.json",
        {"sender": args.sequence, "recipient": args.recipient, "value": value.hex()},
    )
    records = _records(args, n)
    verify_revealed_share(value, args.recipient, records[args.sequence - 1])
    (args.ceremony / "complaints" / f"{args.recipient}-against-{args.sequence}.json").unlink(missing_ok=True)
    return f"share {args.sequence}->{args.recipient} revealed; guardian {args.recipient} must run accept-revealed"


def cmd_accept_revealed(args: argparse.Namespace) -> str:
    _manifest_hash, n, _k = _ceremony(args)
    records = _records(args, n)
    data = _read(args.ceremony / "revealed" / f"{args.sender}-to-{args.sequence}.json")
    value = Scalar.parse_hex(data["value"])
    try:
        verify_revealed_share(value, args.sequence, records[args.sender - 1])
    except KeyCeremonyError as exc:
        raise CliError(f"{exc}: guardian {args.sender} must be replaced and the ceremony restarted") from None
    secrets = _load_secrets(args)
    secrets["received"][str(args.sender)] = value.hex()
    _save_secrets(args, secrets)
    return f"guardian {args.sequence}: revealed share from {args.sender} verified and stored"


def cmd_publish_key(args: argparse.Namespace) -> str:
    manifest_hash, n, k = _ceremony(args)
    complaints = (
        sorted((args.ceremony / "complaints").glob("*.json")) if (args.ceremony / "complaints").exists() else []
    )
    if complaints:
        raise CliError(f"{len(complaints)} unresolved complaint(s): {', '.join(p.stem for p in complaints)}")
    context = build_context(manifest_hash, k, _records(args, n))
    _write(args.ceremony / "context.json", context.to_dict())
    return f"joint public key {context.joint_public_key.hex()[:16]}..., H_E {context.base_hash.hex()[:16]}..."


def _checked_tally(args: argparse.Namespace) -> tuple[ElectionContext, EncryptedTally]:
    """The guardian's checklist (election/guardian/checklist.py, docs/crypto.md) on the pre-decryption record:
    only a tally that the guardian recomputed from the published, verified ballots is ever decrypted."""
    context = ElectionContext.from_dict(_read(args.ceremony / "context.json"))
    with tempfile.TemporaryDirectory(prefix="sanduq-guardian-record-") as scratch:
        try:
            record = unpack(Path(args.record), Path(scratch))
            key = None if args.commission_key is None else read_commission_key(args.commission_key)
            checked = check_record(
                args.ceremony, record, jobs=args.jobs, allow_unclosed=tuple(args.allow_unclosed), commission_key=key
            )  # fmt: skip
        except RecordRefused as exc:
            raise CliError(f"refused: {exc}") from None
        except ValueError as exc:  # the commission key file
            raise CliError(str(exc)) from None
    if checked.tally.base_hash != context.base_hash:  # pragma: no cover - the context was compared in full
        raise CliError("refused: the tally belongs to another election")
    print(checked.summary, file=sys.stderr)
    if Path(args.record).is_file():  # guardians compare it: the office served every one of them the same record
        digest = hashlib.sha256(Path(args.record).read_bytes()).hexdigest()
        print(f"record archive SHA-256 {digest} (compare it with the other guardians')", file=sys.stderr)
    return context, checked.tally


def cmd_decrypt_share(args: argparse.Namespace) -> str:
    context, tally = _checked_tally(args)
    secrets = _load_secrets(args)
    secret = Scalar.parse_hex(secrets["coefficients"][0])
    share = compute_share(context, tally, guardian=args.sequence, secret=secret, seed=os.urandom(32))
    out = Path(args.out) / f"guardian-{args.sequence}.json"
    _write(out, share.to_dict())
    return f"decryption share of guardian {args.sequence} written to {out} (the record passed the guardian's checks)"


def cmd_compensate(args: argparse.Namespace) -> str:
    context, tally = _checked_tally(args)
    secrets = _load_secrets(args)
    received = secrets["received"].get(str(args.missing))
    if received is None:
        raise CliError(f"guardian {args.sequence} holds no verified share from guardian {args.missing}")
    share = compute_share(
        context,
        tally,
        guardian=args.sequence,
        secret=Scalar.parse_hex(received),
        seed=os.urandom(32),
        missing=args.missing,
    )
    out = Path(args.out) / f"guardian-{args.missing}-by-{args.sequence}.json"
    _write(out, share.to_dict())
    return f"compensating share for guardian {args.missing} by {args.sequence} written to {out}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m election.guardian", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ceremony", type=Path, required=True, help="the shared ceremony directory")
    sub = parser.add_subparsers(dest="command", required=True)

    def guardian_cmd(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--sequence", type=int, required=True, help="this guardian's number, 1..n")
        p.add_argument("--vault", help="this guardian's vault file")
        p.add_argument("--passphrase-file", help=f"file holding the passphrase (else ${PASSPHRASE_ENV} or a prompt)")
        p.add_argument("--scrypt-n", type=int, default=SCRYPT_N, help=argparse.SUPPRESS)
        return p

    p = sub.add_parser("init", help="start a ceremony: manifest, n guardians, quorum k")
    p.add_argument("--manifest", required=True)
    p.add_argument("--guardians", type=int, required=True)
    p.add_argument("--quorum", type=int, required=True)
    p.set_defaults(func=cmd_init)
    p = guardian_cmd("commit", "draw a polynomial; publish commitments and proofs")
    p.add_argument("--name", required=True)
    p.set_defaults(func=cmd_commit)
    guardian_cmd("share", "encrypt a share of your polynomial to every guardian").set_defaults(func=cmd_share)
    guardian_cmd("verify-shares", "check the shares sent to you; file complaints").set_defaults(func=cmd_verify_shares)
    p = guardian_cmd("answer-complaint", "reveal the disputed share you sent to --recipient")
    p.add_argument("--recipient", type=int, required=True)
    p.set_defaults(func=cmd_answer_complaint)
    p = guardian_cmd("accept-revealed", "take a revealed share from --sender after checking it")
    p.add_argument("--sender", type=int, required=True)
    p.set_defaults(func=cmd_accept_revealed)
    sub.add_parser("publish-key", help="verify all records and write context.json").set_defaults(func=cmd_publish_key)
    for name, func, help_text in (
        ("decrypt-share", cmd_decrypt_share, "your decryption share of a tally, with proofs"),
        ("compensate", cmd_compensate, "a compensating share for a missing guardian (--missing)"),
    ):
        p = guardian_cmd(name, help_text)
        p.add_argument(
            "record",
            help="the pre-decryption election record the office serves (a directory, or the tar archive of "
            "GET /api/guardian/record): checked in full before any share is made",
        )
        p.add_argument("--out", required=True, help="directory for the share file")
        p.add_argument(
            "--jobs", type=int, default=os.cpu_count() or 1, help="processes checking the ballots' proofs"
        )  # fmt: skip
        p.add_argument(
            "--allow-unclosed", action="append", default=[], metavar="KIOSK",
            help="accept this kiosk's chain without a signed close (a kiosk destroyed or stolen)",
        )  # fmt: skip
        p.add_argument(
            "--commission-key", type=Path, metavar="PEM",
            help="the election commission's public key: the kiosks' certificates must chain to the package's CA",
        )  # fmt: skip
        if name == "compensate":
            p.add_argument("--missing", type=int, required=True)
        p.set_defaults(func=func)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        print(args.func(args))
    except (CliError, KeyCeremonyError, VaultError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
