"""Deterministic synthetic intake records for benchmarks (realistic spread over every rule kind)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

INDUSTRIES = ["metals", "chemicals", "energy", "logistics", "water", "manufacturing", "retail", "software", None]
COUNTRIES = ["US", "US", "US", "CA", "MX", "DE", "BR", None]
TITLES = [
    "Maintenance Manager",
    "Reliability Engineer",
    "Procurement Lead",
    "Plant Manager",
    "VP Operations",
    "Project Engineer",
    "Student",
    "Marketing Coordinator",
    "Consultant",
    None,
]
SIGNALS = [
    "rfq_request",
    "bom_review",
    "drawing_upload",
    "integration_question",
    "spec_sheet_download",
    "application_note_download",
    "webinar_attended",
]
PAGES = ["/pricing", "/products/p-200", "/products/v-90", "/blog/cavitation", "/careers"]
SCOPES = ["replacement", "retrofit", "upgrade", "new_installation", "service_plan", None, None]
PROBLEMS = ["Pump failed on line 3", "Seal leaking at the outlet", "Need ATEX compliant drives", None, None]
MESSAGES = [
    "Need a quote before the December outage.",
    "Capex approved for Q1, please send pricing.",
    "Audit in March across 4 sites.",
    "Looking for a job in sales",
    "Just browsing",
    None,
]
DOMAINS = ["acme{n}.com", "plant{n}.io", "gmail.com", "yahoo.com", "university{n}.edu"]


def records(n: int, *, seed: int = 7, start: datetime | None = None) -> list[dict[str, Any]]:
    """`n` intake records, the same for the same seed."""
    rng = random.Random(seed)
    start = start or datetime(2026, 11, 2, tzinfo=UTC)
    out = []
    for i in range(n):
        domain = rng.choice(DOMAINS).format(n=i)
        received = start + timedelta(minutes=rng.randrange(0, 60 * 24 * 21))
        signals = [{"type": s} for s in rng.sample(SIGNALS, rng.randrange(0, 3))]
        signals += [{"type": "page_view", "value": rng.choice(PAGES)} for _ in range(rng.randrange(0, 4))]
        record: dict[str, Any] = {
            "external_id": f"bench-{seed}-{i}",
            "source": rng.choice(["web_form", "crm_webhook", "trade_show", "partner_referral"]),
            "offer": rng.choice(["rfq", "spec_sheet", "webinar", "service_quote"]),
            "received_at": received.isoformat().replace("+00:00", "Z"),
            "company": {
                k: v
                for k, v in {
                    "name": f"Company {i}",
                    "industry": rng.choice(INDUSTRIES),
                    "country": rng.choice(COUNTRIES),
                    "employees": rng.choice([5, 40, 150, 850, 4000, 60000, None]),
                }.items()
                if v is not None
            },
            "contact": {
                k: v for k, v in {"email": f"buyer{i}@{domain}", "title": rng.choice(TITLES)}.items() if v is not None
            },
            "signals": signals,
            "need": {
                k: v
                for k, v in {
                    "scope": rng.choice(SCOPES),
                    "problem": rng.choice(PROBLEMS),
                    "needed_by": (received + timedelta(days=rng.randrange(5, 200))).date().isoformat(),
                }.items()
                if v is not None
            },
        }
        message = rng.choice(MESSAGES)
        if message:
            record["message"] = message
        if rng.random() < 0.2:
            record["attributes"] = {"sites": rng.randrange(1, 6), "customer": rng.random() < 0.5}
        out.append(record)
    return out
