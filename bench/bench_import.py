"""Import throughput for 20,000 leads against a bare json-parse + SQLite executemany floor.

Two floors, both measured in the same run on fresh SQLite files:

- narrow: parse each JSON line and executemany (external_id, email, payload) into a
  three-column table, one transaction: the least any importer could do;
- same schema: parse each line and executemany the parsed values straight into Leadbot's
  own `leads` table (every column and index), one transaction: the least work to land
  these records in this schema, without validation or scoring.

`leadbot import` (timed after start-up, as the CLI runs it) also validates and normalises
every lead, deduplicates, scores, stores explanations and queues card outbox rows, all in
one transaction.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.leadgen import records
from leadqual.bootstrap import bootstrap
from leadqual.db.engine import make_engine, upgrade_schema
from leadqual.importing import prepare_file
from leadqual.services.intake import store
from leadqual.settings import Settings

N = 20_000
TARGET = 5.0  # at most this many times the floor


def _parse(path: Path) -> list[dict[str, Any]]:
    with path.open("rb") as fh:
        return [json.loads(line) for line in fh]


def _narrow_floor(path: Path, db: Path) -> float:
    started = time.perf_counter()
    rows = [(r.get("external_id"), r.get("contact", {}).get("email"), json.dumps(r)) for r in _parse(path)]
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE leads (id INTEGER PRIMARY KEY, external_id TEXT UNIQUE, email TEXT, payload TEXT)")
    with conn:
        conn.executemany("INSERT INTO leads (external_id, email, payload) VALUES (?, ?, ?)", rows)
    conn.close()
    return time.perf_counter() - started


def _schema_floor(path: Path, db: Path) -> float:
    engine = make_engine(f"sqlite:///{db}")
    upgrade_schema(engine)
    engine.dispose()
    started = time.perf_counter()
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    rows = [
        (
            r.get("external_id"),
            r.get("contact", {}).get("email"),
            r.get("company", {}).get("name"),
            r.get("source"),
            r.get("offer"),
            r.get("campaign"),
            r.get("received_at"),
            now,
            json.dumps(r),
            0,
            0,
            "research",
            0,
            None,
            "[]",
            "[]",
            1,
            "new",
            0,
            0,
            1,
        )
        for r in _parse(path)
    ]
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    with conn:
        conn.executemany(
            "INSERT INTO leads (external_id, email, company_name, source, offer, campaign, received_at, created_at,"
            " payload, fit, intent, score_group, urgent, segment, hits, failed_must_haves, ruleset_version, status,"
            " historical, sla_step, version) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
    conn.close()
    return time.perf_counter() - started


def _leadbot(path: Path, db: Path) -> float:
    settings = Settings(_env_file=None, DATABASE_URL=f"sqlite:///{db}", LEADBOT_CHANNEL="C0LEADS")  # type: ignore[call-arg]
    ctx = bootstrap(settings)
    started = time.perf_counter()  # what `leadbot import` does after start-up
    results = store(ctx, prepare_file(path, ctx.active_ruleset(), ctx.now()))
    elapsed = time.perf_counter() - started
    assert len(results) == N and not any(r.duplicate for r in results)
    ctx.session_factory.kw["bind"].dispose()
    return elapsed


def main() -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "leads.jsonl"
        path.write_text("\n".join(json.dumps(r) for r in records(N, seed=11)) + "\n")
        narrow = min(_narrow_floor(path, folder / f"narrow{i}.db") for i in range(3))
        schema = min(_schema_floor(path, folder / f"schema{i}.db") for i in range(3))
        ours = min(_leadbot(path, folder / f"leadbot{i}.db") for i in range(2))
    print(f"import: {N:,} leads in {ours:.2f}s ({N / ours:,.0f} leads/s)")
    print(f"  narrow floor (3-column table): {narrow:.2f}s -> {ours / narrow:.1f}x")
    print(f"  same-schema floor (leads table, no validation or scoring): {schema:.2f}s -> {ours / schema:.1f}x")
    return [
        {
            "benchmark": "import",
            "figure": f"{N:,} leads vs same-schema floor",
            "value": f"{ours:.2f}s",
            "baseline": f"{schema:.2f}s json+executemany into leads",
            "ratio": round(ours / schema, 2),
            "target": f"<= {TARGET}x",
            "ok": ours / schema <= TARGET,
        },
        {
            "benchmark": "import",
            "figure": f"{N:,} leads vs narrow floor",
            "value": f"{ours:.2f}s",
            "baseline": f"{narrow:.2f}s json+executemany, 3 columns",
            "ratio": round(ours / narrow, 2),
            "target": "(reported)",
            "ok": None,
        },
    ]


if __name__ == "__main__":
    main()
