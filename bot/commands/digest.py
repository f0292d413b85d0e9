"""`leadbot digest [--week YYYY-Www] [--dry-run] [--json]`: build the weekly digest, and send it.

Without --dry-run the digest goes to every manager who has not had it this week (the same
guarded send as the scheduled one). --dry-run sends nothing and takes no send guard; the
proposals are still stored, so `leadbot rules apply ID` can act on what it printed.
"""

from __future__ import annotations

import argparse
import json
import textwrap
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from blocks.digest import minutes, pct, rate
from bot.progress import Progress
from leadqual import calendar
from leadqual.bootstrap import bootstrap
from leadqual.errors import ConfigError
from leadqual.figures import Figures, SliceFigures
from leadqual.groups import Group
from leadqual.readmodels import Digest
from leadqual.services import digest as service
from leadqual.settings import Settings

WIDTH = 100


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = sub.add_parser("digest", help="build the weekly digest and send it to the managers")
    cmd.add_argument("--week", type=_week, help="ISO week to report on, e.g. 2026-W47 (default: the last complete one)")
    cmd.add_argument("--dry-run", action="store_true", help="print it, send nothing, take no send guard")
    cmd.add_argument("--json", action="store_true", help="print every figure and proposal as JSON")
    cmd.set_defaults(run=run_digest)


def _week(value: str) -> str:
    try:
        year, week = calendar.parse_iso_week(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return calendar.iso_week_label(year, week)


def run_digest(args: argparse.Namespace, settings: Settings) -> int:
    ctx = bootstrap(settings)
    progress = Progress("building the digest", 1)
    built = service.build_digest(ctx, iso_week=args.week)
    progress.advance(1)
    progress.finish()
    report: dict[str, Any] | None = None
    if not args.dry_run:
        report = _send(ctx, settings, built)
    if args.json:
        print(json.dumps({**built.as_json(), "sent": report}, indent=2, ensure_ascii=False))
    else:
        print(render_text(built))
        if report is not None:
            print(f"\nsent to {len(report['sent'])} manager(s); {len(report['skipped'])} already had it"
                  + "".join(f"\nfailed for {m}: {why}" for m, why in report["failed"].items()))
    return 1 if report and report["failed"] else 0


def _send(ctx: Any, settings: Settings, built: Digest) -> dict[str, Any]:
    from bot.digest import send_digest
    from bot.slack.client import connected, make_client

    client = make_client(settings)
    managers = connected(ctx, client).managers.all()
    if not managers:
        raise ConfigError("No managers to send the digest to: set LEADBOT_MANAGERS or `managers:` in the config "
                          "(or use --dry-run)")
    sent = send_digest(ctx, client, iso_week=built.iso_week, managers=managers, built=built)
    return {"iso_week": sent.iso_week, "sent": sent.sent, "skipped": sent.skipped, "failed": sent.failed}


# --- a readable rendering for the terminal -----------------------------------------------------

def render_text(d: Digest) -> str:
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
        lines += [f"  {g.label}: " + ", ".join(f"{code.replace('_', ' ')} {n}" for code, n in reasons)
                  for g, reasons in d.week.reasons.items()]
    lines += ["", "Quality by source (window): " + _slices(d.trailing.sources),
              "Quality by offer (window):  " + _slices(d.trailing.offers), ""]
    lines += _proposals(d)
    if d.ruleset.from_proposal:
        lines += ["", f"Last change: v{d.ruleset.version} from {d.ruleset.proposal_id or 'a proposal'} "
                      f"({d.ruleset.proposal_title or ''}). Undo with: leadbot rules rollback"]
    return "\n".join(lines)


def _summary(week: Figures, trailing: Figures) -> str:
    claim = (f"first claim median {minutes(week.claim_median_minutes)}, p90 {minutes(week.claim_p90_minutes)}"
             if week.claim_median_minutes is not None else "no claims")
    cards = (f"{pct(week.actioned_share)} of {week.cards_posted} posted cards got any action"
             if week.cards_posted else "no cards posted")
    return (f"This week: {week.received} leads ({week.routed} routed to sales), {week.qualified} qualified of "
            f"{week.decided} decided ({rate(week.qualified, week.decided)}; window "
            f"{rate(trailing.qualified, trailing.decided)}); {claim}; {cards}.")


def _table(week: Figures, trailing: Figures) -> str:
    rows = [("group", "leads", "accepted", "qualified", "claim p50", "claim p90", "window qualified")]
    for g in Group:
        w, t = week.group(g), trailing.group(g)
        rows.append((g.label, str(w.received), pct(w.acceptance), _rate_n(w.qualified, w.decided),
                     minutes(w.claim_median_minutes), minutes(w.claim_p90_minutes), _rate_n(t.qualified, t.decided)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r))
                     for r in rows)


def _misses(week: Figures) -> str:
    negatives = ", ".join(f"{n} {g.label}" for g, n in week.false_negatives.items())
    return (f"False positives: {week.false_positives} Priority not qualified of "
            f"{week.group(Group.PRIORITY).decided} decided. False negatives (low groups qualified): {negatives}.")


def _slices(slices: list[SliceFigures]) -> str:
    return ", ".join(f"{s.name} {_rate_n(s.qualified, s.qualified + s.not_qualified)}" for s in slices[:6]) or "-"


def _proposals(d: Digest) -> list[str]:
    if not d.proposals:
        return [f"No rule changes proposed: the {d.evidence_leads} decided leads of the window do not call for any."]
    lines = [f"Proposed rule changes (learned from {d.evidence_leads} decided leads of the {d.trailing.period.label}):"]
    for i, change in enumerate(d.proposals, 1):
        p = change.proposal
        lines.append(f"{i:>2}. {p.id}  {p.title}")
        lines += textwrap.wrap(p.evidence, WIDTH, initial_indent="    ", subsequent_indent="    ")
        if change.backtest is not None:
            lines += textwrap.wrap("Backtest: " + change.backtest.summary(), WIDTH, initial_indent="    ",
                                   subsequent_indent="    ")
        lines.append(f"    Apply: leadbot rules apply {p.id}")
    return lines


def _rate_n(won: int, decided: int) -> str:
    return f"{rate(won, decided)} of {decided}" if decided else "-"
