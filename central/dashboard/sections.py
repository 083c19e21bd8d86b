"""The dashboard's sections, rendered from one read of the office (``Board``): turnout, the day, polling centres,
kiosks and results. Each section is an element with a fixed id; the live feed sends them again to replace them."""

from __future__ import annotations

import datetime as dt
import html
import re
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from central import exports, pollbook, results
from central.capabilities import Observed
from central.dashboard.charts import bar_chart, line_chart
from central.dashboard.i18n import (
    CentreState,
    Lang,
    Noun,
    Tone,
    Verification,
    badge,
    centre_state_text,
    count,
    local_time,
    ltr,
    polls_text,
    say,
    t,
    verification_text,
    zone_label,
)
from central.models import CentreStatus, PublishedResult
from central.phase import CentrePhase
from central.public_view import KioskStatus, kiosk_statuses
from sync.protocol import KioskPollsState

LIVE_SECTIONS = ("turnout", "day", "centre-states", "kiosks", "results")
MAX_DAY_BUCKETS = 24 * 4  # a day of 15-minute buckets: the day chart never grows past this


@dataclass(frozen=True)
class CentreRow:
    centre_id: str
    state: CentreState
    closed_at: dt.datetime | None


@dataclass(frozen=True)
class Board:
    """Everything the sections show, read at one moment."""

    now: dt.datetime
    tz: zoneinfo.ZoneInfo
    bucket_minutes: int
    turnout: list[pollbook.WilayatTurnout]
    buckets: list[tuple[str, str, dt.datetime, int]]
    centres: dict[str, CentreRow]
    kiosks: list[KioskStatus]
    latest: PublishedResult | None


def _centre_state(row: CentreStatus) -> CentreState:
    """The centre's state from its lifecycle phase (``central.phase.CentrePhase``) and close."""
    try:
        phase = CentrePhase(row.phase)
    except ValueError:
        phase = CentrePhase.OPEN  # an unknown phase name: the close below still decides
    if row.closed_at is not None or phase is CentrePhase.CLOSED:
        return CentreState.CLOSED_MANUAL if row.manual else CentreState.CLOSED
    if phase is CentrePhase.CLOSING:
        return CentreState.CLOSING
    return CentreState.OPEN


def read_board(office: Observed) -> Board:
    with office.db.transaction() as s:
        turnout = sorted(pollbook.turnout_by_wilayat(s), key=lambda w: w.wilayat)
        buckets = pollbook.turnout_buckets(s)
        kiosks = kiosk_statuses(s)
        centres = {
            r.centre_id: CentreRow(r.centre_id, _centre_state(r), r.closed_at) for r in s.scalars(select(CentreStatus))
        }
    return Board(
        now=office.clock(),
        tz=zoneinfo.ZoneInfo(office.manifest.timezone),
        bucket_minutes=office.turnout_bucket_minutes,
        turnout=turnout,
        buckets=buckets,
        centres=centres,
        kiosks=kiosks,
        latest=results.latest(office.db),
    )


def _wilayat(office: Observed, code: str, lang: Lang) -> str:
    w = office.manifest.wilayats_by_code.get(code)  # type: ignore[call-overload]
    return (w.name.ar if lang == "ar" else w.name.en) if w else code


def _centre_names(office: Observed, lang: Lang) -> dict[str, str]:
    return {c.id: (c.name.ar if lang == "ar" else c.name.en) for c in office.manifest.centres}


def _zone(board: Board, lang: Lang) -> str:
    return zone_label(board.tz, lang, board.now)


def turnout(office: Observed, board: Board, lang: Lang) -> str:
    chart = bar_chart(
        [(_wilayat(office, w.wilayat, lang), 100 * w.voted / max(w.registered, 1)) for w in board.turnout],
        unit="%",
    )
    rows = "".join(
        f"<tr><td>{html.escape(_wilayat(office, w.wilayat, lang))}</td><td class='num'>{w.registered}</td>"
        f"<td class='num'>{w.voted}</td></tr>"
        for w in board.turnout
    )
    voted, registered = sum(w.voted for w in board.turnout), sum(w.registered for w in board.turnout)
    summary = (
        f"<p class='summary'>{t('voted', lang)}: {count(voted, Noun.VOTER, lang)} {t('of', lang)} {registered}</p>"
    )
    return (
        f"<section id='turnout'><h2>{t('turnout', lang)}</h2>{summary}{chart}<div class='scroll'><table><thead><tr>"
        f"<th>{t('wilayat', lang)}</th><th class='num'>{t('registered', lang)}</th>"
        f"<th class='num'>{t('voted', lang)}</th></tr></thead><tbody>{rows}</tbody></table></div></section>"
    )


def day_points(board: Board) -> list[tuple[str, int]]:
    """Cumulative voters at the end of each bucket, every bucket from the first with a vote to the last (or to now
    while a centre is open), labelled with the bucket's end time in the election's zone."""
    per_time: dict[dt.datetime, int] = defaultdict(int)
    for _centre, _w, start, n in board.buckets:
        per_time[start] += n
    if not per_time:
        return []
    step = dt.timedelta(minutes=board.bucket_minutes)
    first, last = min(per_time), max(per_time)
    if any(c.state is CentreState.OPEN for c in board.centres.values()):
        last = max(last, pollbook.bucket_start(board.now, board.bucket_minutes))
    last = min(last, first + step * (MAX_DAY_BUCKETS - 1))
    points, cumulative, at = [], 0, first
    while at <= last:
        cumulative += per_time.get(at, 0)
        points.append(((at + step).astimezone(board.tz).strftime("%H:%M"), cumulative))
        at += step
    return points


def day(office: Observed, board: Board, lang: Lang) -> str:
    per_centre: dict[str, int] = defaultdict(int)
    for centre, _w, _start, n in board.buckets:
        per_centre[centre] += n
    names = _centre_names(office, lang)
    centre_chart = bar_chart([(names.get(c.id, c.id), per_centre.get(c.id, 0)) for c in office.manifest.centres])
    return (
        f"<section id='day'><h2>{t('day', lang)}</h2><p class='zone'>{t('times', lang)}: {_zone(board, lang)}</p>"
        f"{line_chart(day_points(board))}<h2>{t('centres', lang)}</h2>{centre_chart}</section>"
    )


def centre_states(office: Observed, board: Board, lang: Lang) -> str:
    per_centre: dict[str, int] = defaultdict(int)
    for centre, _w, _start, n in board.buckets:
        per_centre[centre] += n
    rows = []
    for c in office.manifest.centres:
        row = board.centres.get(c.id)
        state = row.state if row else CentreState.OPEN
        when = local_time(row.closed_at, board.tz, board.now, seconds=False) if row and row.closed_at else ""
        name = c.name.ar if lang == "ar" else c.name.en
        rows.append(
            f"<tr data-centre='{html.escape(c.id)}'><td>{html.escape(name)}</td>"
            f"<td class='state'>{badge(centre_state_text(state), lang, mark=False)} {when}</td>"
            f"<td class='num'>{count(per_centre.get(c.id, 0), Noun.VOTER, lang)}</td></tr>"
        )
    return (
        f"<section id='centre-states'><h2>{t('centre_states', lang)}</h2><div class='scroll'><table><thead><tr>"
        f"<th>{t('centre', lang)}</th><th>{t('state', lang)} ({_zone(board, lang)})</th>"
        f"<th class='num'>{t('voted', lang)}</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div></section>"
    )


def _kiosk_state(k: KioskStatus, board: Board, lang: Lang) -> str:
    centre = board.centres.get(k.centre_id)
    if centre is not None and centre.state in (CentreState.CLOSED, CentreState.CLOSED_MANUAL):
        return badge(polls_text(KioskPollsState.CLOSED), lang, mark=False)  # its centre closed, whatever it last said
    try:
        state = KioskPollsState(k.polls_state) if k.polls_state else None
    except ValueError:
        state = None
    if state is None:
        return "—"
    return badge(polls_text(state), lang, mark=False)


def kiosk_table(office: Observed, board: Board, lang: Lang) -> str:
    """The kiosks' table; on a phone each row is a card whose cells carry their column's name (``data-label``)."""
    names = _centre_names(office, lang)
    zone = re.sub(r"<[^>]+>", "", _zone(board, lang))  # as plain text, for the label attribute
    label = {x: t(x, lang) for x in ("kiosk", "centre", "state", "seen", "ballots", "backlog")}
    label["seen"] = f"{label['seen']} ({zone})"
    rows = []
    for k in board.kiosks:
        seen = local_time(dt.datetime.fromisoformat(k.last_seen_at), board.tz, board.now) if k.last_seen_at else "—"
        enrolled = "" if k.enrolled else f" <span class='st bad'>{t('not_enrolled', lang)}</span>"
        cells = (
            ("kiosk", "id", f"{ltr(k.kiosk_id)}{enrolled}"),
            ("centre", "centre", html.escape(names.get(k.centre_id, k.centre_id))),
            ("state", "state", _kiosk_state(k, board, lang)),
            ("seen", "seen", seen),
            ("ballots", "num", str(k.ballots_accepted)),
            ("backlog", "num", str(sum(k.backlog.values()))),
        )
        rows.append(
            f"<tr data-kiosk='{html.escape(k.kiosk_id)}'>"
            + "".join(f"<td class='{cls}' data-label='{label[key]}'>{value}</td>" for key, cls, value in cells)
            + "</tr>"
        )
    head = "".join(
        f"<th>{label[x]}</th>" if x != "seen" else f"<th>{t(x, lang)} ({_zone(board, lang)})</th>" for x in label
    )
    return (
        f"<section id='kiosks'><h2>{t('kiosks', lang)} ({count(len(board.kiosks), Noun.KIOSK, lang)})</h2>"
        f"<table class='cards'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def verification_of(latest: PublishedResult) -> Verification:
    """Verified only when the stored verdict and the results' status both say so (``central.exports.verified``)."""
    if latest.verified is True and exports.verified(latest.results):
        return Verification.VERIFIED
    if latest.results.get("status") == Verification.PROVISIONAL_FAILED.value:
        return Verification.PROVISIONAL_FAILED
    return Verification.NOT_VERIFIED


def _tie_text(tie: dict[str, Any], lang: Lang) -> str:
    """The tie for the last seat(s) and its rule (``central.results.winners``), counts in their grammatical forms."""
    rule = str(tie["rule_ar"] if lang == "ar" else tie["rule"])
    votes, seats = count(int(tie["votes"]), Noun.VOTE, lang), count(int(tie["seats"]), Noun.SEAT, lang)
    if lang == "en":
        rule = rule[:1].upper() + rule[1:]
    if tie["resolved"]:
        lead = "تعادل على المقعد الأخير" if lang == "ar" else "Tie for the last seat"
        return html.escape(f"{lead} ({votes}): {rule}")
    return html.escape(f"{rule} ({votes}{'،' if lang == 'ar' else ','} {seats})")


def _contest(office: Observed, contest: Any, r: dict[str, Any], lang: Lang, verified: bool) -> str:
    name = contest.name.ar if lang == "ar" else contest.name.en
    tie = exports.tie_of(r) if verified else None
    undecided = set(tie["candidates"]) if tie and not tie["resolved"] else set()
    items = [
        (
            (c.name.ar if lang == "ar" else c.name.en)
            + (" ★" if verified and c.id in r["elected"] else "")
            + (f" ⚖ {t('tied', lang)}" if c.id in undecided else ""),
            float(r["total"]["votes"].get(c.id, 0)),
        )
        for c in contest.active_candidates
    ]
    items.sort(key=lambda x: -x[1])
    total = r["total"]
    facts = (
        f"{count(int(r['seats']), Noun.SEAT, lang)} · {count(int(total['ballots']), Noun.BALLOT, lang)} · "
        f"{t('blank', lang)}: {int(total['blank'])}"
    )
    parts = [f"<div class='contest{'' if verified else ' unverified'}'><h3>{html.escape(name)}"]
    if verified:
        parts.append(f" <a href='/api/public/reports/{html.escape(contest.wilayat)}'>{t('report', lang)}</a>")
    else:
        parts.append(f" <span class='st bad stamp'>⚠ {t('unverified', lang)}</span>")
    parts.append(f"</h3><p class='facts'>{facts}</p>")
    if tie:
        parts.append(f"<p class='tie'>⚖ {_tie_text(tie, lang)}</p>")
    if r["manual"]:
        parts.append(f"<p>{t('manual', lang)}</p>")
    parts.append(bar_chart(items, title_of=lambda v: count(int(v), Noun.VOTE, lang)))
    parts.append("</div>")
    return "".join(parts)


def results_section(office: Observed, board: Board, lang: Lang) -> str:
    latest = board.latest
    if latest is None:
        return f"<section id='results'><h2>{t('results', lang)}</h2><p>{t('none', lang)}</p></section>"
    verification = verification_of(latest)
    verified = verification is Verification.VERIFIED
    tone, words = say(verification_text(verification), lang)
    computed = local_time(latest.computed_at, board.tz, board.now, seconds=False)
    reason = latest.results.get("status_reason") if not verified else None
    parts = [
        f"<section id='results' class='{'' if verified else 'unverified'}'><h2>{t('results', lang)}</h2>",
        f"<p class='verdict st {tone.value}' role='{'status' if verified else 'alert'}'>"
        f"{'✔' if tone is Tone.GOOD else '⚠'} {words}"
        + (f"<br>{t('reason', lang)}: {html.escape(str(reason))}" if reason else "")
        + "</p>",
        f"<p class='zone'>{t('computed', lang)} {computed} ({_zone(board, lang)})</p>",
    ]
    for contest in office.manifest.contests:
        parts.append(_contest(office, contest, latest.results["contests"][contest.id], lang, verified))
    parts.append("</section>")
    return "".join(parts)


def render_sections(office: Observed, board: Board, lang: Lang) -> dict[str, str]:
    """The live sections by element id (``LIVE_SECTIONS``), in page order."""
    return {
        "turnout": turnout(office, board, lang),
        "day": day(office, board, lang),
        "centre-states": centre_states(office, board, lang),
        "kiosks": kiosk_table(office, board, lang),
        "results": results_section(office, board, lang),
    }
