"""Decision modals through the real app: opened from the card, submitted, invalid input shown on its field."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from blocks import ids
from leadqual.db.models import Decision, Event, LeadRow, OutboxMessage
from leadqual.services import cards, triage
from leadqual.services.context import Context
from tests.bot_helpers import (
    Bot,
    add_lead,
    bot_fixture,  # noqa: F401  (the `bot` fixture)
)

MANAGER = "UMANAGER"


def lead(ctx: Context, lead_id: int) -> LeadRow:
    with ctx.session_factory() as session:
        row = session.get(LeadRow, lead_id)
        assert row is not None
        return row


def decisions(ctx: Context) -> list[Decision]:
    with ctx.session_factory() as session:
        return list(session.scalars(select(Decision).order_by(Decision.id)))


def count(ctx: Context, model: type, **where: object) -> int:
    with ctx.session_factory() as session:
        return session.scalar(select(func.count()).select_from(model).filter_by(**where)) or 0


def open_modal(bot: Bot, button: str, user: str = "UDANA") -> tuple[int, dict[str, Any]]:
    """Post a card, click one of its decision buttons, and return the lead and the modal Slack opened."""
    lead_id = add_lead(bot.ctx)
    bot.deliver()
    bot.click(button, lead_id, user)
    assert bot.slack.rejected == []
    return lead_id, bot.opened_view()


def errors_of(response: Any) -> dict[str, str]:
    body = json.loads(response.body)
    assert body["response_action"] == "errors"
    return body["errors"]


def radio(value: str) -> dict[str, Any]:
    return {"type": "radio_buttons", "selected_option": {"value": value}}


def text(value: str | None) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def picked_date(value: str | None) -> dict[str, Any]:
    return {"type": "datepicker", "selected_date": value}


def qualify_values(
    fit: str = "confirmed",
    next_step: str | None = "Site visit on line 3",
    next_step_on: str | None = None,
    motion: str = "equipment_replacement",
) -> dict[str, Any]:
    return {
        ids.FIT: {ids.FIT: radio(fit)},
        ids.INTENT: {ids.INTENT: radio("confirmed")},
        ids.AUTHORITY: {ids.AUTHORITY: radio("partial")},
        ids.NEED: {ids.NEED: radio("confirmed")},
        ids.MOTION: {ids.MOTION: {"type": "static_select", "selected_option": {"value": motion}}},
        ids.NEXT_STEP: {ids.NEXT_STEP: text(next_step)},
        ids.NEXT_STEP_ON: {ids.NEXT_STEP_ON: picked_date(next_step_on)},
        ids.NOTE: {ids.NOTE: text("Budget approved <!channel>")},
    }


def test_qualify_opens_a_fian_modal_and_a_valid_submission_decides_and_logs_in_the_thread(bot: Bot) -> None:
    lead_id, view = open_modal(bot, ids.QUALIFY)
    assert view["callback_id"] == ids.QUALIFY_VIEW
    assert {b.get("block_id") for b in view["blocks"]} >= set(ids.FIAN_BLOCKS.values()) | {ids.NEXT_STEP}
    next_week = (bot.ctx.today() + timedelta(days=7)).isoformat()
    response = bot.submit(view, "UDANA", qualify_values(next_step_on=next_week))
    assert response.status == 200 and not response.body
    row = lead(bot.ctx, lead_id)
    assert (row.outcome, row.owner_id, row.decided_by) == ("qualified", "UDANA", "UDANA")
    [decision] = decisions(bot.ctx)
    assert decision.details["fian"]["authority"] == "partial" and decision.details["motion"] == "equipment_replacement"
    bot.deliver()
    thread = [c.params["text"] for c in bot.slack.calls_to("chat.postMessage") if c.params.get("thread_ts")]
    assert any(
        "*Qualified to pursue* — decided by <@UDANA>" in t
        and "*Next:* Site visit on line 3" in t
        and "&lt;!channel&gt;" in t
        for t in thread
    )
    card = bot.slack.message(row.channel_id or "", row.message_ts or "")
    assert card is not None and "Qualified to pursue" in json.dumps(card, ensure_ascii=False)
    assert bot.slack.rejected == []


def test_an_invalid_qualify_submission_is_answered_on_its_fields_and_stores_nothing(bot: Bot) -> None:
    lead_id, view = open_modal(bot, ids.QUALIFY)
    yesterday = (bot.ctx.today() - timedelta(days=1)).isoformat()
    response = bot.submit(view, "UDANA", qualify_values(fit="partial", next_step=None, next_step_on=yesterday))
    assert set(errors_of(response)) == {ids.FIT, ids.NEXT_STEP, ids.NEXT_STEP_ON}
    assert lead(bot.ctx, lead_id).outcome is None and decisions(bot.ctx) == []


def test_a_buying_motion_the_ruleset_lacks_is_refused_on_its_field_before_the_ack(bot: Bot) -> None:
    lead_id, view = open_modal(bot, ids.QUALIFY)
    response = bot.submit(view, "UDANA", qualify_values(motion="no_such_motion"))
    assert errors_of(response) == {ids.MOTION: "Pick one of the listed buying motions."}
    assert lead(bot.ctx, lead_id).outcome is None and decisions(bot.ctx) == []
    assert bot.slack.calls_to("chat.postEphemeral") == []


def test_disqualify_requires_a_reason_and_stores_the_one_picked(bot: Bot) -> None:
    lead_id, view = open_modal(bot, ids.DISQUALIFY)
    missing = bot.submit(view, "UDANA", {ids.REASON: {ids.REASON: {"type": "static_select", "selected_option": None}}})
    assert errors_of(missing) == {ids.REASON: "Pick a reason."}
    forged = bot.submit(
        view, "UDANA", {ids.REASON: {ids.REASON: {"type": "static_select", "selected_option": {"value": "made_up"}}}}
    )
    assert ids.REASON in errors_of(forged)
    assert decisions(bot.ctx) == []
    done = bot.submit(
        view,
        "UDANA",
        {
            ids.REASON: {ids.REASON: {"type": "static_select", "selected_option": {"value": "competitor"}}},
            ids.NOTE: {ids.NOTE: text("Sells the same pumps")},
        },
    )
    assert done.status == 200
    row = lead(bot.ctx, lead_id)
    assert (row.outcome, row.reason) == ("not_qualified", "competitor")
    assert decisions(bot.ctx)[0].note == "Sells the same pumps"


def test_nurture_needs_a_date_after_today(bot: Bot) -> None:
    lead_id, view = open_modal(bot, ids.NURTURE)
    today = bot.ctx.today()
    assert set(
        errors_of(bot.submit(view, "UDANA", {ids.FOLLOW_UP_ON: {ids.FOLLOW_UP_ON: picked_date(today.isoformat())}}))
    ) == {ids.FOLLOW_UP_ON}
    assert set(errors_of(bot.submit(view, "UDANA", {ids.FOLLOW_UP_ON: {ids.FOLLOW_UP_ON: picked_date(None)}}))) == {
        ids.FOLLOW_UP_ON
    }
    later = today + timedelta(days=45)
    bot.submit(view, "UDANA", {ids.FOLLOW_UP_ON: {ids.FOLLOW_UP_ON: picked_date(later.isoformat())}})
    assert cards.read_card(bot.ctx, lead_id=lead_id).follow_up_on == later
    assert lead(bot.ctx, lead_id).outcome == "nurture"


def test_needs_info_needs_a_ticked_detail_and_a_note_for_other(bot: Bot) -> None:
    lead_id, view = open_modal(bot, ids.NEEDS_INFO)

    def ticked(*values: str) -> dict[str, Any]:
        return {ids.MISSING: {ids.MISSING: {"type": "checkboxes", "selected_options": [{"value": v} for v in values]}}}

    assert set(errors_of(bot.submit(view, "UDANA", ticked()))) == {ids.MISSING}
    assert set(errors_of(bot.submit(view, "UDANA", ticked("other")))) == {ids.NOTE}
    bot.submit(view, "UDANA", ticked("specs", "timeline"))
    assert lead(bot.ctx, lead_id).outcome == "needs_info"
    assert decisions(bot.ctx)[0].details == {"missing": ["specs", "timeline"]}


def test_a_double_submitted_or_retried_modal_is_stored_once(bot: Bot) -> None:
    _lead_id, view = open_modal(bot, ids.DISQUALIFY)
    values = {ids.REASON: {ids.REASON: {"type": "static_select", "selected_option": {"value": "spam"}}}}
    bot.submit(view, "UDANA", values, view_id="V0SAME")
    bot.submit(view, "UDANA", values, view_id="V0SAME", retry_num=1)
    assert len(decisions(bot.ctx)) == 1
    assert count(bot.ctx, Event, kind="decided") == 1 and bot.ephemerals() == []


def test_a_submission_after_the_lead_was_reassigned_is_refused_and_changes_nothing(bot: Bot) -> None:
    lead_id, view = open_modal(bot, ids.NURTURE, user="UDANA")
    triage.reassign(bot.ctx, lead_id=lead_id, user_id=MANAGER, to_user="USAM")
    later = (bot.ctx.today() + timedelta(days=10)).isoformat()
    response = bot.submit(view, "UDANA", {ids.FOLLOW_UP_ON: {ids.FOLLOW_UP_ON: picked_date(later)}})
    assert response.status == 200  # the modal closes; the refusal comes privately
    assert bot.ephemerals("UDANA") == ["Only <@USAM> or a manager can do that."]
    assert lead(bot.ctx, lead_id).outcome is None and decisions(bot.ctx) == []


def test_a_manager_decides_on_a_reps_lead_and_the_rep_stays_owner(bot: Bot) -> None:
    lead_id = add_lead(bot.ctx)
    bot.deliver()
    bot.click(ids.CLAIM, lead_id, "UDANA")
    bot.click(ids.DISQUALIFY, lead_id, MANAGER)
    bot.submit(
        bot.opened_view(ids.DISQUALIFY_VIEW),
        MANAGER,
        {ids.REASON: {ids.REASON: {"type": "static_select", "selected_option": {"value": "duplicate"}}}},
    )
    row = lead(bot.ctx, lead_id)
    assert (row.owner_id, row.decided_by, row.outcome) == ("UDANA", MANAGER, "not_qualified")


def test_the_reassign_modal_moves_the_lead_and_a_forged_one_from_a_rep_is_refused(bot: Bot) -> None:
    lead_id = add_lead(bot.ctx)
    bot.deliver()
    bot.click(ids.CLAIM, lead_id, "UDANA")
    bot.click(ids.MORE, lead_id, MANAGER, selected=f"{ids.MORE_REASSIGN}:{lead_id}")
    view = bot.opened_view(ids.REASSIGN_VIEW)
    pick = {ids.REASSIGN_TO: {ids.REASSIGN_TO: {"type": "users_select", "selected_user": "USAM"}}}
    bot.submit(view, "UREP", pick, view_id="V0FORGED")
    assert bot.ephemerals("UREP") == ["Only a manager can do that."]
    assert lead(bot.ctx, lead_id).owner_id == "UDANA"
    assert errors_of(
        bot.submit(view, MANAGER, {ids.REASSIGN_TO: {ids.REASSIGN_TO: {"type": "users_select", "selected_user": None}}})
    ) == {ids.REASSIGN_TO: "Pick the rep who takes the lead over."}
    bot.submit(view, MANAGER, pick)
    assert lead(bot.ctx, lead_id).owner_id == "USAM"
    bot.deliver()
    with bot.ctx.session_factory() as session:
        lines = [m.payload for m in session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "thread"))]
    assert {"event": "reassigned", "from": "UDANA", "to": "USAM"}.items() <= lines[-1].items()
    assert bot.slack.rejected == []
