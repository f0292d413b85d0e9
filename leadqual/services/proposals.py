"""Apply a proposal as the next ruleset version, roll it back, or backtest it again.

Only managers may change the rules (`ctx.managers` says who is one); the CLI runs with the
operator's rights (`ctx.as_operator`). Leads keep the version that
scored them: a new version only scores leads that arrive after it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadqual import calendar
from leadqual.backtest import Backtest
from leadqual.db.models import Event, ProposalRow, RulesetVersion
from leadqual.errors import (
    NotManager,
    ProposalAlreadyApplied,
    ProposalNoLongerApplies,
    ProposalNotFound,
)
from leadqual.proposals import Proposal, apply_to_spec
from leadqual.rules import content_hash
from leadqual.services import proposal_store, rulesets
from leadqual.services.context import Context
from leadqual.services.digest import BACKTEST_LIMIT, backtest_proposals, last_complete_week
from leadqual.statuses import ProposalStatus, RulesetOrigin

APPLIED = "proposal_applied"


def _require_manager(ctx: Context, actor: str) -> None:
    if not ctx.is_manager(actor):
        raise NotManager()


def apply_proposal(ctx: Context, proposal_id: str, *, actor: str) -> tuple[int, int]:
    """Make the next ruleset version from the active one with the proposal applied; return (old, new).

    Raise NotManager, ProposalNotFound, ProposalAlreadyApplied (a second click), or
    ProposalNoLongerApplies (the rule is gone, or the active rules already say the same).
    """
    _require_manager(ctx, actor)
    with ctx.transaction() as session:
        active = _lock_active(session)
        row = session.scalar(select(ProposalRow).where(ProposalRow.id == proposal_id).with_for_update())
        if row is None:
            raise ProposalNotFound(proposal_id)
        if row.status == ProposalStatus.APPLIED:
            raise ProposalAlreadyApplied(proposal_id, row.applied_version)
        if active is None:
            raise LookupError("no active ruleset")
        proposal = Proposal.from_json(row.data["proposal"])
        spec = ctx.ruleset(session, active.version).spec
        try:
            changed = apply_to_spec(spec, proposal)
        except KeyError as exc:
            raise ProposalNoLongerApplies(proposal_id, str(exc.args[0])) from None
        if content_hash(changed) == content_hash(spec):
            raise ProposalNoLongerApplies(proposal_id, f"ruleset v{active.version} already has this change")
        made = rulesets.create_version(
            session, changed, origin=RulesetOrigin.APPLY, note=f"proposal {proposal_id}", created_by=actor
        )
        now = ctx.now()
        row.status, row.applied_at, row.applied_by = ProposalStatus.APPLIED, now, actor
        row.applied_version = made.version
        session.add(
            Event(
                kind=APPLIED,
                actor=actor,
                at=now,
                key=f"{APPLIED}:{proposal_id}:v{made.version}",
                data={
                    "proposal": proposal_id,
                    "kind": proposal.kind.value,
                    "target": proposal.target,
                    "setting": proposal.setting,
                    "current": proposal.current,
                    "proposed": proposal.proposed,
                    "from": active.version,
                    "to": made.version,
                },
            )
        )
        return active.version, made.version


def _lock_active(session: Session) -> RulesetVersion | None:
    """Lock the active version row, so two applies at once cannot both take the next number.

    On PostgreSQL a waiter whose locked row stopped being active when the other apply
    committed gets no row; asking again (a new statement, a new snapshot) finds the new one.
    """
    for _ in range(3):
        active = session.scalar(select(RulesetVersion).where(RulesetVersion.active).with_for_update())
        if active is not None:
            return active
    return None


def rollback(ctx: Context, *, actor: str, expected: int | None = None) -> tuple[int, int]:
    """Reactivate the previous ruleset version; return (from, to). See rulesets.rollback for `expected`."""
    _require_manager(ctx, actor)
    return rulesets.rollback(ctx, actor=actor, expected=expected)


def backtest_proposal(
    ctx: Context, proposal_id: str, *, iso_week: str | None = None, limit: int = BACKTEST_LIMIT
) -> tuple[Proposal, Backtest]:
    """Rescore recent decided leads under the active ruleset with the proposal applied."""
    proposal, ruleset = proposal_store.proposal_and_active_ruleset(ctx, proposal_id)
    week = iso_week or last_complete_week(ctx)
    period = calendar.trailing_period(week, ctx.config.digest.trailing_weeks, ctx.config.tz)
    try:
        result = backtest_proposals(ctx, ruleset, [proposal], period, limit=limit)
    except KeyError as exc:
        raise ProposalNoLongerApplies(proposal_id, str(exc.args[0])) from None
    return proposal, result[proposal.id]
