"""Which commands exist, their one-line help, and the module that implements each: nothing else.

`leadbot --help` must not pay for FastAPI, Bolt, SQLAlchemy or matplotlib, so the top-level
parser is built from this table alone; a command's module (and what it imports) is loaded
only when that command is run or asked for its own help. The help texts repeat the ones
each module registers (tests/test_cli_startup.py checks they agree).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

# name -> (module under bot.commands, help); in the order `leadbot --help` lists them.
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("serve", "run the HTTP server (POST /leads, /healthz, /slack/events)"),
    "worker": ("worker", "deliver queued Slack messages and run the SLA ladder and digest"),
    "outbox": ("outbox", "show what the worker has still to send and what died, and why; re-queue dead rows"),
    "import": ("intake", "import leads from JSON Lines or CSV (all or nothing)"),
    "score": ("intake", "score a file of leads offline and print a table"),
    "rules": ("rules", "scoring rules"),
    "routes": ("routes", "check the config's routes against sample leads"),
    "digest": ("digest", "build the weekly digest and send it to the managers"),
    "demo": (
        "demo",
        "run the main job offline: history, sample leads, a week of decisions, the digest and a rule change",
    ),
    "db": ("db", "database schema"),
}


def chosen_command(argv: Sequence[str]) -> str | None:
    """The command `argv` names (its first word that is not an option), if it is one we know."""
    for arg in argv:
        if arg == "--":
            return None
        if not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], argv: Sequence[str]) -> None:
    """Add every command to `sub`: the one `argv` runs in full, the others as their name and help only."""
    name = chosen_command(argv)
    if name is not None:
        load(name).register(sub)
    for other, (_module, help_text) in COMMANDS.items():
        if other not in sub.choices:
            sub.add_parser(other, help=help_text)


def load(name: str) -> ModuleType:
    """Import the module that implements command `name`."""
    return importlib.import_module(f"bot.commands.{COMMANDS[name][0]}")
