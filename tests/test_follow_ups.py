"""A week of follow-ups: the reminder on the right local morning across a DST change, once per owner and day,
overdue after the configured days, and completion counted in the digest as hand-counted."""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from freezegun import freeze_time
from sqlalchemy import func, select

from blocks.terminal import digest_report
from bot.follow_ups import CATCH_UP_ID, JOB_ID, reminder_trigger, run_reminders, schedule_follow_ups
from leadqual.bootstrap import bootstrap
from leadqual.db.models import Event, FollowUpSend, LeadRow, OutboxMessage
from leadqual.decisions import DecisionInput
from leadqual.follow_ups import FollowUpRef
from leadqual.lead import Outcome
from leadqual.services import digest, follow_ups, home, triage
from leadqual.services.context import Context
from leadqual.settings import Settings
from tests.bot_helpers import add_lead
from tests.conftest import Clock

REP1, REP2, MANAGER = "UREPONE", "UREPTWO", "UMANAGER"
# 09:00 in America/Chicago (the packaged config's zone), in UTC: CDT (UTC-5) until 2026-11-01 02:00, then CST.
NINE_AM = {
    date(2026, 10, 29): datetime(2026, 10, 29, 14, tzinfo=UTC),
    date(2026, 10, 30): datetime(2026, 10, 30, 14, tzinfo=UTC),
    date(2026, 10, 31): datetime(2026, 10, 31, 14, tzinfo=UTC),
    date(2026, 11, 1): datetime(2026, 11, 1, 15, tzinfo=UTC),  # the clocks went back overnight
    date(2026, 11, 2): datetime(2026, 11, 2, 15, tzinfo=UTC),
    date(2026, 11, 3): datetime(2026, 11, 3, 15, tzinfo=UTC),
    date(2026, 11, 4): datetime(2026, 11, 4, 15, tzinfo=UTC),
    date(2026, 11, 5): datetime(2026, 11, 5, 15, tzinfo=UTC),
}


def nurtured(ctx: Context, rep: str, due: date) -> int:
    """A lead `rep` claimed and put in Nurture with a follow-up on `due`."""
    lead_id = add_lead(ctx)
    triage.claim(ctx, lead_id=lead_id, user_id=rep)
    triage.decide(ctx, lead_id=lead_id, user_id=rep, decision=DecisionInput(Outcome.NURTURE, follow_up_on=due))
    return lead_id


def reminders(ctx: Context) -> dict[tuple[str, str], list[tuple[int, str]]]:
    """Every reminder DM queued: (owner, day) -> [(lead, due)]."""
    with ctx.reading() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "dm")).all()
        found: dict[tuple[str, str], list[tuple[int, str]]] = {}
        for row in rows:
            data = row.payload["follow_ups"]
            key = (row.payload["user"], data["day"])
            assert key not in found, f"two reminders for {key}"
            found[key] = [(i["lead"], i["due"]) for i in data["items"]]
        return found


def ref(ctx: Context, lead_id: int) -> FollowUpRef:
    with ctx.reading() as session:
        row = session.get(LeadRow, lead_id)
        assert row is not None
        due = follow_ups.due_day(ctx, row)
        assert due is not None
        return FollowUpRef(lead_id, due, row.version)


def test_the_reminder_trigger_fires_at_nine_chicago_time_every_day_across_the_dst_change(ctx: Context) -> None:
    trigger = reminder_trigger(ctx)
    moment = datetime(2026, 10, 28, 20, tzinfo=UTC)
    fired = []
    for _ in NINE_AM:
        moment = trigger.get_next_fire_time(None, moment + timedelta(seconds=1))
        fired.append(moment.astimezone(UTC))
    assert fired == list(NINE_AM.values())
    assert fired[3] - fired[2] == timedelta(hours=25)  # Saturday 09:00 CDT to Sunday 09:00 CST


def test_in_berlin_the_reminder_stays_at_nine_local_when_summer_time_ends(ctx: Context, clock: Clock) -> None:
    berlin = dataclasses.replace(ctx, config=ctx.config.model_copy(update={"timezone": "Europe/Berlin"}))
    trigger = reminder_trigger(berlin)
    saturday = trigger.get_next_fire_time(None, datetime(2026, 10, 23, 12, tzinfo=UTC))
    sunday = trigger.get_next_fire_time(None, saturday + timedelta(seconds=1))
    assert (saturday.astimezone(UTC), sunday.astimezone(UTC)) == (
        datetime(2026, 10, 24, 7, tzinfo=UTC),  # 09:00 CEST
        datetime(2026, 10, 25, 8, tzinfo=UTC),  # 09:00 CET: the clocks went back at 03:00
    )
    clock.now = datetime(2026, 10, 25, 7, 30, tzinfo=UTC)  # 08:30 CET, though 09:30 by yesterday's offset
    assert run_reminders(berlin) is None


def test_a_week_of_follow_ups_reminds_each_owner_once_a_morning_and_counts_completion_as_hand_counted(
    ctx: Context, clock: Clock
) -> None:
    clock.now = datetime(2026, 10, 27, 17, tzinfo=UTC)
    a = nurtured(ctx, REP1, date(2026, 10, 29))
    b = nurtured(ctx, REP1, date(2026, 11, 1))  # due on the day the clocks go back
    c = nurtured(ctx, REP1, date(2026, 11, 2))
    d = nurtured(ctx, REP2, date(2026, 11, 2))
    for day, nine in NINE_AM.items():
        # The scheduler, on a frozen wall clock the evening before, next fires at that day's 09:00 local.
        evening = nine - timedelta(hours=12)
        with freeze_time(evening):
            scheduler = BackgroundScheduler(timezone=UTC)
            scheduler.start(paused=True)
            try:
                clock.now = evening
                schedule_follow_ups(scheduler, ctx)
                job = scheduler.get_job(JOB_ID)
                assert job is not None and job.next_run_time == nine
            finally:
                scheduler.shutdown(wait=False)
        clock.now = nine - timedelta(minutes=1)
        assert run_reminders(ctx) is None  # 08:59 local: not yet
        clock.now = nine
        run_reminders(ctx)
        run_reminders(ctx)  # a second run the same morning (a restart, another worker) queues nothing
        match day:
            case date(day=29):
                follow_ups.mark_done(ctx, ref=ref(ctx, a), user_id=REP1)
            case date(month=11, day=1):
                follow_ups.snooze(ctx, ref=ref(ctx, b), user_id=REP1)
            case date(month=11, day=4):
                clock.now = nine + timedelta(hours=8)  # done on the afternoon of its third day
                follow_ups.mark_done(ctx, ref=ref(ctx, d), user_id=REP2)

    assert reminders(ctx) == {
        (REP1, "2026-10-29"): [(a, "2026-10-29")],
        (REP1, "2026-11-01"): [(b, "2026-11-01")],
        (REP1, "2026-11-02"): [(c, "2026-11-02")],
        (REP2, "2026-11-02"): [(d, "2026-11-02")],
        (REP1, "2026-11-03"): [(c, "2026-11-02")],
        (REP2, "2026-11-03"): [(d, "2026-11-02")],
        (REP1, "2026-11-04"): [(c, "2026-11-02")],
        (REP2, "2026-11-04"): [(d, "2026-11-02")],
        (REP1, "2026-11-05"): [(c, "2026-11-02")],
    }
    with ctx.reading() as session:
        snoozed = session.get(LeadRow, b)
        assert snoozed is not None and follow_ups.due_day(ctx, snoozed) == date(2026, 11, 8)
        # Overdue after 3 days: due Monday Nov 2, still listed Wednesday, overdue from Thursday Nov 5.
        nov_4 = follow_ups.reminder(
            ctx, session, owner=REP1, day=date(2026, 11, 4), items=[{"lead": c, "due": "2026-11-02"}]
        )
        nov_5 = follow_ups.reminder(
            ctx, session, owner=REP1, day=date(2026, 11, 5), items=[{"lead": c, "due": "2026-11-02"}]
        )
        assert [i.overdue for i in nov_4.items] == [False] and [i.overdue for i in nov_5.items] == [True]
        due_events = session.scalar(select(func.count()).where(Event.kind == "follow_up_due"))
        assert due_events == 4  # once per lead and due day, however many mornings listed it

    # App Home on Thursday: the rep sees C overdue; the manager sees it under the rep.
    mine = home.home_for(ctx, user_id=REP1)
    assert [(r.rep, r.total, [i.card.id for i in r.items]) for r in mine.overdue] == [(REP1, 1, [c])]
    boss = home.home_for(ctx, user_id=MANAGER)
    assert boss.overdue == () and boss.overdue_by_rep is not None
    assert [(r.rep, r.total) for r in boss.overdue_by_rep] == [(REP1, 1)]

    # By hand: deadlines (due + 3 days) A Nov 1 (done), B Nov 4 (snoozed: not done), C Nov 5 (not done),
    # D Nov 5 (done Nov 4). Week 2026-W45 (Nov 2-8) holds B, C, D; the window holds all four.
    clock.now = datetime(2026, 11, 9, 15, tzinfo=UTC)
    built = digest.build_digest(ctx, iso_week="2026-W45", persist=False)
    figures = built.follow_ups
    assert figures is not None
    assert (figures.week.done, figures.week.due, figures.window.done, figures.window.due) == (1, 3, 2, 4)
    assert [(rep, w.done, w.due, t.done, t.due) for rep, w, t in figures.by_rep] == [
        (REP1, 0, 2, 1, 3),
        (REP2, 1, 1, 1, 1),
    ]
    assert built.as_json()["follow_up_completion"]["week"] == {"due": 3, "done": 1, "rate": 0.3333}
    report = digest_report(built)
    assert (
        "Follow-up completion (done within 3 days of coming due): 33% (1/3) this week, 50% (2/4) in the window"
        in report
    )
    assert (
        f"@{REP1}: - (0/2) this week" not in report
        and f"@{REP1}: 0% (0/2) this week · 33% (1/3) in the window" in report
    )


def test_done_late_is_not_done_within_the_days(ctx: Context, clock: Clock) -> None:
    clock.now = datetime(2026, 11, 1, 17, tzinfo=UTC)
    late = nurtured(ctx, REP1, date(2026, 11, 2))
    clock.now = NINE_AM[date(2026, 11, 2)]
    follow_ups.send_reminders(ctx)
    clock.now = datetime(2026, 11, 5, 6, 30, tzinfo=UTC)  # Thursday 00:30 in Chicago: the first overdue day
    follow_ups.mark_done(ctx, ref=ref(ctx, late), user_id=REP1)
    built = digest.build_digest(ctx, iso_week="2026-W45", persist=False)
    assert built.follow_ups is not None and (built.follow_ups.week.done, built.follow_ups.week.due) == (0, 1)


def test_overdue_days_come_from_the_config(ctx: Context, clock: Clock) -> None:
    one_day = dataclasses.replace(
        ctx,
        config=ctx.config.model_copy(
            update={"follow_ups": ctx.config.follow_ups.model_copy(update={"overdue_days": 1})}
        ),
    )
    clock.now = datetime(2026, 11, 1, 17, tzinfo=UTC)
    lead_id = nurtured(one_day, REP1, date(2026, 11, 2))
    for moment, overdue in ((NINE_AM[date(2026, 11, 2)], []), (NINE_AM[date(2026, 11, 3)], [lead_id])):
        clock.now = moment
        with one_day.reading() as session:
            assert [i.card.id for r in follow_ups.overdue_of(one_day, session) for i in r.items] == overdue


def two_contexts(settings: Settings, clock: Clock) -> list[Context]:
    """Two workers: each its own engine and pool on the same database."""
    return [bootstrap(settings, clock=clock, migrate=False) for _ in range(2)]


def test_two_workers_racing_queue_one_reminder_per_owner(settings: Settings, ctx: Context, clock: Clock) -> None:
    clock.now = datetime(2026, 11, 1, 17, tzinfo=UTC)
    for rep in (REP1, REP1, REP2):
        nurtured(ctx, rep, date(2026, 11, 2))
    clock.now = NINE_AM[date(2026, 11, 2)]
    workers = two_contexts(settings, clock)
    barrier = threading.Barrier(len(workers))
    runs: list[Any] = []
    errors: list[BaseException] = []

    def race(worker: Context) -> None:
        try:
            barrier.wait()
            runs.append(follow_ups.send_reminders(worker))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=race, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for w in workers:
        w.session_factory.kw["bind"].dispose()
    assert errors == []
    assert sorted(o for r in runs for o in r.sent) == [REP1, REP2]
    assert sorted(o for r in runs for o in r.skipped) == [REP1, REP2]  # each owner lost by the other worker
    assert sorted(reminders(ctx)) == [(REP1, "2026-11-02"), (REP2, "2026-11-02")]
    with ctx.reading() as session:
        assert session.scalar(select(func.count()).select_from(FollowUpSend)) == 2
        assert session.scalar(select(func.count()).where(Event.kind == "follow_up_due")) == 3


def test_two_workers_starting_after_the_hour_catch_up_with_one_reminder_per_owner(
    settings: Settings, ctx: Context, clock: Clock
) -> None:
    clock.now = datetime(2026, 11, 1, 17, tzinfo=UTC)
    nurtured(ctx, REP1, date(2026, 11, 2))
    clock.now = NINE_AM[date(2026, 11, 2)] + timedelta(hours=3)  # started at noon: the 09:00 run was missed
    done = threading.Semaphore(0)
    failures: list[BaseException] = []

    def finished(event: JobExecutionEvent) -> None:
        if event.exception is not None:
            failures.append(event.exception)
        done.release()

    workers = two_contexts(settings, clock)
    schedulers = [BackgroundScheduler(timezone=UTC) for _ in workers]
    try:
        for scheduler, worker in zip(schedulers, workers, strict=True):
            scheduler.add_listener(finished, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
            schedule_follow_ups(scheduler, worker)
            assert scheduler.get_job(CATCH_UP_ID) is not None
        for scheduler in schedulers:
            scheduler.start()
        for _ in schedulers:
            assert done.acquire(timeout=60), "a catch-up run did not finish"
    finally:
        for scheduler in schedulers:
            scheduler.shutdown(wait=True)
        for w in workers:
            w.session_factory.kw["bind"].dispose()
    assert failures == []
    assert sorted(reminders(ctx)) == [(REP1, "2026-11-02")]
    # Once queued, a third start that day catches up nothing.
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.start(paused=True)
    try:
        schedule_follow_ups(scheduler, ctx)
        assert scheduler.get_job(CATCH_UP_ID) is None
    finally:
        scheduler.shutdown(wait=False)


def test_no_catch_up_before_the_hour(ctx: Context, clock: Clock) -> None:
    clock.now = datetime(2026, 11, 1, 17, tzinfo=UTC)
    nurtured(ctx, REP1, date(2026, 11, 2))
    clock.now = NINE_AM[date(2026, 11, 2)] - timedelta(minutes=30)
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.start(paused=True)
    try:
        schedule_follow_ups(scheduler, ctx)
        assert scheduler.get_job(CATCH_UP_ID) is None and scheduler.get_job(JOB_ID) is not None
    finally:
        scheduler.shutdown(wait=False)


def test_an_owner_with_more_than_twenty_due_gets_twenty_listed_and_the_rest_counted(ctx: Context, clock: Clock) -> None:
    clock.now = datetime(2026, 11, 1, 17, tzinfo=UTC)
    for _ in range(follow_ups.SHOWN + 2):
        nurtured(ctx, REP1, date(2026, 11, 2))
    clock.now = NINE_AM[date(2026, 11, 2)]
    follow_ups.send_reminders(ctx)
    with ctx.reading() as session:
        [row] = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "dm")).all()
    assert len(row.payload["follow_ups"]["items"]) == follow_ups.SHOWN and row.payload["follow_ups"]["more"] == 2


def test_reopening_a_lead_from_its_card_while_its_follow_up_is_due_counts_as_done(ctx: Context, clock: Clock) -> None:
    clock.now = datetime(2026, 11, 1, 17, tzinfo=UTC)
    reopened = nurtured(ctx, REP1, date(2026, 11, 2))
    early = nurtured(ctx, REP2, date(2026, 11, 3))
    clock.now = NINE_AM[date(2026, 11, 2)]
    follow_ups.send_reminders(ctx)
    triage.reopen(ctx, lead_id=reopened, user_id=REP1)  # due today: the rep acts on it from the card
    triage.reopen(ctx, lead_id=early, user_id=REP2)  # due tomorrow: not due yet, so nothing was done
    clock.now = NINE_AM[date(2026, 11, 3)]
    follow_ups.send_reminders(ctx)  # `early` is no longer Nurture: no reminder, nothing came due
    built = digest.build_digest(ctx, iso_week="2026-W45", persist=False)
    assert built.follow_ups is not None and (built.follow_ups.week.done, built.follow_ups.week.due) == (1, 1)
    with ctx.reading() as session:
        kinds = session.scalars(select(Event.kind).where(Event.lead_id == early)).all()
    assert "follow_up_done" not in kinds
