"""The weekly digest DM: the week's figures, proposed rule changes with Apply buttons, and Roll back.

Pure Block Kit from a `Digest`. Slack's limits hold whatever the week looked like: at most
50 blocks (proposals beyond `MAX_PROPOSALS` are summarised), sections cut to 3000
characters, buttons to 75; every name that came from a lead (sources, offers) is escaped.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from blocks.digest_followthrough import costs_text, first_response_text
from blocks.digest_proposals import proposal_blocks, rollback_blocks
from blocks.fairness import fairness_section
from blocks.follow_ups import completion_text
from blocks.format import (
    band_table,
    inflation_line,
    minutes,
    pct,
    pipeline_note,
    pipeline_table,
    rate,
    success_phrase,
    text_table,
)
from blocks.text import (
    CONTEXT_TEXT,
    FALLBACK_TEXT,
    HEADER,
    MESSAGE_BLOCKS,
    SECTION_FIELD,
    fit_mrkdwn,
    mrkdwn,
    one_line,
    plain,
)
from leadqual.figures import Figures, GroupFigures, SliceFigures
from leadqual.groups import Group
from leadqual.pipeline_figures import PipelineFigures
from leadqual.readmodels import Digest

REASONS_PER_GROUP = 3
SLICES = 5


def digest_blocks(digest: Digest) -> list[Block]:
    """The digest message: figures, proposals with Apply, and Roll back when the last change was applied."""
    blocks: list[Block] = [
        HeaderBlock(text=plain(f"Weekly lead digest · {digest.iso_week}", HEADER)),
        ContextBlock(elements=[MarkdownTextObject(text=fit_mrkdwn(_period_line(digest), CONTEXT_TEXT))]),
        SectionBlock(text=MarkdownTextObject(text=fit_mrkdwn(_summary(digest.week, digest.trailing)))),
        SectionBlock(text=MarkdownTextObject(text=fit_mrkdwn(_group_table(digest)))),
        SectionBlock(text=MarkdownTextObject(text=fit_mrkdwn(_misses(digest.week, digest.trailing)))),
    ]
    reasons = _reasons(digest.week)
    if reasons:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=fit_mrkdwn(reasons))))
    blocks.append(
        SectionBlock(
            fields=[
                MarkdownTextObject(
                    text=fit_mrkdwn(_slices("Quality by source", digest.trailing.sources), SECTION_FIELD)
                ),
                MarkdownTextObject(text=fit_mrkdwn(_slices("Quality by offer", digest.trailing.offers), SECTION_FIELD)),
            ]
        )
    )
    if digest.pipeline is not None and digest.pipeline.any:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=fit_mrkdwn(_pipeline(digest.pipeline)))))
    if digest.bands is not None:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=fit_mrkdwn(_bands(digest)))))
    if digest.first_response is not None:
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=fit_mrkdwn(first_response_text(digest.first_response))))
        )
    if digest.costs is not None and digest.costs.any:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=fit_mrkdwn(costs_text(digest.costs)))))
    if digest.fairness is not None:
        blocks.append(fairness_section(digest.fairness))
    if digest.follow_ups is not None:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=fit_mrkdwn(completion_text(digest.follow_ups)))))
    blocks.append(DividerBlock())
    blocks += proposal_blocks(digest)
    if digest.ruleset.from_proposal:
        blocks += rollback_blocks(digest)
    return blocks[:MESSAGE_BLOCKS]


def digest_text(digest: Digest) -> str:
    """The notification text (and what screen readers get)."""
    week = digest.week
    n = len(digest.proposals)
    return plain(
        f"Weekly lead digest {digest.iso_week}: {week.received} leads, {week.qualified} qualified "
        f"of {week.decided} decided ({rate(week.qualified, week.decided)}); "
        f"{n} proposed rule change{'s' if n != 1 else ''}.",
        FALLBACK_TEXT,
    )


# --- figures -----------------------------------------------------------------------------------


def _period_line(digest: Digest) -> str:
    start = digest.week.period.start.astimezone(_tz(digest)).date()
    end = (digest.week.period.end.astimezone(_tz(digest)) - timedelta(days=1)).date()  # the end is exclusive
    return (
        f"{start:%b %d} to {end:%b %d} ({mrkdwn(digest.timezone)}) · compared with the "
        f"{mrkdwn(digest.trailing.period.label)} · ruleset {mrkdwn(digest.ruleset.name)} "
        f"v{digest.ruleset.version}"
    )


def _tz(digest: Digest) -> ZoneInfo:
    return ZoneInfo(digest.timezone)


def _summary(week: Figures, trailing: Figures) -> str:
    claim = (
        f"first claim in *{minutes(week.claim_median_minutes)}* (median), "
        f"{minutes(week.claim_p90_minutes)} for the slowest 10%"
        if week.claim_median_minutes is not None
        else "no claims this week"
    )
    actioned = (
        f"*{pct(week.actioned_share)}* of the {week.cards_posted} posted cards got any action"
        if week.cards_posted
        else "no cards posted"
    )
    return "\n".join(
        [
            f"*{week.received}* leads received, {week.routed} routed to sales ({trailing.received} in the window).",
            f"*{week.qualified}* qualified of {week.decided} decided: *{rate(week.qualified, week.decided)}* "
            f"(window {rate(trailing.qualified, trailing.decided)}).",
            f"Speed to lead: {claim}.",
            f"Alert fatigue: {actioned}.",
        ]
    )


def _group_table(digest: Digest) -> str:
    week, trailing = digest.week, digest.trailing
    rows = [("Group", "Leads", "Accepted", "Qualified", "Window", "Claim p50")]
    for group in Group:
        w, t = week.group(group), trailing.group(group)
        rows.append(
            (group.label, str(w.received), pct(w.acceptance), _rate_of(w), _rate_of(t), minutes(w.claim_median_minutes))
        )
    return (
        "*By group* (qualified = qualified ÷ decided; nurture and needs info stay open)\n```"
        + text_table(rows, right=range(1, len(rows[0])))
        + "```"
    )


def _misses(week: Figures, trailing: Figures) -> str:
    priority = week.group(Group.PRIORITY)
    negatives = ", ".join(f"{n} {g.label}" for g, n in week.false_negatives.items())
    window_fp = trailing.false_positives
    return (
        f"*False positives:* {week.false_positives} Priority lead{'s' if week.false_positives != 1 else ''} "
        f"not qualified of {priority.decided} decided (window {window_fp}).\n"
        f"*False negatives:* qualified from low groups: {negatives}."
    )


def _bands(digest: Digest) -> str:
    assert digest.bands is not None
    warning = inflation_line(digest.inflation) if digest.inflation else None
    return (
        (f":warning: *{mrkdwn(warning)}*\n" if warning else "")
        + f"*By score band* (decided leads of the window; {success_phrase(digest.learn_from)})\n```"
        + band_table(digest.bands)
        + "```"
    )


def _pipeline(figures: PipelineFigures) -> str:
    return (
        f"*What the pipeline did* with the leads qualified in the {mrkdwn(figures.period.label)}\n```"
        + pipeline_table(figures)
        + "```\n"
        + pipeline_note(figures)
    )


def _reasons(week: Figures) -> str:
    lines = []
    for group, reasons in week.reasons.items():
        top = ", ".join(f"{mrkdwn(code.replace('_', ' '), 60)} {n}" for code, n in reasons[:REASONS_PER_GROUP])
        more = len(reasons) - REASONS_PER_GROUP
        lines.append(f"{group.label}: {top}{f', +{more} more' if more > 0 else ''}")
    return "*Why leads were disqualified*\n" + "\n".join(lines) if lines else ""


def _slices(title: str, slices: list[SliceFigures]) -> str:
    lines = [f"*{title}* (window)"]
    for s in slices[:SLICES]:
        decided = s.qualified + s.not_qualified
        lines.append(f"{one_line(s.name, 40)}: {rate(s.qualified, decided)} of {decided} · {s.received} leads")
    if len(lines) == 1:
        lines.append("no leads")
    return "\n".join(lines)


# --- small formatting ---------------------------------------------------------------------------


def _rate_of(g: GroupFigures) -> str:
    return f"{rate(g.qualified, g.decided)} ({g.decided})" if g.decided else "-"
