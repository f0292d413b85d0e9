"""Questions for unknowns: a decision rating a FIAN criterion unknown queues its questions in the card's thread.

Called by `triage.decide` inside the decision's transaction, so the questions are posted
exactly when the decision is stored. The questions come from `config.questions` (see
`leadqual.questions`), for the decision's buying motion or, without one, the lead's segment.
The row's payload is data (`{"questions": [{"criterion", "items"}], "motion"}`);
`blocks.questions` words it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from leadqual.db.models import LeadRow
from leadqual.decisions import DecisionInput
from leadqual.services import outbox
from leadqual.services.context import Context


def queue_questions(
    ctx: Context, session: Session, row: LeadRow, decision: DecisionInput, *, channel: str | None, now: datetime
) -> bool:
    """Queue the thread line of follow-up questions for the decision's unknown criteria; False when none apply."""
    unknown = decision.unknown_criteria()
    if not unknown or channel is None:
        return False
    motion = decision.motion or row.segment
    asked = ctx.config.questions.ask(unknown, motion=motion)
    if not asked:
        return False
    outbox.enqueue(
        session,
        outbox.THREAD,
        lead_id=row.id,
        channel_id=channel,
        payload={
            "questions": [{"criterion": q.criterion.value, "items": list(q.questions)} for q in asked],
            "motion": motion,
            "outcome": decision.outcome.value,
        },
        dedupe_key=f"questions:{row.id}:v{row.version}",
        now=now,
    )
    return True
