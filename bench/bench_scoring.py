"""Scoring throughput with the packaged ruleset: compiled conditions vs per-lead interpretation."""

from __future__ import annotations

import time
from typing import Any

from bench.leadgen import records
from bench.naive_scoring import naive_score
from leadqual.config import default_rules_path
from leadqual.lead import Lead
from leadqual.rules import load_ruleset_file
from leadqual.scoring import Ruleset, score

N = 20_000
TARGET = 20_000  # leads per second


def _best_of(runs: int, fn: Any) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def main() -> list[dict[str, Any]]:
    spec = load_ruleset_file(default_rules_path())
    ruleset = Ruleset.compile(spec)
    leads = [Lead.model_validate(r) for r in records(N)]
    for lead in leads:  # same answers, or the comparison means nothing
        s = score(lead, ruleset)
        assert (s.fit, s.intent, s.group) == naive_score(lead, spec), lead.external_id
    compiled = _best_of(3, lambda: [score(lead, ruleset) for lead in leads])
    naive = _best_of(3, lambda: [naive_score(lead, spec) for lead in leads])
    rate, naive_rate = N / compiled, N / naive
    print(
        f"scoring: {rate:,.0f} leads/s compiled vs {naive_rate:,.0f} leads/s interpreted "
        f"({rate / naive_rate:.1f}x), {len(spec.rules)} rules, {N:,} leads"
    )
    return [
        {
            "benchmark": "scoring",
            "figure": "leads/s, compiled rules",
            "value": round(rate),
            "baseline": f"{naive_rate:,.0f}/s interpreted",
            "ratio": round(rate / naive_rate, 2),
            "target": f">= {TARGET:,}/s",
            "ok": rate >= TARGET,
        }
    ]


if __name__ == "__main__":
    main()
