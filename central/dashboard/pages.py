"""Dashboard pages for the central office and observers, in Arabic (dir="rtl") and English.

``/`` and ``/ar`` Arabic, ``/en`` English: live turnout per wilayat and per centre, turnout over the day
(from the 15-minute buckets), kiosks' status and backlog, results with charts once published, and the voters'
confirmation-code lookup (``/{lang}/confirm?code=...``). Server-rendered HTML with inline SVG; no scripts.
"""

from __future__ import annotations

import datetime as dt
import html
import zoneinfo
from collections import defaultdict
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from central import exports, pollbook, results
from central.api.deps import OfficeDep
from central.api.public_routes import confirmation, kiosks
from central.dashboard.charts import bar_chart, line_chart
from central.office import Office

router = APIRouter(include_in_schema=False)

T = {
    "title": ("لوحة المكتب المركزي", "Central office dashboard"),
    "turnout": ("نسبة المشاركة حسب الولاية", "Turnout by wilayat"),
    "centres": ("المصوتون حسب المركز", "Voters by polling centre"),
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
    "polls.setup": ("لم يُفتح بعد", "not yet open"),
    "polls.open": ("مفتوح", "open"),
    "polls.paused": ("متوقف: التصويت اليدوي (المادة 8)", "paused: voting on paper (Art. 8)"),
    "polls.closed": ("مغلق", "closed"),
    "none": ("لم تُعلن النتائج بعد", "No results published yet"),
    "verified": ("تحقق منها المدقق المستقل", "Checked by the independent verifier"),
    "manual": ("يشمل نتائج يدوية (المادتان 8 و9)", "Includes manual results (Art. 8, 9)"),
    "found": ("ورقتك مسجلة لدى المكتب المركزي", "Your ballot is held by the central office"),
    "notfound": ("لم يُعثر على هذا الرمز (قد لا يكون وصل بعد)", "Code not found (it may not have arrived yet)"),
    "other": ("English", "العربية"),
    "report": ("تقرير للطباعة", "Printable report"),
    "elected": ("فائز", "elected"),
    "tied": ("تعادل", "tied"),
}

CSS = """
:root{--ink:#1b1b1b;--muted:#5b5b5b;--accent:#0b6e4f;--bg:#f6f5f1;--card:#fff}
*{box-sizing:border-box}
body{margin:0;font-family:'Amiri','DejaVu Sans',sans-serif;background:var(--bg);color:var(--ink)}
header{background:var(--accent);color:#fff;padding:.8rem 1.5rem;display:flex;
justify-content:space-between;align-items:center}
header a{color:#fff}
h1{font-size:1.4rem;margin:0}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:1rem;padding:1rem}
section{background:var(--card);border-radius:8px;padding:1rem;box-shadow:0 1px 3px #0002}
h2{margin-top:0;font-size:1.15rem}
table{border-collapse:collapse;width:100%}
th,td{padding:.3rem .4rem;border-bottom:1px solid #ddd;text-align:start}
.num{text-align:end;font-variant-numeric:tabular-nums}
.chart .bar{fill:var(--accent)}
.chart .lbl,.chart .val{font-size:13px;fill:var(--ink)}
.chart .line{fill:none;stroke:var(--accent);stroke-width:2.5}
.chart .area{fill:#0b6e4f22}
.chart .axis{stroke:#999}
.ok{color:var(--accent)}
.warn{color:#a33}
.won{font-weight:bold}
input{font-size:1rem;padding:.3rem;width:16rem}
"""


def _t(key: str, lang: str) -> str:
    ar, en = T[key]
    return html.escape(ar if lang == "ar" else en)


def _polls(state: str | None, lang: str) -> str:
    """A kiosk's polls state as staff say it; ``paused`` is the switch to the manual method (the kiosk's staff
    card action), so the office knows to expect that centre's paper result sheet."""
    if state is None:
        return "—"
    return _t(f"polls.{state}", lang) if f"polls.{state}" in T else html.escape(state)


def _page(lang: str, body: str) -> HTMLResponse:
    direction = "rtl" if lang == "ar" else "ltr"
    other = "en" if lang == "ar" else "ar"
    return HTMLResponse(
        f"<!doctype html><html lang='{lang}' dir='{direction}'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width'><title>{_t('title', lang)}</title>"
        f"<style>{CSS}</style></head><body><header><h1>{_t('title', lang)}</h1>"
        f"<a href='/{other}' hreflang='{other}'>{_t('other', lang)}</a></header><main>{body}</main></body></html>"
    )


def _name(office: Office, code: str, lang: str) -> str:
    w = office.manifest.wilayats_by_code.get(code)  # type: ignore[call-overload]
    return (w.name.ar if lang == "ar" else w.name.en) if w else code


def _turnout(office: Office, lang: str) -> str:
    with office.db.transaction() as s:
        rows = sorted(pollbook.turnout_by_wilayat(s), key=lambda t: t.wilayat)
        buckets = pollbook.turnout_buckets(s)
    chart = bar_chart(
        [(_name(office, t.wilayat, lang), 100 * t.voted / max(t.registered, 1)) for t in rows],
        unit="%",
        rtl=lang == "ar",
    )
    table = "".join(
        f"<tr><td>{html.escape(_name(office, t.wilayat, lang))}</td><td class='num'>{t.registered}</td>"
        f"<td class='num'>{t.voted}</td></tr>"
        for t in rows
    )
    per_centre: dict[str, int] = defaultdict(int)
    per_time: dict[dt.datetime, int] = defaultdict(int)
    for centre, _w, start, n in buckets:
        per_centre[centre] += n
        per_time[start] += n
    names: dict[str, str] = {c.id: (c.name.ar if lang == "ar" else c.name.en) for c in office.manifest.centres}
    centre_chart = bar_chart([(names.get(c, c), n) for c, n in sorted(per_centre.items())], rtl=lang == "ar")
    tz = zoneinfo.ZoneInfo(office.manifest.timezone)
    cumulative, points = 0, []
    for start in sorted(per_time):
        cumulative += per_time[start]
        points.append((start.astimezone(tz).strftime("%H:%M"), cumulative))
    return (
        f"<section id='turnout'><h2>{_t('turnout', lang)}</h2>{chart}<table><thead><tr><th>{_t('wilayat', lang)}</th>"
        f"<th class='num'>{_t('registered', lang)}</th><th class='num'>{_t('voted', lang)}</th></tr></thead>"
        f"<tbody>{table}</tbody></table></section>"
        f"<section id='day'><h2>{_t('day', lang)}</h2>{line_chart(points)}"
        f"<h2>{_t('centres', lang)}</h2>{centre_chart}</section>"
    )


def _kiosks(office: Office, lang: str) -> str:
    rows = []
    for k in kiosks(office):
        backlog = sum(k.backlog.values())
        seen = k.last_seen_at[11:19] if k.last_seen_at else "—"
        cls = "ok" if k.enrolled else "warn"
        rows.append(
            f"<tr><td class='{cls}'>{html.escape(k.kiosk_id)}</td><td>{html.escape(k.centre_id)}</td>"
            f"<td>{_polls(k.polls_state, lang)}</td><td>{seen}</td><td class='num'>{k.ballots_accepted}</td>"
            f"<td class='num'>{backlog}</td></tr>"
        )
    head = "".join(f"<th>{_t(x, lang)}</th>" for x in ("kiosk", "centre", "state", "seen", "ballots", "backlog"))
    return (
        f"<section id='kiosks'><h2>{_t('kiosks', lang)}</h2><table><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _results(office: Office, lang: str) -> str:
    latest = results.latest(office)
    if latest is None:
        return f"<section id='results'><h2>{_t('results', lang)}</h2><p>{_t('none', lang)}</p></section>"
    parts = [f"<section id='results'><h2>{_t('results', lang)}</h2>"]
    if latest.verified:
        parts.append(f"<p class='ok'>✔ {_t('verified', lang)}</p>")
    for contest in office.manifest.contests:
        r = latest.results["contests"][contest.id]
        name = contest.name.ar if lang == "ar" else contest.name.en
        tie = exports.tie_of(r)
        undecided = set(tie["candidates"]) if tie and not tie["resolved"] else set()
        items = [
            (
                (c.name.ar if lang == "ar" else c.name.en)
                + (" ★" if c.id in r["elected"] else "")
                + (f" ⚖ {_t('tied', lang)}" if c.id in undecided else ""),
                float(r["total"]["votes"].get(c.id, 0)),
            )
            for c in contest.active_candidates
        ]
        items.sort(key=lambda x: -x[1])
        parts.append(
            f"<h3>{html.escape(name)} <a href='/api/public/reports/{contest.wilayat}'>{_t('report', lang)}</a></h3>"
        )
        if tie:
            parts.append(f"<p class='tie'>⚖ {html.escape(exports.tie_text(tie, lang))}</p>")
        if r["manual"]:
            parts.append(f"<p>{_t('manual', lang)}</p>")
        parts.append(bar_chart(items, rtl=lang == "ar"))
    parts.append("</section>")
    return "".join(parts)


def _lookup(lang: str, answer: str = "") -> str:
    return (
        f"<section id='lookup'><h2>{_t('lookup', lang)}</h2><form method='get' action='/{lang}/confirm'>"
        f"<input name='code' placeholder='XXXX-XXXX-XXXX-XXXX' dir='ltr' maxlength='80'> "
        f"<button type='submit'>{_t('check', lang)}</button></form>{answer}</section>"
    )


def dashboard(office: Office, lang: str) -> HTMLResponse:
    return _page(lang, _turnout(office, lang) + _kiosks(office, lang) + _results(office, lang) + _lookup(lang))


@router.get("/", response_class=HTMLResponse)
def home(office: OfficeDep) -> HTMLResponse:
    return dashboard(office, "ar")


@router.get("/ar", response_class=HTMLResponse)
def arabic(office: OfficeDep) -> HTMLResponse:
    return dashboard(office, "ar")


@router.get("/en", response_class=HTMLResponse)
def english(office: OfficeDep) -> HTMLResponse:
    return dashboard(office, "en")


@router.get("/{lang}/confirm", response_class=HTMLResponse)
def confirm(lang: str, office: OfficeDep, code: Annotated[str, Query(max_length=128)] = "") -> HTMLResponse:
    lang = "en" if lang == "en" else "ar"
    found = confirmation(code, office) if code else None
    if found is None:
        answer = ""
    elif found.found:
        answer = f"<p class='ok' id='answer'>✔ {_t('found', lang)} ({html.escape(found.status or '')})</p>"
    else:
        answer = f"<p class='warn' id='answer'>{_t('notfound', lang)}</p>"
    return _page(lang, _lookup(lang, answer))
