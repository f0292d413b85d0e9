"""What the proposals learn from, counted by the database: decided leads by rule, segment and score cell.

The same cohort as the digest's decided figures (`leadqual.analytics`): leads decided in the
window, Qualified or Not qualified, final decisions only. `evidence` is GROUP BY counts for the
marginal method; `decided_page` and `decided_hits` read the window's decided leads in keyset
pages for the conditional one, so memory stays bounded however large the window (`decided_hits`
from the narrow `fired_rules` / `must_haves_failed` columns and their covering index).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    and_,
    case,
    cast,
    extract,
    func,
    literal,
    null,
    select,
    tuple_,
    type_coerce,
)
from sqlalchemy.orm import Session

from leadqual.analytics import QUALIFIED, decided_in, qualified_or_not
from leadqual.backtest import StoredHits
from leadqual.calendar import Period
from leadqual.config import LearnFrom
from leadqual.db.models import LeadPipeline, LeadRow, UTCDateTime, split_ids
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
    hits_hold_for: Collection[int] = (),
) -> list[tuple[dict[str, Any] | None, bool, StoredHits | None, datetime, int]]:
    """One page of decided leads, most recent first: (payload, success?, stored hits, decided_at, id).

    Success is as `learn_from` says: qualified by the rep (the default), an opportunity, or won.
    A lead scored by a ruleset version in `hits_hold_for` (versions whose conditions the caller
    found unchanged) comes with its stored hits and without its payload, which is then not read
    or decoded; any other comes with its payload and no hits.

    Keyset pagination on (decided_at, id): each page is its own short query, so a caller can
    read a window page by page without holding a transaction open in between.
    """
    reuse = LeadRow.ruleset_version.in_(list(hits_hold_for)) if hits_hold_for else literal(False)
    payload = case((reuse, null()), else_=LeadRow.payload)
    query = (
        select(
            type_coerce(payload, LeadRow.payload.type),
            _success(learn_from),
            reuse,
            LeadRow.fired_rules,
            LeadRow.must_haves_failed,
            LeadRow.decided_at,
            LeadRow.id,
        )
        .select_from(LeadRow)
        .outerjoin(LeadPipeline, LeadPipeline.lead_id == LeadRow.id)
        .where(decided_in(period), qualified_or_not())
        .order_by(LeadRow.decided_at.desc(), LeadRow.id.desc())
        .limit(size)
    )
    if before is not None:
        query = query.where(tuple_(LeadRow.decided_at, LeadRow.id) < tuple_(*before))
    return [
        (data, bool(won), (split_ids(fired), split_ids(failed)) if reused else None, decided_at, lead_id)
        for data, won, reused, fired, failed, decided_at, lead_id in session.execute(query)
    ]


@dataclass(frozen=True)
class HitsPage:
    """One keyset page of decided leads for the learner, column by column, in decision order."""

    fired: Sequence[str]  # each lead's fired rule ids, comma-joined (`LeadRow.fired_rules`)
    segment: Sequence[str | None]
    failed: Sequence[str]  # its failed must-haves, comma-joined (`LeadRow.must_haves_failed`)
    received: Sequence[int]  # seconds since the epoch
    success: Sequence[int]  # 1 when it counts as a success (`proposals.learn_from`), else 0
    last: tuple[datetime, int] | None  # (decided_at, id) of the page's last lead, the key of the next page

    def __len__(self) -> int:
        return len(self.fired)


def decided_hits(
    session: Session,
    period: Period,
    *,
    after: tuple[datetime, int] | None = None,
    size: int | None = None,
    learn_from: LearnFrom = LearnFrom.QUALIFIED,
) -> HitsPage:
    """Decided leads of `period` for the learner, in decision order: rule ids fired, segment, failed
    must-haves, received, success.

    One keyset page: the `size` leads after `after` (the `last` of the page before; every one when
    `size` is None), so a window of a million leads can be read a page per short transaction
    (`services.window_hits`). Every column read is in the `ix_leads_decided_hits` key, so a page
    is a range of that index in order, never the wide rows (the `hits` JSON unnested per lead
    was most of the digest's time). The pipeline is joined only when `learn_from` needs it.
    """
    dialect = session.get_bind().dialect.name
    query = (
        select(
            LeadRow.fired_rules,
            LeadRow.segment,
            LeadRow.must_haves_failed,
            _epoch_seconds(dialect, LeadRow.received_at),
            _success(learn_from),
            LeadRow.id,
        )
        .select_from(LeadRow)
        .where(decided_in(period), qualified_or_not())
        .order_by(LeadRow.decided_at, LeadRow.id)
    )
    if learn_from is not LearnFrom.QUALIFIED:
        query = query.outerjoin(LeadPipeline, LeadPipeline.lead_id == LeadRow.id)
    if after is not None:
        at = literal(after[0], UTCDateTime())
        query = query.where(LeadRow.decided_at >= at, tuple_(LeadRow.decided_at, LeadRow.id) > tuple_(at, after[1]))
    if size is not None:
        query = query.limit(size)
    rows = session.connection().execute(query).all()  # Core rows: no ORM result processing per lead
    if not rows:
        return HitsPage((), (), (), (), (), None)
    fired, segment, failed, received, success, ids = zip(*rows, strict=True)
    # Only the last lead's decision time is needed (the next page's key): one lookup, not a datetime per lead.
    decided_at = session.execute(select(LeadRow.decided_at).where(LeadRow.id == ids[-1])).scalar_one()
    assert decided_at is not None  # it was read as decided in the window
    return HitsPage(fired, segment, failed, received, success, (decided_at, ids[-1]))


def _epoch_seconds(dialect: str, column: Any) -> Any:
    """Whole seconds since the epoch of a UTC timestamp column, counted by the database."""
    if dialect == "postgresql":
        return cast(func.floor(extract("epoch", column)), BigInteger)
    return cast(func.strftime("%s", column), Integer)
