"""The dashboard's live feed (server-sent events, central.dashboard.live): an already open page in headless Chromium,
served over the office's real TLS, shows a voted mark and a ballot batch sent through the real kiosk routes
(HTTPS with the kiosk's client certificate), and a centre's close being ordered, within 5 s and without a
reload; the feed is bounded (a typed 503 beyond its subscribers, slots given back when viewers leave) and pushes
only on a fixed grid of ticks, one render per tick whatever the number of viewers, so it cannot time a single
voted mark."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import sync_playwright

from central import closing
from central.dashboard.live import LiveFeed
from central.dashboard.pages import install_feed
from central.office import Office
from devtools.kiosksim import Election, SimKiosk
from tests.central.dashboard_scene import tls_serve, trust
from tests.central.scene import CHROMIUM_ARGS, populate

pytestmark = [pytest.mark.integration, pytest.mark.ui]

UNIFIED = "K-PC-001-1"  # the unified centre's kiosk: serves every wilayat


def _unvoted(office: Office, wilayat: str) -> str:
    """A civil number of ``wilayat`` on the roll who has not voted."""
    from sqlalchemy import select

    from central.models import Voter, VoterState

    with office.db.transaction() as s:
        civil = s.scalars(
            select(Voter.civil_number).where(Voter.wilayat == wilayat, Voter.state == VoterState.NOT_VOTED).limit(1)
        ).first()
    assert civil is not None
    return str(civil)


def test_a_voted_mark_and_a_batch_appear_on_an_open_page_without_a_reload(
    office: Office, election: Election, kiosks: dict[str, SimKiosk], app: Any, clock: Any
) -> None:
    populate(office, election, kiosks, clock, publish=False)
    install_feed(app, office)  # the shipped parameters (a 3 s tick)
    kiosk = kiosks[UNIFIED]
    in_process = kiosk.http
    with tls_serve(app, election) as base, sync_playwright() as p:
        # The real kiosk routes over HTTPS with the kiosk's certificate (TestClient is an httpx.Client, too).
        kiosk.http = httpx.Client(base_url=base, verify=trust(election, UNIFIED))  # type: ignore[assignment]
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(base + "/en")
        page.evaluate("window.notReloaded = true")
        summary = page.locator("#turnout .summary").inner_text()
        row = page.locator(f"#kiosks tr[data-kiosk='{UNIFIED}']")
        ballots_before = int(row.locator("td.num").first.inner_text())
        voted_before = int(summary.split()[1])
        page.wait_for_function("document.getElementById('live').className === 'live on'", timeout=5000)

        answer = kiosk.checkin(_unvoted(office, "MA-04")).json()
        assert answer["status"] == "eligible", answer
        assert kiosk.voted(answer["checkin_token"]).status_code == 200
        sent = time.monotonic()
        page.wait_for_function(
            f"document.querySelector('#turnout .summary').innerText.includes('{voted_before + 1} voters')",
            timeout=5000,
        )
        assert time.monotonic() - sent < 5.0  # (the wait's own timeout is the test; this names the promise)
        kiosk.cast(answer["ballot_style_id"])
        assert kiosk.send(kiosk.make_batch()).status_code == 200
        page.wait_for_function(
            f"document.querySelector(\"#kiosks tr[data-kiosk='{UNIFIED}'] td.num\").innerText === "
            f"'{ballots_before + 1}'",
            timeout=5000,
        )
        # The committee orders the Bukha centre closed (no new check-in; voters inside finish): shown live too.
        closing.close_centre(office, "PC-003", actor="admin", final=False)
        page.wait_for_function(
            "document.querySelector(\"#centre-states tr[data-centre='PC-003'] td.state\").innerText"
            ".startsWith('closing')",
            timeout=5000,
        )
        assert page.evaluate("window.notReloaded") is True
        assert page.locator("#lookup input").count() == 1  # the lookup form is never replaced
        browser.close()
        kiosk.http.close()
        kiosk.http = in_process


def _read_events(response: httpx.Response, *, first_update: bool = False) -> list[str]:
    """The raw events of a stream until it ends (or, with ``first_update``, until its first update)."""
    events: list[str] = []
    buffer = ""
    for chunk in response.iter_text():
        buffer += chunk
        while "\n\n" in buffer:
            event, buffer = buffer.split("\n\n", 1)
            events.append(event)
            if first_update and "event: update" in event:
                return events
    return events


def test_the_feed_is_bounded_and_gives_slots_back(office: Office, election: Election, app: Any) -> None:
    feed = install_feed(app, office, period_s=0.3, max_subscribers=2, lifetime_s=30)
    with tls_serve(app, election) as base:
        viewers = [httpx.Client(base_url=base, verify=trust(election), timeout=10) for _ in range(4)]
        with viewers[0].stream("GET", "/ar/live") as first, viewers[1].stream("GET", "/en/live") as second:
            assert first.status_code == second.status_code == 200
            assert first.headers["content-type"].startswith("text/event-stream")
            refused = viewers[2].get("/en/live")
            assert refused.status_code == 503 and refused.headers["retry-after"] == "30"
            assert refused.json()["error"] == "too_large" and "too many live viewers" in refused.json()["detail"]
            assert viewers[2].get("/en").status_code == 200  # the page itself still works
            assert feed.subscribers == 2
            with sync_playwright() as p:  # and says that its figures no longer update by themselves
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                page = browser.new_context(ignore_https_errors=True).new_page()
                page.goto(base + "/en")
                page.wait_for_function("document.getElementById('live').className === 'live off'", timeout=5000)
                assert page.locator("#live .off").inner_text() == "Live updates stopped: reload the page"
                assert not page.locator("#live .on").is_visible()
                browser.close()
            events = _read_events(first, first_update=True)  # (then this viewer stops reading and leaves)
            update = next(e for e in events if "event: update" in e)
            data = json.loads(update.split("data: ", 1)[1])
            assert set(data["sections"]) == {"turnout", "day", "centre-states", "kiosks", "results"}
        deadline = time.monotonic() + 5
        while feed.subscribers and time.monotonic() < deadline:  # the server notices the viewers left
            time.sleep(0.05)
        assert feed.subscribers == 0
        with viewers[3].stream("GET", "/en/live") as again:
            assert again.status_code == 200
        assert viewers[2].get("/fr/live").json()["error"] == "malformed"
        for v in viewers:
            v.close()


def test_a_reconnecting_viewer_with_the_last_event_id_is_not_sent_the_same_snapshot(
    office: Office, election: Election, app: Any
) -> None:
    install_feed(app, office, period_s=0.2, max_subscribers=5, lifetime_s=1.0, keepalive_s=0.5)
    with tls_serve(app, election) as base, httpx.Client(base_url=base, verify=trust(election), timeout=10) as http:
        with http.stream("GET", "/en/live") as first:
            events = _read_events(first)  # ends by itself after its lifetime
        ids = [line[4:] for e in events for line in e.splitlines() if line.startswith("id: ")]
        assert events[0] == "retry: 200" and len(ids) == 1, events
        with http.stream("GET", "/en/live", headers={"Last-Event-ID": ids[0]}) as second:
            again = _read_events(second)
        assert not [e for e in again if "event: update" in e], again
        assert ": keep-alive" in again
        # A freshly loaded page names the snapshot it holds: its feed sends nothing until something changes.
        src = http.get("/en").text.split("data-src='", 1)[1].split("'", 1)[0]
        assert src.startswith("/en/live?since=")
        with http.stream("GET", src) as fresh:
            assert not [e for e in _read_events(fresh) if "event: update" in e]


def test_pushes_fall_on_the_tick_grid_and_one_render_serves_every_viewer() -> None:
    """With a fake clock: figures that change several times between ticks are sent once, at the next tick (a
    multiple of the period since the epoch, whenever the viewer connected), and viewers of one tick share a render."""
    now = [100.7]
    version = [0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    def render() -> dict[str, tuple[str, dict[str, str]]]:
        return {lang: ("at", {"turnout": f"<section id='turnout'>{version[0]}</section>"}) for lang in ("ar", "en")}

    feed = LiveFeed(render, period_s=3.0, clock=lambda: now[0], sleep=sleep, lifetime_s=9.0, keepalive_s=100)

    async def never() -> bool:
        return False

    async def run() -> list[tuple[float, str]]:
        out = []
        async for event in feed.stream("en", None, never):
            out.append((now[0], event))
            if "event: update" in event:
                version[0] += 3  # three voted marks arrive before the next tick
        return out

    sent = asyncio.run(run())
    assert sent[0] == (100.7, "retry: 3000\n\n")
    updates = [(at, e) for at, e in sent if "event: update" in e]
    assert [at for at, _ in updates] == [102.0, 105.0, 108.0, 111.0]  # on the grid, then the lifetime ends it
    assert [json.loads(e.split("data: ", 1)[1])["sections"]["turnout"][-11:-10] for _, e in updates] == [
        "0",
        "3",
        "6",
        "9",
    ]
    renders = feed.renders
    assert feed.snapshot("en", 38) is feed.snapshot("en", 38)  # a second viewer of the same tick: the same render
    feed.snapshot("ar", 38)  # and a viewer of the other language: the same read of the office
    assert feed.renders == renders + 1
