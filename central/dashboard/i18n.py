"""The dashboard's words in Arabic and English: the catalogue, counted nouns in their grammatical forms, every
status a page can show, and times in the election's time zone with the zone named.

Every status is an enum matched exhaustively, so a new status without its two texts fails mypy and the tests
(``tests/central/test_dashboard_text.py``)."""

from __future__ import annotations

import datetime as dt
import enum
import html
import zoneinfo
from dataclasses import dataclass
from typing import Literal, assert_never

from central.models import BallotStatus
from sync.protocol import KioskPollsState

Lang = Literal["ar", "en"]

T: dict[str, tuple[str, str]] = {
    "title": ("لوحة المكتب المركزي", "Central office dashboard"),
    "turnout": ("نسبة المشاركة حسب الولاية", "Turnout by wilayat"),
    "centres": ("المصوتون حسب المركز", "Voters by polling centre"),
    "centre_states": ("مراكز الاقتراع", "Polling centres"),
    "day": ("المشاركة خلال اليوم", "Turnout over the day"),
    "kiosks": ("أجهزة التصويت", "Voting kiosks"),
    "results": ("النتائج", "Results"),
    "lookup": ("التحقق من رمز التأكيد", "Check your confirmation code"),
    "check": ("تحقق", "Check"),
    "wilayat": ("الولاية", "Wilayat"),
    "registered": ("المسجلون", "Registered"),
    "voted": ("صوّتوا", "Voted"),
    "kiosk": ("الجهاز", "Kiosk"),
    "centre": ("المركز", "Centre"),
    "state": ("الحالة", "State"),
    "seen": ("آخر اتصال", "Last seen"),
    "ballots": ("أوراق مستلمة", "Ballots received"),
    "backlog": ("بانتظار الإرسال", "Backlog"),
    "times": ("الأوقات", "Times"),
    "none": ("لم تُعلن النتائج بعد", "No results published yet"),
    "manual": ("يشمل نتائج يدوية (المادتان 8 و9)", "Includes manual results (Art. 8, 9)"),
    "other": ("English", "العربية"),
    "report": ("تقرير للطباعة", "Printable report"),
    "tied": ("تعادل", "tied"),
    "blank": ("أوراق بيضاء", "blank"),
    "computed": ("حُسبت في", "Computed at"),
    "of": ("من", "of"),
    "live.on": ("مباشر: تتحدث الأرقام تلقائيًا", "Live: figures update by themselves"),
    "live.off": ("التحديث المباشر متوقف: أعد تحميل الصفحة", "Live updates stopped: reload the page"),
    "live.at": ("آخر تحديث", "updated"),
    "not_enrolled": ("غير مسجل", "not enrolled"),
    "unverified": ("لم يتحقق منها المدقق", "NOT VERIFIED"),
    "reason": ("السبب", "Reason"),
}


def t(key: str, lang: Lang) -> str:
    """The catalogue text for ``key``, HTML-escaped."""
    ar, en = T[key]
    return html.escape(ar if lang == "ar" else en)


def ltr(text: str) -> str:
    """A left-to-right token (an id, a code, a time, an offset) isolated inside Arabic text, HTML-escaped."""
    return f"<bdi dir='ltr'>{html.escape(text)}</bdi>"


# ---- counted nouns ------------------------------------------------------------------------------------------


class Noun(enum.Enum):
    SEAT = "seat"
    VOTE = "vote"
    BALLOT = "ballot"
    VOTER = "voter"
    KIOSK = "kiosk"
    CENTRE = "centre"


@dataclass(frozen=True)
class ArabicForms:
    """A noun after a number: ``singular`` (1, and 100-102...: genitive), ``dual`` (2), ``plural`` (3-10,
    genitive plural), ``accusative`` (11-99: the singular as tamyiz, with tanwin)."""

    singular: str
    dual: str
    plural: str
    accusative: str


NOUNS: dict[Noun, tuple[ArabicForms, str, str]] = {
    Noun.SEAT: (ArabicForms("مقعد", "مقعدان", "مقاعد", "مقعدًا"), "seat", "seats"),
    Noun.VOTE: (ArabicForms("صوت", "صوتان", "أصوات", "صوتًا"), "vote", "votes"),
    Noun.BALLOT: (ArabicForms("ورقة", "ورقتان", "أوراق", "ورقةً"), "ballot", "ballots"),
    Noun.VOTER: (ArabicForms("ناخب", "ناخبان", "ناخبين", "ناخبًا"), "voter", "voters"),
    Noun.KIOSK: (ArabicForms("جهاز", "جهازان", "أجهزة", "جهازًا"), "kiosk", "kiosks"),
    Noun.CENTRE: (ArabicForms("مركز", "مركزان", "مراكز", "مركزًا"), "centre", "centres"),
}

PluralCategory = Literal["zero", "one", "two", "few", "many", "other"]


def arabic_category(n: int) -> PluralCategory:
    """Unicode CLDR's plural rule for Arabic (integers): zero 0; one 1; two 2; few n % 100 in 3..10; many
    n % 100 in 11..99; other everything else (100-102, 200-202, ...)."""
    if n < 0:
        raise ValueError(f"a count cannot be negative: {n}")
    rest = n % 100
    if n == 0:
        return "zero"
    if n == 1:
        return "one"
    if n == 2:
        return "two"
    if 3 <= rest <= 10:
        return "few"
    if 11 <= rest <= 99:
        return "many"
    return "other"


def count(n: int, noun: Noun, lang: Lang) -> str:
    """``n`` followed by ``noun`` in its grammatical form: ``1 مقعد``, ``2 مقعدان``, ``3 مقاعد``, ``11 مقعدًا``,
    ``100 مقعد``; ``1 seat``, ``2 seats``. Zero takes the singular in Arabic (``0 مقعد``), as 100 does."""
    forms, one, many = NOUNS[noun]
    if lang == "en":
        if n < 0:
            raise ValueError(f"a count cannot be negative: {n}")
        return f"{n} {one if n == 1 else many}"
    category = arabic_category(n)
    if category == "two":
        word = forms.dual
    elif category == "few":
        word = forms.plural
    elif category == "many":
        word = forms.accusative
    else:  # zero, one, other
        word = forms.singular
    return f"{n} {word}"


# ---- statuses -----------------------------------------------------------------------------------------------


class Tone(enum.Enum):
    """How a status looks: ``good`` (green, a tick), ``pending`` (amber), ``bad`` (red, a cross), ``info``."""

    GOOD = "good"
    PENDING = "pending"
    BAD = "bad"
    INFO = "info"


MARK = {Tone.GOOD: "✔", Tone.PENDING: "⏳", Tone.BAD: "✘", Tone.INFO: "ℹ"}


class Lookup(enum.Enum):
    """What a voter's confirmation-code lookup says."""

    COUNTED = "counted"
    CHALLENGED = "challenged"
    AWAITING_COMMITTEE = "awaiting_committee"
    NOT_COUNTED_BY_COMMITTEE = "not_counted_by_committee"
    REFUSED = "refused"
    NOT_FOUND = "not_found"
    MALFORMED = "malformed"  # not a confirmation code at all (a character no code has)


def lookup_of(status: str | None) -> Lookup:
    """The lookup outcome for the public API's status (``/api/public/confirmation``: a ``BallotStatus`` value,
    ``spoiled`` for a challenged ballot, None when the code is not found)."""
    if status is None:
        return Lookup.NOT_FOUND
    if status == "spoiled":
        return Lookup.CHALLENGED
    s = BallotStatus(status)
    if s is BallotStatus.ACCEPTED:
        return Lookup.COUNTED
    if s is BallotStatus.FLAGGED:
        return Lookup.AWAITING_COMMITTEE
    if s is BallotStatus.REJECTED:
        return Lookup.NOT_COUNTED_BY_COMMITTEE
    if s is BallotStatus.REFUSED:
        return Lookup.REFUSED
    assert_never(s)


def lookup_text(outcome: Lookup) -> tuple[Tone, str, str]:
    """(tone, Arabic, English) for a lookup outcome. Only a counted ballot gets the green tick."""
    if outcome is Lookup.COUNTED:
        return (
            Tone.GOOD,
            "ورقتك مسجلة لدى المكتب المركزي وتُحتسب في الفرز",
            "Your ballot is held by the central office and counted",
        )
    if outcome is Lookup.CHALLENGED:
        return (
            Tone.INFO,
            "هذه ورقة اخترتَ فحصها (تحدّي الجهاز): نُشرت ولا تُحتسب",
            "You chose to check this ballot (a challenge): it is published, not counted",
        )
    if outcome is Lookup.AWAITING_COMMITTEE:
        return (
            Tone.PENDING,
            "ورقتك بانتظار قرار اللجنة (المادة 6): لا تُحتسب إلا إذا قبلتها اللجنة",
            "Your ballot awaits the committee's decision (Art. 6): it is counted only if the committee accepts it",
        )
    if outcome is Lookup.NOT_COUNTED_BY_COMMITTEE:
        return (
            Tone.BAD,
            "قررت اللجنة عدم احتساب هذه الورقة. راجع لجنة مركز الاقتراع",
            "The committee decided not to count this ballot. Ask your polling centre's committee",
        )
    if outcome is Lookup.REFUSED:
        return (
            Tone.BAD,
            "رفض المكتب المركزي هذه الورقة عند استلامها لأنها لم تجتز التحقق، فلا تُحتسب. راجع لجنة مركز الاقتراع",
            "The central office refused this ballot on arrival (it failed a check): it is not counted. "
            "Ask your polling centre's committee",
        )
    if outcome is Lookup.NOT_FOUND:
        return (
            Tone.BAD,
            "لم يُعثر على هذا الرمز (قد لا يكون وصل بعد)",
            "Code not found (it may not have arrived yet)",
        )
    if outcome is Lookup.MALFORMED:
        return (
            Tone.BAD,
            "هذا ليس رمز تأكيد: الرمز حروف وأرقام تفصل بينها شرطات كما يظهر على شاشة الجهاز",
            "This is not a confirmation code: a code is letters and digits in groups, as the kiosk showed it",
        )
    assert_never(outcome)


class CentreState(enum.Enum):
    OPEN = "open"
    CLOSING = "closing"  # the close was ordered: no new check-in, voters already checked in finish
    CLOSED = "closed"
    CLOSED_MANUAL = "closed_manual"  # closed, its votes counted on paper (Art. 8)


def centre_state_text(state: CentreState) -> tuple[Tone, str, str]:
    if state is CentreState.OPEN:
        return Tone.GOOD, "مفتوح", "open"
    if state is CentreState.CLOSING:
        return (
            Tone.PENDING,
            "يُغلق: لا تسجيل جديد، ومن سُجّل يُكمل تصويته",
            "closing: no new check-in, voters inside finish",
        )
    if state is CentreState.CLOSED:
        return Tone.INFO, "مغلق", "closed"
    if state is CentreState.CLOSED_MANUAL:
        return Tone.INFO, "مغلق، فرز يدوي (المادة 8)", "closed, counted on paper (Art. 8)"
    assert_never(state)


def polls_text(state: KioskPollsState) -> tuple[Tone, str, str]:
    """A kiosk's polls state as staff say it; ``paused`` is the switch to the manual method (the kiosk's staff
    card action), so the office knows to expect that centre's paper result sheet."""
    if state is KioskPollsState.SETUP:
        return Tone.INFO, "لم يُفتح بعد", "not yet open"
    if state is KioskPollsState.OPEN:
        return Tone.GOOD, "مفتوح", "open"
    if state is KioskPollsState.PAUSED:
        return Tone.PENDING, "متوقف: التصويت اليدوي (المادة 8)", "paused: voting on paper (Art. 8)"
    if state is KioskPollsState.CLOSED:
        return Tone.INFO, "مغلق", "closed"
    assert_never(state)


class Verification(enum.Enum):
    """The independent verifier's verdict on the election record behind the results (``central.results``:
    ``results["status"]``, ``central.exports.verified``)."""

    VERIFIED = "verified"
    NOT_VERIFIED = "not_verified"  # the verifier failed: stored, not published
    PROVISIONAL_FAILED = "provisional_verification_failed"  # published by an administrator anyway, with a reason


def verification_text(v: Verification) -> tuple[Tone, str, str]:
    if v is Verification.VERIFIED:
        return Tone.GOOD, "تحقق منها المدقق المستقل", "Checked by the independent verifier"
    if v is Verification.NOT_VERIFIED:
        return (
            Tone.BAD,
            "لم يتحقق منها المدقق المستقل: لم يقبل سجل الانتخاب، فهذه الأرقام ليست نتائج",
            "NOT VERIFIED: the independent verifier did not accept the election record, so these figures are not "
            "results",
        )
    if v is Verification.PROVISIONAL_FAILED:
        return (
            Tone.BAD,
            "نتائج مؤقتة، فشل التحقق: لم يتحقق منها المدقق المستقل، ونشرها المسؤول للسبب المذكور",
            "PROVISIONAL, VERIFICATION FAILED: NOT VERIFIED by the independent verifier, published by an "
            "administrator for the reason given",
        )
    assert_never(v)


def say(text: tuple[Tone, str, str], lang: Lang) -> tuple[Tone, str]:
    """The tone and the escaped text in ``lang``."""
    tone, ar, en = text
    return tone, html.escape(ar if lang == "ar" else en)


def badge(text: tuple[Tone, str, str], lang: Lang, *, mark: bool = True) -> str:
    """A status as an HTML span coloured by its tone, with its mark (tick, cross...) when ``mark``."""
    tone, words = say(text, lang)
    prefix = f"{MARK[tone]} " if mark else ""
    return f"<span class='st {tone.value}'>{prefix}{words}</span>"


# ---- times ----------------------------------------------------------------------------------------------------

ZONE_NAMES = {"Asia/Muscat": ("توقيت عُمان", "Oman time")}


def zone_label(tz: zoneinfo.ZoneInfo, lang: Lang, at: dt.datetime) -> str:
    """The zone as people name it plus its UTC offset at ``at``: ``Oman time, UTC+04:00``."""
    ar, en = ZONE_NAMES.get(tz.key, (tz.key, tz.key))
    offset = at.astimezone(tz).strftime("%z")
    sign_hours, minutes = offset[:3], offset[3:]
    return (
        f"{html.escape(ar if lang == 'ar' else en)}{'،' if lang == 'ar' else ','} {ltr(f'UTC{sign_hours}:{minutes}')}"
    )


def local_time(at: dt.datetime, tz: zoneinfo.ZoneInfo, today: dt.datetime, *, seconds: bool = True) -> str:
    """``at`` in the zone, as ``HH:MM[:SS]``, preceded by the date when it is not ``today``'s date there."""
    local = (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).astimezone(tz)
    text = local.strftime("%H:%M:%S" if seconds else "%H:%M")
    if local.date() != today.astimezone(tz).date():
        text = local.strftime("%Y-%m-%d ") + text
    return ltr(text)
