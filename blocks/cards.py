"""The lead card: who the lead is, how it scored and why, who holds it, and the buttons to act on it.

Built from typed slack_sdk blocks; every lead field is escaped and cut to Slack's limits
(`blocks.text`), so no lead can ping a channel, forge a link or get a card rejected.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    OverflowMenuElement,
    PlainTextObject,
    SectionBlock,
)

from blocks import ids
from blocks.handoff import handoff_lines, missing_words
from blocks.text import (
    CONTEXT_TEXT,
    FALLBACK_TEXT,
    HEADER,
    SECTION_FIELD,
    fit_mrkdwn,
    mention,
    mrkdwn,
    one_line,
    plain,
    when,
)
from leadqual.groups import Group
from leadqual.lead import Outcome
from leadqual.readmodels import LeadCard
from leadqual.screen import Answer, ask_early

PART = 300  # any one lead field on the card
MESSAGE = 700  # the lead's own words: enough to judge, short enough to scan

GROUP_ICONS = {
    Group.PRIORITY: "🔥",
    Group.QUALIFIED_REVIEW: "🔎",
    Group.NURTURE: "🌱",
    Group.RESEARCH: "📚",
    Group.POOR_FIT: "⛔",
}
OUTCOME_ICONS = {
    Outcome.QUALIFIED: "✅",
    Outcome.NOT_QUALIFIED: "🚫",
    Outcome.NURTURE: "🌱",
    Outcome.NEEDS_INFO: "❓",
}


def lead_card(card: LeadCard, *, tz: ZoneInfo | None = None) -> list[Block]:
    """The card's blocks for chat.postMessage / chat.update (at most 9 of Slack's 50)."""
    tz = tz or ZoneInfo("UTC")
    blocks: list[Block] = [
        HeaderBlock(
            text=PlainTextObject(text=plain(f"{GROUP_ICONS[card.group]} {card.display_name}", HEADER), emoji=True)
        ),
        SectionBlock(text=MarkdownTextObject(text=_summary(card)), fields=_fields(card)),
        SectionBlock(text=MarkdownTextObject(text=_why(card))),
    ]
    words = _words(card)
    if words:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=words)))
    if card.screen:
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text=fit_mrkdwn(quick_screen_text(card), CONTEXT_TEXT))])
        )
    blocks.append(SectionBlock(text=MarkdownTextObject(text=fit_mrkdwn(_status(card, tz)))))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=fit_mrkdwn(_footer(card, tz), CONTEXT_TEXT))]))
    blocks.append(ActionsBlock(block_id=ids.CARD_ACTIONS, elements=card_buttons(card)))
    return blocks


def fallback_text(card: LeadCard) -> str:
    """The message's `text`: what notifications and screen readers show."""
    state = (
        f"{card.outcome.label}"
        if card.outcome
        else f"claimed by {mention(card.owner_id)}"
        if card.owner_id
        else "unclaimed"
    )
    line = (
        f"{card.group.label} lead: {one_line(card.display_name, PART)} (fit {card.fit}, intent {card.intent}), {state}"
    )
    return fit_mrkdwn(line, FALLBACK_TEXT)


def card_buttons(card: LeadCard) -> list[ButtonElement | OverflowMenuElement]:
    """Reopen when decided; otherwise Claim (or Release), the four decisions and a Reassign menu."""
    value = str(card.id)
    if card.outcome is Outcome.NEEDS_INFO:  # owner or manager; the listener checks
        return [
            ButtonElement(text="Info received", action_id=ids.INFO_RECEIVED, value=value, style="primary"),
            ButtonElement(text="Reopen", action_id=ids.REOPEN, value=value),
        ]
    if card.decided:
        return [ButtonElement(text="Reopen", action_id=ids.REOPEN, value=value)]
    first = (
        ButtonElement(text="Release", action_id=ids.RELEASE, value=value)
        if card.owner_id
        else ButtonElement(text="Claim", action_id=ids.CLAIM, value=value, style="primary")
    )
    return [
        first,
        *(ButtonElement(text=d.label, action_id=d.button, value=value) for d in ids.DECISIONS),
        OverflowMenuElement(
            action_id=ids.MORE, options=[Option(value=f"{ids.MORE_REASSIGN}:{card.id}", label="Reassign… (managers)")]
        ),
    ]


def lead_summary(card: LeadCard) -> str:
    """One escaped mrkdwn line naming the lead and its score, for modals and lists."""
    who = ", ".join(one_line(p, PART) for p in (card.contact_name, card.contact_title) if p)
    head = f"*{one_line(card.display_name, PART)}* · {card.group.label} · fit {card.fit} · intent {card.intent}"
    return head + (f"\n{who}" if who else "")


def _summary(card: LeadCard) -> str:
    urgent = " · ⏱ *urgent*" if card.urgent else ""
    return f"*{card.group.label}* · fit *{card.fit}* · intent *{card.intent}*{urgent}\n_{card.group.action}_"


def _fields(card: LeadCard) -> list[MarkdownTextObject]:
    place = " / ".join(p for p in (card.country, card.region) if p)
    size = f"{card.employees:,} employees" if card.employees is not None else None
    needed_by = f"by {card.needed_by}" if card.needed_by else None
    fields = {
        "Contact": [_join(", ", card.contact_name, card.contact_title), card.email],
        "Company": [_join(" · ", card.industry, place), size],
        "Source": [_join(" · ", card.source, card.offer), card.campaign],
        "Need": [card.segment_label, _join(" · ", card.scope, needed_by)],
    }
    return [
        MarkdownTextObject(
            text=fit_mrkdwn(f"*{name}*\n" + ("\n".join(one_line(p, PART) for p in parts if p) or "-"), SECTION_FIELD)
        )
        for name, parts in fields.items()
    ]


def _join(separator: str, *parts: str | None) -> str:
    return separator.join(p for p in parts if p)


def _why(card: LeadCard) -> str:
    lines = [
        f"• {one_line(r.label, PART)} ({r.points:+d})" if r.points else f"• {one_line(r.label, PART)}"
        for r in card.reasons
    ]
    lines += [f"• ⚠️ fails must-have _{one_line(m, PART)}_" for m in card.failed_must_haves]
    return fit_mrkdwn("*Why*\n" + ("\n".join(lines) if lines else "no rule fired"))


def _words(card: LeadCard) -> str:
    parts = []
    if card.problem:
        parts.append(f"*Problem:* {one_line(card.problem, MESSAGE)}")
    if card.message:
        quoted = "\n".join("> " + line for line in mrkdwn(card.message.strip(), MESSAGE).splitlines()[:8] if line)
        parts.append(f"*Message*\n{quoted}")
    return fit_mrkdwn("\n".join(parts))


SCREEN_ICONS = {Answer.YES: "✅", Answer.NO: "❌", Answer.UNKNOWN: "❔"}


def quick_screen_text(card: LeadCard) -> str:
    """The quick screen in two lines: each answer, then (until the lead is decided) the unknowns to ask early."""
    answers = " · ".join(f"{SCREEN_ICONS[a.answer]} {mrkdwn(a.label, 60)}" for a in card.screen)
    text = f"*Quick screen:* {answers}"
    asks = ask_early(card.screen)
    if asks and not card.decided:
        text += "\n*Ask early:* " + " · ".join(mrkdwn(q, 200) for q in asks)
    return text


def _status(card: LeadCard, tz: ZoneInfo) -> str:
    if card.outcome is not None:
        text = f"{OUTCOME_ICONS[card.outcome]} *{card.outcome.label}* by {mention(card.decided_by)}"
        if card.decided_at:
            text += f" · {when(card.decided_at, tz)}"
        if card.reason_label:
            text += f"\nReason: {one_line(card.reason_label, PART)}"
        if card.outcome is Outcome.QUALIFIED:
            on = card.follow_up_on.isoformat() if card.follow_up_on else None
            owner = card.owner_id or card.decided_by
            lines = handoff_lines(
                dict(card.fian), artefacts=card.artefacts, next_step=card.next_step, next_step_on=on, owner=owner
            )
            text += "\n" + "\n".join(lines)
        elif card.follow_up_on:
            text += f"\nFollow up on {card.follow_up_on.isoformat()}"
        if card.outcome is Outcome.NEEDS_INFO and card.missing:
            text += f"\nWaiting for: {one_line(missing_words(card.missing), PART)}"
        if card.owner_id and card.owner_id != card.decided_by:
            text += f"\nOwner: {mention(card.owner_id)}"
        return text
    if card.owner_id:
        since = f" since {when(card.claimed_at, tz)}" if card.claimed_at else ""
        return f"👤 Claimed by {mention(card.owner_id)}{since}"
    suggested = f" · suggested owner {mention(card.suggested_owner)}" if card.suggested_owner else ""
    return f"🆕 *Unclaimed*{suggested}"


def _footer(card: LeadCard, tz: ZoneInfo) -> str:
    return f"Lead #{card.id} · received {when(card.received_at, tz)} · ruleset v{card.ruleset_version}"
