"""`make bench` / `python -m bench`: run every benchmark and print one table of ratios.

Each `bench/bench_*.py` measures its figure and a baseline in the same run (machines are
noisy: compare ratios, not seconds). `python -m bench scoring import` runs a subset.
"""

from __future__ import annotations

import importlib
import pkgutil
import platform
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


def discover(names: list[str]) -> list[str]:
    found = sorted(m.name for m in pkgutil.iter_modules([str(HERE)]) if m.name.startswith("bench_"))
    if names:
        wanted = {n if n.startswith("bench_") else f"bench_{n}" for n in names}
        unknown = wanted - set(found)
        if unknown:
            raise SystemExit(f"unknown benchmark(s): {', '.join(sorted(unknown))}; have {', '.join(found)}")
        found = [f for f in found if f in wanted]
    return found


def table(rows: list[dict[str, Any]]) -> str:
    header = ("benchmark", "figure", "value", "baseline", "ratio", "target", "ok")
    cells = [header] + [tuple(_cell(r.get(h)) for h in header) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(header))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "NO"
    return "" if value is None else str(value)


def main(argv: list[str]) -> int:
    rows: list[dict[str, Any]] = []
    started = time.monotonic()
    for name in discover(argv):
        print(f"\n== {name} ==", flush=True)
        module = importlib.import_module(f"bench.{name}")
        rows.extend(module.main())
    print(
        f"\nLeadbot benchmarks ({platform.python_version()}, {platform.machine()}, "
        f"{time.monotonic() - started:.0f}s): ratios are against a baseline measured in the same run\n"
    )
    print(table(rows))
    return 0 if all(r.get("ok") is not False for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
