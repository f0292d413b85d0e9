"""CLI commands, one module each; `register(sub)` adds a command's parser."""

from __future__ import annotations

import argparse

from bot.commands import db, intake, rules, serve


def register_all(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for module in (serve, intake, rules, db):
        module.register(sub)
