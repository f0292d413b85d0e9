"""`leadbot import FILE` and `leadbot score FILE`."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path
from typing import Any

from blocks.format import text_table
from bot.commands.arguments import existing_file
from bot.progress import Progress
from leadqual.bootstrap import bootstrap, load_app_config, load_rules
from leadqual.errors import ImportFailed, InvalidLead
from leadqual.groups import Group
from leadqual.importing import prepare_file, read_records
from leadqual.lead import Lead
from leadqual.pipeline_import import read_stage_reports
from leadqual.scoring import Ruleset, score
from leadqual.services import pipeline
from leadqual.services.intake import store, validate_leads
from leadqual.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:

    imp = sub.add_parser("import", help="import leads from JSON Lines or CSV (all or nothing)")
    imp.add_argument("file", type=existing_file)
    imp.add_argument("--no-post", action="store_true", help="store and score, but do not queue Slack cards")
    imp.set_defaults(run=import_file)

    sc = sub.add_parser("score", help="score a file of leads offline and print a table")
    sc.add_argument("file", type=existing_file)
    sc.add_argument("--reasons", type=int, default=3, help="how many reasons to show per lead (default 3)")
    sc.set_defaults(run=score_file)


def read_leads(path: Path) -> list[Lead]:
    """Read and validate a whole file; every problem is reported as `file:line: field: message`."""
    numbered = read_records(path)
    if not numbered:
        raise ImportFailed([f"{path}: no leads in the file"])
    lines = [n for n, _ in numbered]
    try:
        return validate_leads([r for _, r in numbered], where=lambda i: f"{path}:{lines[i]}")
    except InvalidLead as exc:
        raise ImportFailed([_describe(e) for e in exc.errors]) from None


def _describe(error: dict[str, Any]) -> str:
    loc = ".".join(str(p) for p in error["loc"])
    return f"{error['where']}: {loc + ': ' if loc else ''}{error['msg']}"


def import_file(args: argparse.Namespace, settings: Settings) -> int:
    ctx = bootstrap(settings)
    progress = Progress(f"checking {args.file.name}", 1)  # the total is known once the file is read
    rows = prepare_file(args.file, ctx.active_ruleset(), ctx.now(), progress=progress.advance)
    progress.finish()
    reports = read_stage_reports(args.file)  # checked before any lead is stored: the file is all or nothing
    unknown = pipeline.unknown_reports(ctx, [r for _, r in reports], arriving={r["external_id"] for r in rows})
    if unknown:
        raise ImportFailed(
            [f"{args.file}:{reports[i][0]}: pipeline: no stored lead has {reports[i][1].name}" for i in unknown]
        )
    progress = Progress(f"storing {args.file.name}", len(rows))
    results = store(ctx, rows, post=not args.no_post, source=f"import {args.file.name}", progress=progress.advance)
    elapsed = progress.finish()
    if reports:
        pipeline.record_stages(ctx, [r for _, r in reports], source=f"import {args.file.name}")
        print(f"recorded {len(reports)} pipeline stages")
    fresh = [r for r in results if not r.duplicate]
    groups = Counter(r.group for r in fresh)
    summary = ", ".join(f"{groups[g]} {g.label}" for g in Group if groups[g])
    print(
        f"imported {len(fresh)} leads ({len(results) - len(fresh)} duplicates) in {elapsed:.1f}s"
        + (f": {summary}" if summary else "")
    )
    return 0


def score_file(args: argparse.Namespace, settings: Settings) -> int:
    leads = read_leads(args.file)
    config = load_app_config(settings)
    spec, path = load_rules(settings, config)
    ruleset = Ruleset.compile(spec)
    rows = []
    for lead in leads:
        s = score(lead, ruleset)
        why = s.explain(args.reasons)
        rows.append(
            (lead.display_name[:28], str(s.fit), str(s.intent), s.group.label + (" (urgent)" if s.urgent else ""), why)
        )
    print(f"ruleset {spec.name} v{spec.version} from {path}")
    print(text_table([("lead", "fit", "intent", "group", "why"), *rows], ruled=True, free_last=True))
    counts = Counter(r[3].removesuffix(" (urgent)") for r in rows)
    print("\n" + "  ".join(f"{g.label}: {counts[g.label]}" for g in Group))
    return 0
