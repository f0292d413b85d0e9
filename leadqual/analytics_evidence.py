"""What the proposals learn from, counted by the database: decided leads by rule, segment and score cell.

The same cohort as the digest's decided figures (`leadqual.analytics`): leads decided in the
window, Qualified or Not qualified, final decisions only. `evidence` is GROUP BY counts for the
marginal method; `decided_page` and `decided_hits` read the window's decided leads in keyset
pages for the conditional one, so memory stays bounded however large the window.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, select, tuple_
from sqlalchemy.orm import Session

from leadqual.analytics import QUALIFIED, decided_in, qualified_or_not
from leadqual.calendar import Period
from leadqual.config import LearnFrom
from leadqual.db.models import LeadPipeline, LeadRow, UTCDateTime
from leadqual.groups import Group
from leadqual.pipeline import Stage
from leadqual.proposals import Evidence, ScoreCell, Tally


def _fired_rules(dialect: str) -> tuple[Any, ColumnElement[Any], ColumnElement[bool]]:
    """Unnest `leads.hits`: the table-valued function to join, each hit's rule id, and the filter to apply."""
    if dialect == "postgresql":
        hits = func.jsonb_array_elements(LeadRow.hits).table_valued("value").alias("hit")
        return hits, hits.c.value.op("->>")(literal("rule")), literal(True)
    # SQLite: json_tree walks every node; the "rule" keys are the ones wanted. It parses the
    # array once, which is cheaper than json_each plus json_extract on each element.
    nodes = func.json_tree(LeadRow.hits).table_valued("key", "atom").alias("node")
    return nodes, nodes.c.atom, nodes.c.key == "rule"


def _passes_must_haves(dialect: str) -> ColumnElement[bool]:
    length = func.jsonb_array_length if dialect == "postgresql" else func.json_array_length
    return length(LeadRow.failed_must_haves) == 0


def _success(learn_from: LearnFrom) -> ColumnElement[Any]:
    """1 when a decided lead counts as a success for the proposals (`proposals.learn_from`), else 0.

    qualified: the rep's final decision; opportunity: any pipeline stage reached; won: closed won.
    The queries that use it outer-join `lead_pipeline`.
    """
    condition: ColumnElement[bool]
    if learn_from is LearnFrom.OPPORTUNITY:
        condition = LeadPipeline.lead_id.is_not(None)
    elif learn_from is LearnFrom.WON:
        condition = LeadPipeline.stage == Stage.WON.value
    else:
        condition = LeadRow.outcome == QUALIFIED
    return case((condition, 1), else_=0)


def evidence(
    session: Session, period: Period, *, learn_from: LearnFrom = LearnFrom.QUALIFIED, by_rule: bool = True
) -> Evidence:
    """Counts of decided leads for rule proposals: by score cell and segment, and by rule fired.

    Two passes: one GROUP BY over the columns (group, fit, intent, segment, whether every
    must-have passed), one over the unnested `hits` (skipped with `by_rule=False`: the
    conditional learner reads the hits itself, and the digest's score bands need only the
    cells). A "qualified" count is a success as
    `learn_from` says (the rep's decision, an opportunity, a won deal); the leads counted are
    the same decided leads whichever it is.
    """
    dialect = session.get_bind().dialect.name
    window = and_(decided_in(period), qualified_or_not())
    passes = _passes_must_haves(dialect)
    success = _success(learn_from).label("success")
    cell_counts: dict[tuple[str, int, int], list[int]] = {}
    segment_counts: dict[str | None, list[int]] = {}
    for group, fit, intent, segment, uncapped, won, n in session.execute(
        select(LeadRow.group, LeadRow.fit, LeadRow.intent, LeadRow.segment, passes, success, func.count())
        .select_from(LeadRow)
        .outerjoin(LeadPipeline, LeadPipeline.lead_id == LeadRow.id)
        .where(window)
        .group_by(LeadRow.group, LeadRow.fit, LeadRow.intent, LeadRow.segment, passes, success)
    ):
        side = 0 if won else 1
        cell_counts.setdefault((group, fit, intent), [0, 0])[side] += n
        if uncapped:
            segment_counts.setdefault(segment, [0, 0])[side] += n
    cells = [
        ScoreCell(Group(g), fit, intent, Tally(qualified, not_qualified))
        for (g, fit, intent), (qualified, not_qualified) in cell_counts.items()
    ]
    hits, rule, is_rule = _fired_rules(dialect)
    rules = (
        {}
        if not by_rule
        else _tallies(
            session.execute(
                select(rule, success, func.count())
                .select_from(LeadRow)
                .outerjoin(LeadPipeline, LeadPipeline.lead_id == LeadRow.id)
                .join(hits, literal(True))
                .where(window, passes, is_rule)
                .group_by(rule, success)
            )
        )
    )
    return Evidence(
        overall=sum((c.tally for c in cells), Tally()),
        rules=rules,
        segments={k: Tally(q, nq) for k, (q, nq) in segment_counts.items()},
        cells=cells,
    )


def _tallies(rows: Any) -> dict[Any, Tally]:
    counts: dict[Any, list[int]] = {}
    for key, won, n in rows:
        counts.setdefault(key, [0, 0])[0 if won else 1] += n
    return {k: Tally(q, nq) for k, (q, nq) in counts.items()}


def decided_page(
    session: Session,
    period: Period,
    *,
    before: tuple[datetime, int] | None,
    size: int,
    learn_from: LearnFrom = LearnFrom.QUALIFIED,
) -> list[tuple[dict[str, Any], bool, datetime, int]]:
    """One page of decided leads, most recent first: (payload, success?, decided_at, id).

    Success is as `learn_from` says: qualified by the rep (the default), an opportunity, or won.

    Keyset pagination on (decided_at, id): each page is its own short query, so a caller can
    read a window page by page without holding a transaction open in between.
    """
    query = (
        select(LeadRow.payload, _success(learn_from), LeadRow.decided_at, LeadRow.id)
        .select_from(LeadRow)
        .outerjoin(LeadPipeline, LeadPipeline.lead_id == LeadRow.id)
        .where(decided_in(period), qualified_or_not())
        .order_by(LeadRow.decided_at.desc(), LeadRow.id.desc())
        .limit(size)
    )
    if before is not None:
        query = query.where(tuple_(LeadRow.decided_at, LeadRow.id) < tuple_(*before))
    return [(payload, bool(won), decided_at, lead_id) for payload, won, decided_at, lead_id in session.execute(query)]


def decided_hits(
    session: Session,
    period: Period,
    *,
    after: tuple[datetime, int] | None = None,
    size: int | None = None,
    learn_from: LearnFrom = LearnFrom.QUALIFIED,
) -> list[tuple[list[str], str | None, list[str], datetime, bool, datetime, int]]:
    """Decided leads of `period` for the learner, in decision order: (rule ids fired, segment, failed
    must-haves, received, success?, decided at, id).

    One keyset page: the `size` leads after `after` (a (decided_at, id) of the page before; every
    one when `size` is None), so a window of a million leads can be read a page per short
    transaction (`services.window_hits`). The key follows the `decided_at` index, so each page
    starts where the last ended (ordered by id, every page sorted the whole window again).
    """
    dialect = session.get_bind().dialect.name
    query = (
        select(
            _joined_ids(dialect, LeadRow.hits, "rule"),
            LeadRow.segment,
            _joined_ids(dialect, LeadRow.failed_must_haves, None),
            LeadRow.received_at,
            _success(learn_from),
            LeadRow.decided_at,
            LeadRow.id,
        )
        .select_from(LeadRow)
        .outerjoin(LeadPipeline, LeadPipeline.lead_id == LeadRow.id)
        .where(decided_in(period), qualified_or_not())
        .order_by(LeadRow.decided_at, LeadRow.id)
    )
    if after is not None:
        at = literal(after[0], UTCDateTime())
        query = query.where(LeadRow.decided_at >= at, tuple_(LeadRow.decided_at, LeadRow.id) > tuple_(at, after[1]))
    if size is not None:
        query = query.limit(size)
    return [
        (_split(rules), segment, _split(failed), received, bool(won), decided_at, lead_id)
        for rules, segment, failed, received, won, decided_at, lead_id in session.execute(query)
    ]


def _joined_ids(dialect: str, column: Any, key: str | None) -> Any:
    """The ids in a JSON array column (each element's `key`, or the elements themselves) as one
    comma-joined string, unnested by the database: decoding whole hit lists in Python was most of
    the learner's read (rule and must-have ids never contain a comma)."""
    if dialect == "postgresql":
        if key:
            element = func.jsonb_array_elements(column).table_valued("value").alias("element")
            value: Any = element.c.value.op("->>")(literal(key))
        else:
            element = func.jsonb_array_elements_text(column).table_valued("value").alias("element")
            value = element.c.value
        return select(func.string_agg(value, literal(","))).select_from(element).scalar_subquery()
    element = func.json_each(column).table_valued("value").alias("element")
    value = func.json_extract(element.c.value, f"$.{key}") if key else element.c.value
    return select(func.group_concat(value, ",")).select_from(element).scalar_subquery()


def _split(joined: str | None) -> list[str]:
    return joined.split(",") if joined else []
