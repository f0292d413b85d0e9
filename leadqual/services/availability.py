"""Reps away and back: who may set it, for how long, and what App Home shows of it.

A rep sets themselves away through a date (their last day away) and back; a manager may do
either for anyone. A date before today, or a rep changing someone else, is refused with a
named error and nothing changes. "Today" and whether an away date has passed are read in
the rep's zone (`leadqual.routing.availability.away_zone`), as the rotation reads them: App
Home, the modal and the rotation never disagree about whether a rep is still away. Every
change is an audit event (`rep_away` / `rep_back`, with the rep, the actor and the date) and
resets the rep's rotation credit, so nobody comes back owed a backlog of turns.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from leadqual.db.models import Event, RepStatus, RouteCredit
from leadqual.errors import AwayDateInPast, NotYourAvailability
from leadqual.routing.availability import RepState, away_today, away_zone, is_away
from leadqual.routing.readmodels import Availability
from leadqual.routing.routes import RouteTable, route_table
from leadqual.services.context import Context
from leadqual.statuses import RoutingEvent


def mark_away(ctx: Context, *, actor: str, rep: str, until: date | None) -> bool:
    """Mark `rep` away through `until` (None: until back); returns whether anything changed."""
    _may_change(ctx, actor, rep)
    now = ctx.now()
    today = today_for(ctx, rep)
    if until is not None and until < today:
        raise AwayDateInPast(until, today)
    with ctx.transaction() as session:
        status = _locked(session, rep)
        if status.away and status.away_until == until:
            return False
        if not status.away:
            _reset_credit(session, rep)
        status.away, status.away_until, status.updated_at = True, until, now
        data = {"user": rep, "until": until.isoformat() if until else None}
        session.add(Event(kind=RoutingEvent.REP_AWAY, actor=actor, at=now, data=data))
        return True


def mark_back(ctx: Context, *, actor: str, rep: str) -> bool:
    """Mark `rep` back (rotation includes them again); returns whether anything changed."""
    _may_change(ctx, actor, rep)
    now = ctx.now()
    with ctx.transaction() as session:
        status = _locked(session, rep)
        if not status.away:
            return False
        _reset_credit(session, rep)
        status.away, status.away_until, status.updated_at = False, None, now
        session.add(Event(kind=RoutingEvent.REP_BACK, actor=actor, at=now, data={"user": rep}))
        return True


def today_for(ctx: Context, rep: str) -> date:
    """Today where `rep`'s away date ends (the earliest date they may be set away through)."""
    return away_today(away_zone(route_table(ctx.config), rep), ctx.now())


def rep_state(table: RouteTable, user: str, row: RepStatus | None, open_claims: int = 0) -> RepState:
    """A rep as App Home and the rotation judge them: their status row, its date in their zone."""
    if row is None:
        return RepState(open_claims=open_claims)
    return RepState(row.away, row.away_until, open_claims, zone=away_zone(table, user))


def availability_of(ctx: Context, user_id: str) -> Availability:
    """Whether `user_id` is away now, and through which day (for their App Home)."""
    with ctx.reading() as session:
        row = session.get(RepStatus, user_id)
    if row is None:
        return Availability(user_id, away=False, until=None)
    away = is_away(rep_state(route_table(ctx.config), user_id, row), ctx.now())
    return Availability(user_id, away=away, until=row.away_until if away else None)


def away_now(ctx: Context) -> list[Availability]:
    """Every rep away right now (for a manager's App Home), by user id."""
    with ctx.reading() as session:
        rows = session.scalars(select(RepStatus).where(RepStatus.away).order_by(RepStatus.user_id)).all()
    now, table = ctx.now(), route_table(ctx.config)
    return [
        Availability(r.user_id, away=True, until=r.away_until)
        for r in rows
        if is_away(rep_state(table, r.user_id, r), now)
    ]


def _may_change(ctx: Context, actor: str, rep: str) -> None:
    if actor != rep and not ctx.is_manager(actor):
        raise NotYourAvailability(rep)


def _locked(session: Session, rep: str) -> RepStatus:
    ensure_status_rows(session, [rep])
    status = session.get(RepStatus, rep, with_for_update=True)
    assert status is not None
    return status


def _reset_credit(session: Session, rep: str) -> None:
    session.execute(delete(RouteCredit).where(RouteCredit.user_id == rep))


def ensure_status_rows(session: Session, users: Sequence[str]) -> None:
    """A `rep_status` row for each of `users` (not away) where there is none yet."""
    if not users:
        return
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(RepStatus)
        .values([{"user_id": u, "away": False, "credit": 0} for u in users])  # credit: unused, NOT NULL
        .on_conflict_do_nothing(index_elements=["user_id"])
    )
