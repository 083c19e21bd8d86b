"""``python -m remote.verify``: check a ballot on a second device, from the QR code the voter app or kiosk showed.

    python -m remote.verify --package election.zip --commission-key commission.pub \\
        (--code 'sanduq-verify:1:...' | --image photo.png | -) [--record DIR] [--language ar|en]

The election package is verified with the commission's key (as a kiosk does). A ``remote`` code's ballot is
fetched from the collector over TLS pinned to the package's ``trust/collector.pem`` (a code naming another
server gets no answer it can trust: the TLS handshake fails), within the collector's window (30 minutes,
3 fetches); a ``kiosk`` code's ballot is read from the published election record (``--record``). The ballot's
proofs are checked and it is opened with the code's seed; the choices it holds are printed.

Exit status: 0 the ballot opened (its choices are printed: compare them with what you chose); 1 CHECK FAILED
(the ballot does not open to a valid vote with this code: report it); 2 the check could not be made (bad code,
window over, fetch limit reached, unknown ballot, network): the message says which.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TextIO

from cryptography import x509

from election.context import ElectionContext
from election.manifest import Language
from election.package import ElectionPackage
from remote import client as c
from remote.check import CannotCheck, CheckFailed, challenged_from_record, describe, open_ballot, open_challenged_file
from remote.package import PackageRefused, load_verified_package
from remote.payload import CheckPayload, PayloadError, parse_payload, payload_from_image

COLLECTOR_CERT: Final = "trust/collector.pem"
PASSED, FAILED, NOT_CHECKED = 0, 1, 2


_REFUSALS: Final = {
    "expired": "this ballot can no longer be fetched: a check is allowed within 30 minutes of submitting it, "
    "at most 3 times. If you did not make those checks yourself, vote again (only your last ballot counts) "
    "or vote at a polling centre (it replaces your remote vote).",
    "not_found": "the collector holds no ballot with this id. If your voter app showed you this code after "
    "submitting, your ballot did not arrive: vote again, and report it to the election commission.",
    "rate_limited": "the collector is asking for fewer requests: wait a minute and try again.",
}


@dataclass(frozen=True)
class CheckResult:
    lines: tuple[str, ...]
    received_at: str | None
    fetches_left: int | None


def collector_certificate(package: ElectionPackage) -> x509.Certificate:
    data = package.files.get(COLLECTOR_CERT)
    if data is None:
        raise CannotCheck(f"the election package has no {COLLECTOR_CERT}: this election has no remote voting")
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError:
        raise CannotCheck(f"the election package's {COLLECTOR_CERT} is not a certificate") from None


def collector_id_of(package: ElectionPackage) -> str:
    remote = getattr(package.manifest, "remote_voting", None)
    ids = getattr(remote, "collector_ids", ())
    if not ids:
        raise CannotCheck("the election package's manifest names no vote collector")
    return str(ids[0])


def check(
    package: ElectionPackage, payload: CheckPayload, *, record: Path | None, language: Language = Language.ENGLISH
) -> CheckResult:
    """Fetch and open the ballot the payload names; raises CannotCheck or CheckFailed."""
    if package.election_context is None:
        raise CannotCheck("the election package has no election key (a package from before the key ceremony)")
    context = ElectionContext.from_dict(dict(package.election_context))
    received_at: str | None = None
    fetches_left: int | None = None
    if payload.from_kiosk:
        if record is None:
            raise CannotCheck("a kiosk's challenged ballot is checked in the published election record: give --record")
        ballot = challenged_from_record(record, payload)
    else:
        client = c.CollectorClient(
            payload.source,
            collector_certificate(package),
            collector_id=collector_id_of(package),
            election_id=str(package.manifest.election_id),
        )
        try:
            fetched = client.fetch_ballot(payload.ballot_id)
        except c.Refused as exc:
            reason = _REFUSALS.get(exc.error.error, f"the collector refused: {exc.error.error} ({exc.error.detail})")
            raise CannotCheck(reason) from None
        except c.Unreachable as exc:
            raise CannotCheck(
                f"the collector could not be reached or gave an answer that cannot be trusted ({exc}); try again later"
            ) from None
        finally:
            client.close()
        ballot = fetched.ballot
        received_at, fetches_left = fetched.received_at.isoformat(), fetched.fetches_left
    opened = open_ballot(context, package.manifest, payload, ballot)
    return CheckResult(tuple(describe(package.manifest, opened, language)), received_at, fetches_left)


def _read_payload(args: argparse.Namespace, stdin: TextIO) -> CheckPayload:
    if args.image is not None:
        return payload_from_image(args.image)
    text = args.code if args.code is not None else stdin.read(4096)
    return parse_payload(text)


def main(argv: list[str] | None = None, *, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(prog="python -m remote.verify", description=__doc__.split("\n\n")[0])
    parser.add_argument("--package", type=Path, required=True, help="the signed election package (.zip)")
    parser.add_argument("--commission-key", type=Path, required=True, help="the election commission's public key")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--code", help="the check code's text (as pasted); without --code or --image: stdin")
    source.add_argument("--image", type=Path, help="a photo or screenshot of the QR code")
    source.add_argument("--challenged", type=Path, help="a ballot the voter app challenged and saved (its file)")
    parser.add_argument("--record", type=Path, help="the published election record (for a kiosk's code)")
    parser.add_argument("--language", choices=["ar", "en"], default="en")
    args = parser.parse_args(argv)
    language = Language(args.language)
    if args.challenged is not None:
        return _check_challenged(args, language, out)
    try:
        payload = _read_payload(args, stdin)
        package = load_verified_package(args.package, args.commission_key)
        result = check(package, payload, record=args.record, language=language)
    except (PayloadError, PackageRefused, CannotCheck) as exc:
        print(f"NOT CHECKED: {exc}", file=out)
        return NOT_CHECKED
    except CheckFailed as exc:
        print(str(exc), file=out)
        return FAILED
    where = "the published election record" if payload.from_kiosk else "the vote collector"
    print(f"Ballot {payload.ballot_id}, as held by {where}, opens to:", file=out)
    for line in result.lines:
        print(line, file=out)
    if result.received_at is not None:
        print(f"Received by the collector at {result.received_at}; fetches left: {result.fetches_left}", file=out)
    if payload.from_kiosk:
        print("This ballot was challenged: it is cancelled and never counted.", file=out)
    print(
        "Compare these choices with the ones you made. If they differ, report it to the election commission.", file=out
    )
    return PASSED


def _check_challenged(args: argparse.Namespace, language: Language, out: TextIO) -> int:
    try:
        package = load_verified_package(args.package, args.commission_key)
        if package.election_context is None:
            raise CannotCheck("the election package has no election key (a package from before the key ceremony)")
        context = ElectionContext.from_dict(dict(package.election_context))
        opened = open_challenged_file(context, package.manifest, args.challenged)
    except (PackageRefused, CannotCheck) as exc:
        print(f"NOT CHECKED: {exc}", file=out)
        return NOT_CHECKED
    except CheckFailed as exc:
        print(str(exc), file=out)
        return FAILED
    print(f"Challenged ballot with code {opened.code} opens to:", file=out)
    for line in describe(package.manifest, opened, language):
        print(line, file=out)
    print(
        f"The code must be {opened.code}, the one the voter app showed before you chose to check the ballot; "
        "the choices must be yours. If either differs, do not vote with that app and report it.",
        file=out,
    )
    return PASSED


if __name__ == "__main__":
    raise SystemExit(main())
