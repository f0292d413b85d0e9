"""Suggest an owner for a routed lead by weighted round robin over the route's reps.

Smooth weighted round robin (as nginx balances upstreams): every pick adds each available
rep's weight to their credit, the rep with the most credit wins and pays back the total.
Over any run of picks the shares follow the weights and the picks are spread out (2:1
gives A B A A B A, not A A B). This per-group helper keeps its credit in `RepStatus.credit`;
intake and the SLA ladder go through `services.assignment`, whose credit is per route
(`route_credit`). Reps marked away are skipped and keep their credit.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadqual.config import AppConfig
from leadqual.db.models import RepStatus
from leadqual.groups import Group
from leadqual.routing.wrr import Pick, next_pick  # the algorithm lives in the pure routing package
from leadqual.services.availability import ensure_status_rows
from leadqual.services.context import Context

__all__ = ["Pick", "away_reps", "next_pick", "set_away", "suggest_owner", "suggest_owners"]


def suggest_owner(
    session: Session, config: AppConfig, group: Group, *, exclude: frozenset[str] = frozenset()
) -> str | None:
    """The next rep for `group`'s route when it rotates (None otherwise), advancing the rotation.

    Runs inside the caller's transaction. The reps' status rows are locked (in a fixed
    order) so concurrent intakes on PostgreSQL take turns instead of picking the same rep.
    """
    return suggest_owners(session, config, group, count=1, exclude=exclude)[0]


def suggest_owners(
    session: Session, config: AppConfig, group: Group, *, count: int, exclude: frozenset[str] = frozenset()
) -> list[str | None]:
    """The next `count` suggestions for `group` in one round trip (bulk intake); None where nobody is available."""
    # The per-group map only: routes given as a list are matched per lead by services.assignment.
    route = config.routes.get(group) if isinstance(config.routes, dict) else None
    if route is None or not route.rotation or not route.reps or count <= 0:
        return [None] * max(count, 0)
    users = sorted({r.user for r in route.reps})
    ensure_status_rows(session, users)
    rows = {
        s.user_id: s
        for s in session.scalars(
            select(RepStatus).where(RepStatus.user_id.in_(users)).order_by(RepStatus.user_id).with_for_update()
        )
    }
    away = frozenset(u for u in users if rows[u].away)
    credit = {u: rows[u].credit for u in users}
    picked: list[str | None] = []
    for _ in range(count):
        pick = next_pick(route.reps, credit, away=away, exclude=exclude)
        if pick is None:
            return picked + [None] * (count - len(picked))
        picked.append(pick.user)
        credit = pick.credit
    for user in users:
        rows[user].credit = credit[user]
    return picked


def set_away(ctx: Context, user_id: str, away: bool) -> bool:
    """Mark a rep away until back (skipped by rotation) or back; returns whether anything changed."""
    from leadqual.services import availability  # it builds on this module's status rows

    if away:
        return availability.mark_away(ctx, actor=user_id, rep=user_id, until=None)
    return availability.mark_back(ctx, actor=user_id, rep=user_id)


def away_reps(ctx: Context) -> list[str]:
    with ctx.reading() as session:
        return list(session.scalars(select(RepStatus.user_id).where(RepStatus.away).order_by(RepStatus.user_id)))
