"""Route new leads and suggest their owner: account owner first, then the route's rotation.

The rules are pure (`leadqual.routing`); this module loads what they need (rep status,
open claims, the account's owner), writes the rotation's credit back (per route and rep, in
`route_credit`) and records every skip as an audit event (`rotation_skip`, with the rep, the
reason and the route).

Concurrency: the status rows of every rep in a rotating route are locked in one statement,
in user-id order, before the first turn of a transaction (SQLite: the transaction already
holds the write lock), so concurrent intakes take turns and never deadlock each other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from leadqual.config import SLACK_ID_PATTERN, AppConfig, Rep
from leadqual.db.models import Event, LeadRow, RepStatus, RouteCredit
from leadqual.groups import Group
from leadqual.lead import Lead
from leadqual.routing.accounts import AccountHistory, AccountLead, account_owner
from leadqual.routing.availability import RepState, Skip, next_turn, unavailable
from leadqual.routing.hours import working_minutes
from leadqual.routing.routes import RoutePlan, route_table
from leadqual.services import availability
from leadqual.services.availability import ensure_status_rows
from leadqual.services.context import Context
from leadqual.statuses import LeadStatus, RoutingEvent

SKIP_EVENT = RoutingEvent.ROTATION_SKIP
CHUNK = 500


_SLACK_USER = re.compile(SLACK_ID_PATTERN)


class Assigner:
    """Routes and suggestions for one transaction: rep state loaded (and locked) once, credit written back."""

    def __init__(
        self, session: Session, config: AppConfig, now: datetime, *, domains: Iterable[str | None] = ()
    ) -> None:
        self.session, self.config, self.now = session, config, now
        self.table = route_table(config)
        self._domains = {d for d in domains if d}
        self._owners: dict[str, str] | None = None
        self._rows: dict[str, RepStatus] | None = None
        self._states: dict[str, RepState] = {}
        self._credit: dict[str, dict[str, int]] = {}  # route label -> rep -> credit
        self._dirty: set[str] = set()
        self._events: list[dict[str, Any]] = []

    def route_for_row(self, row: dict[str, Any]) -> RoutePlan | None:
        """The route of a prepared intake row (see services.intake.prepare)."""
        group = Group(row["score_group"])
        if not self.table.needs_lead:
            return self.table.match(group)
        lead = Lead.model_validate_json(str(row["payload"]))
        return self.table.match(group, lead, segment=row["segment"], today=row["received_at"].date())

    def suggest(
        self, route: RoutePlan, *, lead_id: int, domain: str | None = None, exclude: frozenset[str] = frozenset()
    ) -> str | None:
        """The account's owner when they can take it, else the route's next eligible rep (None: nobody)."""
        owner = self._account_owner(domain)
        if owner and owner not in exclude:
            rep = next((r for r in route.reps if r.user == owner), None) or Rep(user=owner)
            reason = unavailable(rep, route, self._state_of(owner), self.now)
            if reason is None:
                return owner
            self._skip(lead_id, route, Skip(owner, reason), account_owner=True)
        if not route.rotates:
            return None
        self._lock()
        key = route.label()
        credit = self._credit.setdefault(key, {})
        turn = next_turn(route, credit, self._states, self.now, exclude=exclude)
        for skip in turn.skips:
            self._skip(lead_id, route, skip)
        if turn.user is not None:
            self._credit[key] = turn.credit
            self._dirty.add(key)
        return turn.user

    def write_credit(self) -> None:
        """Store the rotations' credit (per route: a rep in two routes takes turns in each apart)."""
        rows = [
            {"route": key, "user_id": user, "credit": credit}
            for key in sorted(self._dirty)
            for user, credit in sorted(self._credit[key].items())
        ]
        self._dirty.clear()
        if not rows:
            return
        dialect = self.session.get_bind().dialect.name
        upsert = pg_insert(RouteCredit) if dialect == "postgresql" else sqlite_insert(RouteCredit)
        self.session.execute(
            upsert.on_conflict_do_update(index_elements=["route", "user_id"], set_={"credit": upsert.excluded.credit}),
            rows,
        )

    def write_events(self) -> None:
        """Insert the skips recorded so far (after the leads they name exist), and the rotations' credit."""
        self.write_credit()
        if self._events:
            self.session.execute(insert(Event), self._events)
            self._events = []

    # -- loading ---------------------------------------------------------------------------

    def _lock(self) -> None:
        if self._rows is not None:
            return
        users = sorted({rep.user for route in self.table.routes if route.rotates for rep in route.reps})
        ensure_status_rows(self.session, users)
        self._rows = {
            s.user_id: s
            for s in self.session.scalars(
                select(RepStatus).where(RepStatus.user_id.in_(users)).order_by(RepStatus.user_id).with_for_update()
            )
        }
        claims = _open_claims(self.session, users) if self._has_caps() else {}
        for user, row in self._rows.items():
            self._states[user] = availability.rep_state(self.table, user, row, claims.get(user, 0))
        keys = [route.label() for route in self.table.routes if route.rotates]
        for credit in self.session.scalars(select(RouteCredit).where(RouteCredit.route.in_(keys))):
            self._credit.setdefault(credit.route, {})[credit.user_id] = credit.credit

    def _state_of(self, user: str) -> RepState:
        self._lock()
        if user not in self._states:
            row = self.session.get(RepStatus, user)
            claims = _open_claims(self.session, [user])
            self._states[user] = availability.rep_state(self.table, user, row, claims.get(user, 0))
        return self._states[user]

    def _has_caps(self) -> bool:
        return any(
            route.max_open_claims is not None or any(r.max_open_claims is not None for r in route.reps)
            for route in self.table.routes
        )

    def _account_owner(self, domain: str | None) -> str | None:
        if not domain or self.config.routing.account_days <= 0:
            return None
        if self._owners is None:
            self._domains.add(domain)
            self._owners = account_owners(
                self.session, self._domains, now=self.now, days=self.config.routing.account_days
            )
        elif domain not in self._domains:
            self._domains.add(domain)
            self._owners.update(
                account_owners(self.session, {domain}, now=self.now, days=self.config.routing.account_days)
            )
        owner = self._owners.get(domain)
        # Decisions imported from a CRM may name their decider any way ("x", an email): only a
        # Slack user can be suggested a lead.
        return owner if owner is not None and _SLACK_USER.match(owner) else None

    def _skip(self, lead_id: int, route: RoutePlan, skip: Skip, *, account_owner: bool = False) -> None:
        data: dict[str, Any] = {"user": skip.user, "reason": skip.reason.value, "route": route.label()}
        if account_owner:
            data["account_owner"] = True
        self._events.append(
            {"lead_id": lead_id, "kind": SKIP_EVENT, "actor": None, "at": self.now, "data": data, "key": None}
        )


def _open_claims(session: Session, users: list[str]) -> dict[str, int]:
    if not users:
        return {}
    rows = session.execute(
        select(LeadRow.owner_id, func.count())
        .where(LeadRow.owner_id.in_(users), LeadRow.status == LeadStatus.CLAIMED)
        .group_by(LeadRow.owner_id)
    )
    return {user: count for user, count in rows if user}


def _as_account_lead(row: Any) -> AccountLead:
    who = row.decided_by or row.owner_id
    at = row.decided_at if row.decided_by else row.claimed_at
    return AccountLead(
        lead_id=row.id,
        name=row.company_name,
        received_at=row.received_at,
        who=who,
        outcome=row.outcome,
        reason=row.reason,
        at=at if who else None,
    )


_ACCOUNT_COLUMNS = (
    LeadRow.id,
    LeadRow.company_domain,
    LeadRow.company_name,
    LeadRow.received_at,
    LeadRow.owner_id,
    LeadRow.claimed_at,
    LeadRow.outcome,
    LeadRow.reason,
    LeadRow.decided_by,
    LeadRow.decided_at,
)


def account_owners(session: Session, domains: Iterable[str], *, now: datetime, days: int) -> dict[str, str]:
    """Each domain's owner: the rep with the latest claim or decision there within `days`."""
    since = now - timedelta(days=days)
    by_domain: dict[str, list[AccountLead]] = {}
    items = sorted(set(domains))
    for start in range(0, len(items), CHUNK):
        rows = session.execute(
            select(*_ACCOUNT_COLUMNS).where(
                LeadRow.company_domain.in_(items[start : start + CHUNK]),
                (LeadRow.claimed_at >= since) | (LeadRow.decided_at >= since),
            )
        )
        for row in rows:
            by_domain.setdefault(row.company_domain, []).append(_as_account_lead(row))
    found = {d: account_owner(leads, now=now, days=days) for d, leads in by_domain.items()}
    return {d: owner for d, owner in found.items() if owner}


def account_history(ctx: Context, domain: str, *, before_lead: int | None = None, limit: int = 10) -> AccountHistory:
    """The account's earlier leads, newest first (who had each, how it ended, when), for the card."""
    with ctx.reading() as session:
        return history_in(session, domain, before_lead=before_lead, limit=limit)


def history_in(
    session: Session,
    domain: str,
    *,
    before_lead: int | None = None,
    received_by: datetime | None = None,
    limit: int = 10,
) -> AccountHistory:
    """As `account_history`, in the caller's session; `received_by` leaves out leads received after it."""
    query = select(*_ACCOUNT_COLUMNS).where(LeadRow.company_domain == domain.lower())
    if before_lead is not None:
        query = query.where(LeadRow.id != before_lead)
    if received_by is not None:
        query = query.where(LeadRow.received_at <= received_by)
    rows = session.execute(query.order_by(LeadRow.received_at.desc(), LeadRow.id.desc()).limit(limit))
    return AccountHistory(domain.lower(), tuple(_as_account_lead(r) for r in rows))


def route_of(config: AppConfig, lead: LeadRow) -> RoutePlan | None:
    """The route a stored lead takes under the current config."""
    table = route_table(config)
    group = Group(lead.group)
    if not table.needs_lead:
        return table.match(group)
    return table.match(group, Lead.model_validate(lead.payload), segment=lead.segment, today=lead.received_at.date())


def reassign_to(
    session: Session, config: AppConfig, lead: LeadRow, *, now: datetime, exclude: frozenset[str] = frozenset()
) -> str | None:
    """The SLA reassign's next rep: the lead's route's rotation, skipping the unavailable (skips logged)."""
    route = route_of(config, lead)
    if route is None:
        return None
    assigner = Assigner(session, config, now)
    after = assigner.suggest(route, lead_id=lead.id, exclude=exclude)
    assigner.write_events()
    return after


def working_time_waited(config: AppConfig, lead: LeadRow, *, posted_at: datetime, now: datetime) -> timedelta:
    """Time since the card was posted, counting only the route's open hours (all of it without `hours:`)."""
    route = route_of(config, lead)
    if route is None or route.hours is None:
        return now - posted_at
    return timedelta(minutes=working_minutes(posted_at, now, hours=route.hours, tz=route.tz))


def set_away_until(ctx: Context, user_id: str, until: date | None, *, by: str | None = None) -> bool:
    """Mark a rep away through `until` (their last day away; None: until back): `services.availability.mark_away`."""
    return availability.mark_away(ctx, actor=by or user_id, rep=user_id, until=until)
