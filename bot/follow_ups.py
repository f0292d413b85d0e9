"""The daily follow-up reminder: at `follow_ups.hour` local time each owner gets one DM of what is due.

The job only queues: `leadqual.services.follow_ups.send_reminders` claims each owner's day in
the same transaction as the DM's outbox row, so several workers, restarts and catch-ups
queue one DM per owner per day, and the outbox delivers it. The trigger is a cron in the
config's time zone, so the hour is local on both sides of a daylight-saving change.

At start, a worker whose day's hour has passed catches up at once for owners whose DM for
today is not queued yet. Earlier missed days need no catch-up: every reminder lists all
the owner's follow-ups still open, marked overdue where they are.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from sqlalchemy.orm import Session

from blocks.follow_ups import reminder_blocks, reminder_text
from bot.digest import scheduler_time
from leadqual.services import follow_ups as service
from leadqual.services.context import Context

log = logging.getLogger(__name__)

JOB_ID = "follow_up_reminders"
CATCH_UP_ID = "follow_up_reminders_catch_up"
# A run delayed by a busy or suspended process still goes out the same day (the job checks the day).
MISFIRE_GRACE = int(timedelta(hours=12).total_seconds())


def reminder_trigger(ctx: Context) -> CronTrigger:
    """Every day at `follow_ups.hour`:00 in the configured time zone."""
    return CronTrigger(hour=ctx.config.follow_ups.hour, minute=0, second=0, timezone=ctx.config.tz)


def due_day(ctx: Context) -> date | None:
    """Today (local) once its reminder hour has come; None before it."""
    local = ctx.now().astimezone(ctx.config.tz)
    return local.date() if local.hour >= ctx.config.follow_ups.hour else None


def schedule_follow_ups(scheduler: BaseScheduler, ctx: Context) -> None:
    """Add the daily reminder job, and a run now if today's hour has passed with some owner's DM not queued."""
    scheduler.add_job(
        run_reminders,
        reminder_trigger(ctx),
        id=JOB_ID,
        name="follow-up reminders",
        args=[ctx],
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=MISFIRE_GRACE,
    )
    day = due_day(ctx)
    if day is not None and service.owners_waiting(ctx, day):
        log.info("follow-up reminders for %s are due and not queued for everyone: catching up now", day)
        scheduler.add_job(
            run_reminders,
            DateTrigger(run_date=scheduler_time(scheduler)),
            id=CATCH_UP_ID,
            name="follow-up reminders catch-up",
            args=[ctx],
            replace_existing=True,
            misfire_grace_time=MISFIRE_GRACE,
        )


def run_reminders(ctx: Context) -> service.ReminderRun | None:
    """One run (scheduled or catch-up): queue today's reminders; nothing before today's hour."""
    day = due_day(ctx)
    if day is None:  # fired early by a skewed clock: the cron comes back at the hour
        return None
    run = service.send_reminders(ctx, day=day)
    log.info("follow-up reminders %s: queued %d, already queued %d", day, len(run.sent), len(run.skipped))
    return run


def render_reminder(ctx: Context, session: Session, payload: dict[str, Any]) -> dict[str, Any]:
    """The chat.postMessage kwargs of a queued reminder DM (leads read as they are now)."""
    data = payload["follow_ups"]
    reminder = service.reminder(
        ctx,
        session,
        owner=str(payload["user"]),
        day=date.fromisoformat(data["day"]),
        items=list(data["items"]),
        more=int(data.get("more") or 0),
    )
    return {
        "channel": reminder.owner_id,
        "text": reminder_text(reminder),
        "blocks": [b.to_dict() for b in reminder_blocks(reminder)],
        "unfurl_links": False,
    }
