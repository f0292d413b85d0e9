"""Stored proposals: each digest's proposals kept by id, so Apply (Slack or CLI) acts on what was shown."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from leadqual.db.models import ProposalRow
from leadqual.errors import ProposalNotFound
from leadqual.proposals import Proposal
from leadqual.readmodels import Digest
from leadqual.scoring import Ruleset
from leadqual.services.context import Context
from leadqual.statuses import ProposalStatus


def save_proposals(ctx: Context, digest: Digest) -> None:
    """Store each proposal by id (idempotent); an open one gets its figures refreshed."""
    if not digest.proposals:
        return
    now = ctx.now()
    rows = [
        {
            "id": c.proposal.id,
            "ruleset_version": c.proposal.ruleset_version,
            "iso_week": digest.iso_week,
            "kind": c.proposal.kind.value,
            "status": ProposalStatus.OPEN,
            "created_at": now,
            "data": {"proposal": c.proposal.as_json(), "backtest": c.backtest.as_json() if c.backtest else None},
        }
        for c in digest.proposals
    ]
    with ctx.transaction() as session:
        dialect = session.get_bind().dialect.name
        make = pg_insert if dialect == "postgresql" else sqlite_insert
        stmt = make(ProposalRow)
        # Two processes building the same digest at once both land here: the upsert makes it one row.
        stmt = stmt.on_conflict_do_update(
            index_elements=[ProposalRow.id],
            set_={"data": stmt.excluded.data},
            where=ProposalRow.status == ProposalStatus.OPEN,
        )
        session.execute(stmt, rows)


def load_proposal(ctx: Context, proposal_id: str) -> tuple[ProposalRow, Proposal] | None:
    """A stored proposal row and the proposal it holds."""
    with ctx.reading() as session:
        row = session.get(ProposalRow, proposal_id)
        if row is None:
            return None
        session.expunge(row)
        return row, Proposal.from_json(row.data["proposal"])


def proposal_and_active_ruleset(ctx: Context, proposal_id: str) -> tuple[Proposal, Ruleset]:
    """A stored proposal and the ruleset it would change now (ProposalNotFound when there is no such id)."""
    with ctx.transaction() as session:  # the active ruleset is created on first use
        row = session.get(ProposalRow, proposal_id)
        if row is None:
            raise ProposalNotFound(proposal_id)
        return Proposal.from_json(row.data["proposal"]), ctx.ruleset(session)
