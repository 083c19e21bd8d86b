"""The voter app's wording: every failure a remote voter can meet is said without sending them to staff who are
not there, in both languages, and each override replaces an existing kiosk string (same key, same placeholders)."""

from __future__ import annotations

import json
import string

import pytest

from election.manifest import Language
from kiosk.session import events as ev
from kiosk.session import flow
from kiosk.ui_text import Catalogue
from remote.strings import REMOTE_STRINGS, RemoteCatalogue

BASE = Catalogue.load()
REMOTE = RemoteCatalogue.for_voter_app(BASE)
REMOTE_FAILURES = [
    ev.Failure.POLL_BOOK_UNAVAILABLE,  # collector unreachable, or a submission not yet confirmed
    ev.Failure.CAST_FAILED,  # refused by the collector
    ev.Failure.POLLS_CLOSED,  # the group's window
    ev.Failure.ALREADY_VOTED,  # voted in person
    ev.Failure.NOT_ON_ROLL,
    ev.Failure.VOTER_LOCKED,  # rate limited
]


@pytest.mark.parametrize("failure", REMOTE_FAILURES)
def test_a_remote_voter_is_not_sent_to_a_staff_member(failure: ev.Failure) -> None:
    key = flow.FAILURE_MESSAGE[failure]
    assert "staff" in BASE.text(key, Language.ENGLISH).lower()  # the kiosk's wording, for a polling centre
    english, arabic = REMOTE.text(key, Language.ENGLISH), REMOTE.text(key, Language.ARABIC)
    assert "staff" not in english.lower() and "موظف" not in arabic
    assert any("\u0600" <= ch <= "\u06ff" for ch in arabic)


def test_every_override_replaces_a_kiosk_string_with_the_same_placeholders() -> None:
    raw = json.loads(REMOTE_STRINGS.read_text(encoding="utf-8"))
    fields = string.Formatter()
    for key, text in raw.items():
        assert key in BASE
        for language in Language:
            ours = {f for _, f, _, _ in fields.parse(text[language.value]) if f}
            theirs = {f for _, f, _, _ in fields.parse(BASE.text(key, language)) if f}  # the raw template
            assert ours == theirs, key
    assert REMOTE.text("review.title", Language.ENGLISH) == BASE.text("review.title", Language.ENGLISH)
