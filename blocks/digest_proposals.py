"""The digest's proposals: each change with its evidence and Apply, the Roll back of the last one, and their answers.

Apply and Roll back carry a confirmation; an applied change answers with its own Roll back.
Proposals beyond `MAX_PROPOSALS` are summarised so the message stays within Slack's 50 blocks.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    MarkdownTextObject,
    SectionBlock,
)

from blocks import ids
from blocks.format import success_phrase
from blocks.proposal_words import backtest_summary, evidence, held_out_line, title
from blocks.text import CONTEXT_TEXT, SECTION, fit_mrkdwn, mention, mrkdwn, plain
from leadqual.proposals import ProposalKind
from leadqual.readmodels import Digest, ProposedChange

MAX_PROPOSALS = 8  # 3 blocks each; the figures take about 14 more
_KIND_ICONS = {
    ProposalKind.RAISE_POINTS: "⬆️",
    ProposalKind.LOWER_POINTS: "⬇️",
    ProposalKind.RETIRE_RULE: "🗑️",
    ProposalKind.MOVE_THRESHOLD: "↕️",
}


def proposal_blocks(digest: Digest) -> list[Block]:
    if not digest.proposals:
        return [
            SectionBlock(
                text=MarkdownTextObject(
                    text=(
                        f"*No rule changes proposed.* The {digest.evidence_leads} decided leads of the window "
                        "do not call for any: a change needs enough decided leads on both sides and a clear effect."
                    )
                )
            )
        ]
    head = (
        f"*Proposed rule changes* · learned from {digest.evidence_leads} decided leads of the "
        f"{mrkdwn(digest.trailing.period.label)} ({success_phrase(digest.learn_from)}); applying one makes ruleset "
        f"v{digest.ruleset.next_version}, and rollback is one click."
    )
    together = held_out_line(digest.held_out, prefix="") if digest.held_out else None
    if together:
        head += f"\nAll of them together: {together[0].lower()}{together[1:]}"
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=fit_mrkdwn(head)))]
    for change in digest.proposals[:MAX_PROPOSALS]:
        blocks += _proposal(change)
    hidden = len(digest.proposals) - MAX_PROPOSALS
    if hidden > 0:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"…and {hidden} more: run `leadbot digest --week {digest.iso_week} --json` "
                        "to see them all."
                    )
                ]
            )
        )
    return blocks


def _proposal(change: ProposedChange) -> list[Block]:
    p = change.proposal
    icon = _KIND_ICONS[p.kind]
    text = f"{icon} *{mrkdwn(title(p), 300)}* `{p.id}`\n{mrkdwn(evidence(p), SECTION - 400)}"
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=fit_mrkdwn(text)))]
    notes = [line for line in (held_out_line(p.figures),) if line]
    if change.backtest is not None:
        notes.append("Backtest: " + backtest_summary(change.backtest))
    if notes:
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text=fit_mrkdwn(mrkdwn("\n".join(notes)), CONTEXT_TEXT))])
        )
    blocks.append(
        ActionsBlock(
            block_id=f"{ids.DIGEST_PROPOSAL_BLOCK}:{p.id}",
            elements=[
                ButtonElement(
                    text=plain(f"Apply {p.id}", 75),
                    action_id=ids.APPLY_PROPOSAL,
                    value=p.id,
                    style="primary",
                    confirm=ConfirmObject(
                        title=plain("Apply this change?", 100),
                        text=MarkdownTextObject(
                            text=fit_mrkdwn(
                                f"{mrkdwn(title(p), 250)}. This makes a new ruleset version for leads that arrive "
                                "from now on; leads already scored keep theirs.",
                                300,
                            )
                        ),
                        confirm=plain("Apply", 30),
                        deny=plain("Cancel", 30),
                    ),
                ),
            ],
        )
    )
    return blocks


def rollback_blocks(digest: Digest) -> list[Block]:
    change = digest.ruleset
    made = (
        f"from proposal `{change.proposal_id}` ({mrkdwn(title(change.proposal), 300)})"
        if change.proposal_id and change.proposal
        else f"from proposal `{change.proposal_id}`"
        if change.proposal_id
        else "from a proposal"
    )
    who = f" by {mention(change.created_by)}" if change.created_by else ""
    text = (
        f"*Last change:* ruleset v{change.version} was applied {made}{who} on "
        f"{change.created_at.astimezone(ZoneInfo(digest.timezone)):%b %d}. Roll back to v{change.parent_version}?"
    )
    return [
        DividerBlock(),
        SectionBlock(
            block_id=ids.DIGEST_ROLLBACK_BLOCK,
            text=MarkdownTextObject(text=fit_mrkdwn(text)),
            accessory=ButtonElement(
                text=plain(f"Roll back to v{change.parent_version}", 75),
                action_id=ids.ROLLBACK_RULESET,
                value=str(change.version),
                style="danger",
                confirm=ConfirmObject(
                    title=plain("Roll back the rules?", 100),
                    text=MarkdownTextObject(
                        text=(
                            f"Ruleset v{change.parent_version} scores new leads again; "
                            f"v{change.version} stays on record."
                        )
                    ),
                    confirm=plain("Roll back", 30),
                    deny=plain("Cancel", 30),
                ),
            ),
        ),
    ]


def applied_blocks(proposal_id: str, *, old: int, new: int) -> list[Block]:
    """The ephemeral confirmation of an applied proposal, with its one-click Roll back."""
    text = (
        f"*Applied `{mrkdwn(proposal_id, 20)}`:* ruleset v{new} scores new leads from now on (was v{old}). "
        "Leads already scored keep their version."
    )
    return [
        SectionBlock(
            block_id=ids.DIGEST_ROLLBACK_BLOCK,
            text=MarkdownTextObject(text=text),
            accessory=ButtonElement(
                text=plain(f"Roll back to v{old}", 75), action_id=ids.ROLLBACK_RULESET, value=str(new), style="danger"
            ),
        )
    ]


def rolled_back_text(*, old: int, new: int) -> str:
    """The ephemeral answer to Roll back."""
    return f"Rolled back: ruleset v{new} scores new leads again; v{old} stays on record."
