"""The worker process's scheduled jobs: the SLA ladder every minute, the weekly digest, the daily follow-ups."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from slack_sdk import WebClient

from bot.digest import schedule_digest
from bot.follow_ups import schedule_follow_ups
from bot.slack.client import connected
from leadqual.services.context import Context
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
    schedule_follow_ups(scheduler, ctx)
    scheduler.start()
    return scheduler


def sla_job(ctx: Context) -> None:
    for step in sla_tick(ctx):
        log.info(
            "sla: lead %d step %d (%s after %d min)", step.lead_id, step.index, step.action.value, step.after_minutes
        )
