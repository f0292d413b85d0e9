"""The lead card's read model: build `LeadCard` from a stored lead (what every card, modal and App Home row shows)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadqual.db.models import Decision, LeadRow
from leadqual.errors import LeadNotFound
from leadqual.groups import Group
from leadqual.lead import Lead, Outcome
from leadqual.readmodels import CardReason, LeadCard
from leadqual.screen import ScreenAnswer, quick_screen
from leadqual.services.context import Context

TOP_REASONS = 3


def read_card(ctx: Context, *, lead_id: int) -> LeadCard:
    """The card of one lead; raise LeadNotFound."""
    with ctx.reading() as session:
        return card_for(ctx, session, _row(session, lead_id))


def card_for(ctx: Context, session: Session, row: LeadRow, *, details: dict[str, Any] | None = None) -> LeadCard:
    """Build the read model from a stored lead (for renderers that already hold a session).

    `details` are the current decision's (read from the database when not given).
    """
    payload = row.payload or {}
    company: dict[str, Any] = payload.get("company") or {}
    contact: dict[str, Any] = payload.get("contact") or {}
    need: dict[str, Any] = payload.get("need") or {}
    reason = ctx.config.reason(row.reason) if row.reason else None
    return LeadCard(
        id=row.id,
        company=row.company_name or company.get("name"),
        contact_name=contact.get("name"),
        contact_title=contact.get("title"),
        email=row.email or contact.get("email"),
        industry=company.get("industry"),
        country=company.get("country"),
        region=company.get("region"),
        employees=company.get("employees"),
        source=row.source,
        offer=row.offer,
        campaign=row.campaign,
        scope=need.get("scope"),
        problem=need.get("problem"),
        needed_by=need.get("needed_by"),
        message=payload.get("message"),
        fit=row.fit,
        intent=row.intent,
        group=Group(row.group),
        urgent=row.urgent,
        segment=row.segment,
        segment_label=_segment_label(ctx, session, row),
        reasons=_top_reasons(row.hits),
        failed_must_haves=tuple(str(m) for m in row.failed_must_haves or ()),
        ruleset_version=row.ruleset_version,
        status=row.status,
        owner_id=row.owner_id,
        suggested_owner=row.suggested_owner,
        claimed_at=row.claimed_at,
        outcome=Outcome(row.outcome) if row.outcome else None,
        reason=row.reason,
        reason_label=reason.label if reason else row.reason,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        follow_up_on=row.follow_up_on.astimezone(ctx.config.tz).date() if row.follow_up_on else None,
        received_at=row.received_at,
        channel_id=row.channel_id,
        message_ts=row.message_ts,
        version=row.version,
        **_decision_details(session, row, details),
        screen=_screen(ctx, payload),
    )


def _decision_details(session: Session, row: LeadRow, details: dict[str, Any] | None) -> dict[str, Any]:
    """The current decision's missing details, artefacts, next step and FIAN ratings, for the card."""
    if row.outcome is None:
        return {}
    details = (
        details
        if details is not None
        else session.scalar(
            select(Decision.details)
            .where(Decision.lead_id == row.id, Decision.superseded_at.is_(None))
            .order_by(Decision.id.desc())
            .limit(1)
        )
    )
    if not isinstance(details, dict):
        return {}
    fian = details.get("fian")
    fian = fian if isinstance(fian, dict) else {}
    return {
        "missing": tuple(str(m) for m in details.get("missing") or ()),
        "artefacts": tuple(str(a) for a in details.get("artefacts") or ()),
        "next_step": str(details["next_step"]) if details.get("next_step") else None,
        "fian": tuple((str(k), str(v)) for k, v in fian.items() if v),
    }


def _screen(ctx: Context, payload: dict[str, Any]) -> tuple[ScreenAnswer, ...]:
    try:
        lead = Lead.model_validate(payload)
    except ValidationError:  # a payload stored by an older format: every answer unknown
        lead = None
    return quick_screen(lead, ctx.config.screen, today=ctx.today())


def _top_reasons(hits: list[Any] | None) -> tuple[CardReason, ...]:
    items = [h for h in hits or () if isinstance(h, dict)]
    items.sort(key=lambda h: -abs(int(h.get("points") or 0)))
    return tuple(
        CardReason(str(h.get("label") or h.get("rule") or "?"), int(h.get("points") or 0), str(h.get("kind") or ""))
        for h in items[:TOP_REASONS]
    )


def _segment_label(ctx: Context, session: Session, row: LeadRow) -> str | None:
    if not row.segment:
        return None
    try:
        segments = ctx.ruleset(session, version=row.ruleset_version).spec.segments
    except LookupError:  # a version deleted by hand: fall back to the id
        return row.segment
    return next((s.label or s.id for s in segments if s.id == row.segment), row.segment)


def buying_motions(ctx: Context) -> list[tuple[str, str]]:
    """(id, label) of each buying motion (segment) in the active ruleset, for the qualify modal."""
    return [(s.id, s.label or s.id) for s in ctx.active_ruleset().spec.segments]


def _row(session: Session, lead_id: int) -> LeadRow:
    row = session.get(LeadRow, lead_id)
    if row is None:
        raise LeadNotFound(lead_id)
    return row
