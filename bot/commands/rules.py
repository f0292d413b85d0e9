"""`leadbot rules check|show`: validate a rules file, print the active ruleset."""

from __future__ import annotations

import argparse
from pathlib import Path

from leadqual.bootstrap import bootstrap, load_app_config, rules_path
from leadqual.rules import load_ruleset_file
from leadqual.services.rulesets import active_version
from leadqual.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rules = sub.add_parser("rules", help="scoring rules").add_subparsers(metavar="ACTION", required=True)
    check = rules.add_parser("check", help="validate a rules file (default: the configured one)")
    check.add_argument("file", nargs="?", type=Path)
    check.set_defaults(run=check_rules)
    show = rules.add_parser("show", help="print the active ruleset version as YAML")
    show.set_defaults(run=show_rules)


def check_rules(args: argparse.Namespace, settings: Settings) -> int:
    path = args.file or rules_path(settings, load_app_config(settings))
    spec = load_ruleset_file(path)
    kinds: dict[str, int] = {}
    for rule in spec.rules:
        kinds[rule.kind.value] = kinds.get(rule.kind.value, 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in kinds.items())
    print(f"{path}: ok: {spec.name} v{spec.version}: {len(spec.rules)} rules ({summary}), "
          f"{len(spec.must_have)} must-haves, {len(spec.segments)} segments")
    return 0


def show_rules(args: argparse.Namespace, settings: Settings) -> int:
    ctx = bootstrap(settings)
    row = active_version(ctx)
    print(f"# active ruleset: {row.name} v{row.version} ({row.origin}, {row.created_at:%Y-%m-%d %H:%M} UTC)")
    print(row.yaml_text, end="")
    return 0
