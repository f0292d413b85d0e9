"""The follow-up blocks: the reminder stays within Slack's limits and escapes lead names; completion reads as counted."""

from __future__ import annotations

from datetime import date

from blocks import ids
from blocks.follow_ups import (
    completion_text,
    follow_up_value,
    handled_blocks,
    read_follow_up_value,
    reminder_blocks,
)
from leadqual.follow_ups import Completion, DueFollowUp, FollowUpCompletion, FollowUpRef, FollowUpReminder
from leadqual.lead import Outcome
from tests.bot_helpers import HOSTILE_NAME, SPECIAL, make_card, mrkdwn_texts
from tests.slack_standin import validate_message_blocks

DAY = date(2026, 11, 24)


def reminder(n: int, more: int = 0, **card: object) -> FollowUpReminder:
    items = tuple(
        DueFollowUp(make_card(id=i + 1, outcome=Outcome.NURTURE, **card), date(2026, 11, 20 + i % 5), i % 5 == 0)
        for i in range(n)
    )
    return FollowUpReminder(owner_id="UREP", day=DAY, items=items, overdue_days=3, more=more)


def test_a_reminder_of_twenty_leads_and_more_is_valid_block_kit_under_fifty_blocks() -> None:
    blocks = [b.to_dict() for b in reminder_blocks(reminder(20, more=5))]
    assert validate_message_blocks(blocks) == [] and len(blocks) <= 50
    assert blocks[-1]["elements"][0]["text"] == "…and 5 more: see App Home."
    assert sum(1 for b in blocks if b.get("block_id", "").startswith(ids.FOLLOW_UP_BLOCK)) == 20
    assert "overdue" in blocks[1]["elements"][0]["text"]


def test_a_hostile_lead_name_is_escaped_in_the_reminder() -> None:
    blocks = [b.to_dict() for b in reminder_blocks(reminder(1, company=HOSTILE_NAME))]
    assert not [t for t in mrkdwn_texts(blocks) if SPECIAL.search(t.replace("<https://slack.com/archives/", "["))]
    assert not any("<@U0BOSS>" in t for t in mrkdwn_texts(blocks))


def test_a_button_value_names_the_lead_due_day_and_version_and_reads_back() -> None:
    ref = FollowUpRef(42, DAY, 7)
    assert follow_up_value(ref) == "42:2026-11-24:7" and read_follow_up_value("42:2026-11-24:7") == ref


def test_handling_one_lead_replaces_only_its_buttons() -> None:
    blocks = [b.to_dict() for b in reminder_blocks(reminder(2))]
    handled = handled_blocks(blocks, 1, "☑️ Done")
    assert [b["type"] for b in handled if b.get("block_id", "").startswith(ids.FOLLOW_UP_BLOCK)] == [
        "context",
        "actions",
    ]


def test_completion_reads_done_over_due_by_rep_and_overall() -> None:
    figures = FollowUpCompletion(
        overdue_days=3,
        week=Completion(3, 1),
        window=Completion(4, 2),
        by_rep=(("UREPONE", Completion(2, 0), Completion(3, 1)), ("UREPTWO", Completion(1, 1), Completion(1, 1))),
    )
    text = completion_text(figures)
    assert "*33% (1/3)* this week, 50% (2/4) in the window" in text
    assert "• <@UREPONE>: 0% (0/2) this week · 33% (1/3) in the window" in text
    assert "• <@UREPTWO>: 100% (1/1) this week" in text
    empty = completion_text(FollowUpCompletion(3, Completion(0, 0), Completion(0, 0), ()))
    assert "no follow-up came to the end of its 3 days" in empty
