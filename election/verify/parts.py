"""What the verifier knows about a record's layout: its checks and the parts (files) each one reads.

The verifier fails closed: a part a check needs that is missing is a FAIL of that check, and a file or directory
that matches no known part is a FAIL of the check ``record-files``; only a check the observer names with
``--skip <name>`` is left out, and the table at the end says so. The registrations themselves (``CHECKS`` and
``RECORD_PARTS``) are in ``election.verify.checks``, one line per check and one line per part.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

Progress = Callable[[int, int], None]


class Stage(enum.Enum):
    """Which record the checks run on."""

    #: the published record: every check
    PUBLISHED = "published"
    #: the record the office hands the guardians before decryption (no shares, no results, no poll-book counts):
    #: only the checks marked ``before_decryption``
    BEFORE_DECRYPTION = "before-decryption"


@dataclass(frozen=True)
class RecordPart:
    """Files of the record, as a path relative to the record's root where ``*`` stands for one path segment's
    variable part (never ``/``), read by the check named ``check``. ``required``: at least one file must match
    (a missing one fails that check)."""

    pattern: str
    check: str
    required: bool = True

    @cached_property
    def regex(self) -> re.Pattern[str]:
        return re.compile("".join("[^/]+" if p == "*" else re.escape(p) for p in re.split(r"(\*)", self.pattern)))

    def matches(self, relative: str) -> bool:
        return self.regex.fullmatch(relative) is not None

    def covers_directory(self, relative: str) -> bool:
        """Whether ``relative`` (a directory) is one of the directories this part's files live in."""
        parents = self.pattern.split("/")[:-1]
        return any(RecordPart("/".join(parents[:i]), self.check).matches(relative) for i in range(1, len(parents) + 1))

    def present(self, root: Path) -> bool:
        if "*" not in self.pattern:
            return (root / self.pattern).is_file()
        directory = root / self.pattern.rsplit("/", 1)[0]
        if not directory.is_dir():
            return False
        prefix = self.pattern.rsplit("/", 1)[0] + "/"
        return any(p.is_file() and self.matches(prefix + p.name) for p in directory.iterdir())


@dataclass(frozen=True)
class Check:
    """One check of the verifier: ``run(state, progress)`` returns a one-line summary or raises ``Invalid``.

    ``name`` is what ``--skip`` takes; ``needs`` are the checks whose results it uses (if one of them failed or
    was skipped, this one is reported as skipped, and the record does not verify unless the skip was asked for);
    ``before_decryption``: the guardians run it on the pre-decryption record before they make a share."""

    name: str
    title: str
    run: Callable[[Any, Progress], str]
    needs: tuple[str, ...] = ()
    before_decryption: bool = False
    doc: str = field(default="", compare=False)
    #: ``not_run(state)``: why the check is left out by what the observer chose not to give (a key), or None; the
    #: check is then SKIPPED as if the observer had named it with ``--skip``, with that reason
    not_run: Callable[[Any], str | None] | None = field(default=None, compare=False)
