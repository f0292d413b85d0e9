"""Send the weekly digest to every manager by DM, exactly once per week, on schedule or to catch up.

For each manager the send guard (a unique DigestSend row) is taken first; then the chart is
uploaded to the manager's DM (files_upload_v2: files.getUploadURLExternal, the upload, then
files.completeUploadExternal) and the digest is posted. If posting fails the guard is given
back, so the next run (a retry in `RETRY_MINUTES`, or the catch-up at the next start) sends
it: exactly once must not become never. A chart that fails to upload does not hold the
digest back.

A process killed between taking the guard and posting leaves a claim that is never marked
sent; once its lease (`digest_guard.CLAIM_LEASE`) has run out, the next run takes it over. A run
that finds a digest being sent by another process schedules a retry, so someone always
comes back to check.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from blocks.chart import digest_chart
from blocks.digest import digest_blocks, digest_text
from bot import metrics
from bot.slack.client import connected
from leadqual.readmodels import Digest
from leadqual.services import digest as service
from leadqual.services import digest_guard as guard
from leadqual.services.context import Context

log = logging.getLogger(__name__)

JOB_ID = "weekly_digest"
CATCH_UP_ID = "weekly_digest_catch_up"
RETRY_ID = "weekly_digest_retry"
RETRY_MINUTES = 15
# A run delayed this long (a busy or suspended process) still goes out; coalesce makes several one.
MISFIRE_GRACE = int(timedelta(days=6).total_seconds())


@dataclass
class SendReport:
    """What one send did, manager by manager."""

    iso_week: str
    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already had it (another run or process sent it)
    waiting: list[str] = field(default_factory=list)  # another process is sending it: check again later
    failed: dict[str, str] = field(default_factory=dict)  # manager -> error; the guard was given back


def send_digest(
    ctx: Context,
    client: WebClient,
    *,
    iso_week: str | None = None,
    managers: list[str] | None = None,
    built: Digest | None = None,
) -> SendReport:
    """Send `iso_week`'s digest (default: the week the latest slot reports) to every manager who lacks it."""
    week = iso_week or service.week_reported_at(ctx.config, service.latest_slot(ctx.config, ctx.now()))
    report = SendReport(week)
    recipients = managers if managers is not None else connected(ctx, client).managers.all()
    already, elsewhere = guard.sent_to(ctx, week), guard.being_sent(ctx, week)
    report.skipped = [m for m in recipients if m in already]
    report.waiting = [m for m in recipients if m in elsewhere and m not in already]
    pending = [m for m in recipients if m not in already and m not in elsewhere]
    if not pending:
        return report
    digest = built or service.build_digest(ctx, iso_week=week)
    chart = digest_chart(digest.week, digest.trailing, title=f"Leadbot weekly digest · {week}")
    blocks = [b.to_dict() for b in digest_blocks(digest)]
    text = digest_text(digest)
    for manager in pending:
        if not guard.claim_digest_send(ctx, manager, week, digest.ruleset_version):
            report.waiting.append(manager)  # another run claimed it since we looked; the retry checks
            continue
        try:
            _deliver(client, manager, week, chart, blocks, text)
        except (SlackClientError, OSError) as exc:
            guard.release_digest_send(ctx, manager, week)
            report.failed[manager] = _describe(exc)
            log.warning("digest %s to %s failed (%s); it will be retried", week, manager, report.failed[manager])
        else:
            guard.mark_digest_sent(ctx, manager, week)
            report.sent.append(manager)
    log.info(
        "digest %s: sent to %d, already had it %d, being sent elsewhere %d, failed %d",
        week,
        len(report.sent),
        len(report.skipped),
        len(report.waiting),
        len(report.failed),
    )
    return report


def _deliver(
    client: WebClient, manager: str, week: str, chart: bytes, blocks: list[dict[str, object]], text: str
) -> None:
    channel = client.conversations_open(users=manager)["channel"]["id"]
    try:
        client.files_upload_v2(
            channel=channel,
            content=chart,
            filename=f"leadbot-digest-{week}.png",
            title=f"Leads by group, {week}",
            alt_txt="Leads and qualification rate by group",
        )
    except (SlackClientError, OSError) as exc:  # the figures are in the message too
        log.warning("digest %s: chart upload to %s failed (%s); sending without it", week, manager, _describe(exc))
    client.chat_postMessage(channel=channel, blocks=blocks, text=text, unfurl_links=False)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or exc)
    return f"{exc.__class__.__name__}: {exc}"


# --- schedule ---------------------------------------------------------------------------------


def scheduler_time(scheduler: BaseScheduler, *, after: timedelta = timedelta(0)) -> datetime:
    """A moment `after` from now on the scheduler's own clock.

    Jobs that run "now" or "in 15 minutes" are placed on the clock the scheduler fires by, never
    on the service clock (`ctx.now()`): the two are one in production, but a service clock that
    differs (a test's fixed clock, a skewed one) would put a job in the past, where it is skipped
    as missed, or in the future, where it never fires.
    """
    return datetime.now(scheduler.timezone) + after


def digest_trigger(ctx: Context) -> CronTrigger:
    """The configured weekday and hour, in the configured time zone (DST handled by the zone)."""
    schedule = ctx.config.digest
    return CronTrigger(
        day_of_week=schedule.weekday.value, hour=schedule.hour, minute=0, second=0, timezone=ctx.config.tz
    )


def schedule_digest(scheduler: BaseScheduler, ctx: Context, client: WebClient) -> None:
    """Add the weekly digest job, and a run now if this week's slot has passed without every digest sent."""
    scheduler.add_job(
        run_digest_job,
        digest_trigger(ctx),
        id=JOB_ID,
        name="weekly digest",
        args=[scheduler, ctx, client],
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=MISFIRE_GRACE,
    )
    missed = service.missed_week(ctx, connected(ctx, client).managers.all())
    if missed is not None:
        log.info("digest %s is due and not sent to everyone: catching up now", missed)
        _run_once(
            scheduler,
            ctx,
            client,
            job_id=CATCH_UP_ID,
            name="digest catch-up",
            at=scheduler_time(scheduler),
            iso_week=missed,
        )


def run_digest_job(
    scheduler: BaseScheduler, ctx: Context, client: WebClient, *, iso_week: str | None = None
) -> SendReport:
    """One scheduled (or catch-up, or retry) run; failures schedule a retry while the week is current."""
    slot = service.latest_slot(ctx.config, ctx.now())
    week = iso_week or service.week_reported_at(ctx.config, slot)
    try:
        report = send_digest(ctx, client, iso_week=week)
    except Exception:  # the database or the digest itself failed: nothing was claimed, try again soon
        log.exception("digest %s could not be built or sent", week)
        report = SendReport(week, failed={"*": "the digest could not be built"})
    metrics.digest_ran(report)
    if (report.failed or report.waiting) and week == service.week_reported_at(ctx.config, slot):
        retry_at = scheduler_time(scheduler, after=timedelta(minutes=RETRY_MINUTES))
        _run_once(scheduler, ctx, client, job_id=RETRY_ID, name="digest retry", at=retry_at, iso_week=week)
    return report


def _run_once(
    scheduler: BaseScheduler, ctx: Context, client: WebClient, *, job_id: str, name: str, at: datetime, iso_week: str
) -> None:
    """Schedule one run of `iso_week`'s digest at `at` (a catch-up or a retry), replacing any pending one."""
    scheduler.add_job(
        run_digest_job,
        DateTrigger(run_date=at),
        id=job_id,
        name=name,
        args=[scheduler, ctx, client],
        kwargs={"iso_week": iso_week},
        replace_existing=True,
        misfire_grace_time=MISFIRE_GRACE,
    )
