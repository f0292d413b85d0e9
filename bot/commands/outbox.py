"""`leadbot outbox list | requeue ID... | requeue --dead`: what is waiting, what died and why, send it again."""

from __future__ import annotations

import argparse
from datetime import datetime

from leadqual.settings import Settings

HELP = "show what the worker has still to send and what died, and why; re-queue dead rows"
COLUMNS = ("id", "kind", "status", "channel", "lead", "attempts", "next attempt", "last error")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = sub.add_parser("outbox", help=HELP, description=HELP)
    actions = cmd.add_subparsers(metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="the pending and dead rows, oldest first (the order they are sent in)")
    which = listing.add_mutually_exclusive_group()
    which.add_argument("--dead", action="store_true", help="only the rows that gave up")
    which.add_argument("--pending", action="store_true", help="only the rows still to be sent")
    listing.add_argument("--limit", type=int, default=200, metavar="N", help="show at most N rows (default 200)")
    listing.set_defaults(run=list_rows)
    again = actions.add_parser(
        "requeue",
        help="make dead rows pending again: the worker sends them at once",
        description="Make dead rows pending again. A re-queued card brings back the "
        "updates and thread lines that died with it; a row tried before is "
        "looked up in Slack first, so it is not posted twice.",
    )
    again.add_argument("ids", nargs="*", type=_row_id, metavar="ID", help="outbox row ids (as `outbox list` shows)")
    again.add_argument("--dead", action="store_true", help="every dead row")
    again.set_defaults(run=requeue_rows)


def list_rows(args: argparse.Namespace, settings: Settings) -> int:
    from blocks.format import text_table
    from leadqual.bootstrap import bootstrap
    from leadqual.services import outbox_admin
    from leadqual.services.delivery import DEAD, PENDING

    statuses = (DEAD,) if args.dead else (PENDING,) if args.pending else (PENDING, DEAD)
    ctx = bootstrap(settings)
    rows = outbox_admin.entries(ctx, statuses=statuses, limit=max(1, args.limit))
    table = [COLUMNS] + [
        (
            f"#{r.id}",
            r.kind,
            r.status,
            r.channel_id or "-",
            str(r.lead_id) if r.lead_id is not None else "-",
            str(r.attempts),
            _moment(r.next_attempt_at),
            _one_line(r.last_error),
        )
        for r in rows
    ]
    if rows:
        print(text_table(table, free_last=True))
    pending = sum(r.status == PENDING for r in rows)
    dead = len(rows) - pending
    summary = ", ".join(
        f"{n} {status}"
        for n, status, shown in ((pending, PENDING, PENDING in statuses), (dead, DEAD, DEAD in statuses))
        if shown
    )
    more = f" (the first {len(rows)}; --limit shows more)" if len(rows) >= args.limit else ""
    hint = "; `leadbot outbox requeue --dead` sends the dead rows again" if dead else ""
    print(f"{summary} outbox rows{more}{hint}")
    return 0


def requeue_rows(args: argparse.Namespace, settings: Settings) -> int:
    from leadqual.errors import ConfigError

    if bool(args.ids) == bool(args.dead):
        raise ConfigError("outbox requeue: name the row ids, or --dead for every dead row (not both)")
    from leadqual.bootstrap import bootstrap
    from leadqual.services import outbox_admin

    ctx = bootstrap(settings)
    done = outbox_admin.requeue(ctx, ids=None if args.dead else args.ids)
    named = f": {', '.join(f'#{i}' for i in done)}" if done and len(done) <= 20 else ""
    print(f"re-queued {len(done)} dead outbox rows{named}")
    return 0


def _row_id(value: str) -> int:
    try:
        number = int(value.lstrip("#"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an outbox row id") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not an outbox row id")
    return number


def _moment(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%SZ") if at is not None else "-"


def _one_line(text: str | None) -> str:
    return " ".join((text or "-").split())
