"""The narrow `fired_rules` / `must_haves_failed` columns say what each lead's stored hits say, and give the same matrix."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import numpy as np
from alembic import command
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import select, update

from leadqual.config import default_rules_path
from leadqual.db.engine import MIGRATIONS, alembic_config, upgrade_schema
from leadqual.db.models import LeadRow, joined_ids, split_ids
from leadqual.groups import Group
from leadqual.learning.hits import HitMatrixBuilder
from leadqual.rules import RulesetSpec, load_ruleset_file
from leadqual.services.context import Context
from leadqual.simulate import PLANTED
from tests.feedback_helpers import import_history

SPEC: RulesetSpec = load_ruleset_file(default_rules_path())
RULE_IDS = [r.id for r in SPEC.rules]
MUST_IDS = [m.id for m in SPEC.must_have]
SEGMENT_IDS = [s.id for s in SPEC.segments]


def _stored(ctx: Context) -> list[Any]:
    with ctx.reading() as session:
        return list(
            session.execute(
                select(LeadRow.hits, LeadRow.failed_must_haves, LeadRow.fired_rules, LeadRow.must_haves_failed)
            )
        )


def _agrees(rows: list[Any]) -> None:
    for hits, failed, fired_rules, must_haves_failed in rows:
        assert split_ids(fired_rules) == [h["rule"] for h in hits]
        assert split_ids(must_haves_failed) == list(failed)


def test_every_simulated_lead_stores_the_rule_ids_its_hits_and_failed_must_haves_name(ctx: Context) -> None:
    import_history(ctx, n=600, seed=11, world=PLANTED)
    rows = _stored(ctx)
    assert len(rows) == 600
    assert any(r.fired_rules for r in rows) and any(r.must_haves_failed for r in rows)
    assert any(not r.must_haves_failed for r in rows)
    _agrees(rows)


def _migration() -> ModuleType:
    path = MIGRATIONS / "versions" / "0007_narrow_hits.py"
    spec = importlib.util.spec_from_file_location("migration_0007", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_migration_fills_the_columns_of_existing_leads_from_their_stored_hits(ctx: Context) -> None:
    import_history(ctx, n=300, seed=12, world=PLANTED)
    engine = ctx.session_factory.kw["bind"]
    cfg = alembic_config(engine)
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0006")  # as a database of leads stored before the columns existed
    finally:
        upgrade_schema(engine)
    _agrees(_stored(ctx))
    with ctx.transaction() as session:  # again in batches of 7 ids: every batch boundary is crossed
        session.execute(update(LeadRow).values(fired_rules="", must_haves_failed=""))
        _migration().backfill(session.connection(), batch=7)
    rows = _stored(ctx)
    assert sum(bool(r.fired_rules) for r in rows) > 250
    _agrees(rows)


_LEAD = st.tuples(
    st.lists(st.sampled_from([*RULE_IDS, "retired-rule"]), unique=True, max_size=len(RULE_IDS)),
    st.one_of(st.none(), st.sampled_from([*SEGMENT_IDS, "retired-segment"])),
    st.lists(st.sampled_from([*MUST_IDS, "retired-must"]), unique=True, max_size=3),
    st.integers(min_value=0, max_value=2**40),
)


@hsettings(max_examples=60, deadline=None)
@given(st.lists(_LEAD, max_size=40))
def test_the_joined_columns_give_the_matrix_decoded_lead_by_lead(leads: list[Any]) -> None:
    builder = HitMatrixBuilder(SPEC)
    builder.add_joined(
        [joined_ids(fired) for fired, *_ in leads],
        [segment for _, segment, _, _ in leads],
        [joined_ids(failed) for _, _, failed, _ in leads],
        [at for *_, at in leads],
    )
    matrix = builder.build()
    caps = {m.id: m.otherwise for m in SPEC.must_have}
    expected = np.zeros((len(leads), len(RULE_IDS)), dtype=bool)
    for i, (fired, segment, failed, at) in enumerate(leads):
        for rid in fired:
            if rid in RULE_IDS:
                expected[i, RULE_IDS.index(rid)] = True
        best = Group.PRIORITY
        for must in failed:
            if must in caps:
                best = best.capped_at(caps[must])
        assert matrix.cap[i] == best.rank
        assert matrix.segment[i] == (SEGMENT_IDS.index(segment) if segment in SEGMENT_IDS else -1)
        assert matrix.received[i] == at
    assert np.array_equal(matrix.dense(), expected)


@given(st.lists(st.sampled_from([*RULE_IDS, *MUST_IDS]), max_size=12))
def test_joined_ids_split_back_to_the_same_ids_in_order(ids: list[str]) -> None:
    assert split_ids(joined_ids(ids)) == ids


def test_the_builder_takes_rows_as_id_lists_and_times_as_the_joined_form_gives() -> None:
    at = datetime(2026, 11, 2, 9, 30, 15, 700_000, tzinfo=UTC)
    lists, joined = HitMatrixBuilder(SPEC), HitMatrixBuilder(SPEC)
    lists.add([([RULE_IDS[0], RULE_IDS[3]], SEGMENT_IDS[0], [MUST_IDS[0]], at), ([], None, [], at)])
    joined.add_joined(
        [f"{RULE_IDS[0]},{RULE_IDS[3]}", ""], [SEGMENT_IDS[0], None], [MUST_IDS[0], ""], [int(at.timestamp())] * 2
    )
    a, b = lists.build(), joined.build()
    for x, y in ((a.bits, b.bits), (a.segment, b.segment), (a.cap, b.cap), (a.received, b.received)):
        assert np.array_equal(x, y)
