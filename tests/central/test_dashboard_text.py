"""The dashboard's words: Arabic counts in their grammatical forms, every status in both languages (the Arabic with
no English left in it), only a counted ballot with the green tick, times in Oman's time with the zone named, and
day-chart labels that neither overlap nor leave the chart."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from central.dashboard.charts import LABEL_EM, axis_labels, line_chart
from central.dashboard.i18n import (
    NOUNS,
    CentreState,
    Lookup,
    Noun,
    T,
    Tone,
    Verification,
    arabic_category,
    centre_state_text,
    count,
    local_time,
    lookup_of,
    lookup_text,
    polls_text,
    verification_text,
    zone_label,
)
from central.models import BallotStatus
from sync.protocol import KioskPollsState

LATIN = re.compile(r"[A-Za-z]")
ARABIC = re.compile(r"[\u0600-\u06ff]")
MUSCAT = zoneinfo.ZoneInfo("Asia/Muscat")


@pytest.mark.parametrize(
    ("n", "seats", "votes", "voters"),
    [
        (0, "0 مقعد", "0 صوت", "0 ناخب"),
        (1, "1 مقعد", "1 صوت", "1 ناخب"),
        (2, "2 مقعدان", "2 صوتان", "2 ناخبان"),
        (3, "3 مقاعد", "3 أصوات", "3 ناخبين"),
        (10, "10 مقاعد", "10 أصوات", "10 ناخبين"),
        (11, "11 مقعدًا", "11 صوتًا", "11 ناخبًا"),
        (99, "99 مقعدًا", "99 صوتًا", "99 ناخبًا"),
        (100, "100 مقعد", "100 صوت", "100 ناخب"),
        (102, "102 مقعد", "102 صوت", "102 ناخب"),
        (103, "103 مقاعد", "103 أصوات", "103 ناخبين"),
        (111, "111 مقعدًا", "111 صوتًا", "111 ناخبًا"),
        (496279, "496279 مقعدًا", "496279 صوتًا", "496279 ناخبًا"),
    ],
)
def test_arabic_counts_take_their_grammatical_forms(n: int, seats: str, votes: str, voters: str) -> None:
    assert count(n, Noun.SEAT, "ar") == seats
    assert count(n, Noun.VOTE, "ar") == votes
    assert count(n, Noun.VOTER, "ar") == voters


def test_every_noun_has_a_dual_a_plural_and_an_accusative_in_arabic_and_english_plurals() -> None:
    assert [count(n, Noun.BALLOT, "ar") for n in (1, 2, 5, 20)] == ["1 ورقة", "2 ورقتان", "5 أوراق", "20 ورقةً"]
    assert [count(n, Noun.KIOSK, "ar") for n in (1, 2, 5, 20)] == ["1 جهاز", "2 جهازان", "5 أجهزة", "20 جهازًا"]
    for noun, (forms, one, many) in NOUNS.items():
        assert len({forms.singular, forms.dual, forms.plural, forms.accusative}) == 4, noun
        assert count(1, noun, "en") == f"1 {one}" and count(2, noun, "en") == f"2 {many}"
        assert count(0, noun, "en") == f"0 {many}"
    with pytest.raises(ValueError, match="negative"):
        count(-1, Noun.SEAT, "ar")


@given(st.integers(min_value=0, max_value=10**7))
def test_the_arabic_category_depends_on_the_last_two_digits_above_a_hundred(n: int) -> None:
    category = arabic_category(n)
    if n >= 100:
        rest = n % 100
        assert category == {0: "other", 1: "other", 2: "other"}.get(rest, "few" if rest <= 10 else "many")
    assert category in ("zero", "one", "two", "few", "many", "other")


def _both(text: tuple[Tone, str, str]) -> tuple[str, str]:
    _tone, ar, en = text
    assert ar and en and ar != en
    assert ARABIC.search(ar) and not LATIN.search(ar), f"English left in the Arabic text: {ar!r}"
    assert not ARABIC.search(en), en
    return ar, en


def test_every_ballot_status_has_its_lookup_text_in_both_languages_and_only_counted_gets_the_tick() -> None:
    outcomes = {lookup_of(s.value) for s in BallotStatus} | {lookup_of("spoiled"), lookup_of(None)}
    assert outcomes == set(Lookup) - {Lookup.MALFORMED}  # (the page answers that one before any lookup)
    for outcome in Lookup:
        tone, _ar, _en = lookup_text(outcome)
        _both(lookup_text(outcome))
        assert (tone is Tone.GOOD) == (outcome is Lookup.COUNTED), outcome
    assert lookup_of(BallotStatus.REJECTED.value) is Lookup.NOT_COUNTED_BY_COMMITTEE
    assert lookup_text(Lookup.NOT_COUNTED_BY_COMMITTEE)[0] is Tone.BAD


def test_every_polls_centre_and_verification_state_is_said_in_both_languages() -> None:
    for polls in KioskPollsState:
        _both(polls_text(polls))
    for centre in CentreState:
        _both(centre_state_text(centre))
    for v in Verification:
        _both(verification_text(v))
    for v in (Verification.NOT_VERIFIED, Verification.PROVISIONAL_FAILED):
        assert verification_text(v)[0] is Tone.BAD and "NOT VERIFIED" in verification_text(v)[2]
        assert "لم يتحقق" in verification_text(v)[1]
    for key, (ar, en) in T.items():
        if key != "other":  # the link to the other language names it in that language
            assert ar and en and not LATIN.search(ar), key


def test_times_are_in_omans_time_with_the_zone_named() -> None:
    today = dt.datetime(2026, 10, 25, 12, 0, tzinfo=dt.UTC)
    assert local_time(dt.datetime(2026, 10, 25, 13, 5, 9, tzinfo=dt.UTC), MUSCAT, today) == (
        "<bdi dir='ltr'>17:05:09</bdi>"
    )
    # 21:30 UTC is already the next day in Muscat: the date is shown.
    assert "2026-10-26 01:30" in local_time(dt.datetime(2026, 10, 25, 21, 30, tzinfo=dt.UTC), MUSCAT, today)
    assert local_time(dt.datetime(2026, 10, 25, 13, 5, 9), MUSCAT, today, seconds=False).endswith(">17:05</bdi>")
    assert zone_label(MUSCAT, "en", today) == "Oman time, <bdi dir='ltr'>UTC+04:00</bdi>"
    assert zone_label(MUSCAT, "ar", today).startswith("توقيت عُمان")


@given(st.integers(min_value=1, max_value=200), st.integers(min_value=200, max_value=1200))
def test_day_chart_labels_stay_inside_the_chart_and_apart(n: int, width: int) -> None:
    pad_l, font = 40, 13
    step = (width - pad_l - 10) / max(n - 1, 1)
    label_w = 5 * font * LABEL_EM
    picked = axis_labels(n, step, label_w)
    assert picked[0] == 0 and picked[-1] == n - 1 and picked == sorted(set(picked))
    spans = []
    for i in picked:
        x = pad_l + i * step
        if i == n - 1 and n > 1:
            spans.append((x - label_w, x))
        elif i == 0:
            spans.append((x, x + label_w))
        else:
            spans.append((x - label_w / 2, x + label_w / 2))
    assert all(a >= 0 and b <= width for a, b in spans), spans
    if n > 1 and step * (n - 1) >= 2 * label_w:
        assert all(spans[j][1] <= spans[j + 1][0] for j in range(len(spans) - 1)), spans


def test_the_last_label_of_the_day_chart_ends_at_its_point() -> None:
    svg = line_chart([(f"{7 + i // 4:02d}:{15 * (i % 4):02d}", i) for i in range(43)])
    labels = re.findall(r"<text x='([\d.]+)' y='\d+' text-anchor='(\w+)' class='lbl'>([\d:]+)</text>", svg)
    assert labels[-1][1:] == ("end", "17:30") and labels[0][1:] == ("start", "07:00")
