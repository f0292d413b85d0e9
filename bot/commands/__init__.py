"""CLI commands, one module each; `register(sub)` adds a command's parser."""

from __future__ import annotations

import argparse

from bot.commands import db, demo, digest, intake, routes, rules, serve, worker


def register_all(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for module in (serve, worker, intake, rules, routes, digest, demo, db):
        module.register(sub)
