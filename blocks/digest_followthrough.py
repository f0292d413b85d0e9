"""The digest's follow-through sections: time to first response, and cost per qualified lead.

Plain mrkdwn strings from `leadqual.response` and `leadqual.costs` read models; `blocks.digest`
puts each in a section. Names in `costs:` are the operator's, but they are matched against
leads' campaigns and sources, so they are escaped like any lead field.
"""

from __future__ import annotations

from decimal import Decimal

from blocks.format import minutes, text_table
from blocks.text import mrkdwn, plain
from leadqual.costs import CostFigures, CostLine
from leadqual.groups import Group
from leadqual.response import FirstResponse, Percentiles

NAME = 40  # a campaign or source name in the cost table


def first_response_text(first: FirstResponse) -> str:
    """Median and p90 minutes from arrival to the first claim or action: the week by group, and the window."""
    week, window = first.week.overall, first.trailing.overall
    head = "*Time to first response* (from the lead's arrival to its first claim or action)\n"
    if not week.answered:
        line = f"This week: no lead answered yet of {week.received} received"
    else:
        line = (
            f"This week: *{minutes(week.median_minutes)}* median, {minutes(week.p90_minutes)} for the slowest 10% "
            f"· {week.answered} of {week.received} leads answered"
        )
    line += f" (window: {_brief(window)})."
    rows = [("Group", "Answered", "Median", "p90")]
    for group in Group:
        p = first.week.group(group)
        if p.received:
            rows.append(
                (group.label, f"{p.answered} of {p.received}", minutes(p.median_minutes), minutes(p.p90_minutes))
            )
    table = "\n```" + text_table(rows, right=range(1, 4)) + "```" if len(rows) > 1 else ""
    return head + line + table


def _brief(p: Percentiles) -> str:
    if not p.answered:
        return "none answered"
    return f"{minutes(p.median_minutes)} median, {minutes(p.p90_minutes)} p90, {p.answered} answered"


def costs_text(costs: CostFigures) -> str:
    """Cost per qualified lead by campaign and by source, one row per currency (currencies never added)."""
    parts = [
        "*Cost per qualified lead* (cost ÷ leads qualified, of the leads received in the cost's days "
        "(all days when none are given) up to the week's end)"
    ]
    for title, lines in (("Campaign", costs.campaigns), ("Source", costs.sources)):
        if not lines:
            continue
        dated = any(c.days != (None, None) for c in lines)
        rows = [(title, *(("Days",) if dated else ()), "Cost", "Leads", "Qualified", "Per qualified")]
        rows += [
            (
                plain(c.name, NAME),
                *((days_text(c),) if dated else ()),
                amount(c.currency, c.cost),
                str(c.leads),
                str(c.qualified),
                _per(c),
            )
            for c in lines
        ]
        first_number = 2 if dated else 1
        parts.append("```" + mrkdwn(text_table(rows, right=range(first_number, first_number + 4))) + "```")
    return "\n".join(parts)


def amount(currency: str, value: Decimal) -> str:
    """`USD 4,200`, or with cents below 100 (`USD 42.50`)."""
    return (
        f"{currency} {value:,.0f}" if value >= 100 or value == value.to_integral_value() else f"{currency} {value:,.2f}"
    )


def _per(line: CostLine) -> str:
    per = line.per_qualified
    return "no qualified lead" if per is None else amount(line.currency, per)


def days_text(line: CostLine) -> str:
    """The days a cost covers: `Oct 01-Oct 31`, `from Oct 01`, `to Oct 31`, or `all` (no dates)."""
    starts, ends = line.days
    if starts and ends:
        return f"{starts:%b %d}-{ends:%b %d}" if starts.year == ends.year else f"{starts:%b %d %Y}-{ends:%b %d %Y}"
    if starts:
        return f"from {starts:%b %d %Y}"
    if ends:
        return f"to {ends:%b %d %Y}"
    return "all"
