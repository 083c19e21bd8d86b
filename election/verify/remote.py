"""Check ``remote``: the record part ``remote/`` of remote voting (docs/remote-voting.md, section 7).

What is checked (each failure is ``Invalid`` naming the credential or ballot):

- the part is present exactly when the manifest has ``remote_voting``, its collector is one of the manifest's;
- ``remote/statement.json`` is the collector's signature (the key of its certificate in ``kiosks/``) over the
  SHA-256 of each of the four files as read, their counts and the root of its chain (``remote_statement.py``):
  the office that publishes the record cannot drop or change a line of the part unseen;
- every credential is listed once, an Ed25519 public key, of a ballot style of the manifest; every voided
  credential is a registered one;
- every submission is of a registered credential and its Ed25519 signature verifies over
  ``b"sanduq/remote-ballot/v1\\x00" || canonical_json({"election_id", "collector_id", "credential",
  "submission_id", "sequence", "ballot_id", "ballot_hash"})`` (computed here from the documented form, not by
  the producer's code); submission ids, ballot ids and (credential, sequence) are unique;
- per credential: a voided one has no counted submission; any other with submissions has exactly one counted and
  it has the credential's highest sequence, every other one is superseded;
- the counted submissions are exactly the cast ballots of the collector (``ballots/cast/``, kiosk =
  collector id), with the same ballot hash and the credential's style; the counts file matches the lists;

Check ``remote`` needs nothing decryption makes: the guardians run it on the pre-decryption record (the office
puts ``remote/`` in it) before they make a share. Check ``remote-turnout`` (published record only: the poll book's
counts are published with the results): turnout across kiosks and remote voting: per ballot style, the counted
remote ballots are at most the poll book's check-ins minus the kiosks' cast ballots (so no more credentials counted
than remote voters in the poll book).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from election.canonical import canonical_json
from election.verify.parts import Progress
from election.verify.primitives import Invalid, obj
from election.verify.remote_statement import NAME as STATEMENT
from election.verify.remote_statement import PATH as STATEMENT_PATH
from election.verify.remote_statement import check_statement
from election.verify.strict_json import load, load_with_digest

LABEL = b"sanduq/remote-ballot/v1\x00"
FILES = ("credentials.json", "voided.json", "submissions.json", "counts.json")
#: every file of the part: the four lists and the collector's signed statement over them (remote_statement.py)
PART_FILES = (*FILES, STATEMENT)
STATUSES = ("counted", "superseded", "voided")
_HEX32 = re.compile(r"[0-9a-f]{32}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX128 = re.compile(r"[0-9a-f]{128}")
_SUBMISSION_KEYS = ["credential", "submission_id", "sequence", "ballot_id", "ballot_hash", "signature", "status"]


def _hex(value: Any, pattern: re.Pattern[str], what: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise Invalid(f"{what}: not lower-case hex of the right length")
    return value


def _signature_holds(election_id: str, collector_id: str, sub: dict[str, Any]) -> bool:
    statement = {
        "election_id": election_id,
        "collector_id": collector_id,
        "credential": sub["credential"],
        "submission_id": sub["submission_id"],
        "sequence": sub["sequence"],
        "ballot_id": sub["ballot_id"],
        "ballot_hash": sub["ballot_hash"],
    }
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(sub["credential"]))
        key.verify(bytes.fromhex(sub["signature"]), LABEL + canonical_json(statement))
    except (InvalidSignature, ValueError):
        return False
    return True


def check_remote(s: Any, progress: Progress) -> str:
    manifest = s.m
    root = s.root / "remote"
    remote = manifest.remote_voting
    if remote is None:
        if root.exists():
            raise Invalid("remote/ is in the record but the manifest has no remote_voting")
        return "no remote voting in this election"
    data: dict[str, Any] = {}
    digests: dict[str, bytes] = {}
    for name in FILES:
        data[name], digests[name] = load_with_digest(root / name, f"remote/{name}")
    creds_file = obj(
        data["credentials.json"], ["format_version", "collector_id", "credentials"], "remote/credentials.json"
    )
    voided_file = obj(data["voided.json"], ["format_version", "voided"], "remote/voided.json")
    subs_file = obj(data["submissions.json"], ["format_version", "submissions"], "remote/submissions.json")
    counts = obj(
        data["counts.json"],
        ["format_version", "credentials", "voided", "submissions", "counted", "superseded"],
        "remote/counts.json",
    )
    for name, content in zip(FILES, (creds_file, voided_file, subs_file, counts), strict=True):
        if content["format_version"] != 1:
            raise Invalid(f"remote/{name}: format_version must be 1")
    collector_id = creds_file["collector_id"]
    if collector_id not in remote.collector_ids:
        raise Invalid(f"remote/credentials.json: {collector_id!r} is not a collector of the manifest")
    check_statement(s, collector_id, digests, counts)  # the files are the collector's, before what they say
    styles = {st.id for st in manifest.ballot_styles}
    credentials: dict[str, str] = {}
    if not isinstance(creds_file["credentials"], list):
        raise Invalid("remote/credentials.json: credentials must be a list")
    for raw_entry in creds_file["credentials"]:
        entry = obj(raw_entry, ["credential", "style_id"], "remote/credentials.json: a credential")
        credential = _hex(entry["credential"], _HEX64, "remote/credentials.json: credential")
        if credential in credentials:
            raise Invalid(f"credential {credential[:16]}... is listed twice")
        if entry["style_id"] not in styles:
            raise Invalid(f"credential {credential[:16]}...: unknown ballot style {entry['style_id']!r}")
        credentials[credential] = entry["style_id"]
    voided_list = voided_file["voided"]
    if not isinstance(voided_list, list) or len(set(map(str, voided_list))) != len(voided_list):
        raise Invalid("remote/voided.json: voided must be a list of distinct credentials")
    voided = set(voided_list)
    for credential in voided:
        if credential not in credentials:
            raise Invalid(f"voided credential {str(credential)[:16]}... was never registered")
    submissions = subs_file["submissions"]
    if not isinstance(submissions, list):
        raise Invalid("remote/submissions.json: submissions must be a list")
    election_id = str(manifest.election_id)
    seen_ids: set[str] = set()
    seen_ballots: set[str] = set()
    seen_seq: set[tuple[str, int]] = set()
    per_credential: dict[str, list[dict[str, Any]]] = {}
    for i, raw in enumerate(submissions, start=1):
        progress(i, len(submissions) + 1)
        sub = obj(raw, _SUBMISSION_KEYS, "remote/submissions.json: a submission")
        credential = _hex(sub["credential"], _HEX64, "a submission's credential")
        _hex(sub["submission_id"], _HEX32, "a submission's submission_id")
        _hex(sub["ballot_hash"], _HEX64, "a submission's ballot_hash")
        _hex(sub["signature"], _HEX128, "a submission's signature")
        if type(sub["sequence"]) is not int or not 1 <= sub["sequence"] <= 1_000_000:
            raise Invalid(f"submission {sub['submission_id']}: sequence must be an integer 1..1000000")
        if not isinstance(sub["ballot_id"], str) or sub["status"] not in STATUSES:
            raise Invalid(f"submission {sub['submission_id']}: bad ballot id or status")
        if credential not in credentials:
            raise Invalid(f"ballot {sub['ballot_id']} is signed by an unregistered credential {credential[:16]}...")
        if not _signature_holds(election_id, collector_id, sub):
            raise Invalid(f"ballot {sub['ballot_id']}: the credential's signature does not verify")
        if sub["submission_id"] in seen_ids or sub["ballot_id"] in seen_ballots:
            raise Invalid(f"submission {sub['submission_id']} (ballot {sub['ballot_id']}) is listed twice")
        if (credential, sub["sequence"]) in seen_seq:
            raise Invalid(f"credential {credential[:16]}... has two submissions with sequence {sub['sequence']}")
        seen_ids.add(sub["submission_id"])
        seen_ballots.add(sub["ballot_id"])
        seen_seq.add((credential, sub["sequence"]))
        per_credential.setdefault(credential, []).append(sub)
    counted: dict[str, tuple[str, str]] = {}  # ballot id -> (ballot hash, style)
    for credential, subs in per_credential.items():
        statuses = Counter(x["status"] for x in subs)
        if credential in voided:
            if statuses["counted"]:
                raise Invalid(f"a ballot of the voided credential {credential[:16]}... is counted")
            if statuses["superseded"]:
                raise Invalid(f"voided credential {credential[:16]}...: its submissions must be listed as voided")
            continue
        if statuses["voided"]:
            raise Invalid(f"credential {credential[:16]}... is not voided but has submissions listed as voided")
        if statuses["counted"] != 1:
            raise Invalid(f"credential {credential[:16]}... has {statuses['counted']} counted ballots (exactly one)")
        last = max(subs, key=lambda x: x["sequence"])
        if last["status"] != "counted":
            raise Invalid(
                f"credential {credential[:16]}...: a superseded ballot is counted instead of its last "
                f"(sequence {last['sequence']}, ballot {last['ballot_id']})"
            )
        counted[last["ballot_id"]] = (last["ballot_hash"], credentials[credential])
    for bid, _info in s.cast.of_kiosk(collector_id):  # sorted by id: the least one is reported
        if bid not in counted:
            raise Invalid(f"cast ballot {bid} of the collector {collector_id} is no counted remote submission")
    for bid, (ballot_hash, style) in sorted(counted.items()):
        ours = s.cast.get(bid)
        if ours is None or ours[0] != collector_id:
            raise Invalid(f"counted remote ballot {bid} is not among the cast ballots of {collector_id}")
        _kiosk, cast_style, cast_hash, _code = ours
        if cast_hash.hex() != ballot_hash or cast_style != style:
            raise Invalid(f"counted remote ballot {bid}: the cast ballot differs from the one its credential signed")
    expected = {
        "format_version": 1,
        "credentials": len(credentials),
        "voided": len(voided),
        "submissions": len(submissions),
        "counted": len(counted),
        "superseded": sum(1 for x in submissions if x["status"] == "superseded"),
    }
    if counts != expected:
        raise Invalid(f"remote/counts.json does not match the lists (they give {expected})")
    s.remote_collector = collector_id
    s.remote_counted = {bid: style for bid, (_hash, style) in counted.items()}
    progress(1, 1)
    return (
        f"{len(credentials)} credentials ({len(voided)} voided), {len(submissions)} signed submissions, "
        f"{len(counted)} counted (each its credential's last); {STATEMENT_PATH} signed by the certificate of "
        f"{collector_id} over these files and its chain"
    )


def check_remote_turnout(s: Any, progress: Progress) -> str:
    """Per ballot style, counted remote ballots <= the poll book's check-ins minus the other kiosks' cast ballots."""
    if s.remote_collector is None:
        return "no remote voting in this election"
    book = load(s.root / "pollbook_counts.json")
    per_book = book.get("ballots_per_style") if isinstance(book, dict) else None
    if not isinstance(per_book, dict) or not all(type(v) is int for v in per_book.values()):
        raise Invalid("pollbook_counts.json: ballots_per_style must map ballot styles to counts")
    kiosk_cast: Counter[str] = Counter(s.cast.per_style(except_kiosk=s.remote_collector))
    remote_cast: Counter[str] = Counter(s.remote_counted.values())
    progress(1, 1)
    over = sorted(st for st in remote_cast if remote_cast[st] > int(per_book.get(st, 0)) - kiosk_cast[st])
    if over:
        raise Invalid(f"more remote ballots counted than remote voters in the poll book for style(s) {', '.join(over)}")
    return (
        f"turnout {sum(kiosk_cast.values())} at kiosks + {len(s.remote_counted)} remote <= "
        f"{sum(int(v) for v in per_book.values())} poll-book check-ins"
    )


__all__ = ["check_remote", "check_remote_turnout"]
