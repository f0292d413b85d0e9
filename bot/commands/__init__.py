"""CLI commands, one module each; `register(sub)` adds a command's parser.

The modules are imported only when their command runs (see `registry`), so the CLI starts fast.
"""

from __future__ import annotations

import argparse


def register_all(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add every command in full (imports every command module: slow; the CLI uses `registry`)."""
    from bot.commands import registry

    for name in registry.COMMANDS:
        if name not in sub.choices:
            registry.load(name).register(sub)
