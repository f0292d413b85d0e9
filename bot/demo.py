"""`leadbot demo`: the main job end to end on an embedded SQLite, with no Slack workspace.

1. import twelve weeks of simulated CRM history with known effects (leadqual.simulate);
2. receive the bundled sample leads one by one, at the times they came in, scored and
   queued as cards; a delivery step renders each queued message with the worker's own
   renderer and files it in the demo folder instead of sending it to Slack;
3. play a week of rep decisions through the services the buttons call (claim, decide);
4. within that week, every morning's follow-up reminders: the owners' DMs and Done from them
   (shown: the first DM and the thread line its Done wrote);
5. build the weekly digest: figures, chart, follow-up completion (the week's reminders and
   Done, hence after step 4), proposals with backtests (text, Block Kit, PNG);
6. apply the top proposal as a new ruleset version, show its backtest and a lead it changes.

Everything runs on a settable clock, so the week takes seconds, not days.
"""

from __future__ import annotations

import heapq
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from itertools import count
from pathlib import Path
from typing import Any

from blocks.proposal_words import backtest_summary, title
from blocks.terminal import digest_report
from bot.demo_files import FileOutbox, indent, write_digest
from bot.demo_follow_ups import FollowUpStory, done, echo_follow_ups, remind
from leadqual import calendar
from leadqual.bootstrap import bootstrap
from leadqual.config import DATA
from leadqual.costs import CostEntry
from leadqual.decisions import DecisionInput, Rating
from leadqual.errors import LeadbotError
from leadqual.groups import Group
from leadqual.importing import read_records
from leadqual.lead import Lead, Outcome
from leadqual.readmodels import Digest
from leadqual.scoring import score
from leadqual.services import proposals, triage
from leadqual.services.context import Context
from leadqual.services.digest import build_digest
from leadqual.services.intake import ingest, validate_leads
from leadqual.settings import Settings
from leadqual.simulate import PLANTED, draw_outcome, simulate_leads

CHANNEL = "C0DEMOLEADS"
MANAGER = "U0DEMOMGR"
REPS = ("U0DEMOREP1", "U0DEMOREP2", "U0DEMOREP3")
WEEK_START = datetime(2026, 11, 16, 6, 0, tzinfo=UTC)  # Monday 2026-W47, 00:00 in America/Chicago
HISTORY = 3000
SEED = 3
# How reps treat each group: the share they claim, and the typical minutes until they do.
CLAIM_SHARE = {Group.PRIORITY: 0.95, Group.QUALIFIED_REVIEW: 0.8, Group.NURTURE: 0.5, Group.RESEARCH: 0.3}
CLAIM_MINUTES = {Group.PRIORITY: 20, Group.QUALIFIED_REVIEW: 120, Group.NURTURE: 600, Group.RESEARCH: 900}
CONFIRMED = {"fit": Rating.CONFIRMED, "intent": Rating.CONFIRMED, "authority": Rating.PARTIAL, "need": Rating.CONFIRMED}
# A qualified lead's next step is due this many days after the decision: soon enough that the
# week's follow-ups come due, are reminded and done, and count in the digest's completion.
NEXT_STEP_DAYS = 1
MORNINGS = 10  # the follow-up reminder runs on each morning of the played days (Nov 16-25)


class DemoClock:
    """The services' clock: the demo moves it to each event's moment."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class DemoResult:
    folder: Path
    history: int = 0
    leads: int = 0
    cards: int = 0
    groups: dict[Group, int] = field(default_factory=dict)
    claims: int = 0
    decisions: dict[str, int] = field(default_factory=dict)
    follow_ups: FollowUpStory = field(default_factory=FollowUpStory)
    digest: Digest | None = None
    applied: tuple[str, int, int] | None = None  # (proposal id, old version, new version)
    files: list[Path] = field(default_factory=list)
    seconds: float = 0.0


# What the demo's campaigns and sources cost (the packaged config has none): two currencies for one
# campaign show that the digest never adds them together.
DEMO_COSTS = [
    CostEntry.model_validate(e)
    for e in (
        {"campaign": "pump-retrofit-2026", "cost": 4200, "currency": "USD"},
        {"campaign": "expo-houston", "cost": 12000, "currency": "USD"},
        {"campaign": "expo-houston", "cost": 1500, "currency": "EUR"},
        {"source": "web_form", "cost": 2500, "currency": "USD"},
        {"source": "trade_show", "cost": 18000, "currency": "USD"},
    )
]


def demo_settings(folder: Path) -> Settings:
    """Settings for the demo's own database; the packaged config and rules, whatever the environment says."""
    values: dict[str, Any] = {
        "DATABASE_URL": f"sqlite:///{folder / 'leadbot.db'}",
        "LEADBOT_CHANNEL": CHANNEL,
        "LEADBOT_MANAGERS": MANAGER,
        "LEADBOT_CONFIG": None,
        "LEADBOT_RULES": None,
    }
    return Settings(_env_file=None, **values)


def run_demo(
    folder: Path, *, history: int = HISTORY, seed: int = SEED, echo: Callable[[str], None] = print
) -> DemoResult:
    """Run the whole demo into `folder` (its database is made fresh) and return what it did."""
    started = time.monotonic()
    folder.mkdir(parents=True, exist_ok=True)
    for stale in ("leadbot.db", "leadbot.db-wal", "leadbot.db-shm"):
        (folder / stale).unlink(missing_ok=True)
    shutil.rmtree(folder / "slack", ignore_errors=True)
    result = DemoResult(folder=folder)
    clock = DemoClock(WEEK_START)
    ctx = bootstrap(demo_settings(folder), clock=clock)
    # The digest's cost per qualified lead needs costs, which the packaged config leaves empty.
    ctx = replace(ctx, config=ctx.config.model_copy(update={"costs": DEMO_COSTS}))
    echo(f"demo folder: {folder.resolve()}")

    records = list(simulate_leads(n=history, seed=seed, world=PLANTED, end=WEEK_START, weeks=12, prefix="crm"))
    ingest(ctx, validate_leads(records), post=False, source="demo-history")
    result.history = len(records)
    echo(
        f"1. imported {len(records)} decided leads: twelve weeks of CRM history before "
        f"{calendar.week_of(WEEK_START, ctx.config.tz)}"
    )

    leads, source = _sample_leads(seed)
    echo(f"2. receiving {len(leads)} leads from {source}, each at the moment it came in")
    outbox = FileOutbox(ctx, folder / "slack")
    _play_week(ctx, clock, leads, outbox, result, random.Random(seed), random.Random(seed + 1))
    result.cards = outbox.cards
    result.files += outbox.write()
    echo("   scored: " + ", ".join(f"{result.groups[g]} {g.label}" for g in Group if g in result.groups))
    echo(
        f"   {outbox.cards} cards posted (Block Kit in {outbox.folder}/cards, readable in "
        f"{outbox.folder / 'cards.txt'}); {outbox.messages} Slack messages in all"
    )
    for text in outbox.first_cards(2):
        echo("\n" + indent(text))
    echo(
        f"\n3. a week of rep decisions through the same services the buttons call: {result.claims} claims, "
        + ", ".join(f"{n} {Outcome(o).label.lower()}" for o, n in sorted(result.decisions.items()))
    )
    echo_follow_ups(ctx, result.follow_ups, echo)

    week = calendar.week_of(WEEK_START, ctx.config.tz)
    clock.now = WEEK_START + timedelta(days=14, hours=8)
    digest = build_digest(ctx, iso_week=week)
    result.digest = digest
    result.files += write_digest(folder, digest)
    echo(f"\n5. the weekly digest for {week} (files: {folder / f'digest-{week}.*'}):\n")
    echo(digest_report(digest))

    if digest.proposals:
        top = digest.proposals[0]
        old, new = proposals.apply_proposal(ctx, top.proposal.id, actor=MANAGER)
        result.applied = (top.proposal.id, old, new)
        echo(
            f"\n6. applied the top proposal {top.proposal.id} ({title(top.proposal)}) as {MANAGER} would "
            f"from Slack: ruleset v{new} is active (was v{old})."
        )
        if top.backtest is not None:
            echo("   backtest: " + backtest_summary(top.backtest))
            for a, b, n in top.backtest.moves():
                echo(f"     {n:>5}  {a.label} -> {b.label}")
        echo(_changed_lead(ctx, leads, old, new))
        echo("   undo with `leadbot rules rollback`, or the Roll back button in the next digest.")
    else:
        echo("\n6. no proposal to apply this week: the evidence does not call for a change.")
    result.seconds = time.monotonic() - started
    echo(f"\ndone in {result.seconds:.1f}s; everything is in {folder.resolve()}")
    return result


# --- the week ----------------------------------------------------------------------------------


def _sample_leads(seed: int) -> tuple[list[Lead], str]:
    """The bundled sample leads; a simulated week if they are missing or unreadable."""
    path = Path(str(DATA / "sample_leads.jsonl"))
    try:
        leads = validate_leads([record for _, record in read_records(path)])
        return sorted(leads, key=lambda lead: lead.received_at or WEEK_START), path.name
    except (LeadbotError, OSError):
        records = simulate_leads(
            n=40,
            seed=seed + 1,
            world=PLANTED,
            end=WEEK_START + timedelta(days=5),
            weeks=1,
            decided=False,
            prefix="week",
        )
        return validate_leads(list(records)), "a simulated week (sample_leads.jsonl was not readable)"


def _play_week(
    ctx: Context,
    clock: DemoClock,
    leads: list[Lead],
    outbox: FileOutbox,
    result: DemoResult,
    rng: random.Random,
    done_rng: random.Random,
) -> None:
    """Arrivals, claims, decisions, morning reminders and Done in time order, each at its own moment."""
    order = count()
    events: list[tuple[datetime, int, str, Any]] = [
        (lead.received_at or WEEK_START, next(order), "arrive", lead) for lead in leads
    ]
    first = WEEK_START.astimezone(ctx.config.tz).date()
    for day in (first + timedelta(days=i) for i in range(MORNINGS)):
        morning = datetime.combine(day, dt_time(ctx.config.follow_ups.hour), tzinfo=ctx.config.tz)
        events.append((morning.astimezone(UTC), next(order), "remind", None))
    heapq.heapify(events)
    while events:
        moment, _, kind, item = heapq.heappop(events)
        clock.now = max(clock.now, moment)
        if kind == "arrive":
            [stored] = ingest(ctx, [item], source="demo")
            result.leads += 1
            result.groups[stored.group] = result.groups.get(stored.group, 0) + 1
            outbox.deliver()
            for event in _plan_rep(rng, item, stored.id, stored.group, clock.now):
                heapq.heappush(events, (event[0], next(order), *event[1:]))
        elif kind == "remind":
            for hours, click in remind(ctx, outbox, result.follow_ups, done_rng):
                heapq.heappush(events, (clock.now + timedelta(hours=hours), next(order), "done", click))
        elif kind == "done":
            done(ctx, outbox, result.follow_ups, *item)
        elif kind == "claim":
            lead_id, rep = item
            triage.claim(ctx, lead_id=lead_id, user_id=rep)
            result.claims += 1
        else:
            lead_id, rep, (outcome, reason) = item
            decision = _decision(outcome, reason, ctx.today())
            triage.decide(ctx, lead_id=lead_id, user_id=rep, decision=decision)
            result.decisions[outcome.value] = result.decisions.get(outcome.value, 0) + 1
        outbox.deliver()


def _plan_rep(
    rng: random.Random, lead: Lead, lead_id: int, group: Group, now: datetime
) -> list[tuple[datetime, str, Any]]:
    """When a rep claims this lead and what they decide (nothing, for a card nobody picks up)."""
    if not group.routed or rng.random() > CLAIM_SHARE[group]:
        return []
    rep = rng.choice(REPS)
    claimed = now + timedelta(minutes=rng.expovariate(1 / CLAIM_MINUTES[group]) + 1)
    plan: list[tuple[datetime, str, Any]] = [(claimed, "claim", (lead_id, rep))]
    if rng.random() < 0.85:
        decided = claimed + timedelta(hours=rng.uniform(1, 30))
        plan.append((decided, "decide", (lead_id, rep, draw_outcome(rng, lead, PLANTED))))
    return plan


def _decision(outcome: Outcome, reason: str | None, today: date) -> DecisionInput:
    """What the rep submits in the modal for `outcome`, with dates a few weeks after `today`."""
    if outcome is Outcome.QUALIFIED:
        return DecisionInput(
            outcome=outcome,
            fian=CONFIRMED,
            next_step="Technical package review",
            next_step_on=today + timedelta(days=NEXT_STEP_DAYS),
        )
    if outcome is Outcome.NOT_QUALIFIED:
        return DecisionInput(outcome=outcome, reason=reason or "spec_mismatch", note="Demo decision")
    if outcome is Outcome.NURTURE:
        return DecisionInput(outcome=outcome, follow_up_on=today + timedelta(days=60))
    return DecisionInput(outcome=outcome, missing=("specs", "timeline"))


def _changed_lead(ctx: Context, leads: list[Lead], old: int, new: int) -> str:
    """One of this week's leads that the new version scores into another group, as an example."""
    with ctx.transaction() as session:
        before, after = ctx.ruleset(session, old), ctx.ruleset(session, new)
    for lead in leads:
        a, b = score(lead, before), score(lead, after)
        if a.group is not b.group:
            return (
                f"   for example {lead.display_name}: {a.group.label} (fit {a.fit}, intent {a.intent}) under "
                f"v{old}, {b.group.label} (fit {b.fit}, intent {b.intent}) under v{new}; leads already scored "
                f"keep v{old}."
            )
    return f"   none of this week's leads changes group under v{new}; leads already scored keep v{old}."
