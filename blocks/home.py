"""The App Home tab: a rep's open claims and follow-ups; for managers, this week's numbers."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from blocks import ids
from blocks.cards import GROUP_ICONS, OUTCOME_ICONS
from blocks.follow_ups import overdue_home_blocks
from blocks.text import VIEW_BLOCKS, fit_mrkdwn, one_line, when
from leadqual.groups import Group
from leadqual.lead import Outcome
from leadqual.readmodels import Home, LeadCard, WeekNumbers

ROW = 150


def home_view(home: Home, *, tz: ZoneInfo | None = None, extra: Sequence[Block] = ()) -> View:
    """The published Home tab (well under Slack's 100 blocks: each list is capped by the service).

    `extra`: other sections' blocks (availability and routing: blocks.home_routing), shown under Refresh.
    """
    tz = tz or ZoneInfo("UTC")
    blocks: list[Block] = [
        HeaderBlock(text="Your leads"),
        ActionsBlock(elements=[ButtonElement(text="Refresh", action_id=ids.HOME_REFRESH, value="refresh")]),
    ]
    blocks += extra
    blocks += _list(
        "Open claims",
        home.open_claims,
        home.open_total,
        tz,
        empty="Nothing claimed. Claim a card in the leads channel to start.",
    )
    blocks += _list(
        "Follow-ups due this week",
        home.follow_ups,
        home.follow_ups_total,
        tz,
        empty="No follow-ups due.",
        follow_ups=True,
    )
    blocks += overdue_home_blocks(home.overdue, home.overdue_by_rep)
    if home.week is not None:
        blocks += [DividerBlock(), *_week(home.week, tz)]
    return View(type="home", blocks=blocks[:VIEW_BLOCKS])


def _list(
    title: str, cards: tuple[LeadCard, ...], total: int, tz: ZoneInfo, *, empty: str, follow_ups: bool = False
) -> list[Block]:
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=f"*{title}* ({total})"))]
    if not cards:
        return [*blocks, ContextBlock(elements=[MarkdownTextObject(text=empty)])]
    lines = [_row(card, tz, follow_ups=follow_ups) for card in cards]
    blocks.append(SectionBlock(text=MarkdownTextObject(text=fit_mrkdwn("\n".join(lines)))))
    if total > len(cards):
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"…and {total - len(cards)} more")]))
    return blocks


def _row(card: LeadCard, tz: ZoneInfo, *, follow_ups: bool) -> str:
    name = one_line(card.display_name, ROW)
    link = f"<{card_link(card)}|{name}>" if card.channel_id and card.message_ts else f"*{name}*"
    if follow_ups and card.outcome is not None:
        return (
            f"{OUTCOME_ICONS[card.outcome]} {link} · {card.outcome.label} · "
            f"follow up *{card.follow_up_on.isoformat() if card.follow_up_on else '-'}*"
        )
    since = f" · claimed {when(card.claimed_at, tz)}" if card.claimed_at else ""
    return f"{GROUP_ICONS[card.group]} {link} · {card.group.label} · fit {card.fit} · intent {card.intent}{since}"


def card_link(card: LeadCard) -> str:
    """A permalink-style URL to the card's message (Slack resolves it in the reader's workspace)."""
    return f"https://slack.com/archives/{card.channel_id}/p{(card.message_ts or '').replace('.', '')}"


def _week(week: WeekNumbers, tz: ZoneInfo) -> list[Block]:
    by_group = "\n".join(f"{GROUP_ICONS[g]} {g.label}: *{week.received[g]}*" for g in Group)
    decided = "\n".join(f"{OUTCOME_ICONS[o]} {o.label}: *{week.decided[o]}*" for o in Outcome)
    median = f"{week.median_minutes_to_claim:.0f} min" if week.median_minutes_to_claim is not None else "-"
    return [
        HeaderBlock(text="This week"),
        ContextBlock(
            elements=[
                MarkdownTextObject(text=f"Since {when(week.starts, tz)}; the weekly digest has the full analysis.")
            ]
        ),
        SectionBlock(
            fields=[
                MarkdownTextObject(text=f"*Received ({week.total})*\n{by_group}"),
                MarkdownTextObject(text=f"*Decided (final only)*\n{decided}"),
                MarkdownTextObject(text=f"*Claimed*\n{week.claimed}"),
                MarkdownTextObject(text=f"*Median time to first claim*\n{median}"),
            ]
        ),
    ]
