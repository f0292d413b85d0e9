"""The worker process's scheduled jobs: the SLA ladder every minute, the weekly digest, the daily
follow-ups and Needs info reminders."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from slack_sdk import WebClient

from bot.digest import schedule_digest, scheduler_time
from bot.follow_ups import MISFIRE_GRACE, reminder_trigger, schedule_follow_ups
from bot.slack.client import connected
from leadqual.services.context import Context
from leadqual.services.needs_info import needs_info_reminders
from leadqual.services.sla import sla_tick

log = logging.getLogger("leadbot.worker")


def start_scheduler(ctx: Context, client: WebClient) -> BackgroundScheduler:
    """Start the background jobs: the SLA ladder every minute and the weekly digest."""
    scheduler = BackgroundScheduler(
        timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60}
    )
    ctx = connected(ctx, client)  # SLA escalations and the digest go to every manager, usergroups included
    scheduler.add_job(sla_job, "interval", minutes=1, id="sla_tick", args=[ctx], next_run_time=datetime.now(UTC))
    schedule_digest(scheduler, ctx, client)
    schedule_needs_info(scheduler, ctx)
    schedule_follow_ups(scheduler, ctx)
    scheduler.start()
    return scheduler


def sla_job(ctx: Context) -> None:
    for step in sla_tick(ctx):
        log.info(
            "sla: lead %d step %d (%s after %d min)", step.lead_id, step.index, step.action.value, step.after_minutes
        )


NEEDS_INFO_JOB = "needs_info_reminders"


def schedule_needs_info(scheduler: BaseScheduler, ctx: Context) -> None:
    """Add the daily Needs info reminder job, and a run now (on the scheduler's clock) to catch up after downtime.

    Running it again is harmless: each reminder is guarded by a unique event key.
    """
    scheduler.add_job(
        needs_info_job,
        reminder_trigger(ctx),  # the owners' morning, like the follow-up reminders
        id=NEEDS_INFO_JOB,
        name="needs info reminders",
        args=[ctx],
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=MISFIRE_GRACE,
        next_run_time=scheduler_time(scheduler),
    )


def needs_info_job(ctx: Context) -> None:
    for reminded in needs_info_reminders(ctx):
        log.info("needs info: reminded %s about lead %d", reminded.owner_id, reminded.lead_id)
