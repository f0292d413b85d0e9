"""`leadbot demo`: the whole job on an embedded SQLite with no Slack workspace (see bot.demo)."""

from __future__ import annotations

import argparse
from pathlib import Path

from leadqual.settings import Settings

DEFAULT_FOLDER = Path("demo-output")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = sub.add_parser(
        "demo",
        help="run the main job offline: history, sample leads, a week of decisions, the digest and a rule change",
    )
    cmd.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_FOLDER,
        help=f"folder for the database, cards, digest and chart (default ./{DEFAULT_FOLDER})",
    )
    cmd.add_argument("--history", type=_positive, default=3000, help="simulated decided leads to import first")
    cmd.add_argument("--seed", type=int, default=3, help="seed of the simulated history and decisions")
    cmd.set_defaults(run=run)


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of 1 or more")
    return number


def run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.demo import run_demo  # matplotlib and the rest load only when the demo runs

    run_demo(args.out, history=args.history, seed=args.seed)
    return 0
