"""What the App Home shows: a rep's open claims and follow-ups, and a manager's numbers for the week.

The weekly figures here are deliberately simple counts; the digest does the full analysis.
"""

from __future__ import annotations

import statistics
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadqual.calendar import local_midnight
from leadqual.db.models import LeadRow
from leadqual.groups import Group
from leadqual.lead import Outcome
from leadqual.readmodels import Home, WeekNumbers
from leadqual.services import follow_ups
from leadqual.services.cards import card_for
from leadqual.services.context import Context

SHOWN = 15  # rows per list: a view holds at most 100 blocks
UPCOMING_DAYS = 7  # follow-ups shown ahead of their day


def home_for(ctx: Context, *, user_id: str) -> Home:
    """The App Home of `user_id`: open claims, due and upcoming follow-ups, and (managers) the week."""
    with ctx.reading() as session:
        open_q = select(LeadRow).where(LeadRow.owner_id == user_id, LeadRow.outcome.is_(None))
        open_rows = session.scalars(open_q.order_by(LeadRow.claimed_at.desc()).limit(SHOWN)).all()
        open_total = session.scalar(select(func.count()).select_from(open_q.subquery())) or 0
        horizon = local_midnight(ctx.today() + timedelta(days=UPCOMING_DAYS + 1), ctx.config.tz)
        follow_q = select(LeadRow).where(
            (LeadRow.owner_id == user_id) | (LeadRow.decided_by == user_id),
            LeadRow.outcome.in_([Outcome.NURTURE.value, Outcome.QUALIFIED.value, Outcome.NEEDS_INFO.value]),
            LeadRow.follow_up_on.is_not(None),
            LeadRow.follow_up_on < horizon,
        )
        follow_rows = session.scalars(follow_q.order_by(LeadRow.follow_up_on).limit(SHOWN)).all()
        follow_total = session.scalar(select(func.count()).select_from(follow_q.subquery())) or 0
        return Home(
            user_id=user_id,
            open_claims=tuple(card_for(ctx, session, r) for r in open_rows),
            open_total=open_total,
            follow_ups=tuple(card_for(ctx, session, r) for r in follow_rows),
            follow_ups_total=follow_total,
            week=week_numbers(ctx, session) if ctx.is_manager(user_id) else None,
            overdue=tuple(follow_ups.overdue_of(ctx, session, owner=user_id)),
            overdue_by_rep=tuple(follow_ups.overdue_of(ctx, session, limit=3)) if ctx.is_manager(user_id) else None,
        )


def week_numbers(ctx: Context, session: Session) -> WeekNumbers:
    """Counts for the current local week; decisions count only when final (reopened ones are not)."""
    day = ctx.today()
    starts = local_midnight(day - timedelta(days=day.weekday()), ctx.config.tz)
    live = LeadRow.historical.is_(False)
    received = dict.fromkeys(Group, 0)
    for group, n in session.execute(
        select(LeadRow.group, func.count()).where(live, LeadRow.created_at >= starts).group_by(LeadRow.group)
    ):
        received[Group(group)] = n
    claimed = session.scalar(select(func.count()).where(live, LeadRow.first_claimed_at >= starts)) or 0
    decided = dict.fromkeys(Outcome, 0)
    for outcome, n in session.execute(
        select(LeadRow.outcome, func.count())
        .where(live, LeadRow.decided_at >= starts, LeadRow.outcome.is_not(None))
        .group_by(LeadRow.outcome)
    ):
        decided[Outcome(str(outcome))] = n
    waits = [
        (claimed_at - created).total_seconds() / 60
        for created, claimed_at in session.execute(
            select(LeadRow.created_at, LeadRow.first_claimed_at).where(live, LeadRow.first_claimed_at >= starts)
        )
        if claimed_at is not None
    ]
    return WeekNumbers(
        starts=starts,
        received=received,
        claimed=claimed,
        decided=decided,
        median_minutes_to_claim=statistics.median(waits) if waits else None,
    )
