"""The `leadbot` command line. Each command: parse, call a service, print. Errors: one line, exit 1."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

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
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    from bot.commands import register_all

    parser = argparse.ArgumentParser(prog="leadbot", description="Score, route and qualify leads in Slack.")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    register_all(sub)
    return parser


def existing_file(value: str) -> Path:
    path = Path(value)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{value}: no such file")
    return path


if __name__ == "__main__":
    raise SystemExit(main())
