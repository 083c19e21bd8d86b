"""The voter app's wording where the kiosk's would be wrong at home ("ask a staff member"): the kiosk's
catalogue with the entries of remote/strings_remote.json in front (same keys, same placeholders)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from election.manifest import Language, Text
from kiosk.ui_text import Catalogue, isolate

REMOTE_STRINGS: Final = Path(__file__).with_name("strings_remote.json")


class RemoteCatalogue(Catalogue):
    def __init__(self, base: Catalogue, remote: Mapping[str, Text]) -> None:
        self._base = base
        self._remote = dict(remote)

    @classmethod
    def for_voter_app(cls, base: Catalogue | None = None, path: Path = REMOTE_STRINGS) -> RemoteCatalogue:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return cls(base or Catalogue.load(), {str(k): Text.from_dict(v, f"{path.name}:{k}") for k, v in raw.items()})

    def __contains__(self, key: object) -> bool:
        return key in self._remote or key in self._base

    def text(self, key: str, language: Language, **values: object) -> str:
        entry = self._remote.get(key)
        if entry is None:
            return self._base.text(key, language, **values)
        template = entry.in_language(language)
        return template.format(**{k: isolate(v) for k, v in values.items()}) if values else template

    def missing(self, keys: Mapping[str, object] | list[str] | tuple[str, ...] | frozenset[str]) -> list[str]:
        return [k for k in self._base.missing(keys) if k not in self._remote]
