"""A small progress line on stderr for long CLI work (quiet when stderr is not a terminal)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, label: str, total: int, *, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = max(total, 1)
        self.done = 0
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.monotonic()
        self._last = -1

    def advance(self, n: int, total: int | None = None) -> None:
        if total is not None:
            self.total = max(total, 1)
        self.done = min(self.total, self.done + n)
        percent = self.done * 100 // self.total
        if self.tty and percent != self._last:
            bar = "#" * (percent // 4)
            self.stream.write(f"\r{self.label} [{bar:<25}] {self.done}/{self.total}")
            self.stream.flush()
        elif not self.tty and percent // 25 != self._last // 25:
            self.stream.write(f"{self.label}: {self.done}/{self.total}\n")
        self._last = percent

    def finish(self) -> float:
        elapsed = time.monotonic() - self.started
        if self.tty:
            self.stream.write("\n")
        return elapsed
