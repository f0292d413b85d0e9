"""Queue CRM write-backs: what a lead's CRM should hear about, in the transaction of the change.

The row holds the change (a `LeadChange` as data), not the CRM payload: the worker maps it
through `crm.*.write_back` and `crm.*.owners` when it sends, so a config fix applies to
rows already queued. Each lead is its own queue (`channel_id` `<crm>:<lead id>`), so the
outbox applies a lead's write-backs oldest first, as it does a Slack channel's messages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from leadqual.crm.changes import ChangeKind, LeadChange, crm_of
from leadqual.crm.config import CrmConfig
from leadqual.db.models import LeadRow
from leadqual.lead import Outcome
from leadqual.services import outbox

KIND_OF_CRM = {"hubspot": outbox.HUBSPOT, "salesforce": outbox.SALESFORCE}


def queue_write_back(
    session: Session,
    row: LeadRow,
    change: ChangeKind,
    *,
    owner_id: str | None = None,
    now: datetime,
    crm_config: CrmConfig | None = None,
) -> bool:
    """Queue the write-back of `change` to the lead's CRM; False when the lead did not come from one
    or write-back to its CRM is switched off (`crm.<crm>.write_back.enabled: false`).

    Keyed by the lead's version, so a repeated delivery of the same change queues nothing new.
    """
    found = crm_of(row.external_id)
    if found is None:
        return False
    crm, _ = found
    if crm_config is not None and not crm_config.writes_back(crm):
        return False
    payload: dict[str, Any] = {"change": change.value, "external_id": row.external_id}
    if change is ChangeKind.CLAIM:
        payload["owner_id"] = owner_id or row.owner_id
    elif change is ChangeKind.DECISION:
        payload["outcome"] = row.outcome
        payload["reason"] = row.reason
    outbox.enqueue(
        session,
        KIND_OF_CRM[crm],
        lead_id=row.id,
        channel_id=lane_of(crm, row.id),
        payload=payload,
        dedupe_key=f"{crm}:{row.id}:v{row.version}",
        now=now,
    )
    return True


def lane_of(crm: str, lead_id: int) -> str:
    """The outbox queue of one lead's write-backs (fits `channel_id`, never a Slack channel id)."""
    return f"{crm}:{lead_id}"


def change_of(payload: dict[str, Any], *, permalink: str | None = None) -> LeadChange:
    """The LeadChange a write-back row holds, with the card's permalink resolved at send time."""
    outcome = payload.get("outcome")
    return LeadChange(
        kind=ChangeKind(payload["change"]),
        external_id=str(payload["external_id"]),
        owner_id=payload.get("owner_id"),
        outcome=Outcome(outcome) if outcome else None,
        reason=payload.get("reason"),
        permalink=permalink,
    )
