"""The rotation's fairness: each rep's weight share against their share of suggestions and claims, and skips.

Shown to managers in App Home (`fairness_blocks`) and in the weekly digest (`fairness_section`,
one block, so the digest's proposals keep their room under Slack's 50).
"""

from __future__ import annotations

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock

from blocks.text import fit_mrkdwn, mention
from leadqual.routing.fairness import Fairness, RepShare, RouteFairness

ROUTES_SHOWN = 8  # each route is 2 blocks: App Home stays far under Slack's 100
SKIP_WORDS = {"away": "away", "off_hours": "off hours", "at_capacity": "at capacity"}


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


def fairness_section(fairness: Fairness) -> SectionBlock:
    """The digest's one block: every rotating route's shares and skips."""
    parts = [f"{route_text(r)}\n_{skips_text(r)}_" for r in fairness.routes]
    text = "*Rotation fairness* (share of suggestions and claims against weight)\n" + "\n".join(parts)
    return SectionBlock(text=MarkdownTextObject(text=fit_mrkdwn(text)))


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
