"""Triage a lead in Slack's words: claim, release, reassign, decide, reopen; and the card's read model.

Every change happens in one transaction that also writes its audit Event and queues the
card update and the thread line in the outbox, so Slack shows exactly what was stored.

Concurrency: claiming is one conditional UPDATE (`... WHERE owner_id IS NULL AND outcome IS
NULL`), so of many simultaneous clicks exactly one wins on PostgreSQL and on SQLite. Other
changes lock the lead row first (`SELECT ... FOR UPDATE`; SQLite's BEGIN IMMEDIATE serialises
writers anyway). Idempotency: callers pass a `key` per Slack delivery (action or view id);
a change whose key is already in the event log is not applied again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import func, literal, select, update
from sqlalchemy.orm import Session

from leadqual.config import AppConfig
from leadqual.db.models import Claim, Decision, Event, LeadRow, OutboxMessage, UTCDateTime
from leadqual.errors import AlreadyClaimed, AlreadyDecided, InvalidDecision, LeadNotFound, NotManager, NotOwner
from leadqual.groups import Group
from leadqual.lead import Outcome
from leadqual.services import outbox
from leadqual.services.context import Context

TOP_REASONS = 3
NOTE_MAX = 3000
NEXT_STEP_MAX = 300

# Event kinds written by this module (the audit log and the thread lines use them).
CLAIMED = "claimed"
RELEASED = "released"
REASSIGNED = "reassigned"
DECIDED = "decided"
REOPENED = "reopened"


class Rating(StrEnum):
    """How far discovery got on one FIAN criterion."""

    CONFIRMED = "confirmed"
    PARTIAL = "partial"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return self.value.capitalize()


FIAN = ("fit", "intent", "authority", "need")
FIAN_LABELS = {"fit": "Fit", "intent": "Intent", "authority": "Authority", "need": "Need"}

# The details a rep can ask for with "Needs info" (DOMAIN.md: specs, site, stakeholders, timeline).
MISSING_DETAILS = {
    "specs": "Specs",
    "site": "Site details",
    "stakeholders": "Stakeholders",
    "timeline": "Timeline",
    "budget": "Budget",
    "other": "Other",
}


# ---------------------------------------------------------------------------
# Read model
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CardReason:
    """One rule that fired for the lead, as the card explains it."""

    label: str
    points: int
    kind: str


@dataclass(frozen=True, slots=True)
class LeadCard:
    """Everything a card, modal or App Home row shows about a lead, read in one go.

    Strings are as stored (unescaped); `blocks/` escapes them for Slack.
    """

    id: int
    company: str | None
    contact_name: str | None
    contact_title: str | None
    email: str | None
    industry: str | None
    country: str | None
    region: str | None
    employees: int | None
    source: str | None
    offer: str | None
    campaign: str | None
    scope: str | None
    problem: str | None
    needed_by: str | None
    message: str | None
    fit: int
    intent: int
    group: Group
    urgent: bool
    segment: str | None
    segment_label: str | None
    reasons: tuple[CardReason, ...]
    failed_must_haves: tuple[str, ...]
    ruleset_version: int
    status: str
    owner_id: str | None
    suggested_owner: str | None
    claimed_at: datetime | None
    outcome: Outcome | None
    reason: str | None
    reason_label: str | None
    decided_by: str | None
    decided_at: datetime | None
    follow_up_on: date | None
    received_at: datetime
    channel_id: str | None
    message_ts: str | None
    version: int

    @property
    def display_name(self) -> str:
        return self.company or self.contact_name or self.email or f"Lead {self.id}"

    @property
    def decided(self) -> bool:
        return self.outcome is not None

    @property
    def claimed(self) -> bool:
        return self.owner_id is not None and self.outcome is None


@dataclass(frozen=True, slots=True)
class Applied:
    """The outcome of a change: the lead as it now is, and whether this call changed it.

    `changed` is False when the request repeated one already applied (a Slack retry, a
    double click): nothing was written twice.
    """

    card: LeadCard
    changed: bool


def read_card(ctx: Context, *, lead_id: int) -> LeadCard:
    """The card of one lead; raise LeadNotFound."""
    with ctx.transaction() as session:
        return card_for(ctx, session, _get(session, lead_id))


def card_for(ctx: Context, session: Session, row: LeadRow) -> LeadCard:
    """Build the read model from a stored lead (for renderers that already hold a session)."""
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
        follow_up_on=local_date(ctx.config, row.follow_up_on) if row.follow_up_on else None,
        received_at=row.received_at,
        channel_id=row.channel_id,
        message_ts=row.message_ts,
        version=row.version,
    )


def _top_reasons(hits: list[Any] | None) -> tuple[CardReason, ...]:
    items = [h for h in hits or () if isinstance(h, dict)]
    items.sort(key=lambda h: -abs(int(h.get("points") or 0)))
    return tuple(CardReason(str(h.get("label") or h.get("rule") or "?"), int(h.get("points") or 0),
                            str(h.get("kind") or "")) for h in items[:TOP_REASONS])


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
    with ctx.transaction() as session:
        return [(s.id, s.label or s.id) for s in ctx.ruleset(session).spec.segments]


# ---------------------------------------------------------------------------
# Decisions: input and its rules (pure)
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DecisionInput:
    """What a rep submitted for one of the four outcomes.

    Qualified: `fian` ratings, `motion`, `next_step`, `next_step_on`. Not qualified:
    `reason` (a code from config.reasons). Nurture: `follow_up_on`. Needs info: `missing`
    (keys of MISSING_DETAILS). Any outcome: `note`.
    """

    outcome: Outcome
    reason: str | None = None
    note: str | None = None
    fian: Mapping[str, Rating | None] = field(default_factory=dict)
    motion: str | None = None
    next_step: str | None = None
    next_step_on: date | None = None
    follow_up_on: date | None = None
    missing: tuple[str, ...] = ()

    def details(self) -> dict[str, Any]:
        """The outcome-specific details, as stored on the Decision row and shown in the thread."""
        data: dict[str, Any] = {}
        if self.outcome is Outcome.QUALIFIED:
            data["fian"] = {k: (v.value if v else None) for k, v in self.fian.items()}
            data["motion"] = self.motion
            data["next_step"] = self.next_step
            data["next_step_on"] = self.next_step_on.isoformat() if self.next_step_on else None
        elif self.outcome is Outcome.NURTURE:
            data["follow_up_on"] = self.follow_up_on.isoformat() if self.follow_up_on else None
        elif self.outcome is Outcome.NEEDS_INFO:
            data["missing"] = list(self.missing)
        return data


def check_decision(decision: DecisionInput, *, config: AppConfig, today: date,
                   motions: set[str] | None = None) -> dict[str, str]:
    """Return {field: what is wrong} for a decision ({} when it may be stored).

    Qualified to pursue means fit and intent confirmed and a next step defined (DOMAIN.md);
    Not qualified needs a reason code; Nurture a follow-up date in the future; Needs info
    which details are missing.
    """
    errors: dict[str, str] = {}
    if decision.note and len(decision.note) > NOTE_MAX:
        errors["note"] = f"Keep the note under {NOTE_MAX} characters."
    match decision.outcome:
        case Outcome.QUALIFIED:
            for criterion in FIAN:
                if decision.fian.get(criterion) is None:
                    errors[criterion] = f"Rate {FIAN_LABELS[criterion].lower()}."
            for criterion in ("fit", "intent"):
                rating = decision.fian.get(criterion)
                if rating is not None and rating is not Rating.CONFIRMED:
                    errors[criterion] = (f"Qualifying needs a confirmed {criterion}; "
                                         "choose Needs info or Nurture instead.")
            if not (decision.next_step or "").strip():
                errors["next_step"] = "Say what the next step is."
            elif len(decision.next_step or "") > NEXT_STEP_MAX:
                errors["next_step"] = f"Keep the next step under {NEXT_STEP_MAX} characters."
            if decision.next_step_on is not None and decision.next_step_on < today:
                errors["next_step_on"] = "Pick today or a later date."
            if decision.motion and motions is not None and decision.motion not in motions:
                errors["motion"] = "Pick one of the listed buying motions."
        case Outcome.NOT_QUALIFIED:
            if not decision.reason:
                errors["reason"] = "Pick a reason."
            elif config.reason(decision.reason) is None:
                errors["reason"] = "That reason is not in the configured list; pick another."
        case Outcome.NURTURE:
            if decision.follow_up_on is None:
                errors["follow_up_on"] = "Pick a follow-up date."
            elif decision.follow_up_on <= today:
                errors["follow_up_on"] = "Pick a date after today."
        case Outcome.NEEDS_INFO:
            unknown = [m for m in decision.missing if m not in MISSING_DETAILS]
            if not decision.missing:
                errors["missing"] = "Tick at least one missing detail."
            elif unknown:
                errors["missing"] = f"Unknown detail {unknown[0]!r}."
            elif "other" in decision.missing and not (decision.note or "").strip():
                errors["note"] = "Say what else is missing."
    return errors


def today(ctx: Context) -> date:
    """Today in the configured time zone (follow-up dates are local dates)."""
    return ctx.now().astimezone(ctx.config.tz).date()


def local_date(config: AppConfig, moment: datetime) -> date:
    return moment.astimezone(config.tz).date()


def local_midnight(config: AppConfig, day: date) -> datetime:
    """Local midnight of `day`: a follow-up is due from the start of its day."""
    return datetime.combine(day, time.min, tzinfo=config.tz)


# ---------------------------------------------------------------------------
# Changes
# ---------------------------------------------------------------------------


def claim(ctx: Context, *, lead_id: int, user_id: str, key: str | None = None) -> Applied:
    """Make `user_id` the owner of an unclaimed, undecided lead.

    Raise AlreadyClaimed (naming the owner), AlreadyDecided or LeadNotFound. Claiming a lead
    you already own changes nothing.
    """
    with ctx.transaction() as session:
        if _seen(session, key):
            return Applied(card_for(ctx, session, _get(session, lead_id)), changed=False)
        changed = _claim(ctx, session, lead_id, user_id, key=key)
        return Applied(card_for(ctx, session, _get(session, lead_id)), changed=changed)


def release(ctx: Context, *, lead_id: int, user_id: str, key: str | None = None,
            manager: bool | None = None) -> Applied:
    """Give a claimed lead back to the queue; only its owner or a manager may."""
    with ctx.transaction() as session:
        row = _lock(session, lead_id)
        if _seen(session, key) or row.owner_id is None:
            return Applied(card_for(ctx, session, row), changed=False)
        if row.outcome is not None:
            raise AlreadyDecided(Outcome(row.outcome).label)
        if row.owner_id != user_id and not _manager(ctx, user_id, manager):
            raise NotOwner(row.owner_id)
        now = ctx.now()
        previous = row.owner_id
        _close_claims(session, lead_id, now, user_id)
        row.owner_id = None
        row.status = "new"
        row.claimed_at = None
        row.sla_step = 0  # back in the queue: the SLA ladder starts again (timed from this release)
        row.version += 1
        _log(ctx, session, row, RELEASED, user_id, key, now, {"owner": previous})
        return Applied(card_for(ctx, session, row), changed=True)


def reassign(ctx: Context, *, lead_id: int, user_id: str, to_user: str, key: str | None = None,
             manager: bool | None = None) -> Applied:
    """Make `to_user` the owner of an undecided lead; only a manager may (or the SLA ladder, as one)."""
    if not _manager(ctx, user_id, manager):
        raise NotManager()
    with ctx.transaction() as session:
        row = _lock(session, lead_id)
        if _seen(session, key) or row.owner_id == to_user:
            return Applied(card_for(ctx, session, row), changed=False)
        if row.outcome is not None:
            raise AlreadyDecided(Outcome(row.outcome).label)
        now = ctx.now()
        previous = row.owner_id
        _close_claims(session, lead_id, now, user_id)
        session.add(Claim(lead_id=lead_id, user_id=to_user, claimed_at=now, how="reassign"))
        row.owner_id = to_user
        row.status = "claimed"
        row.claimed_at = now
        row.first_claimed_at = row.first_claimed_at or now
        row.version += 1
        _log(ctx, session, row, REASSIGNED, user_id, key, now, {"from": previous, "to": to_user})
        return Applied(card_for(ctx, session, row), changed=True)


def begin_decision(ctx: Context, *, lead_id: int, user_id: str, key: str | None = None,
                   manager: bool | None = None) -> LeadCard:
    """Check `user_id` may decide on the lead before a modal opens; an unclaimed lead is claimed first.

    Raise AlreadyDecided, NotOwner (naming the owner) or AlreadyClaimed.
    """
    with ctx.transaction() as session:
        row = _get(session, lead_id)
        if row.outcome is not None:
            raise AlreadyDecided(Outcome(row.outcome).label)
        if row.owner_id is None:
            _claim(ctx, session, lead_id, user_id, key=key, allow_manager=_manager(ctx, user_id, manager))
            session.refresh(row)
        elif row.owner_id != user_id and not _manager(ctx, user_id, manager):
            raise NotOwner(row.owner_id)
        return card_for(ctx, session, row)


def decide(ctx: Context, *, lead_id: int, user_id: str, decision: DecisionInput, key: str | None = None,
           manager: bool | None = None) -> Applied:
    """Store a qualification decision on the lead and queue the card update and the thread line.

    The owner or a manager may decide on a claimed lead; an unclaimed one is claimed by the
    decider first. Raise InvalidDecision, AlreadyDecided, NotOwner, AlreadyClaimed, LeadNotFound.
    """
    with ctx.transaction() as session:
        motions = {s.id for s in ctx.ruleset(session).spec.segments}
        errors = check_decision(decision, config=ctx.config, today=today(ctx), motions=motions)
        if errors:
            raise InvalidDecision(errors)
        row = _lock(session, lead_id)
        if _seen(session, key):
            return Applied(card_for(ctx, session, row), changed=False)
        if row.outcome is not None:
            raise AlreadyDecided(Outcome(row.outcome).label)
        is_manager = _manager(ctx, user_id, manager)
        if row.owner_id is None:
            _claim(ctx, session, lead_id, user_id, key=None, allow_manager=is_manager)
            session.refresh(row)
        elif row.owner_id != user_id and not is_manager:
            raise NotOwner(row.owner_id)
        now = ctx.now()
        follow_up = decision.follow_up_on or (decision.next_step_on if decision.outcome is Outcome.QUALIFIED
                                              else None)
        note = (decision.note or "").strip() or None
        record = Decision(lead_id=lead_id, outcome=decision.outcome.value, reason=decision.reason,
                          details=decision.details(), note=note, decided_by=user_id, decided_at=now)
        session.add(record)
        row.outcome = decision.outcome.value
        row.status = decision.outcome.value
        row.reason = decision.reason if decision.outcome is Outcome.NOT_QUALIFIED else None
        row.decided_at = now
        row.decided_by = user_id
        row.first_action_at = row.first_action_at or now
        row.follow_up_on = local_midnight(ctx.config, follow_up) if follow_up else None
        row.version += 1
        session.flush()
        reason = ctx.config.reason(decision.reason) if decision.reason else None
        _log(ctx, session, row, DECIDED, user_id, key, now,
             {"decision_id": record.id, "outcome": decision.outcome.value, "reason": row.reason},
             thread={"outcome": decision.outcome.value, "reason": row.reason,
                     "reason_label": reason.label if reason and row.reason else None,
                     "note": note, **decision.details()})
        return Applied(card_for(ctx, session, row), changed=True)


def reopen(ctx: Context, *, lead_id: int, user_id: str, key: str | None = None,
           manager: bool | None = None) -> Applied:
    """Undo the lead's decision (kept, marked superseded) so it can be decided again.

    Its owner, the rep who decided, or a manager may; statistics then count the next decision only.
    """
    with ctx.transaction() as session:
        row = _lock(session, lead_id)
        if _seen(session, key) or row.outcome is None:
            return Applied(card_for(ctx, session, row), changed=False)
        if user_id not in (row.owner_id, row.decided_by) and not _manager(ctx, user_id, manager):
            holder = row.owner_id or row.decided_by
            raise NotOwner(holder) if holder else NotManager()
        now = ctx.now()
        previous = row.outcome
        session.execute(update(Decision).where(Decision.lead_id == lead_id, Decision.superseded_at.is_(None))
                        .values(superseded_at=literal(now, UTCDateTime())))
        row.outcome = None
        row.reason = None
        row.decided_at = None
        row.decided_by = None
        row.follow_up_on = None
        row.status = "claimed" if row.owner_id else "new"
        if row.owner_id is None:
            row.sla_step = 0  # back in the queue unclaimed: the SLA ladder starts again
        row.version += 1
        _log(ctx, session, row, REOPENED, user_id, key, now, {"previous": previous})
        return Applied(card_for(ctx, session, row), changed=True)


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _get(session: Session, lead_id: int) -> LeadRow:
    row = session.get(LeadRow, lead_id)
    if row is None:
        raise LeadNotFound(lead_id)
    return row


def _lock(session: Session, lead_id: int) -> LeadRow:
    # FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE already holds the write lock.
    row = session.scalar(select(LeadRow).where(LeadRow.id == lead_id).with_for_update()
                         .execution_options(populate_existing=True))
    if row is None:
        raise LeadNotFound(lead_id)
    return row


def _seen(session: Session, key: str | None) -> bool:
    return key is not None and session.scalar(select(Event.id).where(Event.key == key)) is not None


def _manager(ctx: Context, user_id: str, manager: bool | None) -> bool:
    return ctx.is_manager(user_id) if manager is None else manager


def _claim(ctx: Context, session: Session, lead_id: int, user_id: str, *, key: str | None,
           allow_manager: bool = False) -> bool:
    """The atomic claim; True when this call took the lead, False when the caller already held it."""
    now = literal(ctx.now(), UTCDateTime())
    result = session.execute(
        update(LeadRow)
        .where(LeadRow.id == lead_id, LeadRow.owner_id.is_(None), LeadRow.outcome.is_(None))
        .values(owner_id=user_id, status="claimed", claimed_at=now,
                first_claimed_at=func.coalesce(LeadRow.first_claimed_at, now),
                first_action_at=func.coalesce(LeadRow.first_action_at, now),
                version=LeadRow.version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        found = session.execute(select(LeadRow.owner_id, LeadRow.outcome).where(LeadRow.id == lead_id)).first()
        if found is None:
            raise LeadNotFound(lead_id)
        owner, outcome = found
        if outcome is not None:
            raise AlreadyDecided(Outcome(outcome).label)
        if owner == user_id or (owner is not None and allow_manager):
            return False
        if owner is None:  # released between our UPDATE and this read: try again
            return _claim(ctx, session, lead_id, user_id, key=key, allow_manager=allow_manager)
        raise AlreadyClaimed(owner)
    row = _get(session, lead_id)
    session.refresh(row)
    session.add(Claim(lead_id=lead_id, user_id=user_id, claimed_at=ctx.now(), how="claim"))
    _log(ctx, session, row, CLAIMED, user_id, key, ctx.now(), {})
    return True


def _close_claims(session: Session, lead_id: int, now: datetime, by: str) -> None:
    session.execute(update(Claim).where(Claim.lead_id == lead_id, Claim.released_at.is_(None))
                    .values(released_at=literal(now, UTCDateTime()), released_by=by))


def _log(ctx: Context, session: Session, row: LeadRow, kind: str, actor: str, key: str | None, now: datetime,
         data: dict[str, Any], *, thread: dict[str, Any] | None = None) -> None:
    """Write the audit event and, when the lead has a card, queue its update and a thread line."""
    session.add(Event(lead_id=row.id, kind=kind, actor=actor, at=now, data=data, key=key))
    channel = _card_channel(session, row)
    if channel is None:
        return
    line = {"event": kind, "actor": actor, "at": now.isoformat(), **data, **(thread or {})}
    # Same channel as the card: the outbox sends each channel in order, so these follow the card.
    outbox.enqueue(session, outbox.CARD_UPDATE, lead_id=row.id, channel_id=channel,
                   payload={"version": row.version}, dedupe_key=f"card_update:{row.id}:v{row.version}", now=now)
    outbox.enqueue(session, outbox.THREAD, lead_id=row.id, channel_id=channel,
                   payload=line, dedupe_key=f"thread:{row.id}:v{row.version}", now=now)


def _card_channel(session: Session, row: LeadRow) -> str | None:
    """The channel of the lead's card, posted or queued; None when it has none (history, Poor fit, --no-post)."""
    if row.message_ts and row.channel_id:
        return row.channel_id
    found = session.execute(select(OutboxMessage.channel_id, OutboxMessage.status)
                            .where(OutboxMessage.dedupe_key == f"card:{row.id}")).first()
    if found is None or found.status == "dead":
        return None
    return found.channel_id
