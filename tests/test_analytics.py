"""Digest figures from SQL, on SQLite and PostgreSQL, against counts worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from leadqual import analytics, analytics_evidence, calendar
from leadqual.calendar import Period
from leadqual.db.models import Decision, LeadRow
from leadqual.figures import Figures
from leadqual.groups import Group
from leadqual.proposals import Tally
from leadqual.services import digest
from leadqual.services.context import Context
from leadqual.simulate import PLANTED
from tests.feedback_helpers import import_history, reference_evidence

CHICAGO = ZoneInfo("America/Chicago")
WEEK = "2026-W47"  # Monday 2026-11-16 00:00 CST (06:00 UTC) to Monday 2026-11-23 00:00 CST
START = datetime(2026, 11, 16, 6, 0, tzinfo=UTC)


def at(day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def add(
    ctx: Context,
    name: str,
    group: Group,
    received: datetime,
    *,
    claimed_after: int | None = None,
    posted: bool = False,
    action: bool = False,
    outcome: str | None = None,
    reason: str | None = None,
    decided: datetime | None = None,
    source: str | None = None,
    offer: str | None = None,
    historical: bool = False,
    decisions: tuple[tuple[str, bool], ...] = (),
) -> None:
    """Store one lead with exactly the facts the figures read."""
    with ctx.transaction() as session:
        row = LeadRow(
            external_id=name,
            company_name=name,
            source=source,
            offer=offer,
            received_at=received,
            created_at=received,
            payload={"company": {"name": name}},
            fit=70,
            intent=60,
            group=group.value,
            urgent=False,
            segment=None,
            hits=[],
            failed_must_haves=[],
            ruleset_version=1,
            status=outcome or "new",
            outcome=outcome,
            reason=reason,
            decided_at=decided,
            historical=historical,
            first_claimed_at=received + timedelta(minutes=claimed_after) if claimed_after is not None else None,
            first_action_at=received + timedelta(minutes=1) if action else None,
            message_ts=f"1700000000.{sum(map(ord, name)):06d}" if posted else None,
            channel_id="C0LEADS" if posted else None,
        )
        session.add(row)
        session.flush()
        for decided_outcome, superseded in decisions:
            session.add(
                Decision(
                    lead_id=row.id,
                    outcome=decided_outcome,
                    details={},
                    decided_at=decided or received,
                    superseded_at=(decided or received) if superseded else None,
                )
            )


@pytest.fixture
def week(ctx: Context) -> Figures:
    """Nine leads received in the week, two more around it; see each line for what it tests."""
    P, Q, N, R, F = Group.PRIORITY, Group.QUALIFIED_REVIEW, Group.NURTURE, Group.RESEARCH, Group.POOR_FIT
    # Received at the very start of the week; disqualified, reopened, then qualified: counts once, as qualified.
    add(
        ctx,
        "p1",
        P,
        START,
        claimed_after=10,
        posted=True,
        outcome="qualified",
        decided=at(17),
        source="web_form",
        offer="rfq",
        decisions=(("not_qualified", True), ("qualified", False)),
    )
    add(
        ctx,
        "p2",
        P,
        at(17),
        claimed_after=30,
        posted=True,
        outcome="not_qualified",
        reason="spec_mismatch",
        decided=at(18),
        source="web_form",
        offer="rfq",
    )  # a false positive
    add(ctx, "p3", P, at(18), posted=True, source="trade_show")  # ignored card: alert fatigue
    add(ctx, "p4", P, at(18, 13), claimed_after=90, posted=True, outcome="nurture", decided=at(19))  # stays open
    add(
        ctx,
        "q1",
        Q,
        at(19),
        claimed_after=5,
        posted=True,
        outcome="not_qualified",
        reason="timing",
        decided=at(20),
        source="web_form",
        offer="demo",
    )
    add(ctx, "q2", Q, at(19, 14), posted=True, action=True, source="trade_show")  # acted on, never claimed
    add(
        ctx, "n1", N, at(20), claimed_after=60, posted=True, outcome="qualified", decided=at(21), source="referral"
    )  # a false negative
    add(ctx, "f1", F, at(20, 15), outcome="not_qualified", reason="spam", decided=at(21), source="web_form")
    add(ctx, "f2", F, at(16, 7), outcome="qualified", decided=at(16, 7), source="crm", historical=True)  # imported
    # Received the week before, decided in this one: in the decisions, not in the volume.
    add(ctx, "o1", R, at(10), outcome="qualified", decided=at(17), source="referral")
    # Received exactly at the end of the week: in neither.
    add(
        ctx,
        "o2",
        P,
        datetime(2026, 11, 23, 6, 0, tzinfo=UTC),
        claimed_after=1,
        posted=True,
        outcome="qualified",
        decided=datetime(2026, 11, 23, 6, 0, tzinfo=UTC),
        source="web_form",
    )
    with ctx.transaction() as session:
        return analytics.figures(session, calendar.week_period(WEEK, CHICAGO))


def test_volume_by_group_counts_leads_received_in_the_local_week(week: Figures) -> None:
    assert [(g.group, g.received) for g in week.groups] == [
        (Group.PRIORITY, 4),
        (Group.QUALIFIED_REVIEW, 2),
        (Group.NURTURE, 1),
        (Group.RESEARCH, 0),
        (Group.POOR_FIT, 2),
    ]
    assert week.received == 9 and week.routed == 7


def test_acceptance_is_claimed_among_leads_offered_to_sales(week: Figures) -> None:
    assert [(g.group, g.live, g.claimed) for g in week.groups] == [
        (Group.PRIORITY, 4, 3),
        (Group.QUALIFIED_REVIEW, 2, 1),
        (Group.NURTURE, 1, 1),
        (Group.RESEARCH, 0, 0),
        (Group.POOR_FIT, 1, 0),
    ]  # the imported lead was never offered
    assert week.group(Group.PRIORITY).acceptance == 0.75
    assert week.group(Group.RESEARCH).acceptance is None


def test_qualification_rate_counts_final_decisions_made_in_the_week(week: Figures) -> None:
    rows = [(g.group, g.qualified, g.not_qualified, g.open_decisions) for g in week.groups]
    assert rows == [
        (Group.PRIORITY, 1, 1, 1),
        (Group.QUALIFIED_REVIEW, 0, 1, 0),
        (Group.NURTURE, 1, 0, 0),
        (Group.RESEARCH, 1, 0, 0),
        (Group.POOR_FIT, 1, 1, 0),
    ]
    assert week.group(Group.PRIORITY).qualification_rate == 0.5  # nurture stays open: not in the rate
    assert week.qualified == 4 and week.decided == 7


def test_time_to_first_claim_is_the_nearest_rank_median_and_p90(week: Figures) -> None:
    priority = week.group(Group.PRIORITY)
    assert (priority.claim_median_minutes, priority.claim_p90_minutes) == pytest.approx((30, 90))  # of 10, 30, 90
    assert week.group(Group.QUALIFIED_REVIEW).claim_median_minutes == pytest.approx(5)
    assert week.group(Group.RESEARCH).claim_median_minutes is None
    assert (week.claim_median_minutes, week.claim_p90_minutes) == pytest.approx((30, 90))  # of 5, 10, 30, 60, 90


def test_disqualification_reasons_by_group(week: Figures) -> None:
    assert week.reasons == {
        Group.PRIORITY: [("spec_mismatch", 1)],
        Group.QUALIFIED_REVIEW: [("timing", 1)],
        Group.POOR_FIT: [("spam", 1)],
    }


def test_false_positives_and_negatives(week: Figures) -> None:
    assert week.false_positives == 1
    assert week.false_negatives == {Group.NURTURE: 1, Group.RESEARCH: 1, Group.POOR_FIT: 1}


def test_quality_by_source_and_offer(week: Figures) -> None:
    assert [(s.name, s.received, s.qualified, s.not_qualified) for s in week.sources] == [
        ("web_form", 4, 1, 3),
        ("referral", 1, 2, 0),
        ("crm", 1, 1, 0),
        ("trade_show", 2, 0, 0),
        ("(none)", 1, 0, 0),
    ]
    assert week.sources[0].qualification_rate == 0.25
    offers = {s.name: (s.received, s.qualified, s.not_qualified) for s in week.offers}
    assert offers["rfq"] == (2, 1, 1) and offers["demo"] == (1, 0, 1) and offers["(none)"] == (6, 3, 1)


def test_alert_fatigue_is_the_share_of_posted_cards_with_any_action(week: Figures) -> None:
    assert (week.cards_posted, week.cards_actioned) == (7, 6)
    assert week.actioned_share == pytest.approx(6 / 7)


def test_the_json_holds_every_figure(week: Figures) -> None:
    data = week.as_json()
    assert data["received"] == 9 and data["false_positives"] == {"priority_not_qualified": 1, "priority_decided": 2}
    assert data["cards"] == {"posted": 7, "actioned": 6, "actioned_share": round(6 / 7, 4)}
    assert data["groups"][0]["claim_p90_minutes"] == 90 and data["disqualification_reasons"]["poor_fit"] == {"spam": 1}


def test_an_empty_period_has_zeros_and_no_rates(ctx: Context) -> None:
    with ctx.transaction() as session:
        empty = analytics.figures(session, calendar.week_period("2020-W01", CHICAGO))
    assert empty.received == 0 and empty.actioned_share is None and empty.claim_median_minutes is None
    assert all(g.qualification_rate is None for g in empty.groups)


# --- evidence for proposals --------------------------------------------------------------------


def test_evidence_from_sql_matches_a_lead_by_lead_count(ctx: Context) -> None:
    records = import_history(ctx, n=800, seed=5, world=PLANTED)
    period = Period("all", datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
    with ctx.transaction() as session:
        found = analytics_evidence.evidence(session, period)
        ruleset = ctx.ruleset(session)
    expected = reference_evidence(records, ruleset)
    assert found.overall == expected.overall and found.overall.decided > 600
    assert found.rules == expected.rules
    assert found.segments == expected.segments
    assert sorted(found.cells, key=repr) == sorted(expected.cells, key=repr)


def test_decided_leads_stream_page_by_page_most_recent_first(ctx: Context) -> None:
    import_history(ctx, n=300, seed=6, world=PLANTED)
    period = Period("all", datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
    recent = list(digest.stream_decided(ctx, period, limit=50, page=7))
    everything = list(digest.stream_decided(ctx, period, limit=10_000, page=64))
    with ctx.transaction() as session:
        decided = analytics_evidence.evidence(session, period).overall
        first = analytics_evidence.decided_page(session, period, before=None, size=3)
    assert len(recent) == 50 and recent == everything[:50]
    assert len(everything) == decided.decided and sum(qualified for _, qualified, _ in everything) == decided.qualified
    assert [p for p, _, _, _, _ in first] == [p for p, _, _ in everything[:3]]
    assert first[0][3] >= first[1][3] >= first[2][3]  # most recent decision first
    assert all(payload is not None and "received_at" in payload for payload, _, _ in recent)


# --- periods ------------------------------------------------------------------------------------


def test_a_week_runs_from_local_monday_midnight_across_daylight_saving() -> None:
    assert calendar.week_period(WEEK, CHICAGO) == Period(WEEK, START, datetime(2026, 11, 23, 6, tzinfo=UTC))
    # 2026-W44 ends on Monday 2026-11-02; daylight saving ended on Sunday 2026-11-01.
    w44 = calendar.week_period("2026-W44", CHICAGO)
    assert (w44.start, w44.end) == (datetime(2026, 10, 26, 5, tzinfo=UTC), datetime(2026, 11, 2, 6, tzinfo=UTC))


def test_the_trailing_window_ends_with_the_week() -> None:
    window = calendar.trailing_period(WEEK, 12, CHICAGO)
    assert window.end == datetime(2026, 11, 23, 6, tzinfo=UTC)
    assert window.start == datetime(2026, 8, 31, 5, tzinfo=UTC) and window.label == "12 weeks to 2026-W47"


@pytest.mark.parametrize("text", ["2026-W54", "banana", "2026-48", ""])
def test_a_malformed_iso_week_is_refused_with_the_expected_form(text: str) -> None:
    with pytest.raises(ValueError, match="not an ISO week such as 2026-W48"):
        calendar.parse_iso_week(text)


def test_weeks_are_named_in_local_time() -> None:
    sunday_night = datetime(2026, 11, 23, 5, 30, tzinfo=UTC)  # Sunday 23:30 in Chicago
    assert calendar.week_of(sunday_night, CHICAGO) == "2026-W47"
    assert calendar.week_of(sunday_night, ZoneInfo("UTC")) == "2026-W48"
    assert calendar.previous_week("2026-W01") == "2025-W52"
    assert calendar.parse_iso_week("2026w48") == (2026, 48)


def test_tally_helpers_add_and_subtract() -> None:
    assert Tally(3, 4) + Tally(1, 1) == Tally(4, 5) and Tally(3, 4) - Tally(1, 1) == Tally(2, 3)
    assert Tally(1, 3).rate == 0.25 and Tally().rate == 0.0
