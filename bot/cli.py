"""The `leadbot` command line. Each command: parse, call a service, print. Errors: one line, exit 1.

Start-up is kept light: only the command being run is imported (bot.commands.registry), and
settings, SQLAlchemy and the rest load after the arguments are parsed, so `leadbot --help`
answers about as fast as the bare interpreter.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from leadqual.errors import ConfigError, ImportFailed, InvalidLead, LeadbotError

if TYPE_CHECKING:
    from leadqual.settings import Settings

Command = Callable[[argparse.Namespace, "Settings"], int]


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        from leadqual.settings import load_settings

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
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if not _database_down(exc):
            raise
        orig = getattr(exc, "orig", None)  # the database is down, unreachable, or refuses us
        reason = str(orig).strip().splitlines()[0] if orig else exc.__class__.__name__
        print(f"leadbot: error: cannot use the database at {_safe_url()}: {reason}", file=sys.stderr)
        return 1


def _database_down(exc: Exception) -> bool:
    # SQLAlchemy is loaded by the commands that use a database; an error from it implies it is loaded.
    errors = sys.modules.get("sqlalchemy.exc")
    return errors is not None and isinstance(exc, errors.OperationalError)


def _safe_url() -> str:
    from sqlalchemy.engine import make_url

    from leadqual.settings import load_settings

    try:
        return make_url(load_settings().database_url).render_as_string(hide_password=True)
    except Exception:  # the URL itself is what is wrong; say nothing more about it
        return "DATABASE_URL"


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser: every command listed, and the one `argv` names (only that one) loaded in full."""
    from bot.commands import registry

    parser = argparse.ArgumentParser(prog="leadbot", description="Score, route and qualify leads in Slack.")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    registry.register(sub, argv)
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
