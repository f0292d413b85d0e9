"""An account's earlier leads (who had them, how each ended) and its owner, as plain data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class AccountLead:
    """One earlier lead of the account, for the card's history line."""

    lead_id: int
    name: str | None
    received_at: datetime
    who: str | None  # the rep who decided it, or who holds the claim
    outcome: str | None  # qualified | not_qualified | nurture | needs_info; None while open
    reason: str | None
    at: datetime | None  # when `who` claimed or decided it
    reason_label: str | None = None  # the reason's label in the config, for the card


@dataclass(frozen=True, slots=True)
class AccountHistory:
    """A company domain's leads, newest first."""

    domain: str
    leads: tuple[AccountLead, ...]

    def owner(self, *, now: datetime, days: int) -> str | None:
        """The rep with the latest claim or decision on the account within `days` (None: no owner)."""
        return account_owner(self.leads, now=now, days=days)


def account_owner(leads: Sequence[AccountLead], *, now: datetime, days: int) -> str | None:
    """The rep with the latest claim or decision within `days` of `now`, or None."""
    if days <= 0:
        return None
    since = now - timedelta(days=days)
    touched = [(lead.at, lead.who) for lead in leads if lead.who and lead.at is not None and lead.at >= since]
    return max(touched, key=lambda t: t[0])[1] if touched else None
