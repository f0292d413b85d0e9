"""The card's account history: the company's earlier leads, who had each, how it ended, why and when."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject

from blocks.text import CONTEXT_TEXT, day, fit_mrkdwn, mention, one_line
from leadqual.lead import Outcome
from leadqual.readmodels import LeadCard
from leadqual.routing.accounts import AccountLead

PART = 120


def account_history_block(card: LeadCard, tz: ZoneInfo) -> ContextBlock | None:
    """One context block listing the account's earlier leads (None when it has none)."""
    if not card.history:
        return None
    where = one_line(card.domain, PART) if card.domain else "this account"
    lines = [f"*Earlier leads at {where}*", *(history_line(lead, tz) for lead in card.history)]
    return ContextBlock(elements=[MarkdownTextObject(text=fit_mrkdwn("\n".join(lines), CONTEXT_TEXT))])


def history_line(lead: AccountLead, tz: ZoneInfo) -> str:
    """`• #12 Not qualified by @carl (Timing does not align) · 2026-10-24`, or open / claimed ones."""
    if lead.outcome in Outcome._value2member_map_:
        state = Outcome(str(lead.outcome)).label
    else:
        state = "claimed" if lead.who else "open, unclaimed"
    who = f" by {mention(lead.who)}" if lead.who else ""
    why = f" ({one_line(lead.reason_label or lead.reason, PART)})" if lead.reason else ""
    at = lead.at or lead.received_at
    return f"• #{lead.lead_id} {state}{who}{why} · {day(at, tz)}"
