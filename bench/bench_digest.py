"""The weekly digest over 20k, 200k and 1M decided leads, against a bare GROUP BY count.

Each size gets its own SQLite file. Rows come from a pool of 4,000 simulated decided leads
(leadqual.simulate's planted world, scored by intake's own `prepare`), copied with fresh
ids and spread over the twelve-week window, and written with the driver's executemany
(20k rows per statement) in one transaction: a million rows in about a minute.

Each size is measured in a child process, so start-up (imports, bootstrap, the compiled
ruleset) and memory are its own: the digest time is `build_digest` alone, and peak memory
is the child's ru_maxrss. The baseline in the same child is a bare
`SELECT score_group, outcome, count(*) FROM leads GROUP BY 1, 2` over the same table.

What the digest reads at a million leads: about fifteen GROUP BY queries (figures for the
week and the window, evidence for proposals, two window-function percentile queries), and
for the backtests the `BACKTEST_LIMIT` most recently decided leads of the window, read in
pages of `BACKTEST_PAGE` and rescored in Python: rescoring is per lead, so it is capped
rather than run over the whole window (see leadqual.services.digest).
"""

from __future__ import annotations

import json
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SIZES = (20_000, 200_000, 1_000_000)
POOL = 4_000
WEEK = "2026-W47"
WINDOW_END = datetime(2026, 11, 23, 6, tzinfo=UTC)  # Monday 2026-W48 00:00 in America/Chicago
WINDOW = timedelta(weeks=12)
PER_20K_TARGET = 1.0  # seconds of digest per 20,000 leads, past start-up
MEMORY_TARGET = 300  # MB peak at a million leads
GROWTH_TARGET = 1.5  # time per 20k at 1M vs at 200k: linear (or better) growth
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a DateTime in SQLite
LIVE_COLUMNS = ("first_claimed_at", "claimed_at", "first_action_at", "message_ts", "channel_id")


def _settings(db: Path) -> Any:
    from leadqual.settings import Settings

    return Settings(
        _env_file=None,
        DATABASE_URL=f"sqlite:///{db}",
        LEADBOT_CHANNEL="C0LEADS",  # type: ignore[call-arg]
        LEADBOT_MANAGERS="U0MANAGER",
        LEADBOT_CONFIG=None,
        LEADBOT_RULES=None,
    )


def _pool() -> list[dict[str, Any]]:
    """Prepared lead rows (every column) for a pool of simulated decided leads."""
    from leadqual.config import default_rules_path
    from leadqual.rules import load_ruleset_file
    from leadqual.scoring import Ruleset
    from leadqual.services.intake import prepare, validate_leads
    from leadqual.simulate import PLANTED, simulate_leads

    ruleset = Ruleset.compile(load_ruleset_file(default_rules_path()))
    leads = validate_leads(list(simulate_leads(n=POOL, seed=21, world=PLANTED, end=WINDOW_END)))
    return [prepare(lead, ruleset, WINDOW_END) for lead in leads]


def generate(db: Path, n: int, pool: list[dict[str, Any]]) -> float:
    """Write `n` decided leads into a fresh, migrated database; return the seconds it took."""
    from leadqual.bootstrap import bootstrap

    started = time.perf_counter()
    ctx = bootstrap(_settings(db))  # migrates and stores ruleset v1
    ctx.session_factory.kw["bind"].dispose()
    columns = [c for c in pool[0] if c != "id"] + [c for c in LIVE_COLUMNS if c not in pool[0]]
    varying = ("external_id", "received_at", "created_at", "decided_at", "historical", "email", *LIVE_COLUMNS)
    fixed = [c for c in columns if c not in varying]
    templates = [tuple(_sqlite(row.get(c)) for c in fixed) for row in pool]  # converted once per pool lead
    rng = random.Random(n)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    order = ["id", *varying, *fixed]
    sql = f"INSERT INTO leads ({', '.join(order)}) VALUES ({', '.join('?' * len(order))})"
    with conn:
        for start in range(0, n, 20_000):
            conn.executemany(
                sql,
                [
                    (i + 1, *_varying(i, rng), *templates[i % len(templates)])
                    for i in range(start, min(n, start + 20_000))
                ],
            )
    conn.close()
    return time.perf_counter() - started


def _varying(i: int, rng: random.Random) -> tuple[Any, ...]:
    """The columns that differ between copies: id-like fields, times, and whether sales saw the lead."""
    received = WINDOW_END - timedelta(seconds=rng.random() * WINDOW.total_seconds())
    decided = received + timedelta(hours=rng.uniform(0.5, 96))
    at = received.strftime(SQLITE_TIME)
    if rng.random() < 0.3:  # a share reached sales through Slack: claimed, posted, acted on
        claimed = (received + timedelta(minutes=rng.expovariate(1 / 45))).strftime(SQLITE_TIME)
        live: tuple[Any, ...] = (claimed, claimed, claimed, f"{1_700_000_000 + i}.000100", "C0LEADS")
        return (f"bench-{i}", at, at, decided.strftime(SQLITE_TIME), 0, None, *live)
    return (f"bench-{i}", at, at, decided.strftime(SQLITE_TIME), 1, None, None, None, None, None, None)


def _sqlite(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime(SQLITE_TIME)
    if isinstance(value, list | dict):
        return json.dumps(value)
    return value


def measure(db: Path) -> dict[str, float]:
    """In a child process: the baseline GROUP BY and the digest, each timed after start-up."""
    from sqlalchemy import text

    from leadqual.bootstrap import bootstrap
    from leadqual.services.digest import build_digest

    ctx = bootstrap(_settings(db), clock=lambda: WINDOW_END + timedelta(hours=9))
    ctx.active_ruleset()
    with ctx.transaction() as session:  # warm the page cache the same way for both
        session.execute(text("SELECT count(*) FROM leads")).scalar()
    started = time.perf_counter()
    with ctx.transaction() as session:
        groups = session.execute(
            text("SELECT score_group, outcome, count(*) FROM leads GROUP BY score_group, outcome")
        ).all()
    baseline = time.perf_counter() - started
    started = time.perf_counter()
    digest = build_digest(ctx, iso_week=WEEK)
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "digest": elapsed,
        "baseline": baseline,
        "peak_mb": peak_mb,
        "groups": len(groups),
        "proposals": len(digest.proposals),
        "window_decided": digest.trailing.decided,
        "backtested": max((c.backtest.leads for c in digest.proposals if c.backtest), default=0),
    }


def main() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    results: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        pool = _pool()
        print(f"digest: pool of {POOL:,} simulated decided leads in {time.perf_counter() - started:.1f}s")
        for n in SIZES:
            db = Path(tmp) / f"digest-{n}.db"
            made = generate(db, n, pool)
            child = subprocess.run(
                [sys.executable, "-m", "bench.bench_digest", "--measure", str(db)],
                capture_output=True,
                text=True,
                check=True,
            )
            results[n] = json.loads(child.stdout.strip().splitlines()[-1])
            r = results[n]
            per_20k = r["digest"] / (n / 20_000)
            print(
                f"digest: {n:>9,} leads (generated in {made:.1f}s): digest {r['digest']:.2f}s "
                f"({per_20k:.3f}s per 20k), baseline GROUP BY {r['baseline']:.3f}s, peak {r['peak_mb']:.0f} MB, "
                f"{r['proposals']:.0f} proposals, {r['window_decided']:,.0f} decided in the window, "
                f"{r['backtested']:,.0f} backtested"
            )
            db.unlink()
            rows.append(
                {
                    "benchmark": "digest",
                    "figure": f"{n:,} decided leads, per 20k",
                    "value": f"{r['digest']:.2f}s ({per_20k:.3f}s/20k)",
                    "baseline": f"{r['baseline']:.3f}s bare GROUP BY count",
                    "ratio": round(r["digest"] / r["baseline"], 1),
                    "target": f"< {PER_20K_TARGET}s per 20k",
                    "ok": per_20k < PER_20K_TARGET,
                }
            )
    big, mid = results[SIZES[-1]], results[SIZES[1]]
    growth = (big["digest"] / SIZES[-1]) / (mid["digest"] / SIZES[1])
    rows.append(
        {
            "benchmark": "digest",
            "figure": f"growth: per-20k time at {SIZES[-1]:,} vs {SIZES[1]:,}",
            "value": f"{big['digest']:.2f}s",
            "baseline": f"{mid['digest']:.2f}s x {SIZES[-1] // SIZES[1]}",
            "ratio": round(growth, 2),
            "target": f"<= {GROWTH_TARGET}x (linear)",
            "ok": growth <= GROWTH_TARGET,
        }
    )
    rows.append(
        {
            "benchmark": "digest",
            "figure": f"peak memory at {SIZES[-1]:,}",
            "value": f"{big['peak_mb']:.0f} MB",
            "baseline": f"{results[SIZES[0]]['peak_mb']:.0f} MB at {SIZES[0]:,}",
            "ratio": round(big["peak_mb"] / results[SIZES[0]]["peak_mb"], 2),
            "target": f"< {MEMORY_TARGET} MB",
            "ok": big["peak_mb"] < MEMORY_TARGET,
        }
    )
    return rows


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--measure":
        print(json.dumps(measure(Path(sys.argv[2]))))
    else:
        from bench.__main__ import table

        print(table(main()))
