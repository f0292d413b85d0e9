"""`leadbot routes check FILE`: which route each sample lead takes (offline, no database)."""

from __future__ import annotations

import argparse
from collections import Counter

from blocks.format import text_table
from bot.commands.arguments import existing_file
from bot.commands.intake import read_leads
from leadqual.bootstrap import load_app_config, load_rules
from leadqual.errors import ImportFailed, LeadbotError
from leadqual.routing.routes import describe, route_table
from leadqual.scoring import Ruleset, score
from leadqual.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    routes = sub.add_parser("routes", help="check the config's routes against sample leads")
    actions = routes.add_subparsers(title="actions", metavar="ACTION")
    check = actions.add_parser("check", help="print the route each lead of a JSON Lines or CSV file takes")
    check.add_argument("file", type=existing_file)
    check.set_defaults(run=check_file)


def check_file(args: argparse.Namespace, settings: Settings) -> int:
    try:
        leads = read_leads(args.file)
    except ImportFailed as exc:  # not an import: say what is wrong, without "nothing was imported"
        raise LeadbotError("\n".join(exc.problems)) from None
    config = load_app_config(settings)
    spec, _ = load_rules(settings, config)
    ruleset, table = Ruleset.compile(spec), route_table(config)
    rows = []
    for lead in leads:
        s = score(lead, ruleset)
        route = table.match(s.group, lead, segment=s.segment)
        cells = describe(route, s.group) if route else ("none", "(not posted)", s.group.value, "off")
        rows.append((lead.display_name[:28], *cells))
    shape = "list, first match wins" if isinstance(config.routes, list) else "one route per group"
    print(f"routes from {settings.config_file or 'the packaged config'} ({shape})")
    print(text_table([("lead", "route", "channel", "group", "rotation"), *rows], ruled=True, free_last=True))
    counts = Counter(r[2] for r in rows)
    print("\n" + "  ".join(f"{channel}: {n}" for channel, n in counts.most_common()))
    return 0
