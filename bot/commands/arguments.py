"""Argument types the commands share (argparse `type=` callables)."""

from __future__ import annotations

import argparse
from pathlib import Path


def existing_file(value: str) -> Path:
    """A path that names an existing file, or argparse's one-line error."""
    path = Path(value)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{value}: no such file")
    return path
