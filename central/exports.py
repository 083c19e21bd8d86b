"""Results exports: NIST SP 1500-100 Election Results Reporting (JSON, v2), CSV, and a printable report per
wilayat (HTML with a print stylesheet, Arabic and English). Electronic and manual counts are reported apart
(NIST ``CountItemType`` "election-day" for kiosks, "other"/"uocava" for manual sheets) and as a total."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
from typing import Any

from election.manifest import Manifest, WilayatCode


def _text(ar: str, en: str) -> dict[str, Any]:
    return {
        "@type": "ElectionResults.InternationalizedText",
        "Text": [
            {"@type": "ElectionResults.LanguageString", "Content": ar, "Language": "ar"},
            {"@type": "ElectionResults.LanguageString", "Content": en, "Language": "en"},
        ],
    }


NOT_VERIFIED = {"en": "NOT VERIFIED", "ar": "لم يتحقق منها المدقق المستقل"}
PROVISIONAL_FAILED = {
    "en": "PROVISIONAL, VERIFICATION FAILED: NOT VERIFIED",
    "ar": "نتائج مؤقتة، فشل التحقق: لم يتحقق منها المدقق المستقل",
}


def verified(results: dict[str, Any]) -> bool:
    """Only results the independent verifier passed (``status: verified``) may look like results. Results stored
    before the status field existed count as verified only if their ``verified`` flag says so."""
    status = results.get("status")
    if status is None:
        return results.get("verified") is True
    return bool(status == "verified")


def status_label(results: dict[str, Any], lang: str) -> str | None:
    """The banner every output carries when the results are not verified (None: verified)."""
    if verified(results):
        return None
    labels = PROVISIONAL_FAILED if results.get("status") == "provisional_verification_failed" else NOT_VERIFIED
    text = labels["ar" if lang == "ar" else "en"]
    reason = results.get("status_reason")
    return f"{text} ({reason})" if reason else text


def tie_of(r: dict[str, Any]) -> dict[str, Any] | None:
    """The contest's tie for the last seat(s) (``central.results.winners``), or None."""
    tie = r.get("tie")
    return tie if isinstance(tie, dict) else None


def tie_text(tie: dict[str, Any], lang: str) -> str:
    """One line saying whether the tie awaits the drawing of lots or was decided by it."""
    if lang == "ar":
        if tie["resolved"]:
            return f"تعادل على المقعد الأخير ({tie['votes']} صوت): {tie['rule_ar']}"
        return f"{tie['rule_ar']} ({tie['votes']} صوت، {tie['seats']} مقعد)"
    if tie["resolved"]:
        return f"Tie for the last seat ({tie['votes']} votes): {tie['rule']}"
    return f"{tie['rule'][:1].upper()}{tie['rule'][1:]} ({tie['votes']} votes, {tie['seats']} seat(s))"


def elected_mark(r: dict[str, Any], candidate: str) -> str:
    """``yes``, ``no``, ``tie: lots to be drawn`` (tied for the last seat, undecided) or ``yes, by lot``."""
    tie = tie_of(r)
    if tie and candidate in tie["candidates"]:
        if not tie["resolved"]:
            return "tie: lots to be drawn"
        return "yes, by lot" if candidate in tie.get("drawn", []) else "no, by lot"
    return "yes" if candidate in r["elected"] else "no"


def nist_election_report(manifest: Manifest, results: dict[str, Any], *, generated: dt.datetime) -> dict[str, Any]:
    """An ``ElectionResults.ElectionReport`` (summary-contest level). ``Status`` is ``unofficial-complete`` only for
    verified results; results the verifier did not verify are ``unofficial-partial`` with ``Notes`` saying NOT
    VERIFIED and an ``ExternalIdentifier`` (OtherType ``verification``, Value ``NOT VERIFIED``): the standard's
    ResultsStatus has no value for it."""
    unverified = status_label(results, "en")
    gp_units: list[dict[str, Any]] = [
        {
            "@id": "gp-OM",
            "@type": "ElectionResults.ReportingUnit",
            "Type": "country",
            "Name": _text("عُمان", "Oman"),
            "ComposingGpUnitIds": [f"gp-{w.code}" for w in manifest.wilayats],
        }
    ]
    for w in manifest.wilayats:
        gp_units.append(
            {
                "@id": f"gp-{w.code}",
                "@type": "ElectionResults.ReportingUnit",
                "Type": "other",
                "OtherType": "wilayat",
                "Name": _text(w.name.ar, w.name.en),
            }
        )
    candidates: list[dict[str, Any]] = []
    contests: list[dict[str, Any]] = []
    for contest in manifest.contests:
        r = results["contests"][contest.id]
        unit = f"gp-{contest.wilayat}"
        selections = []
        for order, cand in enumerate(contest.active_candidates, start=1):
            candidates.append(
                {
                    "@id": f"cand-{cand.id}",
                    "@type": "ElectionResults.Candidate",
                    "BallotName": _text(cand.name.ar, cand.name.en),
                    **({"PostElectionStatus": "winner"} if cand.id in r["elected"] else {}),
                }
            )
            counts = [
                {
                    "@type": "ElectionResults.VoteCounts",
                    "GpUnitId": unit,
                    "Type": "election-day",
                    "Count": r["electronic"]["votes"].get(cand.id, 0),
                }
            ]
            if r["manual"] is not None:
                counts.append(
                    {
                        "@type": "ElectionResults.VoteCounts",
                        "GpUnitId": unit,
                        "Type": "other",
                        "OtherType": "manual-count",
                        "Count": r["manual"]["votes"].get(cand.id, 0),
                    }
                )
            counts.append(
                {
                    "@type": "ElectionResults.VoteCounts",
                    "GpUnitId": unit,
                    "Type": "total",
                    "Count": r["total"]["votes"].get(cand.id, 0),
                }
            )
            selections.append(
                {
                    "@id": f"sel-{cand.id}",
                    "@type": "ElectionResults.CandidateSelection",
                    "CandidateIds": [f"cand-{cand.id}"],
                    "SequenceOrder": order,
                    "VoteCounts": counts,
                }
            )
        tie = tie_of(r)
        tie_note = (
            {
                "ExternalIdentifier": [
                    {
                        "@type": "ElectionResults.ExternalIdentifier",
                        "Type": "other",
                        "OtherType": "last-seat-tie",
                        "Value": ("decided by lot: " if tie["resolved"] else "undecided, lots to be drawn: ")
                        + ", ".join(f"cand-{c}" for c in tie["candidates"])
                        + f" for {tie['seats']} seat(s)",
                    }
                ]
            }
            if tie
            else {}
        )
        contests.append(
            {
                "@id": f"contest-{contest.id}",
                "@type": "ElectionResults.CandidateContest",
                **tie_note,
                "ElectionDistrictId": unit,
                "Name": contest.name.en,
                "BallotTitle": _text(contest.name.ar, contest.name.en),
                "VotesAllowed": contest.seats,
                "NumberElected": contest.seats,
                "ContestSelection": selections,
                "OtherCounts": [
                    {
                        "@type": "ElectionResults.OtherCounts",
                        "GpUnitId": unit,
                        "Undervotes": max(0, r["total"]["ballots"] * contest.seats - sum(r["total"]["votes"].values())),
                    }
                ],
            }
        )
    return {
        "@type": "ElectionResults.ElectionReport",
        "Format": "summary-contest",
        "GeneratedDate": generated.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Issuer": "Sanduq central tally office",
        "IssuerAbbreviation": "OM",
        "SequenceStart": 1,
        "SequenceEnd": 1,
        "Status": "unofficial-complete" if unverified is None else "unofficial-partial",
        **(
            {
                "Notes": unverified,
                "ExternalIdentifier": [
                    {
                        "@type": "ElectionResults.ExternalIdentifier",
                        "Type": "other",
                        "OtherType": "verification",
                        "Value": "NOT VERIFIED",
                    }
                ],
            }
            if unverified is not None
            else {}
        ),
        "VendorApplicationId": "Sanduq 0.1",
        "GpUnit": gp_units,
        "Election": [
            {
                "@type": "ElectionResults.Election",
                "ElectionScopeId": "gp-OM",
                "Name": _text(manifest.name.ar, manifest.name.en),
                "StartDate": manifest.date.isoformat(),
                "EndDate": manifest.date.isoformat(),
                "Type": "general",
                "Candidate": candidates,
                "Contest": contests,
            }
        ],
    }


def results_csv(manifest: Manifest, results: dict[str, Any]) -> str:
    """One row per candidate and contest; results not verified start with a ``# NOT VERIFIED ...`` line and every
    row's ``elected`` column says NOT VERIFIED after the mark."""
    out = io.StringIO()
    unverified = status_label(results, "en")
    if unverified is not None:
        out.write(f"# {unverified}\n")
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["wilayat", "contest", "candidate", "name_ar", "name_en", "electronic", "manual", "total", "elected"])
    for contest in manifest.contests:
        r = results["contests"][contest.id]
        for cand in contest.active_candidates:
            manual = r["manual"]["votes"].get(cand.id, 0) if r["manual"] else 0
            w.writerow(
                [
                    contest.wilayat,
                    contest.id,
                    cand.id,
                    cand.name.ar,
                    cand.name.en,
                    r["electronic"]["votes"].get(cand.id, 0),
                    manual,
                    r["total"]["votes"].get(cand.id, 0),
                    elected_mark(r, cand.id) + ("" if unverified is None else " (NOT VERIFIED)"),
                ]
            )
        w.writerow(
            [
                contest.wilayat,
                contest.id,
                "#blank",
                "أوراق بيضاء",
                "blank ballots",
                r["electronic"]["blank"],
                r["manual"]["blank"] if r["manual"] else 0,
                r["total"]["blank"],
                "",
            ]
        )
    return out.getvalue()


PRINT_CSS = """
body{font-family:'Amiri','Noto Naskh Arabic',serif;margin:2rem;color:#000}
table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{border:1px solid #444;padding:.3rem .5rem}
th{background:#eee}.num{text-align:end;font-variant-numeric:tabular-nums}.won{font-weight:bold}
.tie{border:2px solid #000;padding:.4rem .6rem}
.lang{display:grid;grid-template-columns:1fr 1fr;gap:2rem}.en{direction:ltr;text-align:left}
.ar{direction:rtl;text-align:right}.sig{margin-top:3rem;display:flex;justify-content:space-between}
@media print{@page{size:A4;margin:15mm}body{margin:0}.noprint{display:none}h1{font-size:16pt}}
"""


def wilayat_report_html(manifest: Manifest, results: dict[str, Any], wilayat: WilayatCode) -> str:
    """A print-ready results sheet for one wilayat, Arabic and English side by side."""
    w = manifest.wilayats_by_code[wilayat]
    e = html.escape
    parts = [
        f"<!doctype html><html lang='ar' dir='rtl'><head><meta charset='utf-8'><title>{e(w.name.en)}</title>"
        f"<style>{PRINT_CSS}</style></head><body>",
        f"<h1>{e(manifest.name.ar)} — {e(w.name.ar)}</h1><h2 class='en' lang='en'>{e(manifest.name.en)} — "
        f"{e(w.name.en)}</h2>",
        "<p class='noprint'><button onclick='window.print()'>طباعة / Print</button></p>",
    ]
    if status_label(results, "en") is not None:
        parts.append(
            f"<p class='unverified' style='border:4px solid #000;padding:.5rem;font-size:1.4em'><strong>"
            f"{e(status_label(results, 'ar') or '')}</strong><br><strong class='en' lang='en'>"
            f"{e(status_label(results, 'en') or '')}</strong></p>"
        )
    for contest in (c for c in manifest.contests if c.wilayat == wilayat):
        r = results["contests"][contest.id]
        parts.append(
            f"<h3>{e(contest.name.ar)} / <span lang='en'>{e(contest.name.en)}</span> "
            f"({contest.seats} مقعد / seat(s))</h3><table><thead><tr><th>المرشح</th><th lang='en'>Candidate</th>"
            "<th>إلكتروني<br>Electronic</th><th>يدوي<br>Manual</th><th>المجموع<br>Total</th></tr></thead><tbody>"
        )
        for cand in sorted(contest.active_candidates, key=lambda c: -r["total"]["votes"].get(c.id, 0)):
            won = " class='won'" if cand.id in r["elected"] else ""
            mark = elected_mark(r, cand.id)
            flag_ar, flag_en = {
                "tie: lots to be drawn": (" (تعادل: قرعة)", " (tie: lots to be drawn)"),
                "yes, by lot": (" (بالقرعة)", " (by lot)"),
            }.get(mark, ("", ""))
            manual = r["manual"]["votes"].get(cand.id, 0) if r["manual"] else 0
            parts.append(
                f"<tr{won}><td>{e(cand.name.ar)}{flag_ar}</td>"
                f"<td class='en' lang='en'>{e(cand.name.en)}{flag_en}</td>"
                f"<td class='num'>{r['electronic']['votes'].get(cand.id, 0)}</td><td class='num'>{manual}</td>"
                f"<td class='num'>{r['total']['votes'].get(cand.id, 0)}</td></tr>"
            )
        parts.append(
            f"<tr><td>أوراق بيضاء</td><td class='en' lang='en'>Blank ballots</td>"
            f"<td class='num'>{r['electronic']['blank']}</td>"
            f"<td class='num'>{r['manual']['blank'] if r['manual'] else 0}</td>"
            f"<td class='num'>{r['total']['blank']}</td></tr></tbody></table>"
        )
        tie = tie_of(r)
        if tie:
            parts.append(
                f"<p class='tie'><strong>{e(tie_text(tie, 'ar'))}</strong><br>"
                f"<span class='en' lang='en'>{e(tie_text(tie, 'en'))}</span></p>"
            )
        if r["manual"]:
            parts.append(
                f"<p>نتائج يدوية (المادتان 8 و9) / <span lang='en'>Manual results (Art. 8, 9)</span>: "
                f"{e(', '.join(r['manual']['sources']))}</p>"
            )
    parts.append(
        "<div class='sig'><span>رئيس اللجنة / Committee chair: ____________</span>"
        "<span>عضو / Member: ____________</span></div></body></html>"
    )
    return "".join(parts)
