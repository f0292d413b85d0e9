"""The demo's follow-ups: each morning's reminder run during the played week, the Done clicks
it leads to, and how the demo tells it (step 4, before the digest that counts them)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from blocks.follow_ups import read_follow_up_value
from blocks.terminal import blocks_text
from bot.demo_files import FileOutbox, indent
from leadqual.errors import LeadbotError
from leadqual.follow_ups import FollowUpRef
from leadqual.services import follow_ups
from leadqual.services.context import Context

DONE_SHARE = 0.7  # the chance a rep clicks Done on a reminded follow-up that morning


@dataclass
class FollowUpStory:
    """The week's follow-up reminders: DMs, follow-ups listed, Done clicked, and the first of each."""

    dms: int = 0
    listed: set[tuple[int, date]] = field(default_factory=set)
    done: int = 0
    first_dm: tuple[date, str, str] | None = None  # day, owner, the DM read aloud
    last_day: date | None = None  # the last morning with a DM
    first_done: tuple[str, str] | None = None  # owner, the card's thread line


def remind(ctx: Context, outbox: FileOutbox, story: FollowUpStory, rng: random.Random) -> list[tuple[float, Any]]:
    """This morning's reminder run, as the worker's daily job does it; the Done clicks it leads to."""
    mark = outbox.logged
    follow_ups.send_reminders(ctx)
    outbox.deliver()
    clicks: list[tuple[float, Any]] = []
    for dm in outbox.since(mark, "dm"):
        owner, blocks = dm["channel"], dm.get("blocks") or []
        refs = [
            read_follow_up_value(b["elements"][0]["value"]) for b in blocks if b["type"] == "actions"
        ]  # each follow-up's buttons, Done first
        story.dms += 1
        story.last_day = ctx.today()
        story.listed |= {(r.lead_id, r.due) for r in refs}
        if story.first_dm is None:
            story.first_dm = (ctx.today(), owner, blocks_text(blocks))
        clicks += [(rng.uniform(0.5, 6), (owner, r)) for r in refs if rng.random() < DONE_SHARE]
    return clicks


def done(ctx: Context, outbox: FileOutbox, story: FollowUpStory, owner: str, ref: FollowUpRef) -> None:
    """The owner clicks Done on a reminded follow-up (already moved on: nothing to do)."""
    try:
        follow_ups.mark_done(ctx, ref=ref, user_id=owner)
    except LeadbotError:
        return
    story.done += 1
    outbox.deliver()
    if story.first_done is None:
        text = outbox.last("thread").get("text", "")
        story.first_done = (owner, blocks_text([{"type": "section", "text": {"type": "mrkdwn", "text": text}}]))


def echo_follow_ups(ctx: Context, story: FollowUpStory, echo: Callable[[str], None]) -> None:
    """Step 4: the week's reminders and Done in figures, then the first DM and the thread line its Done wrote."""
    if story.first_dm is None or story.last_day is None:
        echo("\n4. no follow-up came due this week: nobody qualified a lead in time for one.")
        return
    day, owner, dm = story.first_dm
    hour, days = ctx.config.follow_ups.hour, ctx.config.follow_ups.overdue_days
    echo(
        f"\n4. meanwhile, each morning at {hour:02d}:00 local, every rep with follow-ups due got one DM: "
        f"{story.dms} DMs from {day:%a %b %d} to {story.last_day:%a %b %d} for {len(story.listed)} follow-ups, "
        f"{story.done} marked Done from them (the digest counts each follow-up in the week its {days} days "
        f"to be done run out). The first DM, {day:%a %b %d}, to {owner}:"
    )
    echo(indent(dm))
    if story.first_done is not None:
        who, line = story.first_done
        echo(f"   {who} clicks Done: the follow-up is cleared and the card's thread says:\n" + indent(line))
