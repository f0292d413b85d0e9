"""`leadbot digest [--week YYYY-Www] [--dry-run] [--json]`: build the weekly digest, and send it.

Without --dry-run the digest goes to every manager who has not had it this week (the same
guarded send as the scheduled one). --dry-run sends nothing and takes no send guard; the
proposals are still stored, so `leadbot rules apply ID` can act on what it printed.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from blocks.proposal_words import digest_json
from blocks.terminal import digest_report
from bot.progress import Progress
from leadqual import calendar
from leadqual.bootstrap import bootstrap
from leadqual.errors import ConfigError
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
        print(json.dumps({**digest_json(built), "sent": report}, indent=2, ensure_ascii=False))
    else:
        print(digest_report(built))
        if report is not None:
            print(
                f"\nsent to {len(report['sent'])} manager(s); {len(report['skipped'])} already had it"
                + "".join(f"\nfailed for {m}: {why}" for m, why in report["failed"].items())
            )
    return 1 if report and report["failed"] else 0


def _send(ctx: Any, settings: Settings, built: Digest) -> dict[str, Any]:
    from bot.digest import send_digest
    from bot.slack.client import connected, make_client

    client = make_client(settings)
    managers = connected(ctx, client).managers.all()
    if not managers:
        raise ConfigError(
            "No managers to send the digest to: set LEADBOT_MANAGERS or `managers:` in the config (or use --dry-run)"
        )
    sent = send_digest(ctx, client, iso_week=built.iso_week, managers=managers, built=built)
    return {"iso_week": sent.iso_week, "sent": sent.sent, "skipped": sent.skipped, "failed": sent.failed}
