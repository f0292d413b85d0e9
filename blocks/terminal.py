"""Plain text for a terminal: the digest report (CLI and demo), score tables, Block Kit read aloud.

The same figures and formatting helpers as the Slack digest (blocks.digest); only the markup
differs. Every aligned table goes through `text_table`.
"""

from __future__ import annotations

import textwrap
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from blocks.format import (
    band_table,
    held_out_line,
    inflation_line,
    minutes,
    pct,
    pipeline_note,
    pipeline_table,
    rate,
    success_phrase,
    text_table,
)
from leadqual.figures import Figures, SliceFigures
from leadqual.groups import Group
from leadqual.readmodels import Digest

WIDTH = 100


def digest_report(d: Digest) -> str:
    """The digest as plain text: the same figures and proposals as the Slack message."""
    tz = ZoneInfo(d.timezone)
    start = d.week.period.start.astimezone(tz)
    last = d.week.period.end.astimezone(tz) - timedelta(days=1)  # the end is exclusive
    lines = [
        f"Weekly lead digest {d.iso_week} ({start:%b %d} to {last:%b %d}, {d.timezone})"
        f" · ruleset {d.ruleset.name} v{d.ruleset.version} ({d.ruleset.origin})",
        f"Compared with the {d.trailing.period.label}.",
        "",
        _summary(d.week, d.trailing),
        "",
        _table(d.week, d.trailing),
        "",
        _misses(d.week),
    ]
    if d.week.reasons:
        lines += ["", "Why leads were disqualified (this week):"]
        lines += [
            f"  {g.label}: " + ", ".join(f"{code.replace('_', ' ')} {n}" for code, n in reasons)
            for g, reasons in d.week.reasons.items()
        ]
    lines += [
        "",
        "Quality by source (window): " + _slices(d.trailing.sources),
        "Quality by offer (window):  " + _slices(d.trailing.offers),
        "",
    ]
    warning = inflation_line(d.inflation) if d.inflation else None
    if warning:
        lines += ["WARNING: " + warning, ""]
    if d.bands is not None:
        lines += [
            f"By score band (decided leads of the window; {success_phrase(d.learn_from)}):",
            textwrap.indent(band_table(d.bands), "  "),
            "",
        ]
    if d.pipeline is not None and d.pipeline.any:
        lines += [
            f"What the pipeline did with the leads qualified in the {d.pipeline.period.label}:",
            textwrap.indent(pipeline_table(d.pipeline), "  "),
            textwrap.fill(pipeline_note(d.pipeline), WIDTH, initial_indent="  ", subsequent_indent="  "),
            "",
        ]
    lines += _proposals(d)
    if d.ruleset.from_proposal:
        lines += [
            "",
            f"Last change: v{d.ruleset.version} from {d.ruleset.proposal_id or 'a proposal'} "
            f"({d.ruleset.proposal_title or ''}). Undo with: leadbot rules rollback",
        ]
    return "\n".join(lines)


def _summary(week: Figures, trailing: Figures) -> str:
    claim = (
        f"first claim median {minutes(week.claim_median_minutes)}, p90 {minutes(week.claim_p90_minutes)}"
        if week.claim_median_minutes is not None
        else "no claims"
    )
    cards = (
        f"{pct(week.actioned_share)} of {week.cards_posted} posted cards got any action"
        if week.cards_posted
        else "no cards posted"
    )
    return (
        f"This week: {week.received} leads ({week.routed} routed to sales), {week.qualified} qualified of "
        f"{week.decided} decided ({rate(week.qualified, week.decided)}; window "
        f"{rate(trailing.qualified, trailing.decided)}); {claim}; {cards}."
    )


def _table(week: Figures, trailing: Figures) -> str:
    rows = [("group", "leads", "accepted", "qualified", "claim p50", "claim p90", "window qualified")]
    for g in Group:
        w, t = week.group(g), trailing.group(g)
        rows.append(
            (
                g.label,
                str(w.received),
                pct(w.acceptance),
                _rate_n(w.qualified, w.decided),
                minutes(w.claim_median_minutes),
                minutes(w.claim_p90_minutes),
                _rate_n(t.qualified, t.decided),
            )
        )
    return text_table(rows, right=range(1, len(rows[0])))


def _misses(week: Figures) -> str:
    negatives = ", ".join(f"{n} {g.label}" for g, n in week.false_negatives.items())
    return (
        f"False positives: {week.false_positives} Priority not qualified of "
        f"{week.group(Group.PRIORITY).decided} decided. False negatives (low groups qualified): {negatives}."
    )


def _slices(slices: list[SliceFigures]) -> str:
    return ", ".join(f"{s.name} {_rate_n(s.qualified, s.qualified + s.not_qualified)}" for s in slices[:6]) or "-"


def _proposals(d: Digest) -> list[str]:
    if not d.proposals:
        return [f"No rule changes proposed: the {d.evidence_leads} decided leads of the window do not call for any."]
    lines = [
        f"Proposed rule changes (learned from {d.evidence_leads} decided leads of the {d.trailing.period.label}; "
        f"{success_phrase(d.learn_from)}):"
    ]
    together = held_out_line(d.held_out, prefix="") if d.held_out else None
    if together:
        lines.append(f"    All of them together: {together[0].lower()}{together[1:]}")
    for i, change in enumerate(d.proposals, 1):
        p = change.proposal
        lines.append(f"{i:>2}. {p.id}  {p.title}")
        lines += textwrap.wrap(p.evidence, WIDTH, initial_indent="    ", subsequent_indent="    ")
        held = held_out_line(p.figures)
        if held:
            lines += textwrap.wrap(held, WIDTH, initial_indent="    ", subsequent_indent="    ")
        if change.backtest is not None:
            lines += textwrap.wrap(
                "Backtest: " + change.backtest.summary(), WIDTH, initial_indent="    ", subsequent_indent="    "
            )
        lines.append(f"    Apply: leadbot rules apply {p.id}")
    return lines


def _rate_n(qualified: int, decided: int) -> str:
    return f"{rate(qualified, decided)} of {decided}" if decided else "-"


def blocks_text(blocks: list[dict[str, Any]]) -> str:
    """A readable rendering of Block Kit for a terminal: headers, sections, fields, context, buttons."""
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            lines.append(f"== {block['text']['text']} ==")
        elif kind == "section":
            if block.get("text"):
                lines.append(block["text"]["text"])
            lines += [f["text"] for f in block.get("fields", [])]
            if block.get("accessory", {}).get("type") == "button":
                lines.append(f"[{block['accessory']['text']['text']}]")
        elif kind == "context":
            lines.append("  ".join(e.get("text", "") for e in block.get("elements", [])))
        elif kind == "actions":
            lines.append(
                "  ".join(f"[{e['text']['text']}]" for e in block.get("elements", []) if e.get("type") == "button")
            )
        elif kind == "divider":
            lines.append("-" * 40)
    return "\n".join(lines)
