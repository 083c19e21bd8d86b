"""The phase table itself (central.phase.refusal), every write in every phase: what docs/central.md promises."""

from __future__ import annotations

import itertools

import pytest

from central.phase import CentrePhase, Phase, Write, refusal

COUNTING = {Phase.OPEN, Phase.CLOSED}


@pytest.mark.parametrize(("write", "phase", "centre"), list(itertools.product(Write, Phase, CentrePhase)))
def test_each_write_is_allowed_exactly_where_the_docs_say(write: Write, phase: Phase, centre: CentrePhase) -> None:
    allowed = {
        Write.CHECK_IN: phase is Phase.OPEN and centre is CentrePhase.OPEN,
        Write.VOTED_MARK: phase in COUNTING,
        Write.BATCH: phase in COUNTING,
        Write.PROVISIONAL: phase in COUNTING,
        Write.ADJUDICATION: phase in COUNTING,
        Write.MANUAL_SHEET: phase in COUNTING,
        Write.SHARE_UPLOAD: phase in (Phase.TALLY_FROZEN, Phase.DECRYPTING),
        Write.PUBLICATION: phase is Phase.DECRYPTING,
    }[write]
    reason = refusal(write, phase, centre)
    assert (reason is None) is allowed, (write, phase, centre, reason)
    if reason is not None:
        assert phase.value in reason or centre.value in reason or "published" in reason


def test_nothing_that_changes_the_count_is_accepted_once_the_tally_is_frozen() -> None:
    frozen = [p for p in Phase if p not in COUNTING]
    changes = [Write.CHECK_IN, Write.VOTED_MARK, Write.BATCH, Write.PROVISIONAL, Write.ADJUDICATION, Write.MANUAL_SHEET]
    for write, phase, centre in itertools.product(changes, frozen, CentrePhase):
        assert refusal(write, phase, centre) is not None
