"""CLI start-up: `leadbot --help` and a one-lead `leadbot score` against a bare `python -c pass`.

All three run as fresh processes of the same interpreter, interleaved, in the same run; the
figure is the median wall time of each. The target is for `--help`: within 0.3 s of the bare
interpreter (it loads no command module; see bot/commands/registry.py). `score` loads what
scoring needs (config, rules, lead validation) and is reported.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RUNS = 9
TARGET = 0.3  # seconds over the bare interpreter, for --help
LEAD = {
    "external_id": "bench-1",
    "company": {"name": "Acme Metals", "industry": "metals", "country": "US"},
    "contact": {"email": "dana@acmemetals.com", "title": "Maintenance Manager"},
    "signals": [{"type": "rfq_request"}],
    "need": {"scope": "replacement"},
}


def _wall(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        leads = folder / "one.jsonl"
        leads.write_text(json.dumps(LEAD) + "\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LEADBOT_", "SLACK_", "DATABASE_URL"))}
        env["DATABASE_URL"] = f"sqlite:///{folder / 'unused.db'}"
        commands = {
            "bare": [sys.executable, "-c", "pass"],
            "help": [sys.executable, "-m", "bot.cli", "--help"],
            "score": [sys.executable, "-m", "bot.cli", "score", str(leads)],
        }
        for argv in commands.values():  # warm the OS file cache and the bytecode
            _wall(argv, env, ROOT)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(RUNS):  # interleaved, so machine noise falls on all three alike
            for name, argv in commands.items():
                times[name].append(_wall(argv, env, ROOT))
    bare, help_, score = (statistics.median(times[n]) for n in ("bare", "help", "score"))
    print(
        f"cli: bare python {bare * 1000:.0f} ms, leadbot --help {help_ * 1000:.0f} ms "
        f"(+{(help_ - bare) * 1000:.0f} ms), one-lead leadbot score {score * 1000:.0f} ms "
        f"(+{(score - bare) * 1000:.0f} ms); medians of {RUNS}"
    )
    return [
        {
            "benchmark": "cli",
            "figure": "leadbot --help, start to exit",
            "value": f"{help_ * 1000:.0f} ms",
            "baseline": f"{bare * 1000:.0f} ms python -c pass",
            "ratio": round(help_ / bare, 2),
            "target": f"<= +{TARGET * 1000:.0f} ms",
            "ok": help_ - bare <= TARGET,
        },
        {
            "benchmark": "cli",
            "figure": "leadbot score (one lead), start to exit",
            "value": f"{score * 1000:.0f} ms",
            "baseline": f"{bare * 1000:.0f} ms python -c pass",
            "ratio": round(score / bare, 2),
            "target": "(reported)",
            "ok": None,
        },
    ]


if __name__ == "__main__":
    main()
