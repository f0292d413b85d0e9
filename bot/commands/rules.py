"""`leadbot rules check|show|apply|rollback|backtest`: validate, print, and change the active ruleset.

apply, rollback and backtest act on the proposals a digest stored (`leadbot digest --json`
lists their ids). The CLI runs with the operator's rights: no manager check.
"""

from __future__ import annotations

import argparse
import getpass
from pathlib import Path

from blocks.proposal_words import backtest_summary, split_lines, title
from leadqual.bootstrap import bootstrap, load_app_config, rules_path
from leadqual.rules import load_ruleset_file
from leadqual.services import proposals
from leadqual.services.digest import BACKTEST_LIMIT
from leadqual.services.heldout_backtest import held_out_backtest
from leadqual.services.proposal_store import load_proposal
from leadqual.services.rulesets import active_version
from leadqual.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rules = sub.add_parser("rules", help="scoring rules").add_subparsers(metavar="ACTION", required=True)
    check = rules.add_parser("check", help="validate a rules file (default: the configured one)")
    check.add_argument("file", nargs="?", type=Path)
    check.set_defaults(run=check_rules)
    show = rules.add_parser("show", help="print the active ruleset version as YAML")
    show.set_defaults(run=show_rules)
    apply = rules.add_parser("apply", help="apply a digest proposal: the next ruleset version becomes active")
    apply.add_argument("proposal_id", metavar="ID", help="a proposal id such as p-3f9a1c (see `leadbot digest`)")
    apply.set_defaults(run=apply_rules)
    rollback = rules.add_parser("rollback", help="reactivate the version the active one was made from")
    rollback.set_defaults(run=rollback_rules)
    backtest = rules.add_parser("backtest", help="rescore recent decided leads with a proposal applied")
    backtest.add_argument("proposal_id", metavar="ID")
    backtest.add_argument(
        "--limit",
        type=int,
        default=BACKTEST_LIMIT,
        help=f"decided leads to rescore, most recent first (default {BACKTEST_LIMIT})",
    )
    backtest.set_defaults(run=backtest_rules)


def check_rules(args: argparse.Namespace, settings: Settings) -> int:
    path = args.file or rules_path(settings, load_app_config(settings))
    spec = load_ruleset_file(path)
    kinds: dict[str, int] = {}
    for rule in spec.rules:
        kinds[rule.kind.value] = kinds.get(rule.kind.value, 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in kinds.items())
    print(
        f"{path}: ok: {spec.name} v{spec.version}: {len(spec.rules)} rules ({summary}), "
        f"{len(spec.must_have)} must-haves, {len(spec.segments)} segments"
    )
    return 0


def show_rules(args: argparse.Namespace, settings: Settings) -> int:
    ctx = bootstrap(settings)
    row = active_version(ctx)
    print(f"# active ruleset: {row.name} v{row.version} ({row.origin}, {row.created_at:%Y-%m-%d %H:%M} UTC)")
    print(row.yaml_text, end="")
    return 0


def _operator() -> str:
    return f"cli:{getpass.getuser()}"


def apply_rules(args: argparse.Namespace, settings: Settings) -> int:
    ctx = bootstrap(settings)
    old, new = proposals.apply_proposal(ctx.as_operator(_operator()), args.proposal_id, actor=_operator())
    found = load_proposal(ctx, args.proposal_id)
    name = title(found[1]) if found else args.proposal_id
    print(f"applied {args.proposal_id}: {name}")
    print(
        f"ruleset v{new} is active (was v{old}); leads already scored keep their version. "
        "Undo with: leadbot rules rollback"
    )
    return 0


def rollback_rules(args: argparse.Namespace, settings: Settings) -> int:
    ctx = bootstrap(settings)
    old, new = proposals.rollback(ctx.as_operator(_operator()), actor=_operator())
    print(f"rolled back: ruleset v{new} is active again (v{old} stays on record)")
    return 0


def backtest_rules(args: argparse.Namespace, settings: Settings) -> int:
    ctx = bootstrap(settings)
    proposal, result = proposals.backtest_proposal(ctx, args.proposal_id, limit=max(1, args.limit))
    print(f"{proposal.id}: {title(proposal)}")
    print(backtest_summary(result))
    for before, after, n in result.moves():
        print(f"  {n:>6}  {before.label} -> {after.label}")
    split = held_out_backtest(ctx, args.proposal_id)
    learnt_from_window = "held_out_weeks" not in proposal.figures  # the marginal method saw every week
    for line in split_lines(split, learnt_from_window=learnt_from_window):
        print(line)
    return 0
