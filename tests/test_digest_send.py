"""Sending the digest: a DM per manager with the chart and valid blocks, exactly once, retried after a failure."""

from __future__ import annotations

import dataclasses
import threading

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select

from bot.digest import RETRY_ID, run_digest_job, send_digest
from bot.slack.client import connected
from leadqual.db.models import DigestSend
from leadqual.readmodels import Digest
from leadqual.services import digest as service
from leadqual.services import digest_guard
from leadqual.services.context import Context
from leadqual.simulate import PLANTED
from tests.conftest import Clock
from tests.feedback_helpers import import_history
from tests.slack_standin import UPLOAD_METHOD, SlackStandIn

MANAGER = "UMANAGER"
WEEK = "2026-W47"


@pytest.fixture
def quiet_week(ctx: Context) -> Digest:
    """A digest with no history (fast); the sending is what these tests are about."""
    return service.build_digest(ctx, iso_week=WEEK)


def guards(ctx: Context) -> int:
    with ctx.transaction() as session:
        return session.scalar(select(func.count()).select_from(DigestSend)) or 0


def test_each_manager_gets_a_dm_with_the_chart_and_the_digest(ctx: Context, slack: SlackStandIn) -> None:
    import_history(ctx, n=1500, seed=3, world=PLANTED)
    report = send_digest(ctx, slack.client(), iso_week=WEEK, managers=[MANAGER, "UOTHER"])
    assert report.sent == [MANAGER, "UOTHER"] and not report.failed
    assert [c.params["users"] for c in slack.calls_to("conversations.open")] == [MANAGER, "UOTHER"]
    posts = slack.calls_to("chat.postMessage")
    assert [p.params["channel"] for p in posts] == ["DUMANAGER", "DUOTHER"]
    assert slack.rejected == []  # every block passed slack_sdk's validation and Slack's limits
    blocks = posts[0].params["blocks"]
    assert len(blocks) <= 50 and any(b["type"] == "actions" for b in blocks)  # at least one Apply button
    assert "Weekly lead digest 2026-W47" in posts[0].params["text"]
    # The chart went up the external-upload way, into the same DM.
    assert len(slack.calls_to("files.getUploadURLExternal")) == 2
    completed = slack.calls_to("files.completeUploadExternal")
    assert [c.params["channel_id"] for c in completed] == ["DUMANAGER", "DUOTHER"]
    uploads = list(slack.uploads.values())
    assert len(uploads) == 2 and all(u.startswith(b"\x89PNG\r\n\x1a\n") for u in uploads)
    assert guards(ctx) == 2


def test_a_second_send_for_the_same_week_posts_nothing(ctx: Context, slack: SlackStandIn, quiet_week: Digest) -> None:
    send_digest(ctx, slack.client(), iso_week=WEEK, managers=[MANAGER], built=quiet_week)
    again = send_digest(ctx, slack.client(), iso_week=WEEK, managers=[MANAGER], built=quiet_week)
    assert again.sent == [] and again.skipped == [MANAGER]
    assert len(slack.calls_to("chat.postMessage")) == 1


def test_a_failed_post_gives_the_guard_back_and_the_next_run_sends_it(
    ctx: Context, slack: SlackStandIn, quiet_week: Digest
) -> None:
    slack.fail_next("chat.postMessage", status=200, error="channel_not_found")
    first = send_digest(ctx, slack.client(), iso_week=WEEK, managers=[MANAGER], built=quiet_week)
    assert first.failed == {MANAGER: "channel_not_found"} and guards(ctx) == 0
    second = send_digest(ctx, slack.client(), iso_week=WEEK, managers=[MANAGER], built=quiet_week)
    assert second.sent == [MANAGER] and guards(ctx) == 1
    assert len(slack.calls_to("chat.postMessage")) == 1  # the failed call is not counted as accepted


def test_slack_being_down_is_a_failure_to_retry_not_a_crash(
    ctx: Context, slack: SlackStandIn, quiet_week: Digest
) -> None:
    client = slack.client(timeout=2)
    slack.stop()
    report = send_digest(ctx, client, iso_week=WEEK, managers=[MANAGER], built=quiet_week)
    assert list(report.failed) == [MANAGER] and guards(ctx) == 0
    slack.start()
    assert send_digest(ctx, client, iso_week=WEEK, managers=[MANAGER], built=quiet_week).sent == [MANAGER]


def test_a_chart_that_fails_to_upload_does_not_hold_the_digest_back(
    ctx: Context, slack: SlackStandIn, quiet_week: Digest
) -> None:
    slack.fail_next("files.getUploadURLExternal", status=200, error="not_allowed_token_type")
    report = send_digest(ctx, slack.client(), iso_week=WEEK, managers=[MANAGER], built=quiet_week)
    assert report.sent == [MANAGER] and guards(ctx) == 1
    assert len(slack.calls_to("chat.postMessage")) == 1 and slack.calls_to(UPLOAD_METHOD) == []


def test_members_of_manager_usergroups_get_the_digest_too(ctx: Context, slack: SlackStandIn) -> None:
    slack.usergroups = {"S0MGRS": ["UHEAD", MANAGER]}
    with_groups = dataclasses.replace(
        ctx, config=ctx.config.model_copy(update={"manager_usergroups": ["S0MGRS", "S0GONE"]})
    )
    assert connected(with_groups, slack.client()).managers.all() == [MANAGER, "UHEAD"]  # the unknown group is skipped


def test_two_senders_racing_send_each_manager_exactly_one_digest(
    ctx: Context, slack: SlackStandIn, quiet_week: Digest
) -> None:
    managers = [MANAGER, "UOTHER", "UTHIRD"]
    barrier = threading.Barrier(2)
    reports = []

    def worker() -> None:
        client = slack.client()
        barrier.wait()
        reports.append(send_digest(ctx, client, iso_week=WEEK, managers=managers, built=quiet_week))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    channels = sorted(c.params["channel"] for c in slack.calls_to("chat.postMessage"))
    assert channels == ["DUMANAGER", "DUOTHER", "DUTHIRD"]
    assert sorted(m for r in reports for m in r.sent) == sorted(managers)
    assert guards(ctx) == 3


def test_a_digest_whose_sender_died_mid_send_is_sent_by_a_later_run_exactly_once(
    ctx: Context, slack: SlackStandIn, quiet_week: Digest, clock: Clock
) -> None:
    assert digest_guard.claim_digest_send(ctx, MANAGER, WEEK, 1)  # a sender claimed it, then was SIGKILLed

    soon = send_digest(ctx, slack.client(), iso_week=WEEK, managers=[MANAGER], built=quiet_week)
    assert soon.waiting == [MANAGER] and soon.sent == []  # it may still be sending: leave it, check later
    assert slack.calls_to("chat.postMessage") == []

    clock.advance(minutes=11)  # the claim's lease has run out: nobody is sending it
    later = send_digest(ctx, slack.client(), iso_week=WEEK, managers=[MANAGER], built=quiet_week)
    assert later.sent == [MANAGER]
    assert [c.params["channel"] for c in slack.calls_to("chat.postMessage")] == ["DUMANAGER"]
    assert digest_guard.sent_to(ctx, WEEK) == {MANAGER}
    again = send_digest(ctx, slack.client(), iso_week=WEEK, managers=[MANAGER], built=quiet_week)
    assert again.skipped == [MANAGER] and len(slack.calls_to("chat.postMessage")) == 1


def test_a_run_that_finds_a_digest_in_flight_schedules_a_retry(ctx: Context, slack: SlackStandIn) -> None:
    week = service.week_reported_at(ctx.config, service.latest_slot(ctx.config, ctx.now()))
    assert digest_guard.claim_digest_send(ctx, MANAGER, week, 1)
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.start(paused=True)
    try:
        report = run_digest_job(scheduler, ctx, slack.client(), iso_week=week)
        assert report.waiting == [MANAGER]
        assert scheduler.get_job(RETRY_ID) is not None
    finally:
        scheduler.shutdown(wait=False)
