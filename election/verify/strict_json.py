"""The verifier's one JSON loader for record files: strict, so that no two readers can see different values."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from election.verify.primitives import Invalid


class _NotStrictJson(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _NotStrictJson(f"the key {key!r} appears twice in one object")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise _NotStrictJson(f"{name} is not a JSON number")


def loads(text: str | bytes, name: str) -> Any:
    """``text`` (the file ``name`` of the record) as JSON, strictly: UTF-8, no key twice in one object
    (``json.loads`` would keep the last, so a tally could carry a selection twice), no NaN or Infinity."""
    try:
        decoded = text.decode("utf-8") if isinstance(text, bytes) else text
        return json.loads(decoded, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, _NotStrictJson) as exc:
        raise Invalid(f"{name}: not valid JSON ({exc})") from None


def load(path: Path, name: str | None = None) -> Any:
    """A record file as strict JSON (``loads``); a symbolic link or a missing file is ``Invalid`` too."""
    shown = name or path.name
    if path.is_symlink():
        raise Invalid(f"{shown}: a symbolic link, not a file of the record")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise Invalid(f"missing file {shown}") from None
    return loads(data, shown)


def load_with_digest(path: Path, name: str | None = None) -> tuple[Any, bytes]:
    """``load``, and the SHA-256 of the bytes it parsed (what a shard result records of each ballot file)."""
    shown = name or path.name
    if path.is_symlink():
        raise Invalid(f"{shown}: a symbolic link, not a file of the record")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise Invalid(f"missing file {shown}") from None
    return loads(data, shown), hashlib.sha256(data).digest()


__all__ = ["load", "load_with_digest", "loads"]
