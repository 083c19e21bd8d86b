"""The election day's report: ``out/demo/report.html`` (results per wilayat as inline SVG bar charts, turnout,
the comparison with the script, the scenario log with timings, screenshots, the verifier's output) and a
machine-readable ``out/demo/summary.json``. Also prints the results per wilayat on the console."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

from devtools.election_day.plan import BLANK, Plan
from election.manifest import Manifest
from tools.console import table


def _names(manifest: Manifest) -> dict[str, str]:
    names: dict[str, str] = {str(k.id): k.name.en for c in manifest.contests for k in c.candidates}
    names[BLANK] = "blank"
    return names


def bar_chart(bars: list[tuple[str, int, int]], *, title: str) -> str:
    """Horizontal bars: (label, electronic, manual); the manual part is stacked and hatched in a lighter tone."""
    width, bar_h, label_w = 720, 24, 230
    top = max([e + m for _, e, m in bars] + [1])
    scale = (width - label_w - 120) / top  # room for "21 (3 manual)" after the longest bar
    parts = [f'<svg width="{width}" height="{bar_h * len(bars) + 34}" role="img" aria-label="{html.escape(title)}">']
    for i, (label, e, m) in enumerate(bars):
        y = i * bar_h + 4
        parts.append(f'<text x="0" y="{y + 15}" font-size="12">{html.escape(label)[:34]}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{e * scale:.1f}" height="{bar_h - 6}" fill="#00695c"/>')
        if m:
            parts.append(f'<rect x="{label_w + e * scale:.1f}" y="{y}" width="{m * scale:.1f}" height="{bar_h - 6}" '
                         'fill="#80cbc4"/>')  # fmt: skip
        parts.append(f'<text x="{label_w + (e + m) * scale + 6:.1f}" y="{y + 14}" font-size="12">{e + m}'
                     f'{f" ({m} manual)" if m else ""}</text>')  # fmt: skip
    parts.append(f'<text x="{label_w}" y="{bar_h * len(bars) + 26}" font-size="11" fill="#444">'
                 'dark: electronic (verified, decrypted); light: manual sheets</text></svg>')  # fmt: skip
    return "".join(parts)


def console_results(manifest: Manifest, merged: dict[str, Any]) -> str:
    names = _names(manifest)
    lines = []
    for contest in manifest.contests:
        c = merged["contests"][contest.id]
        rows = []
        for cand in [*contest.selection_ids, BLANK]:
            e = c["electronic"]["blank"] if cand == BLANK else c["electronic"]["votes"].get(cand, 0)
            m_src = c.get("manual") or {}
            m = (m_src.get("blank", 0) if cand == BLANK else m_src.get("votes", {}).get(cand, 0)) if m_src else 0
            elected = "elected" if cand in c["elected"] else ""
            rows.append([names[cand], e, m, e + m, elected])
        wilayat = next(w for w in manifest.wilayats if w.code == contest.wilayat)
        lines.append(f"\n{wilayat.name.en} ({contest.wilayat}), {contest.seats} seat(s), "
                     f"{c['total']['ballots']} ballots")  # fmt: skip
        lines.append(table(["candidate", "electronic", "manual", "total", ""], rows,
                           align_right=[False, True, True, True, False]))  # fmt: skip
    return "\n".join(lines)


def remote_section(remote: dict[str, Any]) -> str:
    """Kiosk and remote votes, as the verified record counts them (docs/election-day.md, "Remote voting")."""
    counts, groups = remote["counts"], remote["remote_by_group"]
    checks = ", ".join(f"{html.escape(k)}: <b>{html.escape(v)}</b>" for k, v in remote["verifier"].items())
    rows = [
        ("votes counted from kiosks", remote["kiosk_votes"]),
        ("votes counted from remote voting (the collector's last ballot per credential)", remote["remote_votes"]),
        ("&nbsp;&nbsp;of which from home", groups["home"]),
        ("&nbsp;&nbsp;of which from abroad", groups["abroad"]),
        ("credentials registered (card-signed)", counts["credentials"]),
        ("remote submissions kept for audit", counts["submissions"]),
        ("re-votes (earlier ballots superseded)", counts["superseded"]),
        ("credentials voided by an in-person vote at a kiosk", counts["voided"]),
    ]
    table_rows = "".join(f"<tr><td>{label}</td><td>{n}</td></tr>" for label, n in rows)
    return (
        "<h2>Kiosk and remote votes</h2><table>" + table_rows + "</table>"
        "<p>Kiosk and remote ballots were merged in one encrypted tally, decrypted by the guardians and verified "
        f"together (the verifier's remote checks: {checks}); the counts are the published record's "
        "(remote/counts.json, the chains' signed closes), no voter's identity is in them.</p>"
    )


def write_report(out: Path, plan: Plan, manifest: Manifest, day: Any, summary: dict[str, Any]) -> Path:
    names = _names(manifest)
    merged = summary.get("merged")
    body: list[str] = ["<h1>Sanduq demo election day</h1>"]
    verdict = bool(summary.get("verified")) and bool(summary.get("match")) and not summary.get("error")
    body.append(f"<p class='{'ok' if verdict else 'bad'}'><b>{'PASS' if verdict else 'FAIL'}</b>: "
                f"election.verify {'passed' if summary.get('verified') else 'did not pass'}; decrypted tally "
                f"{'equals' if summary.get('match') else 'does NOT equal'} the scripted voters' choices."
                "</p>")  # fmt: skip
    if summary.get("error"):
        body.append(f"<p class='bad'>Stopped: {html.escape(summary['error'])}</p>")
    n_kiosks = len(plan.day_kiosks(manifest))
    body.append(f"<p>Centres and kiosks today: {html.escape(day.topology())}.</p>")
    body.append(
        "<p>Real processes: the central office (HTTPS, mutual TLS, SQLite), "
        f"{n_kiosks} kiosk processes each with its own pcscd and virtual ID cards, the card layer's PKI checks, the "
        "voter-session machine, the accessibility layer "
        "(audio clips from the package, the accessible controller's focus model), the election core's encryption, "
        "the ballot box and the sync worker, the guardians' CLI and the independent verifier. Every voter goes "
        "through the real Kivy kiosk app (offscreen, 1024x600, every screen drawn): touches on the screens' "
        "widgets, the accessible controller's keys on the window, a poll worker's card for assisted voting. The "
        "last voters of the day are photographed at every screen (below). See docs/election-day.md.</p>"
    )
    on_app = [o for o in summary.get("outcomes", {}).values() if o.get("ui") == "kivy"]
    if on_app:
        missed = sum(int(o.get("touches_missed", 0)) for o in on_app)
        body.append(f"<p>Voters on the Kivy app: {len(on_app)}; touches that did not reach their widget (the "
                    f"button then pressed by its widget): {missed}.</p>")  # fmt: skip
    remote = summary.get("remote")
    if remote:
        body.append(remote_section(remote))
    if summary.get("stages_not_wired"):
        body.append("<p>Not yet wired: " + html.escape("; ".join(summary["stages_not_wired"])) + "</p>")
    # Results per wilayat.
    if merged:
        body.append("<h2>Results per wilayat</h2>")
        for contest in manifest.contests:
            c = merged["contests"][contest.id]
            bars = []
            for cand in [*contest.selection_ids, BLANK]:
                e = c["electronic"]["blank"] if cand == BLANK else c["electronic"]["votes"].get(cand, 0)
                m_src = c.get("manual") or {}
                m = (m_src.get("blank", 0) if cand == BLANK else m_src.get("votes", {}).get(cand, 0)) if m_src else 0
                bars.append((names[cand] + (" *" if cand in c["elected"] else ""), e, m))
            wilayat = next(w for w in manifest.wilayats if w.code == contest.wilayat)
            body.append(f"<h3>{html.escape(wilayat.name.en)} / {html.escape(wilayat.name.ar)} ({contest.wilayat}): "
                        f"{contest.seats} seat(s), {c['total']['ballots']} ballots (* elected)</h3>")  # fmt: skip
            body.append(bar_chart(bars, title=contest.id))
        counts = merged.get("pollbook_counts", {})
        roll: dict[str, int] = {str(w.code): 0 for w in manifest.wilayats}
        roll_path = Path(day.definition) / "roll.csv"
        for line in roll_path.read_text(encoding="utf-8").splitlines()[1:]:
            parts = line.split(",")
            if len(parts) > 2 and parts[2] == "yes":
                roll[parts[1]] = roll.get(parts[1], 0) + 1
        body.append("<h2>Turnout (poll book)</h2><table><tr><th>ballot style</th><th>voted</th><th>registered</th>"
                    "<th>turnout</th></tr>")  # fmt: skip
        for style in manifest.ballot_styles:
            n, r = counts.get(style.id, 0), roll.get(str(style.wilayat), 0)
            body.append(f"<tr><td>{style.id}</td><td>{n}</td><td>{r}</td><td>{100 * n / max(r, 1):.1f}%</td></tr>")
        body.append("</table>")
    lifecycle = summary.get("office_lifecycle")
    if lifecycle:
        heads = lifecycle["heads"]
        body.append("<h2>The office's lifecycle</h2><p>Phase: <b>" + html.escape(str(lifecycle["phase"])) + "</b>; "
                    "encrypted tally frozen with hash <code>" + html.escape(str(lifecycle["tally_hash"])) + "</code>"
                    " (recorded at the freeze; nothing could change it afterwards).</p><table><tr><th>phase</th>"
                    "<th>audit seq</th><th>audit chain head</th><th>office's signature</th></tr>")  # fmt: skip
        for h in heads:
            st = h["statement"]
            body.append(f"<tr><td>{html.escape(st['phase'])}</td><td>{st['seq']}</td>"
                        f"<td><code>{html.escape(st['entry_hash'])}</code></td>"
                        f"<td><code>{html.escape(h['signature'][:32])}...</code></td></tr>")  # fmt: skip
        body.append("</table><p>The heads are published in the record's office/audit_heads.json and checked by "
                    "election.verify (office's signed audit heads).</p>")  # fmt: skip
    closes = summary.get("kiosk_closes")
    if closes:
        body.append("<h2>Kiosks' signed chain closes</h2><table><tr><th>kiosk</th><th>close</th><th>cast</th>"
                    "<th>challenged</th><th>provisional</th><th>last confirmation code</th><th>kiosk's signature</th>"
                    "</tr>")  # fmt: skip
        for c in closes:
            close = c["close"]
            if close is None:
                head = c["last_head"]
                if head is None:
                    body.append(f"<tr><td>{html.escape(c['kiosk'])}</td><td colspan='6'>unused</td></tr>")
                    continue
                seen = f"last signed head: {head['cast']} cast, {head['challenged']} challenged"
                body.append(f"<tr class='bad'><td>{html.escape(c['kiosk'])}</td><td colspan='6'>never closed "
                            f"({html.escape(seen)})</td></tr>")  # fmt: skip
                continue
            body.append(f"<tr><td>{html.escape(c['kiosk'])}</td><td>#{close['close_seq']}</td><td>{close['cast']}</td>"
                        f"<td>{close['challenged']}</td><td>{close['provisional']}</td>"
                        f"<td><code>{html.escape(close['root'])}</code></td>"
                        f"<td><code>{html.escape(close['signature'][:32])}...</code></td></tr>")  # fmt: skip
        body.append("</table><p>Each kiosk signed its close when its polls closed; the record publishes it in "
                    "kiosks/&lt;kiosk&gt;.json and election.verify checks that every chain ends exactly there "
                    "(kiosk chain closes).</p>")  # fmt: skip
    rows = summary.get("rows") or []
    if rows:
        body.append("<h2>Comparison with the script</h2><table><tr><th>contest</th><th>candidate</th>"
                    "<th>script</th><th>decrypted</th><th>script + sheets</th><th>published total</th><th></th>"
                    "</tr>")  # fmt: skip
        for r in rows:
            body.append(f"<tr class='{'ok' if r['match'] else 'bad'}'><td>{r['contest']}</td>"
                        f"<td>{html.escape(names.get(r['candidate'], r['candidate']))}</td><td>{r['expected']}</td>"
                        f"<td>{r['decrypted']}</td><td>{r['expected_total']}</td><td>{r['total']}</td>"
                        f"<td>{'=' if r['match'] else 'DIFFERENT'}</td></tr>")  # fmt: skip
        body.append("</table>")
    # Scenario log.
    body.append("<h2>Timeline</h2><table><tr><th>stage</th><th>seconds</th></tr>")
    for s in day.log.stages:
        body.append(f"<tr><td>{html.escape(s['title'])}</td><td>{s['seconds']}</td></tr>")
    body.append("</table><h2>Scenario log</h2><pre>")
    body.extend(html.escape(f"[{e['t']:7.1f} s] {e['text']}") + "\n" for e in day.log.events)
    body.append("</pre>")
    if summary.get("problems"):
        body.append("<h2>Voters whose outcome differed from the script</h2><ul>")
        body.extend(f"<li>{html.escape(p)}</li>" for p in summary["problems"])
        body.append("</ul>")
    # Special voters.
    outcomes = summary.get("outcomes", {})
    body.append("<h2>Special cases</h2><table><tr><th>voter</th><th>kiosk</th><th>case</th><th>expected</th>"
                "<th>outcome</th><th>details</th></tr>")  # fmt: skip
    for v in plan.voters:
        if not v.note:
            continue
        o = outcomes.get(v.id, {})
        detail = {k: o[k] for k in ("failure", "challenge", "clips_heard", "pin_tries_left_after_wrong_pins",
                                    "code", "touches_missed", "remote_vote_replaced", "second_device", "group")
                  if o.get(k)}  # fmt: skip
        body.append(f"<tr><td>{v.id}</td><td>{v.kiosk}</td><td>{html.escape(v.note)}</td>"
                    f"<td>{v.expect} {v.expect_failure or ''}</td><td>{o.get('outcome', 'not run')}</td>"
                    f"<td><code>{html.escape(json.dumps(detail, ensure_ascii=False))}</code></td></tr>")  # fmt: skip
    body.append("</table>")
    shots = sorted((out / "screenshots").glob("*.png")) if (out / "screenshots").exists() else []
    if shots:
        body.append("<h2>Screenshots</h2>")
        for p in shots:
            data = base64.b64encode(p.read_bytes()).decode()
            body.append(f"<figure><img src='data:image/png;base64,{data}' width='640'><figcaption>{p.name}"
                        "</figcaption></figure>")  # fmt: skip
    if summary.get("verifier_output"):
        body.append("<h2>Verifier output (python -m election.verify)</h2><pre>")
        body.append(html.escape(summary["verifier_output"]))
        body.append("</pre>")
    css = ("body{font-family:sans-serif;margin:2em;color:#111;max-width:1100px}table{border-collapse:collapse;"
             "margin:1em 0}td,th{border:1px solid #999;padding:3px 8px}.ok{background:#e8f5e9}.bad{background:#ffebee}"
             "pre{background:#f6f6f6;padding:1em;white-space:pre-wrap}")  # fmt: skip
    page = (f"<!doctype html><html lang='en'><meta charset='utf-8'><title>Sanduq election day</title>"
            f"<style>{css}</style><body>{''.join(body)}</body></html>")  # fmt: skip
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    slim = {k: v for k, v in summary.items() if k != "verifier_output"}
    slim["stages"] = day.log.stages
    slim["events"] = day.log.events
    (out / "summary.json").write_text(json.dumps(slim, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
    if merged:
        print(console_results(manifest, merged))
    return path
