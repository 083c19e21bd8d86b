"""Dashboard pages for the central office and observers, in Arabic (dir="rtl") and English.

``/`` and ``/ar`` Arabic, ``/en`` English: turnout per wilayat and per centre, turnout over the day (from the
15-minute buckets), polling centres and kiosks with their state, results with charts once published (with an
unmistakable NOT VERIFIED warning when the independent verifier rejected the record), and the voters'
confirmation-code lookup (``/{lang}/confirm?code=...``). Server-rendered HTML with inline SVG; one small inline
script keeps the sections live from ``/{lang}/live`` (server-sent events, ``central.dashboard.live``) without a
reload. Nothing is loaded from elsewhere. Every time is in the election's zone (Asia/Muscat), the zone shown.
"""

from __future__ import annotations

import re
import zoneinfo
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from central import public_view
from central.api.deps import OfficeDep
from central.api.errors import error_response
from central.capabilities import Observed
from central.dashboard.i18n import Lang, Lookup, badge, local_time, lookup_of, lookup_text, ltr, t, zone_label
from central.dashboard.live import EventStream, LiveFeed, sections_digest
from central.dashboard.sections import read_board, render_sections
from sync.protocol import ErrorCode

router = APIRouter(include_in_schema=False)

CSS = """
:root{--ink:#1b1b1b;--muted:#5b5b5b;--accent:#0b6e4f;--bg:#f6f5f1;--card:#fff;--bad:#a31515;--pending:#8a5a00}
*{box-sizing:border-box}
body{margin:0;font-family:'Amiri','DejaVu Sans',sans-serif;background:var(--bg);color:var(--ink)}
header{background:var(--accent);color:#fff;padding:.8rem 1.5rem;display:flex;flex-wrap:wrap;gap:.5rem 1rem;
justify-content:space-between;align-items:center}
header a{color:#fff}
h1{font-size:1.4rem;margin:0}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(480px,100%),1fr));gap:1rem;padding:1rem}
section{background:var(--card);border-radius:8px;padding:1rem;box-shadow:0 1px 3px #0002;min-width:0}
h2{margin-top:0;font-size:1.15rem}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%}
th,td{padding:.3rem .4rem;border-bottom:1px solid #ddd;text-align:start}
.num{text-align:end;font-variant-numeric:tabular-nums}
.bars{margin:.4rem 0 .8rem}
.bars .row{display:grid;grid-template-columns:minmax(5rem,38%) 1fr;gap:.5rem;align-items:center;margin:.2rem 0}
.bars .lbl{font-size:.9rem;line-height:1.2}
.bars .track{display:flex;align-items:center;gap:.3rem;min-width:0}
.bars .bar{display:block;height:1rem;min-width:2px;background:var(--accent);border-radius:3px}
.bars .val{font-size:.85rem;font-variant-numeric:tabular-nums;white-space:nowrap}
.chart .lbl,.chart .val{font-size:13px;fill:var(--ink)}
.chart .line{fill:none;stroke:var(--accent);stroke-width:2.5}
.chart .area{fill:#0b6e4f22}
.chart .axis{stroke:#999}
.st.good{color:var(--accent)}
.st.bad{color:var(--bad)}
.st.pending{color:var(--pending)}
.st.info{color:var(--muted)}
.verdict{font-weight:bold}
.verdict.bad{background:var(--bad);color:#fff;padding:.6rem .8rem;border-radius:6px;font-size:1.15rem}
.unverified .bars .bar{background:#9a9a9a}
td bdi{white-space:nowrap}
.stamp{border:2px solid var(--bad);border-radius:4px;padding:0 .3rem;font-size:.9rem;white-space:nowrap}
.zone,.facts{color:var(--muted);margin:.2rem 0 .5rem}
.live{font-size:.95rem}
.live .off,.live.off .on{display:none}
.live.off .off{display:inline}
.live .dot{color:#9fe3c6}
.won{font-weight:bold}
#answer{font-size:1.1rem}
input{font-size:1rem;padding:.3rem;width:16rem;max-width:100%}
@media (max-width:600px){header{padding:.6rem .8rem}main{padding:.5rem;gap:.5rem}section{padding:.7rem}
th,td{padding:.25rem .2rem;font-size:.9rem}.chart .lbl,.chart .val{font-size:22px}
table.cards thead{display:none}table.cards tr{display:block;border-bottom:1px solid #ddd;padding:.3rem 0}
table.cards td{display:flex;justify-content:space-between;gap:1rem;border:none;padding:.1rem 0;text-align:start}
table.cards td::before{content:attr(data-label);color:var(--muted)}}
"""

# Replaces each live section with the one the feed sends (by element id); the lookup form is never replaced.
# When the feed is refused or gone for good (EventSource closed), it says so and tries again after 30 s.
SCRIPT = """
(()=>{const s=document.getElementById('live');if(!s||!window.EventSource){if(s)s.className='live off';return}
let es;function start(){es=new EventSource(s.dataset.src);
es.addEventListener('update',e=>{const d=JSON.parse(e.data);
for(const[id,h]of Object.entries(d.sections)){const el=document.getElementById(id);if(el)el.outerHTML=h}
s.querySelector('.at').innerHTML=d.at;s.className='live on'});
es.onopen=()=>{s.className='live on'};
es.onerror=()=>{if(es.readyState===2){s.className='live off';setTimeout(start,30000)}}}
start()})();
"""


def _lang(lang: str) -> Lang:
    return "en" if lang == "en" else "ar"


def _updated(office: Observed, lang: Lang) -> str:
    """The 'updated' time the page and the feed show: the office's clock, to the second, in the election's zone."""
    board_now = office.clock()
    tz = zoneinfo.ZoneInfo(office.manifest.timezone)
    return f"{local_time(board_now, tz, board_now)} {zone_label(tz, lang, board_now)}"


def _page(office: Observed, lang: Lang, body: str, *, live: str | None) -> HTMLResponse:
    """The page around ``body``; ``live``: the digest of its live sections (None: a page without the feed)."""
    direction = "rtl" if lang == "ar" else "ltr"
    other = "en" if lang == "ar" else "ar"
    indicator = (
        f"<p id='live' class='live on' data-src='/{lang}/live?since={live}' aria-live='polite'>"
        f"<span class='on'><span class='dot'>●</span> {t('live.on', lang)}</span>"
        f"<span class='off'>{t('live.off', lang)}</span> · {t('live.at', lang)} "
        f"<span class='at'>{_updated(office, lang)}</span></p>"
        if live is not None
        else ""
    )
    script = f"<script>{SCRIPT}</script>" if live is not None else ""
    return HTMLResponse(
        f"<!doctype html><html lang='{lang}' dir='{direction}'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width,initial-scale=1'><title>{t('title', lang)}</title>"
        f"<style>{CSS}</style></head><body><header><h1>{t('title', lang)}</h1>{indicator}"
        f"<a href='/{other}' hreflang='{other}'>{t('other', lang)}</a></header><main>{body}</main>{script}"
        "</body></html>"
    )


def _lookup(lang: Lang, answer: str = "") -> str:
    return (
        f"<section id='lookup'><h2>{t('lookup', lang)}</h2><form method='get' action='/{lang}/confirm'>"
        f"<input name='code' placeholder='XXXX-XXXX-XXXX-XXXX' dir='ltr' maxlength='80'> "
        f"<button type='submit'>{t('check', lang)}</button></form>{answer}</section>"
    )


def render_live(office: Observed) -> dict[str, tuple[str, dict[str, str]]]:
    """What the live feed sends, per language, from one read of the office: the 'updated' time and the sections."""
    board = read_board(office)
    languages: tuple[Lang, ...] = ("ar", "en")
    return {lang: (_updated(office, lang), render_sections(office, board, lang)) for lang in languages}


def feed_of(request: Request, office: Observed) -> LiveFeed:
    """The app's live feed (one per application, made on first use; ``install_feed`` sets its parameters)."""
    feed = getattr(request.app.state, "dashboard_feed", None)
    if feed is None:
        feed = request.app.state.dashboard_feed = LiveFeed(lambda: render_live(office))
    assert isinstance(feed, LiveFeed)
    return feed


def install_feed(
    app: FastAPI,
    office: Observed,
    *,
    period_s: float = 3.0,
    max_subscribers: int = 100,
    keepalive_s: float = 15.0,
    lifetime_s: float = 60.0,
) -> LiveFeed:
    """Give ``app`` a live feed with these parameters (``LiveFeed``) instead of the defaults."""
    feed = LiveFeed(
        lambda: render_live(office),
        period_s=period_s,
        max_subscribers=max_subscribers,
        keepalive_s=keepalive_s,
        lifetime_s=lifetime_s,
    )
    app.state.dashboard_feed = feed
    return feed


def dashboard(office: Observed, lang: Lang) -> HTMLResponse:
    sections = render_sections(office, read_board(office), lang)
    return _page(office, lang, "".join(sections.values()) + _lookup(lang), live=sections_digest(sections))


@router.get("/", response_class=HTMLResponse)
def home(office: OfficeDep) -> HTMLResponse:
    return dashboard(office, "ar")


@router.get("/ar", response_class=HTMLResponse)
def arabic(office: OfficeDep) -> HTMLResponse:
    return dashboard(office, "ar")


@router.get("/en", response_class=HTMLResponse)
def english(office: OfficeDep) -> HTMLResponse:
    return dashboard(office, "en")


@router.get("/{lang}/live")
def live(lang: str, request: Request, office: OfficeDep, since: Annotated[str, Query(max_length=64)] = "") -> Response:
    """The live feed (text/event-stream) of the ``lang`` page; 503 with a typed error when all slots are taken.
    ``since``: the digest of the sections the page holds (a reconnecting browser's Last-Event-ID wins)."""
    if lang not in ("ar", "en"):
        return error_response(404, ErrorCode.MALFORMED, f"no dashboard in language {lang[:8]!r}: ar or en")
    feed = feed_of(request, office)
    if not feed.acquire():
        answer: JSONResponse = error_response(
            503,
            ErrorCode.TOO_LARGE,
            f"too many live viewers (limit {feed.max_subscribers}): the page works without live updates; reload it",
        )
        answer.headers["Retry-After"] = "30"
        return answer
    last = (request.headers.get("last-event-id") or since)[:64] or None
    return EventStream(feed, feed.stream(lang, last, request.is_disconnected))


CODE_CHARACTERS = re.compile(r"[A-Za-z0-9\- ]*")
"""What a confirmation code may contain: the short form (base32, groups of 4 with dashes) or the full hex."""


@router.get("/{lang}/confirm", response_class=HTMLResponse)
def confirm(lang: str, office: OfficeDep, code: Annotated[str, Query(max_length=128)] = "") -> HTMLResponse:
    """The voter's lookup; a code with a character no code has is answered 422, in words, and looked up nowhere."""
    language = _lang(lang)
    answer, status = "", 200
    if code and not CODE_CHARACTERS.fullmatch(code):
        outcome, status = Lookup.MALFORMED, 422
    elif code:
        with office.db.transaction() as s:
            found = public_view.look_up_code(s, code.strip())
        outcome = lookup_of(found.status) if found.found else Lookup.NOT_FOUND
    if code:
        shown = ltr(code[:80]) if status == 200 else ""
        answer = (
            f"<p id='answer' data-outcome='{outcome.value}'>{badge(lookup_text(outcome), language)}</p>"
            f"<p class='zone'>{shown}</p>"
        )
    page = _page(office, language, _lookup(language, answer), live=None)
    page.status_code = status
    return page
