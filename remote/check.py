"""The second device's check of one ballot: open it with the seed of its QR code and say what it holds.

The device trusts neither the voter app, the kiosk nor the collector: it verifies the election package
itself (the commission's signature), fetches the *encrypted* ballot, checks every proof of it against the
package's election context (``election.ballot.verify_ballot``), then re-derives every nonce from the seed and
reads each selection as 0 or 1 (``election.benaloh.verify_challenge``: alpha = xi*G, beta - xi*K in {0, G}).
A ballot that opens is shown as the candidates it encrypts; whatever the app or kiosk showed plays no part.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from election.ballot import BallotFormatError, BallotVerificationError, EncryptedBallot, PlaintextBallot
from election.benaloh import ChallengedBallot, verify_challenge
from election.context import ElectionContext
from election.manifest import Language, Manifest
from election.verify.primitives import Invalid
from election.verify.strict_json import loads
from remote.payload import CheckPayload

MAX_RECORD_BALLOT_BYTES: Final = 4 * 1024 * 1024


class CheckFailed(Exception):
    """CHECK FAILED: the ballot does not open to a valid vote with the code (evidence of a faulty or tampered
    device); the message is for the voter, in words."""


class CannotCheck(Exception):
    """The check could not be made (the message says why and what to do); nothing is claimed either way."""


@dataclass(frozen=True)
class OpenedBallot:
    """What the check found: the ballot's choices as the encryption holds them."""

    ballot_id: str
    choices: PlaintextBallot
    code: str = ""


def open_ballot(
    context: ElectionContext, manifest: Manifest, payload: CheckPayload, ballot: EncryptedBallot
) -> OpenedBallot:
    """Verify ``ballot`` (proofs, election, style) and open it with the payload's seed; raises CheckFailed."""
    if ballot.ballot_id != payload.ballot_id:
        raise CheckFailed("the ballot received is not the one the check code names")
    try:
        plain = verify_challenge(context, manifest, ChallengedBallot(ballot, payload.seed))
    except BallotVerificationError as exc:
        raise CheckFailed(
            f"CHECK FAILED: the ballot does not open to a valid vote with this check code ({exc.reason}). "
            "The device that encrypted it may be faulty or tampered with: report it to the election commission."
        ) from None
    return OpenedBallot(ballot.ballot_id, plain)


def challenged_from_record(record: Path, payload: CheckPayload) -> EncryptedBallot:
    """A kiosk-challenged ballot from a published election record (``ballots/challenged/<ballot id>.json``).

    The record publishes the seed too; it must be the one the kiosk showed the voter in the QR code, or the
    kiosk showed the voter something else than it published."""
    path = record / "ballots" / "challenged" / f"{payload.ballot_id}.json"
    try:
        size = path.stat().st_size
        if size > MAX_RECORD_BALLOT_BYTES:
            raise CannotCheck("the record's entry for this ballot is too large to be a ballot")
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise CannotCheck(
            "this ballot is not among the challenged ballots of this election record (yet): the record is "
            "published after the polls close; if it is published and the ballot is missing, report it"
        ) from None
    except (OSError, ValueError):
        raise CannotCheck("the record's entry for this ballot cannot be read") from None
    if not isinstance(data, dict) or not isinstance(data.get("challenged"), dict):
        raise CannotCheck("the record's entry for this ballot is not a challenged ballot")
    try:
        published = ChallengedBallot.from_dict(data["challenged"])
    except BallotFormatError as exc:
        raise CannotCheck(f"the record's entry for this ballot is malformed ({exc})") from None
    if published.seed != payload.seed:
        raise CheckFailed(
            "CHECK FAILED: the record publishes another seed for this ballot than the kiosk showed you: "
            "report it to the election commission"
        )
    return published.ballot


def open_challenged_file(context: ElectionContext, manifest: Manifest, path: Path) -> OpenedBallot:
    """A ballot the voter app challenged and saved (``ChallengedBallot.to_dict()`` with its seed): proofs
    checked and opened. The voter compares :func:`ballot_code` of it with the code the app showed *before* the
    choice to cast or challenge: that is what makes the app commit first."""
    try:
        if path.stat().st_size > MAX_RECORD_BALLOT_BYTES:
            raise CannotCheck("the file is too large to be a challenged ballot")
        data = loads(path.read_bytes(), path.name)
        challenged = ChallengedBallot.from_dict(data)
    except OSError as exc:
        raise CannotCheck(f"the file cannot be read ({exc.strerror})") from None
    except (Invalid, BallotFormatError) as exc:
        raise CannotCheck(f"the file is not a challenged ballot ({exc})") from None
    try:
        plain = verify_challenge(context, manifest, challenged)
    except BallotVerificationError as exc:
        raise CheckFailed(
            f"CHECK FAILED: the challenged ballot does not open to a valid vote ({exc.reason}). The app that made "
            "it may be faulty or tampered with: do not vote with it, and report it to the election commission."
        ) from None
    return OpenedBallot(challenged.ballot.ballot_id, plain, ballot_code(challenged.ballot))


def ballot_code(ballot: EncryptedBallot) -> str:
    """The code the voter app shows for a sealed ballot: the first 16 hex digits of its hash, in groups of 4."""
    digits = ballot.ballot_hash.hex()[:16].upper()
    return " ".join(digits[i : i + 4] for i in range(0, 16, 4))


def describe(manifest: Manifest, opened: OpenedBallot, language: Language) -> list[str]:
    """The opened ballot in words: one line per contest, then one line per chosen candidate (or blank)."""
    blank = "لا أحد (ورقة بيضاء)" if language is Language.ARABIC else "nobody (blank)"
    lines: list[str] = []
    for contest in manifest.contests_of_style(opened.choices.style_id):
        lines.append(contest.name.in_language(language))
        chosen = opened.choices.chosen(contest.id)
        names = [c for c in sorted(contest.candidates, key=lambda c: c.ballot_number) if c.id in chosen]
        if not names:
            lines.append(f"  {blank}")
        for c in names:
            lines.append(f"  {c.ballot_number}: {c.name.in_language(language)}")
    return lines
