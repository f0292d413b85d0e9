"""The follow-up reminder through the real Bolt app: Done, Snooze a week, Qualify and Disqualify, and each refusal."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from blocks import ids
from leadqual.db.models import Decision, Event, LeadRow
from leadqual.decisions import DecisionInput
from leadqual.lead import Outcome
from leadqual.services import follow_ups, triage
from tests.bot_helpers import Bot, add_lead, bot_fixture, interactive_body  # noqa: F401  (the `bot` fixture)
from tests.conftest import Clock
from tests.test_bot_views import errors_of, qualify_values, text

REP, OTHER, MANAGER = "UDANA", "UOTHER", "UMANAGER"
DUE = date(2026, 11, 24)
MORNING = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # 09:00 in Chicago


def reminded(bot: Bot, clock: Clock, *, due: date = DUE) -> tuple[int, dict[str, Any]]:
    """A posted lead the rep nurtured until `due`, and the reminder DM the rep got that morning."""
    clock.now = datetime(2026, 11, 20, 15, tzinfo=UTC)
    lead_id = add_lead(bot.ctx)
    bot.deliver()
    triage.claim(bot.ctx, lead_id=lead_id, user_id=REP)
    triage.decide(bot.ctx, lead_id=lead_id, user_id=REP, decision=DecisionInput(Outcome.NURTURE, follow_up_on=due))
    bot.deliver()
    clock.now = MORNING
    assert follow_ups.send_reminders(bot.ctx).sent == [REP]
    bot.deliver()
    [dm] = [m for m in bot.slack.messages if m.get("channel") == f"D{REP}"]
    assert bot.slack.rejected == []
    return lead_id, dm


def click_in_dm(bot: Bot, dm: dict[str, Any], action_id: str, lead_id: int, user: str) -> None:
    """Click one of the reminder's buttons for `lead_id`, as Slack sends it from the DM."""
    [block] = [b for b in dm["blocks"] if b.get("block_id") == f"{ids.FOLLOW_UP_BLOCK}:{lead_id}"]
    [button] = [e for e in block["elements"] if e["action_id"] == action_id]
    payload = bot.action_payload(action_id, lead_id, user, value=button["value"])
    payload["actions"][0]["block_id"] = block["block_id"]
    channel = f"D{REP}"
    payload["container"] = {"type": "message", "message_ts": dm["ts"], "channel_id": channel, "is_ephemeral": False}
    payload["channel"] = {"id": channel, "name": "directmessage"}
    payload["message"] = {"type": "message", "ts": dm["ts"], "text": dm["text"], "blocks": dm["blocks"]}
    assert bot.dispatch(interactive_body(payload)).status == 200


def lead(bot: Bot, lead_id: int) -> LeadRow:
    with bot.ctx.session_factory() as session:
        row = session.get(LeadRow, lead_id)
        assert row is not None
        return row


def events(bot: Bot, lead_id: int, kind: str) -> list[dict[str, Any]]:
    with bot.ctx.session_factory() as session:
        return [e.data for e in session.scalars(select(Event).where(Event.lead_id == lead_id, Event.kind == kind))]


def thread_texts(bot: Bot, lead_id: int) -> list[str]:
    ts = lead(bot, lead_id).message_ts
    return [c.params["text"] for c in bot.slack.calls_to("chat.postMessage") if c.params.get("thread_ts") == ts]


def test_the_reminder_dm_lists_the_lead_with_its_four_buttons(bot: Bot, clock: Clock) -> None:
    lead_id, dm = reminded(bot, clock)
    [block] = [b for b in dm["blocks"] if b.get("block_id") == f"{ids.FOLLOW_UP_BLOCK}:{lead_id}"]
    assert [e["text"]["text"] for e in block["elements"]] == ["Done", "Snooze a week", "Qualify", "Disqualify"]
    assert "Acme Metals" in json.dumps(dm["blocks"]) and "due today" in json.dumps(dm["blocks"])
    assert events(bot, lead_id, "follow_up_due") == [{"due": "2026-11-24", "owner": REP}]


def test_done_from_the_dm_clears_the_date_logs_it_and_marks_the_line(bot: Bot, clock: Clock) -> None:
    lead_id, dm = reminded(bot, clock)
    click_in_dm(bot, dm, ids.FOLLOW_UP_DONE, lead_id, REP)
    row = lead(bot, lead_id)
    assert row.follow_up_on is None and row.outcome == "nurture"
    assert events(bot, lead_id, "follow_up_done") == [{"due": "2026-11-24"}]
    bot.deliver()
    assert any(f"<@{REP}> did the follow-up due 2026-11-24" in t for t in thread_texts(bot, lead_id))
    updated = bot.slack.message(f"D{REP}", dm["ts"])
    assert updated is not None and "Done" in json.dumps(updated["blocks"]) and updated.get("edited")
    assert not [b for b in updated["blocks"] if b.get("type") == "actions"]
    assert bot.ephemerals() == [] and bot.slack.rejected == []


def test_snooze_from_the_dm_moves_the_follow_up_a_week(bot: Bot, clock: Clock) -> None:
    lead_id, dm = reminded(bot, clock)
    click_in_dm(bot, dm, ids.FOLLOW_UP_SNOOZE, lead_id, REP)
    row = lead(bot, lead_id)
    assert follow_ups.due_day(bot.ctx, row) == DUE + timedelta(days=7)
    assert events(bot, lead_id, "follow_up_snoozed") == [{"due": "2026-11-24", "until": "2026-12-01"}]
    bot.deliver()
    assert any("snoozed the follow-up due 2026-11-24 to 2026-12-01" in t for t in thread_texts(bot, lead_id))
    assert bot.ephemerals() == [] and bot.slack.rejected == []


def test_qualify_from_the_dm_opens_the_cards_modal_and_replaces_the_nurture_decision(bot: Bot, clock: Clock) -> None:
    lead_id, dm = reminded(bot, clock)
    click_in_dm(bot, dm, ids.FOLLOW_UP_QUALIFY, lead_id, REP)
    view = bot.opened_view(ids.QUALIFY_VIEW)
    response = bot.submit(view, REP, qualify_values(next_step_on=(DUE + timedelta(days=3)).isoformat()))
    assert response.status == 200 and not response.body
    row = lead(bot, lead_id)
    assert row.outcome == "qualified" and follow_ups.due_day(bot.ctx, row) == DUE + timedelta(days=3)
    with bot.ctx.session_factory() as session:
        decided = [
            (d.outcome, d.superseded_at is not None) for d in session.scalars(select(Decision).order_by(Decision.id))
        ]
    assert decided == [("nurture", True), ("qualified", False)]
    assert events(bot, lead_id, "follow_up_done") == [{"due": "2026-11-24", "via": "decision"}]
    bot.deliver()
    assert any("*Qualified to pursue* — decided by <@UDANA>" in t for t in thread_texts(bot, lead_id))
    assert bot.ephemerals() == [] and bot.slack.rejected == []


def test_disqualify_from_the_dm_records_the_reason_and_the_follow_up_done(bot: Bot, clock: Clock) -> None:
    lead_id, dm = reminded(bot, clock)
    click_in_dm(bot, dm, ids.FOLLOW_UP_DISQUALIFY, lead_id, REP)
    view = bot.opened_view(ids.DISQUALIFY_VIEW)
    values = {
        ids.REASON: {ids.REASON: {"type": "static_select", "selected_option": {"value": "no_budget"}}},
        ids.NOTE: {ids.NOTE: text(None)},
    }
    assert bot.submit(view, REP, values).status == 200
    row = lead(bot, lead_id)
    assert (row.outcome, row.reason, row.follow_up_on) == ("not_qualified", "no_budget", None)
    assert events(bot, lead_id, "follow_up_done") == [{"due": "2026-11-24", "via": "decision"}]
    assert bot.ephemerals() == []


def test_a_rep_who_does_not_own_the_lead_is_refused_and_a_manager_may(bot: Bot, clock: Clock) -> None:
    lead_id, dm = reminded(bot, clock)
    for action in (ids.FOLLOW_UP_DONE, ids.FOLLOW_UP_SNOOZE, ids.FOLLOW_UP_QUALIFY):
        click_in_dm(bot, dm, action, lead_id, OTHER)
    assert bot.ephemerals(OTHER) == [f"Only <@{REP}> or a manager can do that."] * 3
    assert follow_ups.due_day(bot.ctx, lead(bot, lead_id)) == DUE and bot.slack.calls_to("views.open") == []
    assert events(bot, lead_id, "follow_up_done") == []
    click_in_dm(bot, dm, ids.FOLLOW_UP_DONE, lead_id, MANAGER)
    assert lead(bot, lead_id).follow_up_on is None and bot.ephemerals(MANAGER) == []


def test_a_snooze_after_someone_decided_the_lead_since_the_dm_is_refused(bot: Bot, clock: Clock) -> None:
    lead_id, dm = reminded(bot, clock)
    triage.reopen(bot.ctx, lead_id=lead_id, user_id=MANAGER)
    triage.decide(
        bot.ctx,
        lead_id=lead_id,
        user_id=MANAGER,
        decision=DecisionInput(Outcome.NURTURE, follow_up_on=DUE + timedelta(days=30)),
    )
    click_in_dm(bot, dm, ids.FOLLOW_UP_SNOOZE, lead_id, REP)
    [said] = bot.ephemerals(REP)
    assert "is now due 2026-12-24" in said and "nothing was changed" in said
    assert follow_ups.due_day(bot.ctx, lead(bot, lead_id)) == DUE + timedelta(days=30)
    assert events(bot, lead_id, "follow_up_snoozed") == []


def test_a_decision_from_the_dm_after_the_lead_was_disqualified_is_refused(bot: Bot, clock: Clock) -> None:
    lead_id, dm = reminded(bot, clock)
    click_in_dm(bot, dm, ids.FOLLOW_UP_QUALIFY, lead_id, REP)
    view = bot.opened_view(ids.QUALIFY_VIEW)
    triage.reopen(bot.ctx, lead_id=lead_id, user_id=MANAGER)
    triage.decide(
        bot.ctx, lead_id=lead_id, user_id=MANAGER, decision=DecisionInput(Outcome.NOT_QUALIFIED, reason="spam")
    )
    bot.submit(view, REP, qualify_values())
    assert lead(bot, lead_id).outcome == "not_qualified"
    assert bot.ephemerals(REP) == [
        "This lead was decided or reopened since this reminder; nothing was changed. Its card shows where it stands."
    ]


def test_done_twice_is_refused_as_already_done(bot: Bot, clock: Clock) -> None:
    lead_id, dm = reminded(bot, clock)
    click_in_dm(bot, dm, ids.FOLLOW_UP_DONE, lead_id, REP)
    click_in_dm(bot, dm, ids.FOLLOW_UP_DONE, lead_id, REP)  # a second click on the DM as first sent
    assert bot.ephemerals(REP) == ["This follow-up (due 2026-11-24) is already done; nothing was changed."]
    assert len(events(bot, lead_id, "follow_up_done")) == 1


def test_a_next_step_date_in_the_past_is_refused_on_its_field_from_the_dm(bot: Bot, clock: Clock) -> None:
    lead_id, dm = reminded(bot, clock)
    click_in_dm(bot, dm, ids.FOLLOW_UP_QUALIFY, lead_id, REP)
    response = bot.submit(bot.opened_view(ids.QUALIFY_VIEW), REP, qualify_values(next_step_on="2026-11-23"))
    assert errors_of(response) == {ids.NEXT_STEP_ON: "Pick today or a later date."}
    assert lead(bot, lead_id).outcome == "nurture" and events(bot, lead_id, "follow_up_done") == []


def test_a_forged_button_value_is_told_as_a_missing_lead(bot: Bot, clock: Clock) -> None:
    bot.click(ids.FOLLOW_UP_DONE, 1, REP, value="1:not-a-date:x")
    assert bot.ephemerals(REP) == ["Lead 1:not-a-date:x was not found."]


def home_of(bot: Bot, user: str) -> str:
    body = json.dumps(
        {
            "token": "legacy",
            "team_id": "T1",
            "api_app_id": "ABOT",
            "event": {"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": "home", "event_ts": "1.2"},
            "type": "event_callback",
            "event_id": f"Ev{user}{len(bot.slack.calls)}",
            "event_time": 1764000000,
            "authorizations": [{"team_id": "T1", "user_id": "UBOT", "is_bot": True}],
        }
    )
    bot.dispatch(body, content_type="application/json")
    [*_, view] = [c.params["view"] for c in bot.slack.calls_to("views.publish") if c.params["user_id"] == user]
    return json.dumps(view["blocks"], ensure_ascii=False)


def test_an_undone_follow_up_is_overdue_in_app_home_after_three_days_and_listed_by_rep_for_managers(
    bot: Bot, clock: Clock
) -> None:
    lead_id, _dm = reminded(bot, clock)
    clock.now = MORNING + timedelta(days=2)  # Thursday 26th: two days on, not yet overdue
    assert "Overdue follow-ups" not in home_of(bot, REP)
    clock.now = MORNING + timedelta(days=3)  # Friday 27th: three days after the due day
    mine = home_of(bot, REP)
    assert "*Overdue follow-ups* (1)" in mine and "due 2026-11-24" in mine
    boss = home_of(bot, MANAGER)
    assert "*Overdue follow-ups by rep*" in boss and f"<@{REP}>: *1*" in boss
    assert bot.slack.rejected == []
    assert lead(bot, lead_id).outcome == "nurture"


def test_a_decision_from_the_dm_on_a_lead_reopened_since_is_refused(bot: Bot, clock: Clock) -> None:
    lead_id, dm = reminded(bot, clock)
    click_in_dm(bot, dm, ids.FOLLOW_UP_DISQUALIFY, lead_id, REP)
    view = bot.opened_view(ids.DISQUALIFY_VIEW)
    triage.reopen(bot.ctx, lead_id=lead_id, user_id=MANAGER)
    values = {ids.REASON: {ids.REASON: {"type": "static_select", "selected_option": {"value": "spam"}}}}
    bot.submit(view, REP, values)
    assert lead(bot, lead_id).outcome is None
    assert bot.ephemerals(REP) == [
        "This lead was decided or reopened since this reminder; nothing was changed. Its card shows where it stands."
    ]
