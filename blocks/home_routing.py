"""App Home's routing section: your availability (away / back), and for managers the team's
availability, Reassign a lead, and the rotation's fairness this week (also used by the digest)."""

from __future__ import annotations

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

from blocks import ids
from blocks.text import fit_mrkdwn, mention
from leadqual.routing.fairness import Fairness, RepShare, RouteFairness
from leadqual.routing.readmodels import Availability, RoutingHome

ROUTES_SHOWN = 8  # each route is 2 blocks: App Home stays far under Slack's 100
SKIP_WORDS = {"away": "away", "off_hours": "off hours", "at_capacity": "at capacity"}


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


def fairness_blocks(fairness: Fairness, *, title: str) -> list[Block]:
    """Per rotating route: each rep's weight share against their share of suggestions and claims, and the skips."""
    blocks: list[Block] = [HeaderBlock(text=title)]
    for route in fairness.routes[:ROUTES_SHOWN]:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=fit_mrkdwn(route_text(route)))))
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=skips_text(route))]))
    if len(fairness.routes) > ROUTES_SHOWN:
        more = len(fairness.routes) - ROUTES_SHOWN
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"…and {more} more routes")]))
    return blocks


def route_text(route: RouteFairness) -> str:
    head = f"*Route {route.route}*: {route.suggested} suggested, {route.claimed} claimed by its reps"
    if route.claimed_by_others:
        head += f", {route.claimed_by_others} by others"
    return "\n".join([head, *(f"• {mention(r.user)} {share_text(r)}" for r in route.reps)])


def share_text(rep: RepShare) -> str:
    """`weight 2 (67%) · suggested 5 (62%) · claimed 4 (57%)`."""
    return (
        f"weight {rep.weight} ({_pct(rep.weight_share)}) · suggested {rep.suggested} ({_pct(rep.suggested_share)})"
        f" · claimed {rep.claimed} ({_pct(rep.claimed_share)})"
    )


def skips_text(route: RouteFairness) -> str:
    if not route.skips:
        return "No skips."
    return "Skipped: " + " · ".join(f"{SKIP_WORDS.get(k, k)} {n}" for k, n in route.skips.items())


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{share * 100:.0f}%"
