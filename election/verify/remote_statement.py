"""The vote collector's signed statement over its record part: ``remote/statement.json`` (docs/remote-voting.md,
section 7, "The collector's statement"), checked by check ``remote`` before it reads the part's lists.

Without it the office, which publishes the record, could drop a superseded submission or a whole credential from
``remote/`` and recompute ``counts.json``: every list would still agree with every other. The collector therefore
signs, with its enrolled kiosk key (the key that signs its batches and its chain close), a statement naming the
SHA-256 of the exact bytes of each of the part's four files, the counts, and the root of its batch chain:

    {"statement": "remote-record", "format_version": 1, "election_id", "collector_id", "genesis", "root",
     "files": {"counts.json", "credentials.json", "submissions.json", "voided.json": <64 hex>},
     "counts": {"credentials", "voided", "submissions", "counted", "superseded"}, "signature": <base64>}

signed over ``b"sanduq/remote-record/v1" || 0x00 || canonical_json(statement without "signature")``. The label
differs from the chain statements' (``sanduq/chain-head/v2``, ``sanduq/chain-close/v2``) and a batch's signed bytes
start with ``{``, so no other signature of the same key verifies as this statement. The key is that of the
collector's certificate in ``kiosks/<collector_id>.json``, the one whose signed chain close ends the chain of the
counted remote ballots (check ``closes``; check ``package`` ties the certificate to the election's kiosk CA).
Recomputed here from the documented form, not with the collector's code.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from election.canonical import canonical_json
from election.chain_statement import StatementError, kiosk_signature_holds
from election.verify.closes import KIOSK_KEYS, KioskKey, certificate_key
from election.verify.primitives import Invalid, genesis, obj
from election.verify.strict_json import load

if TYPE_CHECKING:
    from election.verify.state import State

NAME = "statement.json"
PATH = f"remote/{NAME}"
LABEL = b"sanduq/remote-record/v1"
KIND = "remote-record"
STATEMENT_KEYS = ["statement", "format_version", "election_id", "collector_id", "genesis", "root", "files", "counts",
                  "signature"]  # fmt: skip
COUNT_KEYS = ["credentials", "voided", "submissions", "counted", "superseded"]
_HEX64 = re.compile(r"[0-9a-f]{64}")


def _collector_key(s: State, collector_id: str) -> KioskKey:
    path = s.root / "kiosks" / f"{collector_id}.json"
    if not path.is_file():
        raise Invalid(
            f"remote/{NAME} cannot be checked: kiosks/{collector_id}.json (the collector's enrolled certificate and "
            "its signed chain close) is not in the record"
        )
    data = obj(load(path, f"kiosks/{path.name}"), KIOSK_KEYS, f"kiosks/{path.name}")
    return certificate_key(data["certificate_pem"], f"kiosks/{path.name}")


def check_statement(s: State, collector_id: str, digests: dict[str, bytes], counts: dict[str, Any]) -> None:
    """Raise ``Invalid`` unless ``remote/statement.json`` is the collector's signature over exactly these files
    (``digests``: file name -> SHA-256 of its bytes as read), these counts and the collector's chain as recomputed by
    check ``chains``."""
    path = s.root / "remote" / NAME
    if not path.is_file():
        raise Invalid(
            f"remote/{NAME} is missing: nothing shows that the collector wrote this remote/ part (the office could "
            "have dropped a submission or a credential unseen)"
        )
    statement = obj(load(path, f"remote/{NAME}"), STATEMENT_KEYS, f"remote/{NAME}")
    signature = statement["signature"]
    if not isinstance(signature, str):
        raise Invalid(f"remote/{NAME}: signature must be a base64 string")
    body = {k: v for k, v in statement.items() if k != "signature"}
    key = _collector_key(s, collector_id)
    try:
        holds = kiosk_signature_holds(key, LABEL + b"\x00" + canonical_json(body), signature)
    except StatementError as exc:
        raise Invalid(f"kiosks/{collector_id}.json: {exc}") from None
    if not holds:
        raise Invalid(
            f"remote/{NAME}: its signature does not verify with the collector's certificate "
            f"(kiosks/{collector_id}.json)"
        )
    if statement["statement"] != KIND or statement["format_version"] != 1:
        raise Invalid(f"remote/{NAME}: not a remote-record statement of format_version 1")
    if statement["election_id"] != str(s.m.election_id) or statement["collector_id"] != collector_id:
        raise Invalid(f"remote/{NAME}: it names another election or collector than remote/credentials.json")
    start = genesis(s.h_e, collector_id).hex()
    if statement["genesis"] != start:
        raise Invalid(f"remote/{NAME}: bound to another election (its genesis is not the collector's)")
    chain = s.batches.get(collector_id, [])
    last = chain[-1][0] if chain else start
    if statement["root"] != last:
        raise Invalid(
            f"remote/{NAME}: the collector signed its chain ending at root {str(statement['root'])[:16]}, the record's "
            f"kiosk_chains/{collector_id}.json ends at {last[:16]}"
        )
    files = statement["files"]
    if not isinstance(files, dict) or sorted(files) != sorted(digests):
        raise Invalid(f"remote/{NAME}: files must name exactly {', '.join(sorted(digests))}")
    changed = []
    for name, digest in digests.items():
        signed = files[name]
        if not isinstance(signed, str) or not _HEX64.fullmatch(signed):
            raise Invalid(f"remote/{NAME}: the SHA-256 of {name} must be 64 lower-case hex digits")
        if signed != digest.hex():
            changed.append(f"remote/{name} is not the file the collector signed")
    if changed:
        raise Invalid(f"{'; '.join(changed)} (its SHA-256 is not the one in remote/{NAME})")
    stated = obj(statement["counts"], COUNT_KEYS, f"remote/{NAME}: counts")
    if stated != {k: counts[k] for k in COUNT_KEYS}:
        raise Invalid(f"remote/{NAME}: its counts differ from remote/counts.json")


__all__ = ["LABEL", "NAME", "PATH", "check_statement"]
