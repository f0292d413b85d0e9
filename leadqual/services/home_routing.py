"""The routing part of App Home: the user's availability; for managers, who is away, the week's fairness, open leads."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from leadqual.calendar import local_midnight
from leadqual.db.models import LeadRow
from leadqual.groups import Group
from leadqual.routing.readmodels import OpenLead, RoutingHome
from leadqual.services.availability import availability_of, away_now
from leadqual.services.context import Context
from leadqual.services.fairness import read_fairness

REASSIGNABLE = 100  # a static select holds at most 100 options


def routing_home(ctx: Context, *, user_id: str) -> RoutingHome:
    """What App Home shows of routing to `user_id`."""
    me = availability_of(ctx, user_id)
    if not ctx.is_manager(user_id):
        return RoutingHome(me=me, manager=False)
    day = ctx.today()
    starts = local_midnight(day - timedelta(days=day.weekday()), ctx.config.tz)
    return RoutingHome(
        me=me,
        manager=True,
        away=tuple(away_now(ctx)),
        fairness=read_fairness(ctx, starts=starts, ends=ctx.now() + timedelta(microseconds=1)),
    )


def open_leads(ctx: Context, *, limit: int = REASSIGNABLE) -> list[OpenLead]:
    """Undecided leads (newest first) a manager may hand to a rep."""
    query = (
        select(LeadRow.id, LeadRow.company_name, LeadRow.email, LeadRow.group, LeadRow.owner_id)
        .where(LeadRow.outcome.is_(None), LeadRow.historical.is_(False), LeadRow.group != Group.POOR_FIT.value)
        .order_by(LeadRow.created_at.desc(), LeadRow.id.desc())
        .limit(limit)
    )
    with ctx.reading() as session:
        return [
            OpenLead(
                id=r.id,
                name=r.company_name or r.email or f"Lead {r.id}",
                group_label=Group(r.group).label,
                owner_id=r.owner_id,
            )
            for r in session.execute(query)
        ]
