"""The `leadbot` command line. Each command: parse, call a service, print. Errors: one line, exit 1."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from leadqual.errors import ConfigError, ImportFailed, InvalidLead, LeadbotError
from leadqual.settings import Settings, load_settings

Command = Callable[[argparse.Namespace, Settings], int]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        settings = load_settings()
        return int(args.run(args, settings) or 0)
    except ImportFailed as exc:
        for problem in exc.problems[:20]:
            print(f"leadbot: error: {problem}", file=sys.stderr)
        if len(exc.problems) > 20:
            print(f"leadbot: error: ... and {len(exc.problems) - 20} more", file=sys.stderr)
        print("leadbot: nothing was imported", file=sys.stderr)
        return 1
    except (ConfigError, InvalidLead, LeadbotError, LookupError) as exc:
        for line in str(exc).splitlines() or [exc.__class__.__name__]:
            print(f"leadbot: error: {line}", file=sys.stderr)
        return 1
    except OperationalError as exc:  # the database is down, unreachable, or refuses us
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else exc.__class__.__name__
        print(f"leadbot: error: cannot use the database at {_safe_url()}: {reason}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _safe_url() -> str:
    try:
        return make_url(load_settings().database_url).render_as_string(hide_password=True)
    except Exception:  # the URL itself is what is wrong; say nothing more about it
        return "DATABASE_URL"


def build_parser() -> argparse.ArgumentParser:
    from bot.commands import register_all

    parser = argparse.ArgumentParser(prog="leadbot", description="Score, route and qualify leads in Slack.")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    register_all(sub)
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
