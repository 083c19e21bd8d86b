"""`make bench`: run every benchmark in bench/ and write one report of medians and ratios.

Each benchmark module ``bench/bench_<area>.py`` runs on its own (``python -m bench.bench_<area>``) and
writes ``out/bench/<area>.json`` (schema in docs/dev/HELPERS.md). This runner starts them one after
another in fresh processes (so one's memory does not weigh on the next), then gathers every JSON file
into ``out/bench/report.md`` and ``out/bench/report.html`` (tables, and bar charts of each ratio against
its peer measured in the same run).
"""

from __future__ import annotations

import argparse
import html
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tools.console import table

BENCH_DIR = Path(__file__).parent
OUT = Path("out/bench")


def discover() -> list[str]:
    return sorted(p.stem for p in BENCH_DIR.glob("bench_*.py"))


#: benchmarks that need longer than the default timeout on 2 cores (bench_verify generates a 50,000-ballot record
#: on its first run, then verifies it whole and in two shards)
TIMEOUTS = {"bench_verify": 5400.0}


def run_all(modules: list[str], timeout: float) -> dict[str, str]:
    outcome: dict[str, str] = {}
    for module in modules:
        print(f"\n==> bench.{module}", flush=True)
        started = time.monotonic()
        try:
            limit = max(timeout, TIMEOUTS.get(module, 0.0))
            subprocess.run([sys.executable, "-m", f"bench.{module}"], check=True, timeout=limit)
            outcome[module] = f"ok ({time.monotonic() - started:.0f} s)"
        except subprocess.TimeoutExpired:
            outcome[module] = f"timed out after {limit:.0f} s"
        except subprocess.CalledProcessError as exc:
            outcome[module] = f"failed (exit {exc.returncode})"
        print(f"    {outcome[module]}", flush=True)
    return outcome


def load_results(out: Path) -> list[dict[str, Any]]:
    results = []
    for path in sorted(out.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            continue
        if isinstance(data, dict) and isinstance(data.get("rows"), list):
            results.append(data)
    return results


def _num(value: Any, digits: int = 3) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


COLUMNS = ["what", "median", "unit", "p99", "per s", "peer", "peer median", "ratio", "target", "met"]


def _cells(r: dict[str, Any]) -> list[str]:
    """One benchmark row as the report's columns (COLUMNS), numbers formatted."""
    return [
        r.get("what", ""),
        _num(r.get("median")),
        r.get("unit", ""),
        _num(r.get("p99")),
        _num(r.get("rate_per_s")),
        r.get("peer") or "",
        _num(r.get("peer_median")),
        _num(r.get("ratio")),
        r.get("target") or "",
        _num(r.get("meets_target")),
    ]


def markdown(results: list[dict[str, Any]], outcome: dict[str, str]) -> str:
    lines = ["# Sanduq benchmark report", "", "Medians; ratios are against a peer measured in the same run.", ""]
    for area in results:
        lines += [f"## {area.get('area', '?')}", "", "```"]
        rows = [_cells(r) for r in area["rows"]]
        lines += [table(COLUMNS, rows, align_right=[False, True, False, True, True, False, True, True, False, False])]
        lines += ["```", ""]
        lines += [f"- {note}" for note in area.get("notes", [])]
        lines.append("")
    if outcome:
        lines += ["## Runs", ""] + [f"- bench.{m}: {o}" for m, o in outcome.items()]
    return "\n".join(lines) + "\n"


def _bar_chart(rows: list[dict[str, Any]]) -> str:
    """Horizontal bars of each row's ratio to its peer (log scale: a 30x and a 1.2x both stay legible)."""
    import math

    rated = [r for r in rows if isinstance(r.get("ratio"), int | float) and r["ratio"] > 0]
    if not rated:
        return ""
    width, bar_h, label_w = 720, 22, 300
    top = max(math.log10(max(r["ratio"] for r in rated)), 1.0)
    parts = [f'<svg width="{width}" height="{bar_h * len(rated) + 30}" role="img" aria-label="ratios to peer">']
    for i, r in enumerate(rated):
        y = i * bar_h + 5
        length = max(2.0, (width - label_w - 80) * max(math.log10(r["ratio"]), 0.0) / top)
        colour = "#2e7d32" if r.get("meets_target") is not False else "#c62828"
        parts.append(f'<text x="0" y="{y + 15}" font-size="12">{html.escape(str(r.get("what", "")))[:48]}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{length:.1f}" height="{bar_h - 6}" fill="{colour}"/>')
        parts.append(f'<text x="{label_w + length + 6:.1f}" y="{y + 14}" font-size="12">{r["ratio"]:.3g}x</text>')
    parts.append(f'<text x="{label_w}" y="{bar_h * len(rated) + 24}" font-size="11">ratio to peer (log scale)</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_html(results: list[dict[str, Any]]) -> str:
    body = ["<h1>Sanduq benchmark report</h1><p>Medians; ratios against a peer measured in the same run.</p>"]
    for area in results:
        body.append(f"<h2>{html.escape(str(area.get('area', '?')))}</h2>")
        body.append(_bar_chart(area["rows"]))
        head = "".join(f"<th>{h}</th>" for h in COLUMNS)
        body.append(f"<table><tr>{head}</tr>")
        for r in area["rows"]:
            met = r.get("meets_target")
            cls = "" if met is None else (' class="ok"' if met else ' class="miss"')
            body.append(f"<tr{cls}>" + "".join(f"<td>{html.escape(c)}</td>" for c in _cells(r)) + "</tr>")
        body.append("</table>")
        body.extend(f"<p class='note'>{html.escape(str(n))}</p>" for n in area.get("notes", []))
    style = (
        "body{font-family:sans-serif;margin:2em;color:#111}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #999;padding:3px 8px;text-align:right}td:first-child{text-align:left}"
        "tr.ok td:last-child{background:#e8f5e9}tr.miss td:last-child{background:#ffebee}.note{color:#444}"
    )
    return (
        f"<!doctype html><html lang='en'><meta charset='utf-8'><title>Sanduq benchmarks</title>"
        f"<style>{style}</style><body>{''.join(body)}</body></html>"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("modules", nargs="*", help="benchmarks to run (default: all bench_*.py)")
    parser.add_argument("--report-only", action="store_true", help="only gather existing results")
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    outcome = {} if args.report_only else run_all(args.modules or discover(), args.timeout)
    results = load_results(OUT)
    (OUT / "report.md").write_text(markdown(results, outcome), encoding="utf-8")
    (OUT / "report.html").write_text(render_html(results), encoding="utf-8")
    print((OUT / "report.md").read_text(encoding="utf-8"))
    print(f"report: {OUT / 'report.html'}")
    return 0 if all(o.startswith("ok") for o in outcome.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
