"""A simulated lead history with known effects, for the demo, the tests and the benchmark.

The world is deterministic (seeded). Leads look like an industrial seller's inbound:
companies, contacts and titles, buying signals, needs and messages, each drawn on its own
so that rules rarely borrow each other's credit. Every lead's outcome comes from a hidden
*truth*: the packaged rules' conditions with the points in `World.true_points`, read as a
logistic model (`slope` log-odds per 10 points of fit or intent). Where the truth differs
from the packaged rules the feedback loop should propose a change; where it agrees the loop
should stay quiet. `PLANTED` is the world the demo and the tests use:

- `bom-review` is worth far more than its 30 points (raise it);
- `spec-sheet` downloads are engagement, not intent (lower it);
- `webinar` attendees convert worse than others (retire it);
- `capex-approved` is strong but rare: too few leads to say so (stay quiet);
- weak-intent leads in the Qualified review band convert like Nurture (move the threshold);
- every other rule is right (stay quiet).

Records are v1 intake objects with an `outcome`, so `leadbot import` loads them as history.

Over 350 lines because the world, its hidden truth and the drawing of leads and outcomes are
one model: split apart, the planted effects could no longer be read in one place.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from leadqual.config import default_rules_path
from leadqual.groups import Group
from leadqual.lead import Lead, Outcome
from leadqual.rules import RuleKind, load_ruleset_file
from leadqual.scoring import Ruleset, Score, score


@dataclass(frozen=True, eq=False)  # compared (and hashed) by identity: a world is a named thing
class World:
    """The hidden truth outcomes are drawn from."""

    true_points: Mapping[str, int] = field(default_factory=dict)  # rule id -> true points (signed)
    slope: float = 0.5  # log-odds of qualifying per 10 points of fit or intent
    centre: float = 95.0  # fit + intent at which a lead is a coin flip
    clamp: bool = True  # fit and intent saturate at 0 and 100, as the scores do
    open_share: float = 0.12  # share of decisions that stay open (nurture, needs info)
    # Leads the rules put in Qualified review with intent under this convert like Nurture.
    # Leads the rules put in Qualified review with intent under this convert like Nurture or worse.
    weak_review_intent: int | None = None
    weak_review_penalty: float = 3.0
    capex_share: float = 0.004  # how often a message mentions approved capex (rare on purpose)
    # Log-odds lost by a lead failing a must-have (sales rarely pursue an unsupported region).
    must_have_penalty: Mapping[str, float] = field(
        default_factory=lambda: {
            "not-a-competitor": 4.0,
            "not-student-or-research": 3.0,
            "supported-region": 3.0,
            "scope-clarity": 1.0,
        }
    )

    @cached_property
    def ruleset(self) -> Ruleset:
        return Ruleset.compile(load_ruleset_file(default_rules_path()))

    def qualify_odds(self, lead: Lead, s: Score) -> float:
        """Probability that sales qualifies this lead, in the hidden truth."""
        spec = self.ruleset.spec
        fit = intent = 0.0
        for hit in s.hits:
            rule = spec.rule(hit.rule_id)
            points = self.true_points.get(hit.rule_id, abs(hit.points))
            signed = -points if rule is not None and rule.kind is RuleKind.NEGATIVE else points
            if rule is not None and rule.target is RuleKind.FIT:
                fit += signed
            else:
                intent += signed
        if self.clamp:
            fit, intent = min(100.0, max(0.0, fit)), min(100.0, max(0.0, intent))
        logit = self.slope * (fit + intent - self.centre) / 10
        logit -= sum(self.must_have_penalty.get(m, 0.0) for m in s.failed_must_haves)
        if (
            self.weak_review_intent is not None
            and s.group is Group.QUALIFIED_REVIEW
            and s.intent < self.weak_review_intent
        ):
            logit -= self.weak_review_penalty  # browsing engineers: their engagement is not intent
        return 1 / (1 + math.exp(-logit))


_PLANTED_POINTS = {"bom-review": 70, "spec-sheet": 0, "webinar": -15, "capex-approved": 60}
PLANTED = World(true_points=_PLANTED_POINTS, weak_review_intent=40)  # the demo's world
RULES_OFF = World(true_points=_PLANTED_POINTS)  # only the rule plants
REVIEW_BAND = World(weak_review_intent=40)  # only the Qualified review threshold is off
FAITHFUL = World()  # the packaged rules are exactly right

_PREFIXES = [
    "Acme",
    "Northfield",
    "Blue River",
    "Ironwood",
    "Summit",
    "Granite",
    "Lakeshore",
    "Redline",
    "Harbor",
    "Pinnacle",
    "Cedar",
    "Atlas",
    "Keystone",
    "Silverline",
    "Prairie",
    "Coastal",
    "Delta",
    "Evergreen",
    "Frontier",
    "Gulf",
    "Highland",
    "Liberty",
    "Meridian",
    "Orion",
    "Sterling",
    "Titan",
]
_SUFFIXES = {
    "metals": ["Metals", "Steel", "Alloys", "Foundry"],
    "chemicals": ["Chemicals", "Polymers", "Chem"],
    "energy": ["Energy", "Power", "Generation"],
    "logistics": ["Logistics", "Freight", "Terminals"],
    "water": ["Water", "Utilities District", "Water Authority"],
    "manufacturing": ["Manufacturing", "Fabrication"],
    "mining": ["Mining", "Minerals"],
    "retail": ["Retail", "Stores"],
    "software": ["Software", "Labs"],
    "education": ["University", "College"],
    "healthcare": ["Health", "Medical"],
    "agriculture": ["Farms", "Agri"],
}
_INDUSTRIES = [
    ("metals", 14),
    ("chemicals", 12),
    ("energy", 11),
    ("logistics", 6),
    ("water", 8),
    ("manufacturing", 17),
    ("mining", 4),
    ("retail", 7),
    ("software", 8),
    ("education", 4),
    ("healthcare", 5),
    ("agriculture", 4),
]
_COUNTRIES = [("US", 66), ("CA", 10), ("MX", 7), ("DE", 5), ("GB", 5), ("BR", 4), ("IN", 3)]
_REGIONS = {"US": ["TX", "OH", "PA", "LA", "IL", "MI", "CA", "AL"], "CA": ["ON", "AB", "QC"], "MX": ["NL", "JAL"]}
_ROLES = [
    ("Maintenance", 16),
    ("Reliability Engineering", 8),
    ("Plant Operations", 10),
    ("Procurement", 9),
    ("Project Engineering", 9),
    ("Facilities", 6),
    ("Marketing", 7),
    ("Finance", 5),
    ("IT", 6),
    ("Sales", 5),
    ("Office", 5),
]
_LEVELS = [("Manager", 38), ("Director", 12), ("Technician", 18), ("Specialist", 17), ("Coordinator", 15)]
_FIRST = [
    "Dana",
    "Luis",
    "Priya",
    "Tom",
    "Mei",
    "Ahmed",
    "Sara",
    "Jon",
    "Olga",
    "Kofi",
    "Ana",
    "Raj",
    "Beth",
    "Marco",
    "Yuki",
    "Grace",
    "Omar",
    "Ines",
    "Pete",
    "Lena",
]
_LAST = [
    "Ruiz",
    "Chen",
    "Patel",
    "Novak",
    "Okafor",
    "Smith",
    "Garcia",
    "Kim",
    "Weber",
    "Silva",
    "Brown",
    "Haddad",
    "Larsen",
    "Moreau",
    "Tanaka",
    "Walsh",
    "Costa",
    "Nguyen",
    "Fischer",
    "Reyes",
]
_FREEMAIL = ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com"]
_SCOPES = [
    ("replacement", 26),
    ("repair", 7),
    ("upgrade", 14),
    ("retrofit", 8),
    ("new_installation", 10),
    ("service_plan", 10),
    ("compliance", 5),
    (None, 12),
]
_PROBLEMS = [
    "Pump failed on line {n}",
    "Seal leaking on the cooling loop",
    "Compressor tripping under load",
    "Gearbox worn after {n} years",
    "Throughput below spec on line {n}",
    "Valves seized during startup",
    "Need to meet new emissions limits",
    "Expanding capacity at the {n}rd site",
]
_SOURCES = [
    ("web_form", 34),
    ("trade_show", 12),
    ("distributor", 10),
    ("webinar", 9),
    ("referral", 8),
    ("paid_search", 17),
    ("partner", 10),
]
_OFFERS = [
    ("rfq", 20),
    ("spec_sheet", 18),
    ("service_quote", 12),
    ("demo", 14),
    ("whitepaper", 14),
    ("webinar", 10),
    ("consultation", 12),
]
_CAMPAIGNS = [
    "pump-retrofit-2026",
    "compliance-upgrade-q3",
    "service-renewal",
    "brand-search",
    "expo-houston",
    "valve-replacement",
    None,
]
# Independent signal rates: each buying signal is drawn on its own (see the module docstring).
_SIGNALS = [
    ("rfq_request", None, 0.20),
    ("bom_review", None, 0.11),
    ("drawing_upload", None, 0.12),
    ("integration_question", None, 0.14),
    ("page_view", "/pricing", 0.25),
    ("spec_sheet_download", "P-200", 0.30),
    ("application_note_download", "AN-12", 0.15),
    ("webinar_attended", "pump-basics", 0.28),
]
_COMPETITORS = ["rivalpumps.com", "flowcompete.com"]
_REASONS_BY_FAILURE = [
    ("spec_mismatch", 30),
    ("timing", 20),
    ("no_budget", 15),
    ("no_authority", 12),
    ("unclear_scope", 13),
    ("duplicate", 4),
    ("spam", 6),
]


def _pick(rng: random.Random, weighted: list[tuple[Any, int]]) -> Any:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


def _slug(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def _company(rng: random.Random, i: int) -> dict[str, Any]:
    industry = _pick(rng, _INDUSTRIES)
    name = f"{rng.choice(_PREFIXES)} {rng.choice(_SUFFIXES[industry])}"
    country = _pick(rng, _COUNTRIES)
    employees = int(math.exp(rng.gauss(5.6, 1.6)))
    company: dict[str, Any] = {
        "name": name,
        "domain": f"{_slug(name)}{i % 997}.com",
        "industry": industry,
        "country": country,
        "employees": max(2, min(employees, 200_000)),
    }
    if country in _REGIONS:
        company["region"] = rng.choice(_REGIONS[country])
    if rng.random() < 0.05:
        company.pop("industry")
    return company


def _contact(rng: random.Random, domain: str) -> dict[str, Any]:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    roll = rng.random()
    if roll < 0.04:
        title = rng.choice(["Graduate Student", "PhD Researcher", "Engineering Intern"])
    else:
        title = f"{_pick(rng, _ROLES)} {_pick(rng, _LEVELS)}"
    mailbox = rng.choice(_FREEMAIL) if rng.random() < 0.12 else domain
    return {
        "name": f"{first} {last}",
        "email": f"{first}.{last}@{mailbox}".lower(),
        "title": title,
        "phone": f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
    }


def _signals(rng: random.Random) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for kind, value, rate in _SIGNALS:
        if rng.random() < rate:
            out.append({"type": kind, "value": value} if value else {"type": kind})
    if rng.random() < 0.2:
        out += [{"type": "page_view", "value": f"/products/p-{rng.choice([100, 200, 300])}"} for _ in range(3)]
    return out


def _message(rng: random.Random, world: World) -> str | None:
    parts = []
    if rng.random() < 0.10:
        parts.append("We have a planned outage in the spring.")
    if rng.random() < world.capex_share:
        parts.append("Capex is approved for this project.")
    if rng.random() < 0.08:
        parts.append("Procurement will need vendor onboarding documents.")
    if rng.random() < 0.05:
        parts.append("Our audit is next quarter.")
    if rng.random() < 0.04:
        parts.append(f"The scope covers {rng.randint(2, 6)} sites.")
    if rng.random() < 0.03:
        parts.append("Also, do you offer internship positions?")
    if rng.random() < 0.15:
        parts.append("Please send pricing and lead times.")
    return " ".join(parts) or None


def _need(rng: random.Random, received: datetime) -> dict[str, Any]:
    need: dict[str, Any] = {}
    scope = _pick(rng, _SCOPES)
    if scope:
        need["scope"] = scope
    # A lead that names no scope rarely states a problem either (a bare "contact us").
    if rng.random() < (0.5 if scope else 0.1):
        need["problem"] = rng.choice(_PROBLEMS).format(n=rng.randint(2, 9))
    if rng.random() < 0.35:
        need["needed_by"] = (received + timedelta(days=rng.randint(5, 180))).date().isoformat()
    return need


def simulate_leads(
    *,
    n: int,
    seed: int = 7,
    end: datetime | None = None,
    weeks: int = 12,
    world: World = PLANTED,
    decided: bool = True,
    prefix: str = "sim",
) -> Iterator[dict[str, Any]]:
    """Yield `n` v1 lead records received over the `weeks` before `end`, with outcomes when `decided`."""
    rng = random.Random(seed)
    end = (end or datetime(2026, 11, 23, tzinfo=UTC)).astimezone(UTC)
    span = timedelta(weeks=weeks).total_seconds()
    for i in range(n):
        received = end - timedelta(seconds=span * (1 - (i + rng.random()) / n))
        received = received.replace(microsecond=0)
        company = _company(rng, i)
        if rng.random() < 0.01:
            company["domain"] = rng.choice(_COMPETITORS)
        record: dict[str, Any] = {
            "external_id": f"{prefix}-{seed}-{i:06d}",
            "source": _pick(rng, _SOURCES),
            "offer": _pick(rng, _OFFERS),
            "received_at": received.isoformat().replace("+00:00", "Z"),
            "company": company,
            "contact": _contact(rng, company["domain"]),
            "signals": _signals(rng),
            "need": _need(rng, received),
        }
        campaign = rng.choice(_CAMPAIGNS)
        if campaign:
            record["campaign"] = campaign
        message = _message(rng, world)
        if message:
            record["message"] = message
        if rng.random() < 0.15:
            record["attributes"] = {"customer": True, "sites": rng.randint(1, 6)}
        if decided:
            record["outcome"] = _outcome(rng, world, record, received)
        yield record


def _outcome(rng: random.Random, world: World, record: dict[str, Any], received: datetime) -> dict[str, Any]:
    decided_at = received + timedelta(hours=rng.uniform(0.5, 96))
    rep = f"UREP{rng.randint(1, 6)}"
    outcome, reason = draw_outcome(rng, Lead.model_validate(record), world)
    found = {"status": outcome.value, "decided_at": decided_at.isoformat().replace("+00:00", "Z"), "decided_by": rep}
    return {**found, "reason": reason} if reason else found


def draw_outcome(rng: random.Random, lead: Lead, world: World = PLANTED) -> tuple[Outcome, str | None]:
    """What sales decides about `lead` in this world: an outcome, and a reason code when not qualified."""
    s = score(lead, world.ruleset)
    if rng.random() < world.open_share:
        return rng.choice([Outcome.NURTURE, Outcome.NEEDS_INFO]), None
    if rng.random() < world.qualify_odds(lead, s):
        return Outcome.QUALIFIED, None
    return Outcome.NOT_QUALIFIED, _reason(rng, lead, s)


def _reason(rng: random.Random, lead: Lead, s: Score) -> str:
    fired = {h.rule_id for h in s.hits}
    if "competitor" in fired:
        return "competitor"
    if "student-or-research" in fired:
        return "student_research"
    if "supported-region" in s.failed_must_haves:
        return "unsupported_region"
    if "unrelated-request" in fired:
        return "spam"
    return str(_pick(rng, _REASONS_BY_FAILURE))
