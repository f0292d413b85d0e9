"""Follow-ups in Slack: the owner's daily reminder DM, its buttons' values, overdue lists and the digest's figure.

Pure Block Kit from `leadqual.follow_ups` read models. The reminder holds at most 20 leads,
two blocks each (a line and its buttons: Done, Snooze a week, Qualify, Disqualify), well under
Slack's 50 blocks; every lead name is escaped.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from blocks import ids
from blocks.cards import OUTCOME_ICONS
from blocks.format import rate
from blocks.text import FALLBACK_TEXT, HEADER, MESSAGE_BLOCKS, fit_mrkdwn, mention, one_line, plain
from leadqual.follow_ups import DueFollowUp, FollowUpCompletion, FollowUpRef, FollowUpReminder, RepOverdue
from leadqual.readmodels import LeadCard

NAME = 150


# --- button values ---------------------------------------------------------------------------


def follow_up_value(ref: FollowUpRef) -> str:
    """A reminder button's value: the lead, the due day and the lead's version it was made for."""
    return f"{ref.lead_id}:{ref.due.isoformat()}:{ref.version}"


def read_follow_up_value(value: str) -> FollowUpRef:
    """The FollowUpRef a button value names; ValueError when it names none."""
    lead, due, version = value.split(":")
    return FollowUpRef(int(lead), date.fromisoformat(due), int(version))


# --- the reminder ------------------------------------------------------------------------------


def reminder_blocks(reminder: FollowUpReminder) -> list[Block]:
    """The daily DM: one line and four buttons per lead whose follow-up is due."""
    day = reminder.day
    blocks: list[Block] = [
        HeaderBlock(text=plain(f"Follow-ups for {day:%a %b} {day.day}", HEADER)),
    ]
    if not reminder.items:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="All of today's follow-ups were handled already.")))
        return blocks
    overdue = sum(1 for i in reminder.items if i.overdue)
    summary = f"{len(reminder.items)} due" + (
        f", {overdue} overdue (not done within {reminder.overdue_days} days)" if overdue else ""
    )
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=summary)]))
    for item in reminder.items:
        blocks += _item(item, day)
    if reminder.more:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"…and {reminder.more} more: see App Home.")]))
    return blocks[:MESSAGE_BLOCKS]


def reminder_text(reminder: FollowUpReminder) -> str:
    """The notification text."""
    names = ", ".join(one_line(i.card.display_name, 60) for i in reminder.items[:3])
    more = f" and {len(reminder.items) - 3} more" if len(reminder.items) > 3 else ""
    return plain(f"Follow-ups due today: {names}{more}" if names else "No follow-ups left for today", FALLBACK_TEXT)


def _item(item: DueFollowUp, today: date) -> list[Block]:
    card = item.card
    value = follow_up_value(item.ref)
    return [
        SectionBlock(text=MarkdownTextObject(text=fit_mrkdwn(_line(item, today)))),
        ActionsBlock(
            block_id=f"{ids.FOLLOW_UP_BLOCK}:{card.id}",
            elements=[
                ButtonElement(text="Done", action_id=ids.FOLLOW_UP_DONE, value=value, style="primary"),
                ButtonElement(text="Snooze a week", action_id=ids.FOLLOW_UP_SNOOZE, value=value),
                ButtonElement(text="Qualify", action_id=ids.FOLLOW_UP_QUALIFY, value=value),
                ButtonElement(text="Disqualify", action_id=ids.FOLLOW_UP_DISQUALIFY, value=value, style="danger"),
            ],
        ),
    ]


def _line(item: DueFollowUp, today: date) -> str:
    card = item.card
    icon = OUTCOME_ICONS[card.outcome] if card.outcome else "•"
    label = card.outcome.label if card.outcome else "Open"
    if item.overdue:
        when = f"⏰ *overdue* (due {item.due.isoformat()})"
    elif item.due < today:
        when = f"due {item.due.isoformat()}"
    else:
        when = "due today"
    return f"{icon} {_name(card)} · {label} · {when}"


def _name(card: LeadCard) -> str:
    name = one_line(card.display_name, NAME)
    if card.channel_id and card.message_ts:
        ts = card.message_ts.replace(".", "")
        return f"<https://slack.com/archives/{card.channel_id}/p{ts}|{name}>"
    return f"*{name}*"


def handled_blocks(blocks: list[dict[str, Any]], lead_id: int, text: str) -> list[dict[str, Any]]:
    """The reminder as it was, with one lead's buttons replaced by what was done (`text`, mrkdwn)."""
    block_id = f"{ids.FOLLOW_UP_BLOCK}:{lead_id}"
    done = ContextBlock(block_id=block_id, elements=[MarkdownTextObject(text=fit_mrkdwn(text, 2000))]).to_dict()
    return [done if b.get("block_id") == block_id else b for b in blocks]


def done_note(user_id: str) -> str:
    return f"☑️ Done · {mention(user_id)}"


def snoozed_note(user_id: str, until: date | None) -> str:
    return f"💤 Snoozed to {until.isoformat() if until else '-'} · {mention(user_id)}"


# --- App Home ------------------------------------------------------------------------------------


def overdue_home_blocks(own: tuple[RepOverdue, ...], by_rep: tuple[RepOverdue, ...] | None) -> list[Block]:
    """The user's overdue follow-ups, and for managers every rep's, by rep."""
    blocks: list[Block] = []
    mine = own[0] if own else None
    if mine is not None:
        lines = [f"⏰ {_name(i.card)} · due {i.due.isoformat()}" for i in mine.items]
        more = f"\n…and {mine.total - len(mine.items)} more" if mine.total > len(mine.items) else ""
        text = f"*Overdue follow-ups* ({mine.total})\n" + "\n".join(lines) + more
        blocks.append(SectionBlock(text=MarkdownTextObject(text=fit_mrkdwn(text))))
    if by_rep is not None:
        if by_rep:
            lines = [
                f"{mention(r.rep)}: *{r.total}* · "
                + ", ".join(f"{one_line(i.card.display_name, 40)} ({i.due.isoformat()})" for i in r.items)
                for r in by_rep[:15]
            ]
            text = "*Overdue follow-ups by rep*\n" + "\n".join(lines)
        else:
            text = "*Overdue follow-ups by rep*\nNone: every due follow-up is within its days."
        blocks.append(SectionBlock(text=MarkdownTextObject(text=fit_mrkdwn(text))))
    return blocks


# --- the digest ------------------------------------------------------------------------------------


def completion_text(figures: FollowUpCompletion) -> str:
    """The digest's follow-up completion: done within overdue_days ÷ due, this week and in the window, by rep."""
    if not figures.window.due:
        return f"*Follow-up completion:* no follow-up came to the end of its {figures.overdue_days} days in the window."
    head = (
        f"*Follow-up completion* (done within {figures.overdue_days} days of coming due): "
        f"*{_share(figures.week.done, figures.week.due)}* this week, "
        f"{_share(figures.window.done, figures.window.due)} in the window"
    )
    lines = [
        f"• {mention(rep)}: {_share(w.done, w.due)} this week · {_share(t.done, t.due)} in the window"
        for rep, w, t in figures.by_rep[:12]
    ]
    more = len(figures.by_rep) - 12
    return head + "\n" + "\n".join(lines) + (f"\n…and {more} more reps" if more > 0 else "")


def _share(done: int, due: int) -> str:
    return f"{rate(done, due)} ({done}/{due})" if due else "-"
