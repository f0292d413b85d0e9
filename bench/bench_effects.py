"""Rule proposals over 20k, 200k and 1M decided leads: the conditional loop against today's marginal one.

Both start from the same bit-packed hit matrix (leadqual.learning.hits), built by copying a
pool of 4,000 decided leads of the co-firing world (leadqual.worlds.COFIRING, scored once)
with fresh received times over the twelve-week window. The baseline is today's method in the
same run: the marginal `Evidence` counted from the hits (leadqual.learning.marginal, what the
database's GROUP BY queries count) and `proposals.propose`. The measured figure is
`learning.learn`: the time split, two penalised fits on the older weeks, point changes, strata,
held-out rescoring, thresholds on the rescored points. Time is the best of `REPEATS` runs, the two methods taking turns;
peak memory is tracemalloc's peak over one run (numpy reports its buffers to it).

Reading the window (`leadqual.services.window_hits`): the digest reads decided leads a keyset
page at a time and packs each page into bits (`HitMatrixBuilder`). `_read_peak` measures that
path without a database: pages of `PAGE` stored rows (as `analytics_evidence.decided_hits` returns
them: comma-joined rule ids, segment, failed must-haves, epoch seconds) turned into the hit matrix, tracemalloc's peak over the whole read, against
the packed matrix it produces (what must be kept). Bounded memory means the peak stays the
matrix plus one page, whatever the size.

The million-lead size takes a few seconds; `LEADBOT_BENCH_SIZES=20000,200000` runs fewer. The
read is measured at 20k and 200k by default (tracemalloc makes it slow);
`LEADBOT_BENCH_READ_SIZES=20000,200000,1000000` adds the million.
"""

from __future__ import annotations

import os
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

SIZES = tuple(int(s) for s in os.environ.get("LEADBOT_BENCH_SIZES", "20000,200000,1000000").split(","))
POOL = 4_000
END = datetime(2026, 11, 23, tzinfo=UTC)
WINDOW = timedelta(weeks=12)
RATIO_TARGET = 2.0  # conditional loop vs marginal method, same leads, same run
GROWTH_TARGET = 1.5  # time per 20k at the largest size vs the middle one: linear
REPEATS = 7  # runs of each method, in turns; the best counts
PAGE = 20_000  # leadqual.services.window_hits.PAGE
# Reading under tracemalloc is slow (~10 s per 100k leads): 1M only when asked for.
READ_SIZES = tuple(int(s) for s in os.environ.get("LEADBOT_BENCH_READ_SIZES", "20000,200000").split(",") if s)


def _pool() -> tuple[Any, np.ndarray]:
    from leadqual.worlds import COFIRING, world_hits

    return world_hits(COFIRING, n=POOL, seed=21, end=END)


def _copies(pool: Any, qualified: np.ndarray, n: int) -> tuple[Any, np.ndarray]:
    from leadqual.learning.hits import HitMatrix

    rng = np.random.default_rng(n)
    pick = rng.integers(0, len(pool), n)
    start = int((END - WINDOW).timestamp())
    received = np.sort(rng.integers(start, int(END.timestamp()), n)).astype(np.int64)
    hits = HitMatrix(pool.rules, pool.segments, pool.bits[pick], pool.segment[pick], pool.cap[pick], received)
    return hits, qualified[pick]


def _read_peak(pool: Any, pick: np.ndarray, received: np.ndarray) -> tuple[float, float, float]:
    """Peak MB of reading `pick`'s leads page by page into a hit matrix, the matrix's MB, and seconds."""
    from leadqual.learning.hits import HitMatrixBuilder
    from leadqual.worlds import COFIRING

    spec = COFIRING.ruleset.spec
    dense = pool.dense()
    at = int(END.timestamp())
    stored = [
        (",".join(pool.rules[j] for j in np.flatnonzero(row)), None, "", at) for row in dense
    ]  # one pool lead as the database returns it: `fired_rules`, segment, `must_haves_failed`, epoch seconds
    started = time.perf_counter()
    tracemalloc.start()
    builder = HitMatrixBuilder(spec)
    for lo in range(0, len(pick), PAGE):
        fired, segment, failed, received_at = zip(*(stored[i] for i in pick[lo : lo + PAGE]), strict=True)
        builder.add_joined(fired, segment, failed, received_at)  # a page of rows, as one query returns them
        del fired, segment, failed, received_at
    hits = builder.build()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    seconds = time.perf_counter() - started
    kept = hits.bits.nbytes + hits.segment.nbytes + hits.cap.nbytes + hits.received.nbytes
    del received
    return peak / 2**20, kept / 2**20, seconds


def _raced(
    ours: Callable[[], Any], base: Callable[[], Any]
) -> tuple[tuple[float, float, Any], tuple[float, float, Any]]:
    """Best time of `REPEATS` runs of each, taken in turns (a busy machine slows both alike), then peak memory."""
    best = [float("inf"), float("inf")]
    results: list[Any] = [None, None]
    for _ in range(REPEATS):
        for i, run in enumerate((ours, base)):
            started = time.perf_counter()
            results[i] = run()
            best[i] = min(best[i], time.perf_counter() - started)
    peaks = []
    for run in (ours, base):
        tracemalloc.start()
        run()
        peaks.append(tracemalloc.get_traced_memory()[1] / 2**20)
        tracemalloc.stop()
    return (best[0], peaks[0], results[0]), (best[1], peaks[1], results[1])


def main() -> list[dict[str, Any]]:
    from leadqual.config import ProposalSettings
    from leadqual.learning.learn import learn
    from leadqual.learning.marginal import marginal_evidence
    from leadqual.proposals import propose
    from leadqual.worlds import COFIRING

    spec = COFIRING.ruleset.spec
    settings = ProposalSettings()
    started = time.perf_counter()
    pool, qualified = _pool()
    print(f"effects: pool of {len(pool):,} decided leads in {time.perf_counter() - started:.1f}s")
    rows: list[dict[str, Any]] = []
    per: dict[int, float] = {}
    for n in SIZES:
        hits, success = _copies(pool, qualified, n)
        (ours_s, ours_mb, learnt), (base_s, base_mb, found) = _raced(
            lambda h=hits, y=success: learn(h, y, spec, version=1, settings=settings, end=END, holdout_weeks=3),
            lambda h=hits, y=success: propose(
                spec, version=1, evidence=marginal_evidence(h, y, spec), settings=settings
            ),
        )
        per[n] = ours_s / (n / 20_000)
        ratio = ours_s / base_s
        print(
            f"effects: {n:>9,} leads: conditional {ours_s:.3f}s ({per[n]:.4f}s per 20k, peak {ours_mb:.0f} MB, "
            f"{len(learnt.kept)} kept of {len(learnt.changes)}), marginal {base_s:.3f}s (peak {base_mb:.0f} MB, "
            f"{len(found)} proposals)"
        )
        rows.append(
            {
                "benchmark": "effects",
                "figure": f"{n:,} decided leads",
                "value": f"{ours_s:.3f}s ({per[n]:.4f}s/20k, {ours_mb:.0f} MB)",
                "baseline": f"{base_s:.3f}s marginal ({base_mb:.0f} MB)",
                "ratio": round(ratio, 2),
                "target": f"<= {RATIO_TARGET}x marginal",
                "ok": ratio <= RATIO_TARGET,
            }
        )
        if n not in READ_SIZES:
            continue
        pick = np.random.default_rng(n).integers(0, len(pool), n)
        read_mb, kept_mb, read_s = _read_peak(pool, pick, hits.received)
        print(f"effects: {n:>9,} leads read in pages of {PAGE:,}: peak {read_mb:.0f} MB, matrix {kept_mb:.0f} MB")
        rows.append(
            {
                "benchmark": "effects",
                "figure": f"{n:,} decided leads read in pages, peak memory",
                "value": f"{read_mb:.0f} MB ({read_s:.1f}s)",
                "baseline": f"{kept_mb:.0f} MB packed matrix",
                "ratio": round(read_mb / max(kept_mb, 1e-9), 2),
                "target": "(reported)",
                "ok": "",
            }
        )
    if len(SIZES) >= 2:
        big, mid = SIZES[-1], SIZES[-2]
        growth = per[big] / per[mid]
        rows.append(
            {
                "benchmark": "effects",
                "figure": f"growth: per-20k time at {big:,} vs {mid:,}",
                "value": f"{per[big]:.4f}s/20k",
                "baseline": f"{per[mid]:.4f}s/20k",
                "ratio": round(growth, 2),
                "target": f"<= {GROWTH_TARGET}x (linear)",
                "ok": growth <= GROWTH_TARGET,
            }
        )
    return rows


if __name__ == "__main__":
    from bench.__main__ import table

    print(table(main()))
