"""What happened to a lead that its CRM should hear about (the write-back's input)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from leadqual.lead import Outcome


class ChangeKind(StrEnum):
    CLAIM = "claim"  # the owner and the claimed status
    DECISION = "decision"  # the status, the reason code and the card's permalink
    REOPEN = "reopen"  # the claimed status again


@dataclass(frozen=True, slots=True)
class LeadChange:
    """One change to write back; `external_id` is `hubspot:<id>` or `salesforce:<id>`."""

    kind: ChangeKind
    external_id: str
    owner_id: str | None = None  # Slack user (claim)
    outcome: Outcome | None = None  # decision
    reason: str | None = None  # decision (Not qualified)
    permalink: str | None = None  # the card's permalink

    def __post_init__(self) -> None:
        if self.kind is ChangeKind.DECISION and self.outcome is None:
            raise ValueError("a decision change needs its outcome")


def crm_of(external_id: str | None) -> tuple[str, str] | None:
    """(`hubspot` | `salesforce`, the CRM's id) for a lead that came from a CRM, else None."""
    if not external_id:
        return None
    crm, _, crm_id = external_id.partition(":")
    if crm in ("hubspot", "salesforce") and crm_id:
        return crm, crm_id
    return None
