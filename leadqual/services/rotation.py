"""Suggest an owner for a routed lead by weighted round robin over the route's reps.

Smooth weighted round robin (as nginx balances upstreams): every pick adds each available
rep's weight to their credit, the rep with the most credit wins and pays back the total.
Over any run of picks the shares follow the weights and the picks are spread out (2:1
gives A B A A B A, not A A B). Credit lives in `RepStatus.credit`, so the rotation carries
on across restarts and processes; reps marked away are skipped and keep their credit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from leadqual.config import AppConfig, Rep
from leadqual.db.models import Event, RepStatus
from leadqual.groups import Group
from leadqual.services.context import Context


@dataclass(frozen=True, slots=True)
class Pick:
    """One round of smooth weighted round robin: who won and everyone's credit after it."""

    user: str
    credit: dict[str, int]


def next_pick(
    reps: Sequence[Rep],
    credit: dict[str, int],
    *,
    away: frozenset[str] = frozenset(),
    exclude: frozenset[str] = frozenset(),
) -> Pick | None:
    """Pick the next rep from `reps` (credit before the pick in `credit`); None when nobody is available."""
    available = [r for r in reps if r.user not in away and r.user not in exclude]
    if not available:
        return None
    after = dict(credit)
    for rep in available:
        after[rep.user] = after.get(rep.user, 0) + rep.weight
    # max() keeps the first of equals, so ties go to the rep listed first in the config.
    winner = max(available, key=lambda r: after[r.user])
    after[winner.user] -= sum(r.weight for r in available)
    return Pick(winner.user, after)


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
    route = config.routes.get(group)
    if route is None or not route.rotation or not route.reps or count <= 0:
        return [None] * max(count, 0)
    users = sorted({r.user for r in route.reps})
    _ensure_status_rows(session, users)
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
    """Mark a rep away (skipped by rotation) or back; returns whether anything changed."""
    now = ctx.now()
    with ctx.transaction() as session:
        _ensure_status_rows(session, [user_id])
        status = session.get(RepStatus, user_id, with_for_update=True)
        assert status is not None
        if status.away == away:
            return False
        status.away = away
        # Coming back starts level with the others rather than owed a backlog of turns.
        status.credit = 0
        status.updated_at = now
        session.add(Event(kind="rep_away" if away else "rep_back", actor=user_id, at=now, data={}))
        return True


def away_reps(ctx: Context) -> list[str]:
    with ctx.reading() as session:
        return list(session.scalars(select(RepStatus.user_id).where(RepStatus.away).order_by(RepStatus.user_id)))


def _ensure_status_rows(session: Session, users: Sequence[str]) -> None:
    if not users:
        return
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(RepStatus)
        .values([{"user_id": u, "away": False, "credit": 0} for u in users])
        .on_conflict_do_nothing(index_elements=["user_id"])
    )
