"""The weekly digest: figures for a week and its trailing window, proposals with backtests, the send guard.

Building reads in several short transactions (figures, evidence, pages of decided leads)
rather than one long one: on SQLite every transaction holds the write lock, and the digest
must not hold up a rep's claim while it rescores leads in Python.

Backtests rescore at most `BACKTEST_LIMIT` decided leads, the most recent of the trailing
window, read in pages of `BACKTEST_PAGE` (keyset pagination, one short transaction each):
rescoring is Python work, so a digest over a million leads must not rescore them all.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadqual import analytics, analytics_evidence, analytics_followthrough
from leadqual.backtest import Backtest, StoredLead, backtest, same_conditions
from leadqual.calendar import Period, previous_week, trailing_period, week_of, week_period
from leadqual.config import AppConfig, ProposalMethod, Weekday
from leadqual.db.models import ProposalRow, RulesetVersion
from leadqual.figures import Inflation, ScoreBands, cutoffs
from leadqual.learning.learn import learn
from leadqual.learning.proposals import as_proposals
from leadqual.proposals import Proposal, apply_to_spec, propose
from leadqual.readmodels import Digest, ProposedChange, RulesetChange
from leadqual.response import FirstResponse
from leadqual.scoring import Ruleset
from leadqual.services import digest_guard, proposal_store
from leadqual.services import follow_up_completion as follow_up_figures
from leadqual.services.context import Context
from leadqual.services.fairness import fairness_in
from leadqual.services.window_hits import window_hits
from leadqual.statuses import RulesetOrigin

BACKTEST_LIMIT = 2_000
BACKTEST_PAGE = 500
_WEEKDAYS = list(Weekday)


# --- when ------------------------------------------------------------------------------------


def last_complete_week(ctx: Context, now: datetime | None = None) -> str:
    """The ISO week before the one `now` falls in (local time): the week a digest reports on."""
    return previous_week(week_of(now or ctx.now(), ctx.config.tz))


def latest_slot(config: AppConfig, now: datetime) -> datetime:
    """The most recent scheduled digest moment at or before `now` (weekday and hour, local time)."""
    local = now.astimezone(config.tz)
    monday = local.date() - timedelta(days=local.weekday())
    day = monday + timedelta(days=_WEEKDAYS.index(config.digest.weekday))
    slot = datetime(day.year, day.month, day.day, config.digest.hour, tzinfo=config.tz)
    if slot > local:
        back = slot.date() - timedelta(days=7)
        slot = datetime(back.year, back.month, back.day, config.digest.hour, tzinfo=config.tz)
    return slot


def week_reported_at(config: AppConfig, slot: datetime) -> str:
    """The week a digest sent at `slot` reports on: the last complete week before it."""
    return previous_week(week_of(slot, config.tz))


def missed_week(ctx: Context, managers: list[str], now: datetime | None = None) -> str | None:
    """The week whose digest is due but not sent to every one of `managers` (or to anyone)."""
    week = week_reported_at(ctx.config, latest_slot(ctx.config, now or ctx.now()))
    sent = digest_guard.sent_to(ctx, week)
    if not sent or any(m not in sent for m in managers):
        return week
    return None


# --- build -----------------------------------------------------------------------------------


def build_digest(
    ctx: Context, *, iso_week: str | None = None, backtest_limit: int = BACKTEST_LIMIT, persist: bool = True
) -> Digest:
    """Figures, proposals and backtests for `iso_week` (default: the last complete week)."""
    week_label = iso_week or last_complete_week(ctx)
    tz = ctx.config.tz
    week = week_period(week_label, tz)
    trailing = trailing_period(week.label, ctx.config.digest.trailing_weeks, tz)
    with ctx.transaction() as session:
        change = _active_change(session)
        ruleset = ctx.ruleset(session, change.version)
    with ctx.reading() as session:
        week_figures = analytics.figures(session, week)
    with ctx.reading() as session:
        trailing_figures = analytics.figures(session, trailing)
    with ctx.reading() as session:
        before_figures = analytics.figures(session, week_period(previous_week(week.label), tz))
    with ctx.reading() as session:
        pipeline = analytics.pipeline(session, trailing, stale_after_days=ctx.config.pipeline.stale_after_days)
    with ctx.reading() as session:
        rotation = fairness_in(ctx, session, starts=week.start, ends=week.end)
        follow_up_completion = follow_up_figures.completion(ctx, session, week=week, window=trailing)
    with ctx.reading() as session:
        evidence = analytics_evidence.evidence(
            session,
            trailing,
            learn_from=ctx.config.proposals.learn_from,
            by_rule=ctx.config.proposals.method is ProposalMethod.MARGINAL,
        )
    with ctx.reading() as session:
        first_response = FirstResponse(
            week=analytics_followthrough.response_times(session, week),
            trailing=analytics_followthrough.response_times(session, trailing),
        )
        spend = ctx.config.costs
        costs = analytics_followthrough.costs(session, spend, until=week, tz=tz) if spend else None
    settings = ctx.config.proposals
    held_out: dict[str, float] | None = None
    if settings.method is ProposalMethod.CONDITIONAL:
        proposals, held_out = conditional_proposals(ctx, ruleset, trailing)
    else:
        proposals = propose(ruleset.spec, version=ruleset.version, evidence=evidence, settings=settings)
    backtests = backtest_proposals(ctx, ruleset, proposals, trailing, limit=backtest_limit)
    digest = Digest(
        iso_week=week.label,
        timezone=ctx.config.timezone,
        week=week_figures,
        trailing=trailing_figures,
        ruleset=change,
        proposals=[ProposedChange(p, backtests.get(p.id)) for p in proposals],
        evidence_leads=evidence.overall.decided,
        pipeline=pipeline,
        learn_from=settings.learn_from.value,
        method=settings.method.value,
        held_out=held_out,
        bands=ScoreBands.of(
            [(c.fit, c.intent, c.tally.qualified, c.tally.not_qualified) for c in evidence.cells],
            fit_edges=cutoffs([t.fit for t in ruleset.spec.groups.values()]),
            intent_edges=cutoffs([t.intent for t in ruleset.spec.groups.values()]),
        ),
        inflation=Inflation.of(before_figures, week_figures),
        first_response=first_response,
        costs=costs,
        fairness=rotation if rotation.routes else None,
        follow_ups=follow_up_completion,
    )
    if persist:
        proposal_store.save_proposals(ctx, digest)
    return digest


def conditional_proposals(
    ctx: Context, ruleset: Ruleset, period: Period
) -> tuple[list[Proposal], dict[str, float] | None]:
    """Proposals from the conditional learner over the window's decided leads, and all kept changes' held-out figures.

    Fitted on the older weeks, each change checked on the most recent `proposals.holdout_weeks`
    (fewer when the window is short: at least one week is always learnt from).
    """
    settings = ctx.config.proposals
    hits, success = window_hits(ctx, ruleset.spec, period)
    if not len(hits):
        return [], None
    weeks = holdout_weeks(ctx)
    learning = learn(
        hits, success, ruleset.spec, version=ruleset.version, settings=settings, end=period.end, holdout_weeks=weeks
    )
    together = learning.held_out if learning.kept or any(t.kept for t in learning.thresholds) else None
    figures = (
        {
            "weeks": weeks,
            "leads": learning.held_out_leads,
            "precision_before": round(together.before.precision, 4),
            "precision_after": round(together.after.precision, 4),
            "caught_before": together.before.caught,
            "caught_after": together.after.caught,
        }
        if together is not None
        else None
    )
    return as_proposals(learning, version=ruleset.version, holdout_weeks=weeks), figures


def holdout_weeks(ctx: Context) -> int:
    """`proposals.holdout_weeks`, fewer when the window is short: at least one week is always learnt from."""
    return max(0, min(ctx.config.proposals.holdout_weeks, ctx.config.digest.trailing_weeks - 1))


def backtest_proposals(
    ctx: Context, ruleset: Ruleset, proposals: list[Proposal], period: Period, *, limit: int = BACKTEST_LIMIT
) -> dict[str, Backtest]:
    """Rescore the `limit` most recent decided leads of `period` under each proposal, in one pass.

    Leads scored by a version with the active rules' conditions are regrouped from their stored
    hits (nothing to validate or score again) when every proposal only changes points or
    thresholds, as proposals do; any other lead is rescored from its payload.
    """
    if not proposals:
        return {}
    changed = {p.id: apply_to_spec(ruleset.spec, p) for p in proposals}
    hold = (
        _versions_with_the_same_conditions(ctx, ruleset)
        if all(same_conditions(ruleset.spec, spec) for spec in changed.values())
        else set()
    )
    leads = stream_decided(ctx, period, limit=limit, hits_hold_for=hold)
    return backtest(leads, current=ruleset, proposed=changed, window=period.label, limit=limit)


def _versions_with_the_same_conditions(ctx: Context, ruleset: Ruleset) -> set[int]:
    """The ruleset versions whose stored hits scoring under `ruleset` would find again."""
    with ctx.reading() as session:
        versions = session.scalars(select(RulesetVersion.version)).all()
        return {v for v in versions if same_conditions(ctx.ruleset(session, v).spec, ruleset.spec)}


def stream_decided(
    ctx: Context, period: Period, *, limit: int, page: int = BACKTEST_PAGE, hits_hold_for: Collection[int] = ()
) -> Iterator[StoredLead]:
    """Yield (payload, qualified?, stored hits) for the `limit` most recent decided leads, a page per transaction.

    Leads scored by a version in `hits_hold_for` come with their stored hits and no payload.
    """
    after: tuple[datetime, int] | None = None
    left = limit
    while left > 0:
        with ctx.reading() as session:
            rows = analytics_evidence.decided_page(
                session,
                period,
                before=after,
                size=min(page, left),
                learn_from=ctx.config.proposals.learn_from,
                hits_hold_for=hits_hold_for,
            )
        yield from ((payload, qualified, hits) for payload, qualified, hits, _, _ in rows)
        if len(rows) < min(page, left):
            return
        left -= len(rows)
        _, _, _, decided_at, lead_id = rows[-1]
        after = (decided_at, lead_id)


def _active_change(session: Session) -> RulesetChange:
    row = session.scalar(select(RulesetVersion).where(RulesetVersion.active))
    if row is None:
        raise LookupError("no active ruleset: run `leadbot rules check` or start the app once")
    made_by = (
        session.scalar(
            select(ProposalRow)
            .where(ProposalRow.applied_version == row.version)
            .order_by(ProposalRow.applied_at.desc())
            .limit(1)
        )
        if row.origin == RulesetOrigin.APPLY
        else None
    )
    return RulesetChange(
        version=row.version,
        name=row.name,
        parent_version=row.parent_version,
        origin=row.origin,
        created_at=row.created_at,
        created_by=row.created_by,
        proposal_id=made_by.id if made_by else None,
        proposal=Proposal.from_json(made_by.data["proposal"]) if made_by and made_by.data.get("proposal") else None,
        latest_version=session.scalar(select(func.max(RulesetVersion.version))),
    )
