"""The daily Needs info reminder job: at `follow_ups.hour` local time, and once at start on the scheduler's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from bot.follow_ups import reminder_trigger
from bot.worker.jobs import NEEDS_INFO_JOB, schedule_needs_info
from leadqual.services.context import Context
from tests.conftest import Clock


def test_the_reminder_job_runs_each_morning_at_the_configured_local_hour_across_dst(ctx: Context) -> None:
    trigger = reminder_trigger(ctx)  # packaged config: America/Chicago, hour 9
    before = trigger.get_next_fire_time(None, datetime(2026, 10, 30, 20, tzinfo=UTC))
    after = trigger.get_next_fire_time(None, datetime(2026, 11, 1, 20, tzinfo=UTC))
    assert before == datetime(2026, 10, 31, 14, tzinfo=UTC)  # 09:00 CDT (UTC-5)
    assert after == datetime(2026, 11, 2, 15, tzinfo=UTC)  # 09:00 CST (UTC-6): DST ended on Nov 1


def test_the_reminder_job_first_runs_now_on_the_scheduler_clock_not_the_service_clock(
    ctx: Context, clock: Clock
) -> None:
    clock.now = datetime.now(UTC) - timedelta(days=365)  # a skewed service clock must not place the job
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.start(paused=True)
    try:
        started = datetime.now(UTC)
        schedule_needs_info(scheduler, ctx)
        job = scheduler.get_job(NEEDS_INFO_JOB)
        assert job is not None and started <= job.next_run_time <= datetime.now(UTC)
        assert (job.coalesce, job.max_instances) == (True, 1)
    finally:
        scheduler.shutdown(wait=False)
