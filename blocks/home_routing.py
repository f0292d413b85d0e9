"""App Home's routing section: your availability (away / back), and for managers the team's
availability, Reassign a lead, and the rotation's fairness this week (also used by the digest)."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    MarkdownTextObject,
    SectionBlock,
)

from blocks import ids
from blocks.fairness import fairness_blocks
from blocks.text import fit_mrkdwn, mention
from leadqual.routing.readmodels import Availability, RoutingHome


def routing_home_blocks(home: RoutingHome) -> list[Block]:
    """The availability line and buttons; for managers also who is away, Reassign and fairness."""
    me = home.me
    status = f"🏝 You are *away* {_through(me)}." if me.away else "✅ You are *available* for new leads."
    buttons = [
        ButtonElement(text="I'm back", action_id=ids.HOME_BACK, value="self", style="primary")
        if me.away
        else ButtonElement(text="I'm away…", action_id=ids.HOME_AWAY, value="self")
    ]
    if home.manager:
        buttons += [
            ButtonElement(text="Set a rep away or back…", action_id=ids.HOME_AWAY, value="team"),
            ButtonElement(text="Reassign a lead…", action_id=ids.HOME_REASSIGN, value="reassign"),
        ]
    blocks: list[Block] = [
        DividerBlock(),
        SectionBlock(text=MarkdownTextObject(text=status)),
        ActionsBlock(block_id=ids.HOME_ROUTING_ACTIONS, elements=buttons),
    ]
    if home.manager:
        away = "\n".join(f"• {mention(a.user_id)} {_through(a)}" for a in home.away) or "Nobody is away."
        blocks.append(SectionBlock(text=MarkdownTextObject(text=fit_mrkdwn(f"*Away now*\n{away}"))))
    if home.fairness is not None and home.fairness.routes:
        blocks += fairness_blocks(home.fairness, title="Rotation this week")
    return blocks


def _through(a: Availability) -> str:
    return f"through {a.until.isoformat()}" if a.until else "until back"
