"""Persistence: SQLAlchemy models, engine set-up and Alembic migrations."""

from leadqual.db.engine import make_engine, make_session_factory, upgrade_schema
from leadqual.db.models import (
    Base,
    Claim,
    Decision,
    DigestSend,
    Event,
    FollowUpSend,
    LeadRow,
    OutboxMessage,
    ProposalRow,
    RepStatus,
    RulesetVersion,
)

__all__ = [
    "Base",
    "Claim",
    "Decision",
    "DigestSend",
    "Event",
    "FollowUpSend",
    "LeadRow",
    "OutboxMessage",
    "ProposalRow",
    "RepStatus",
    "RulesetVersion",
    "make_engine",
    "make_session_factory",
    "upgrade_schema",
]
