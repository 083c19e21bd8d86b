"""Kiosk benchmarks: the real Kivy app offscreen (SDL + EGL/Mesa software rendering on this machine).

Rows:
- start-up to the ready (attract) screen, against a bare Kivy app with one Arabic label (the floor);
- card inserted -> ballot shown (no human time: the PIN is typed and "Next" pressed at once), with the
  fake card layer and with a virtual ID card on a real pcscd (real PKI check);
- Cast pressed -> confirmation code shown, fake ballot service vs real encryption + ballot box;
- RSS after 1,000 scripted voters through the app (and its growth per voter), against the same run's
  RSS after its first 50 voters.

Each measurement runs in its own process (Kivy's state is global). ``.venv/bin/python -m bench.bench_kiosk``
prints a table and writes out/bench/kiosk.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "out" / "bench" / "kiosk.json"


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


# ---- children (each in a fresh process) -------------------------------------------------------------------


def child_startup(started: float, bare: bool) -> dict[str, Any]:
    sys.path.insert(0, str(REPO))
    from run_kiosk import configure_kivy

    configure_kivy(offscreen=True)
    from kivy.app import App
    from kivy.clock import Clock

    result: dict[str, Any] = {}
    if bare:
        from kivy.uix.label import Label

        from kiosk.ui.app import amiri_dir

        class Bare(App):  # type: ignore[misc]
            def build(self) -> Any:
                return Label(text="أدخل بطاقتك الشخصية", font_name=str(amiri_dir() / "Amiri-Regular.ttf"))

        app: Any = Bare()
    else:
        from devtools.kiosk_worlds import demo_world
        from kiosk.ui.app import KioskApp

        app = KioskApp(demo_world().services, show_demo_panel=False)

    def first_frame(_dt: float) -> None:
        # Called on the first frame after build(): the ready screen has been drawn once.
        result["seconds"] = time.time() - started
        app.stop()

    Clock.schedule_once(first_frame, 0)
    app.run()
    return result


def child_journeys(virtual: bool, voters: int, measure_memory: bool) -> dict[str, Any]:
    sys.path.insert(0, str(REPO))
    from devtools.kiosk_worlds import demo_world, virtual_world
    from run_kiosk import configure_kivy

    configure_kivy(offscreen=True)
    from devtools.touch import run_script
    from kiosk.session import events as ev
    from kiosk.session.model import Phase
    from kiosk.ui.app import KioskApp

    workdir = Path(tempfile.mkdtemp(prefix="bench-kiosk-"))
    world = virtual_world(workdir, voters=min(voters, 60)) if virtual else demo_world()
    app = KioskApp(world.services, show_demo_panel=False)
    to_ballot: list[float] = []
    to_code: list[float] = []
    rss: list[tuple[int, float]] = []

    def state() -> Any:
        assert app.driver is not None
        return app.driver.state

    def until(phase: Phase, limit: float = 20.0) -> Iterator[None]:
        deadline = time.monotonic() + limit
        while state().phase is not phase:
            if time.monotonic() > deadline:
                raise RuntimeError(f"stuck in {state().phase} waiting for {phase}")
            yield

    def script() -> Iterator[None]:
        yield from until(Phase.ATTRACT)
        deck = world.deck
        two_seats = next(c for c in world.services.manifest.contests if c.seats == 2)
        for n in range(voters):
            # the same demo voters come round again: the poll book forgets them between rounds
            world.poll_book.voted.clear()
            started = time.perf_counter()
            deck.insert_next_voter()
            yield from until(Phase.PIN_ENTRY)
            for d in "1234":
                app.send(ev.PinDigit(d))
            app.send(ev.PinSubmit())
            yield from until(Phase.ACCESSIBILITY)
            app.send(ev.Continue())
            yield from until(Phase.BALLOT)
            yield  # the ballot has been drawn
            to_ballot.append(time.perf_counter() - started)
            contest = world.services.manifest.contests_of_style(state().ticket.style)[0]
            for candidate in contest.active_candidates[: min(2, contest.seats)]:
                app.send(ev.ToggleCandidate(candidate.id))
            app.send(ev.GoToReview())
            app.send(ev.SealBallot())
            yield from until(Phase.CAST_OR_CHALLENGE)
            yield
            started = time.perf_counter()
            app.send(ev.Cast())
            yield from until(Phase.CONFIRMATION)
            yield  # the code and QR have been drawn
            to_code.append(time.perf_counter() - started)
            deck.remove()
            yield from until(Phase.ATTRACT)
            if measure_memory and (n + 1) % 50 == 0:
                rss.append((n + 1, _rss_mb()))
        _ = two_seats

    try:
        errors = run_script(app, script(), frames=1)
    finally:
        if virtual:
            world.card_events.stop()
            world.deck.harness.stop()
    if errors:
        raise errors[0]
    return {"to_ballot": to_ballot, "to_code": to_code, "rss": rss}


def _child(args: list[str]) -> dict[str, Any]:
    env = dict(os.environ)
    env.update(KIVY_NO_CONSOLELOG="1", KIVY_HOME=tempfile.mkdtemp(prefix="bench-kivy-"))
    started = time.time()
    proc = subprocess.run(
        [sys.executable, "-m", "bench.bench_kiosk", "--child", *args, "--started", repr(started)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"child {args} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _stats(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def _row(what: str, samples: list[float], unit: str, peer: str | None = None, peer_samples: list[float] | None = None,
         target: str | None = None, limit: float | None = None) -> dict[str, Any]:  # fmt: skip
    median, p99 = _stats(samples)
    peer_median = _stats(peer_samples)[0] if peer_samples else None
    return {
        "what": what,
        "median": round(median, 4),
        "unit": unit,
        "p99": round(p99, 4),
        "rate_per_s": None,
        "peer": peer,
        "peer_median": round(peer_median, 4) if peer_median is not None else None,
        "ratio": round(median / peer_median, 2) if peer_median else None,
        "target": target,
        "meets_target": (median <= limit) if limit is not None else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="kiosk benchmarks")
    parser.add_argument("--child", nargs="*")
    parser.add_argument("--started", type=float, default=0.0)
    parser.add_argument("--voters", type=int, default=1000, help="scripted voters for the memory row")
    parser.add_argument("--runs", type=int, default=5, help="start-up runs")
    parser.add_argument("--journeys", type=int, default=15, help="voters timed per card layer")
    args = parser.parse_args(argv)
    if args.child is not None:
        try:
            return _run_child(args)
        except Exception:
            import traceback

            traceback.print_exc(file=sys.__stderr__)  # Kivy replaces sys.stderr with its silenced logger
            return 1
    return _run_parent(args)


def _run_child(args: argparse.Namespace) -> int:
    if True:
        kind, *rest = args.child
        if kind == "startup":
            result = child_startup(args.started, bare=rest == ["bare"])
        else:
            result = child_journeys(virtual="virtual" in rest, voters=int(rest[-1]), measure_memory="memory" in rest)
        print(json.dumps(result))
        return 0


def _run_parent(args: argparse.Namespace) -> int:
    notes: list[str] = [
        "Offscreen SDL with Mesa software rendering (llvmpipe) on a 2-core VM: a kiosk with a GPU draws faster.",
        "Journeys send the voter's events directly (no human time); each timing ends after the next frame is drawn.",
    ]
    startup = [_child(["startup"])["seconds"] for _ in range(args.runs)]
    bare = [_child(["startup", "bare"])["seconds"] for _ in range(args.runs)]
    fake = _child(["journeys", str(args.journeys)])
    real = _child(["journeys", "virtual", str(args.journeys)])
    memory = _child(["journeys", "memory", str(args.voters)])
    rows = [
        _row("start-up to ready screen (process start -> first frame)", startup, "s",
             "bare Kivy app with one Arabic label", bare, "< 5 s", 5.0),
        _row("card inserted -> ballot shown (fake card layer)", fake["to_ballot"][1:], "s", target="< 1 s", limit=1.0),
        _row("card inserted -> ballot shown (virtual ID card on pcscd, PKI check)", real["to_ballot"][1:], "s",
             "same path, fake card layer", fake["to_ballot"][1:], "< 2 s", 2.0),
        _row("Cast pressed -> confirmation code shown (fake ballot service)", fake["to_code"][1:], "s"),
        _row("Cast pressed -> confirmation code shown (real encryption + ballot box)", real["to_code"][1:], "s",
             "same path, fake ballot service", fake["to_code"][1:], "< 1 s", 1.0),
    ]  # fmt: skip
    rss = memory["rss"]
    if len(rss) >= 2:
        first_n, first = rss[0]
        last_n, last = rss[-1]
        per_voter_kb = (last - first) * 1024 / max(1, last_n - first_n)
        rows.append(
            _row(f"RSS after {last_n} scripted voters", [last], "MB", f"RSS after {first_n} voters", [first],
                 "growth < 50 MB over a day", first + 50)
        )  # fmt: skip
        rows.append(_row("RSS growth per voter (after warm-up)", [per_voter_kb], "KB"))
        notes.append(
            f"RSS by voters: {', '.join(f'{n}: {m:.0f} MB' for n, m in rss)}; a 14-hour day at one voter a minute "
            f"is 840 voters per kiosk: {per_voter_kb * 840 / 1024:.1f} MB at the measured growth."
        )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"area": "kiosk", "rows": rows, "notes": notes}, indent=2, ensure_ascii=False))
    width = max(len(r["what"]) for r in rows)
    print(f"{'what':<{width}}  {'median':>9}  {'p99':>9}  unit  {'peer median':>11}  ratio  target")
    for r in rows:
        peer = f"{r['peer_median']:>11}" if r["peer_median"] is not None else " " * 11
        ratio = f"{r['ratio']:>5}" if r["ratio"] is not None else " " * 5
        target = r["target"] or ""
        print(f"{r['what']:<{width}}  {r['median']:>9}  {r['p99']:>9}  {r['unit']:<4}  {peer}  {ratio}  {target}")
    for note in notes:
        print("-", note)
    print(f"written {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
