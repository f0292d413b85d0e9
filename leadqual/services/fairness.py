"""Fairness of the rotation over a window, for App Home and the digest (figures: leadqual.routing.fairness).

Each lead is put back on the route it takes under the current config (as the SLA ladder
does); a route's suggestions are its leads received in the window, its claims the claim rows
(claims and hand-overs) made in the window on its leads, its skips the `rotation_skip` events
that name it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadqual.db.models import Claim, Event, LeadRow
from leadqual.groups import Group
from leadqual.lead import Lead
from leadqual.routing.fairness import Fairness, route_fairness
from leadqual.routing.routes import RouteTable, route_table
from leadqual.services.context import Context
from leadqual.statuses import RoutingEvent

_LEAD_COLUMNS = (
    LeadRow.id,
    LeadRow.group,
    LeadRow.payload,
    LeadRow.segment,
    LeadRow.received_at,
    LeadRow.suggested_owner,
    LeadRow.created_at,
)


def read_fairness(ctx: Context, *, starts: datetime, ends: datetime) -> Fairness:
    """Every rotating route's shares of suggestions and claims against weights, and skips, in [starts, ends)."""
    with ctx.reading() as session:
        return fairness_in(ctx, session, starts=starts, ends=ends)


def fairness_in(ctx: Context, session: Session, *, starts: datetime, ends: datetime) -> Fairness:
    """As `read_fairness`, inside the caller's session."""
    table = route_table(ctx.config)
    rotating = [r for r in table.routes if r.rotates]
    if not rotating:
        return Fairness(starts, ends, ())
    received = session.execute(
        select(*_LEAD_COLUMNS).where(
            LeadRow.created_at >= starts,
            LeadRow.created_at < ends,
            LeadRow.historical.is_(False),
            LeadRow.suggested_owner.is_not(None),  # only suggestions count: match no more leads than that
        )
    ).all()
    claims = session.execute(
        select(Claim.lead_id, Claim.user_id).where(Claim.claimed_at >= starts, Claim.claimed_at < ends)
    ).all()
    leads = {row.id: row for row in received}
    missing = sorted({c.lead_id for c in claims} - leads.keys())
    for start in range(0, len(missing), 500):
        chunk = missing[start : start + 500]
        leads.update({row.id: row for row in session.execute(select(*_LEAD_COLUMNS).where(LeadRow.id.in_(chunk)))})
    route_of = {lead_id: _route_label(table, row) for lead_id, row in leads.items()}

    suggested: dict[str, list[str]] = defaultdict(list)
    for row in received:
        label = route_of.get(row.id)
        if label:
            suggested[label].append(row.suggested_owner)
    claimed: dict[str, list[str]] = defaultdict(list)
    for claim in claims:
        label = route_of.get(claim.lead_id)
        if label:
            claimed[label].append(claim.user_id)
    skipped: dict[str, list[str]] = defaultdict(list)
    for (data,) in session.execute(
        select(Event.data).where(Event.kind == RoutingEvent.ROTATION_SKIP, Event.at >= starts, Event.at < ends)
    ):
        if isinstance(data, dict) and data.get("route") and data.get("reason"):
            skipped[str(data["route"])].append(str(data["reason"]))
    return Fairness(
        starts,
        ends,
        tuple(
            route_fairness(
                r.label(),
                [(rep.user, rep.weight) for rep in r.reps],
                suggested=suggested[r.label()],
                claimed=claimed[r.label()],
                skips=skipped[r.label()],
            )
            for r in rotating
        ),
    )


def _route_label(table: RouteTable, row: Any) -> str | None:
    group = Group(row.group)
    if not table.needs_lead:
        route = table.match(group)
    else:
        route = table.match(
            group, Lead.model_validate(row.payload or {}), segment=row.segment, today=row.received_at.date()
        )
    return route.label() if route is not None and route.rotates else None
