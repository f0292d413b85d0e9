"""Scoring throughput with the packaged ruleset: compiled conditions vs per-lead interpretation.

A second row routes every lead as it is scored (a territory `routes:` list, first match
wins) and compares that with scoring alone in the same run: routing may cost at most 10%.
"""

from __future__ import annotations

import time
from typing import Any

from bench.leadgen import records
from bench.naive_scoring import naive_score
from leadqual.config import AppConfig, default_rules_path
from leadqual.lead import Lead
from leadqual.routing.routes import RouteTable, build_route_table
from leadqual.rules import load_ruleset_file
from leadqual.scoring import Ruleset, score

N = 20_000
TARGET = 20_000  # leads per second
ROUTING_TARGET = 0.90  # scoring + route matching, against scoring alone
TERRITORIES: list[dict[str, Any]] = [  # what a sales-ops team writes: regions, segments, big accounts
    {
        "when": {
            "all": [{"field": "company.country", "eq": "US"}, {"field": "company.region", "in": ["TX", "OK", "LA"]}]
        },
        "groups": ["priority", "qualified_review"],
        "channel": "C0SOUTH",
        "rotation": True,
        "reps": [{"user": "UANA", "weight": 2}, {"user": "UBEN"}],
    },
    {
        "when": {"field": "company.country", "in": ["CA"]},
        "groups": ["priority", "qualified_review"],
        "channel": "C0CANADA",
    },
    {"when": {"field": "company.employees", "gte": 5000}, "groups": ["priority"], "channel": "C0ENTERPRISE"},
    {"when": {"field": "segment", "eq": "compliance"}, "channel": "C0COMPLY"},
    {"when": {"field": "company.industry", "in": ["chemicals", "energy"]}, "channel": "C0PROCESS"},
    {"when": {"field": "source", "eq": "partner_referral"}, "channel": "C0PARTNERS"},
    {"groups": ["nurture", "research"], "channel": "C0NURTURE"},
]


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
        },
        _routing_row(leads, ruleset),
    ]


def _routing_row(leads: list[Lead], ruleset: Ruleset) -> dict[str, Any]:
    table = territories()

    def routed() -> None:
        for lead in leads:
            s = score(lead, ruleset)
            table.match(s.group, lead, segment=s.segment)

    def alone() -> None:
        for lead in leads:
            score(lead, ruleset)

    # Interleaved, best of 5 each: both see the same machine noise.
    best = {"routed": float("inf"), "alone": float("inf")}
    for _ in range(5):
        best["alone"] = min(best["alone"], _best_of(1, alone))
        best["routed"] = min(best["routed"], _best_of(1, routed))
    rate, base = N / best["routed"], N / best["alone"]
    ratio = rate / base
    print(
        f"scoring + routing: {rate:,.0f} leads/s vs {base:,.0f} leads/s scoring alone ({ratio:.1%}), "
        f"{len(table.routes)} routes"
    )
    return {
        "benchmark": "scoring",
        "figure": "leads/s, scored and routed",
        "value": round(rate),
        "baseline": f"{base:,.0f}/s scoring alone",
        "ratio": round(ratio, 2),
        "target": f">= {ROUTING_TARGET:.2f}",
        "ok": ratio >= ROUTING_TARGET,
    }


def territories() -> RouteTable:
    """The benchmark's territory list as the route table intake uses."""
    config = AppConfig.model_validate(
        {"reasons": [{"code": "spam", "label": "Spam"}], "routes": TERRITORIES, "default_channel": "C0LEADS"}
    )
    return build_route_table(config)


if __name__ == "__main__":
    main()
