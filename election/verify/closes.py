"""Check ``kiosks``: every kiosk chain ends exactly at the kiosk's signed chain close (docs/election-record.md,
"Kiosk chain statements"; issue 14 point 1).

For each ``kiosks/<kiosk>.json`` the certificate's key must verify the signed close and the last signed head, both
bound to this election (``genesis = genesis_code(H_E, kiosk)``). The kiosk's published batch chain
(``kiosk_chains/<kiosk>.json``, every code and root already recomputed by the chains check) must then end exactly
at the close: the same last root (the genesis for an empty chain), as many links as the close counts, as many
challenged links as ``challenged``, and cast + withheld links = ``cast`` + ``provisional`` (a regular or
provisional ballot is published as cast when counted, as withheld when not; at most ``provisional`` withheld links
say ``provisional-not-counted``). The last head must lie ON the chain: some batch (or the genesis, for a head of no
links) ends at its root with as many links as it counts. A kiosk with a chain (or a signed head) but no close never
closed its polls: that is a failure naming the kiosk and its last signed head, unless the observer accepts it by
name (``--allow-unclosed KIOSK``); then the chain must still hold the last signed head. A kiosk of the manifest
with no chain, no head and no close was never used.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from election.chain_statement import ChainStatement, SignedStatement, StatementError, StatementKind
from election.verify.parts import Progress
from election.verify.primitives import Invalid, genesis, obj
from election.verify.strict_json import load

if TYPE_CHECKING:
    from election.verify.state import State

KIOSK_KEYS = ["format_version", "kiosk", "certificate_pem", "close", "last_head"]
KioskKey = ec.EllipticCurvePublicKey | Ed25519PublicKey


def _totals(batches: list[tuple[str, dict[str, int]]]) -> dict[str, int]:
    totals = {"cast": 0, "challenged": 0, "withheld": 0, "provisional-not-counted": 0}
    for _root, counts in batches:
        for name, value in counts.items():
            totals[name] += value
    return totals


def _on_chain(batches: list[tuple[str, dict[str, int]]], head: ChainStatement, start: str) -> bool:
    """Whether a batch of the chain (or its genesis) ends at the head's root after as many links as it counts."""
    links = 0
    if head.links == 0:
        return head.root == start
    for root, counts in batches:
        links += counts["cast"] + counts["challenged"] + counts["withheld"]
        if root == head.root:
            return links == head.links
    return False


def _describe(st: ChainStatement) -> str:
    return (
        f"{st.links} links (cast {st.cast}, challenged {st.challenged}, provisional {st.provisional}) "
        f"ending at root {st.root[:16]}"
    )


def _statement(raw: Any, kind: StatementKind, kiosk: str, key: Any, start: str) -> ChainStatement | None:
    if raw is None:
        return None
    try:
        signed = SignedStatement.from_dict(raw, kind)
        signed.verify(key)
    except StatementError as exc:
        raise Invalid(f"kiosks/{kiosk}.json: {exc}") from None
    st = signed.statement
    if st.kiosk_id != kiosk:
        raise Invalid(f"kiosks/{kiosk}.json: its {kind.value} names kiosk {st.kiosk_id!r}")
    if st.genesis != start:
        raise Invalid(f"kiosks/{kiosk}.json: its {kind.value} is bound to another election (genesis differs)")
    return st


def certificate_key(pem: Any, where: str) -> KioskKey:
    """The public key of a kiosk's enrolled certificate (``certificate_pem`` of ``kiosks/<kiosk>.json``)."""
    try:
        cert = x509.load_pem_x509_certificate(str(pem).encode("ascii"))
    except ValueError:
        raise Invalid(f"{where}: certificate_pem is not a PEM certificate") from None
    key = cert.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey | Ed25519PublicKey):
        raise Invalid(f"{where}: the certificate's key is not ECDSA P-256 or Ed25519")
    return key


def _kiosk_file(s: State, path: Path) -> tuple[str, ChainStatement | None, ChainStatement | None]:
    data = obj(load(path, f"kiosks/{path.name}"), KIOSK_KEYS, f"kiosks/{path.name}")
    kiosk = data["kiosk"]
    if data["format_version"] != 1 or not isinstance(kiosk, str) or path.name != f"{kiosk}.json":
        raise Invalid(f"kiosks/{path.name}: format_version must be 1 and the file named after its kiosk")
    if kiosk not in s.m.kiosks_by_id:
        raise Invalid(f"kiosks/{path.name}: kiosk {kiosk!r} is not in the manifest")
    key = certificate_key(data["certificate_pem"], f"kiosks/{path.name}")
    start = genesis(s.h_e, kiosk).hex()
    close = _statement(data["close"], StatementKind.CLOSE, kiosk, key, start)
    head = _statement(data["last_head"], StatementKind.HEAD, kiosk, key, start)
    return kiosk, close, head


def _ends_at_close(kiosk: str, close: ChainStatement, batches: list[tuple[str, dict[str, int]]], start: str) -> None:
    last = batches[-1][0] if batches else start
    counts = _totals(batches)
    links = counts["cast"] + counts["challenged"] + counts["withheld"]
    stated = _describe(close)
    if last != close.root or links != close.links:
        raise Invalid(
            f"kiosk {kiosk}: its chain does not end at its signed close ({stated}): the record's chain has "
            f"{links} links in {len(batches)} batches ending at root {last[:16]}"
        )
    if (
        counts["challenged"] != close.challenged
        or counts["cast"] + counts["withheld"] != close.cast + close.provisional
    ):
        raise Invalid(
            f"kiosk {kiosk}: its chain's links differ from its signed close ({stated}): the record has "
            f"{counts['cast']} cast, {counts['challenged']} challenged, {counts['withheld']} withheld"
        )
    if counts["provisional-not-counted"] > close.provisional:
        raise Invalid(f"kiosk {kiosk}: more provisional links withheld than the close counts provisional ballots")


def check_closes(s: State, progress: Progress) -> str:
    """Every kiosk's chain against its signed close (see the module docstring)."""
    files = sorted((s.root / "kiosks").glob("*.json")) if (s.root / "kiosks").is_dir() else []
    statements: dict[str, tuple[ChainStatement | None, ChainStatement | None]] = {}
    for i, path in enumerate(files, start=1):
        progress(i, len(files) + 1)
        kiosk, close, head = _kiosk_file(s, path)
        statements[kiosk] = (close, head)
    closed, unused, allowed = 0, 0, []
    for kiosk in sorted(set(s.batches) | set(statements)):
        close, head = statements.get(kiosk, (None, None))
        batches = s.batches.get(kiosk, [])
        start = genesis(s.h_e, kiosk).hex()
        if close is not None:
            _ends_at_close(kiosk, close, batches, start)
            if head is not None and (
                any(h > c for h, c in zip(head.counts, close.counts, strict=True))
                or not _on_chain(batches, head, start)
            ):
                raise Invalid(f"kiosk {kiosk}: its last signed head ({_describe(head)}) does not lie on its chain")
            closed += 1
            continue
        if not batches and head is None:
            unused += 1
            continue
        last = f"its last signed head: {_describe(head)}" if head is not None else "no signed head published"
        if kiosk not in s.allow_unclosed:
            raise Invalid(
                f"kiosk {kiosk} never closed its chain (no signed chain close; {last}); "
                f"an observer who accepts that passes --allow-unclosed {kiosk}"
            )
        if head is not None and not _on_chain(batches, head, start):
            raise Invalid(f"kiosk {kiosk}: its chain does not hold its last signed head ({_describe(head)})")
        allowed.append(f"{kiosk} ({last})")
    progress(len(files) + 1, len(files) + 1)
    summary = f"{closed} kiosk chains end at their signed close; {unused} kiosks unused"
    if allowed:
        summary += f"; never closed, accepted by --allow-unclosed: {', '.join(allowed)}"
    return summary
