"""The digest schedule: local weekday and hour across daylight saving, catch-up of a missed week, retries."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.job import Job
from apscheduler.schedulers.background import BackgroundScheduler
from freezegun import freeze_time
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from bot.digest import CATCH_UP_ID, JOB_ID, RETRY_ID, RETRY_MINUTES, digest_trigger, run_digest_job, schedule_digest
from leadqual.services import digest as service
from leadqual.services import digest_guard
from leadqual.services.context import Context
from tests.conftest import Clock
from tests.slack_standin import SlackStandIn

MANAGER = "UMANAGER"
CHICAGO_MONDAY_8AM = {  # Monday 08:00 in America/Chicago, in UTC, on both sides of 2026-11-01 (DST ends)
    "2026-10-26": datetime(2026, 10, 26, 13, 0, tzinfo=UTC),  # CDT, UTC-5
    "2026-11-02": datetime(2026, 11, 2, 14, 0, tzinfo=UTC),  # CST, UTC-6
}


def paused_scheduler() -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.start(paused=True)
    return scheduler


def wall_clock_window() -> tuple[datetime, Callable[[], datetime]]:
    """The moment a test step starts, and a way to read the end of it, on the scheduler's (wall) clock."""
    return datetime.now(UTC), lambda: datetime.now(UTC)


def due_on_the_scheduler_clock_in(job: Job, *, minutes: float, around: tuple[datetime, Callable[[], datetime]]) -> bool:
    """Whether `job` fires `minutes` after the step that scheduled it, by the clock the scheduler fires by."""
    started, now = around
    delay = timedelta(minutes=minutes)
    return started + delay <= job.next_run_time <= now() + delay


def test_the_trigger_fires_at_8am_chicago_before_and_after_daylight_saving_ends(ctx: Context) -> None:
    trigger = digest_trigger(ctx)
    before = trigger.get_next_fire_time(None, datetime(2026, 10, 20, 12, tzinfo=UTC))
    after = trigger.get_next_fire_time(None, datetime(2026, 10, 27, 12, tzinfo=UTC))
    assert before == CHICAGO_MONDAY_8AM["2026-10-26"]
    assert after == CHICAGO_MONDAY_8AM["2026-11-02"]
    assert after.astimezone(UTC) - before.astimezone(UTC) == timedelta(days=7, hours=1)  # clocks went back


def went_out(ctx: Context, manager: str, week: str) -> None:
    """A digest a sender claimed and Slack took."""
    assert digest_guard.claim_digest_send(ctx, manager, week, 1)
    digest_guard.mark_digest_sent(ctx, manager, week)


@freeze_time("2026-10-27 12:00:00")
def test_the_scheduled_job_waits_for_the_next_local_monday_morning(
    ctx: Context, clock: Clock, slack: SlackStandIn
) -> None:
    clock.now = datetime(2026, 10, 27, 12, tzinfo=UTC)
    went_out(ctx, MANAGER, "2026-W43")  # last Monday's digest went out
    scheduler = paused_scheduler()
    try:
        schedule_digest(scheduler, ctx, slack.client())
        job = scheduler.get_job(JOB_ID)
        assert job is not None and job.next_run_time == CHICAGO_MONDAY_8AM["2026-11-02"]
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, 6 * 24 * 3600)
        assert scheduler.get_job(CATCH_UP_ID) is None
    finally:
        scheduler.shutdown(wait=False)


def test_a_missed_week_is_caught_up_at_start(ctx: Context, clock: Clock, slack: SlackStandIn) -> None:
    # Monday 2026-11-23 15:00 UTC is 09:00 in Chicago: the 08:00 slot passed with nothing sent.
    scheduler = paused_scheduler()
    try:
        schedule_digest(scheduler, ctx, slack.client())
        catch_up = scheduler.get_job(CATCH_UP_ID)
        assert catch_up is not None and catch_up.kwargs == {"iso_week": "2026-W47"}
    finally:
        scheduler.shutdown(wait=False)


def test_no_catch_up_before_the_slot_or_once_everyone_has_it(ctx: Context, clock: Clock, slack: SlackStandIn) -> None:
    clock.now = datetime(2026, 11, 23, 13, 59, tzinfo=UTC)  # 07:59 in Chicago; last week's digest was sent
    went_out(ctx, MANAGER, "2026-W46")
    for moment, sent in ((clock.now, False), (datetime(2026, 11, 23, 15, tzinfo=UTC), True)):
        clock.now = moment
        if sent:
            went_out(ctx, MANAGER, "2026-W47")
        scheduler = paused_scheduler()
        try:
            schedule_digest(scheduler, ctx, slack.client())
            assert scheduler.get_job(CATCH_UP_ID) is None
        finally:
            scheduler.shutdown(wait=False)


def test_a_usergroup_manager_still_without_last_weeks_digest_is_caught_up_at_start(
    ctx: Context, clock: Clock, slack: SlackStandIn
) -> None:
    slack.usergroups = {"S0MGRS": ["UHEAD"]}
    with_group = dataclasses.replace(ctx, config=ctx.config.model_copy(update={"manager_usergroups": ["S0MGRS"]}))
    went_out(with_group, MANAGER, "2026-W47")  # the configured manager has it; the group's member does not
    scheduler = paused_scheduler()
    try:
        schedule_digest(scheduler, with_group, slack.client())
        catch_up = scheduler.get_job(CATCH_UP_ID)
        assert catch_up is not None and catch_up.kwargs == {"iso_week": "2026-W47"}
    finally:
        scheduler.shutdown(wait=False)


def test_two_workers_starting_after_a_missed_slot_send_one_digest(ctx: Context, slack: SlackStandIn) -> None:
    done = threading.Semaphore(0)
    errors: list[BaseException] = []

    def finished(event: JobExecutionEvent) -> None:
        if event.exception is not None:
            errors.append(event.exception)
        done.release()

    schedulers = [BackgroundScheduler(timezone=UTC) for _ in range(2)]
    try:
        for scheduler in schedulers:
            scheduler.add_listener(finished, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
            schedule_digest(scheduler, ctx, slack.client())
        for scheduler in schedulers:
            scheduler.start()
        for _ in schedulers:
            assert done.acquire(timeout=60), "a catch-up run did not finish"
    finally:
        for scheduler in schedulers:
            scheduler.shutdown(wait=True)
    assert errors == []
    assert [c.params["channel"] for c in slack.calls_to("chat.postMessage")] == ["DUMANAGER"]
    assert digest_guard.sent_to(ctx, "2026-W47") == {MANAGER}


def test_a_failed_run_schedules_a_retry_while_the_week_is_current(
    ctx: Context, clock: Clock, slack: SlackStandIn
) -> None:
    slack.fail_next("chat.postMessage", status=200, error="account_inactive")
    scheduler = paused_scheduler()
    try:
        scheduled_at = wall_clock_window()
        report = run_digest_job(scheduler, ctx, slack.client())
        assert report.iso_week == "2026-W47" and list(report.failed) == [MANAGER]
        retry = scheduler.get_job(RETRY_ID)
        assert retry is not None and retry.kwargs == {"iso_week": "2026-W47"}
        assert due_on_the_scheduler_clock_in(retry, minutes=RETRY_MINUTES, around=scheduled_at)
        clock.advance(minutes=RETRY_MINUTES)
        assert run_digest_job(scheduler, ctx, slack.client(), iso_week="2026-W47").sent == [MANAGER]
    finally:
        scheduler.shutdown(wait=False)


@pytest.mark.parametrize(
    ("now", "week"),
    [
        (datetime(2026, 11, 23, 14, 0, tzinfo=UTC), "2026-W47"),  # Monday 08:00 Chicago: this slot
        (datetime(2026, 11, 23, 13, 59, tzinfo=UTC), "2026-W46"),  # a minute before: last week's slot
        (datetime(2026, 11, 29, 23, 0, tzinfo=UTC), "2026-W47"),  # Sunday evening
    ],
)
def test_the_latest_slot_names_the_week_it_reports(ctx: Context, now: datetime, week: str) -> None:
    slot = service.latest_slot(ctx.config, now)
    assert slot <= now < slot + timedelta(days=7)
    assert slot.astimezone(ctx.config.tz).hour == 8 and slot.astimezone(ctx.config.tz).weekday() == 0
    assert service.week_reported_at(ctx.config, slot) == week


def test_a_run_that_cannot_reach_the_database_is_retried(ctx: Context, slack: SlackStandIn) -> None:
    broken = dataclasses.replace(ctx, session_factory=sessionmaker(create_engine("sqlite:////nonexistent/x.db")))
    scheduler = paused_scheduler()
    try:
        report = run_digest_job(scheduler, broken, slack.client())
        assert report.failed == {"*": "the digest could not be built"}
        assert scheduler.get_job(RETRY_ID) is not None
        assert slack.calls_to("chat.postMessage") == []
    finally:
        scheduler.shutdown(wait=False)


@pytest.mark.parametrize(
    "skew",
    [timedelta(days=-365), timedelta(days=365)],
    ids=["service-clock-a-year-behind", "service-clock-a-year-ahead"],
)
def test_catch_up_and_retry_fire_by_the_scheduler_clock_whatever_the_service_clock_says(
    ctx: Context, clock: Clock, slack: SlackStandIn, skew: timedelta
) -> None:
    # The service clock stands an hour after a missed slot, a year away from the wall clock the
    # scheduler fires by. A job placed on the service clock would be missed (behind) or never due (ahead).
    clock.now = service.latest_slot(ctx.config, datetime.now(UTC) + skew) + timedelta(hours=1)
    missed_week = service.week_reported_at(ctx.config, service.latest_slot(ctx.config, clock.now))
    slack.fail_next("chat.postMessage", status=200, error="account_inactive")
    scheduler = paused_scheduler()
    try:
        window = wall_clock_window()
        schedule_digest(scheduler, ctx, slack.client())
        catch_up = scheduler.get_job(CATCH_UP_ID)
        assert catch_up is not None and catch_up.kwargs == {"iso_week": missed_week}
        assert due_on_the_scheduler_clock_in(catch_up, minutes=0, around=window)

        window = wall_clock_window()
        report = run_digest_job(scheduler, ctx, slack.client(), **catch_up.kwargs)
        assert list(report.failed) == [MANAGER]
        retry = scheduler.get_job(RETRY_ID)
        assert retry is not None and due_on_the_scheduler_clock_in(retry, minutes=RETRY_MINUTES, around=window)
    finally:
        scheduler.shutdown(wait=False)
