"""Through the real Bolt app: Info received on a Needs-info card, the artefacts field of the Qualify modal, and the
thread line of follow-up questions for what a decision rated unknown."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from blocks import ids
from leadqual.db.models import Decision, LeadRow
from leadqual.services import needs_info
from leadqual.services.context import Context
from tests.bot_helpers import (
    Bot,
    add_lead,
    bot_fixture,  # noqa: F401  (the `bot` fixture)
)
from tests.conftest import Clock
from tests.test_bot_views import qualify_values

MANAGER = "UMANAGER"


def lead(ctx: Context, lead_id: int) -> LeadRow:
    with ctx.session_factory() as session:
        row = session.get(LeadRow, lead_id)
        assert row is not None
        return row


def ticked(*values: str) -> dict[str, Any]:
    return {"type": "checkboxes", "selected_options": [{"value": v} for v in values]}


def radio(value: str) -> dict[str, Any]:
    return {"type": "radio_buttons", "selected_option": {"value": value}}


def thread_texts(bot: Bot) -> list[str]:
    return [c.params["text"] for c in bot.slack.calls_to("chat.postMessage") if c.params.get("thread_ts")]


def card_json(bot: Bot, lead_id: int) -> str:
    row = lead(bot.ctx, lead_id)
    card = bot.slack.message(row.channel_id or "", row.message_ts or "")
    assert card is not None
    return json.dumps(card, ensure_ascii=False)


def needs_info_lead(bot: Bot, *, owner: str = "UDANA", **fian: str) -> int:
    """A posted lead that `owner` marked Needs info (specs and timeline missing) through the modal."""
    lead_id = add_lead(bot.ctx)
    bot.deliver()
    bot.click(ids.NEEDS_INFO, lead_id, owner)
    view = bot.opened_view(ids.NEEDS_INFO_VIEW)
    assert {ids.FIAN_BLOCKS[c] for c in ("fit", "authority")} <= {b.get("block_id") for b in view["blocks"]}
    values: dict[str, Any] = {ids.MISSING: {ids.MISSING: ticked("specs", "timeline")}}
    values |= {ids.FIAN_BLOCKS[c]: {ids.FIAN_BLOCKS[c]: radio(r)} for c, r in fian.items()}
    response = bot.submit(view, owner, values, view_id=f"VNEEDS{lead_id}")
    assert response.status == 200 and not response.body
    bot.deliver()
    return lead_id


def test_a_needs_info_card_lists_what_is_missing_and_offers_info_received(bot: Bot) -> None:
    lead_id = needs_info_lead(bot)
    card = card_json(bot, lead_id)
    assert "Waiting for: specs, timeline" in card and ids.INFO_RECEIVED in card
    assert any("Missing: specs, timeline" in t for t in thread_texts(bot))


def test_info_received_opens_a_modal_and_puts_the_lead_back_to_its_owner_with_a_thread_line(bot: Bot) -> None:
    lead_id = needs_info_lead(bot)
    bot.click(ids.INFO_RECEIVED, lead_id, "UDANA")
    view = bot.opened_view(ids.INFO_RECEIVED_VIEW)
    [arrived] = [b for b in view["blocks"] if b.get("block_id") == ids.ARRIVED]
    assert [o["value"] for o in arrived["element"]["initial_options"]] == ["specs", "timeline"]
    response = bot.submit(view, "UDANA", {ids.ARRIVED: {ids.ARRIVED: ticked("specs")}}, view_id="VINFO1")
    assert response.status == 200 and not response.body
    row = lead(bot.ctx, lead_id)
    assert (row.outcome, row.status, row.owner_id) == (None, "claimed", "UDANA")
    bot.deliver()
    assert any(
        "📬 <@UDANA>: info received (specs); back with <@UDANA>, claimed and undecided" in t
        and "Still missing: timeline" in t
        for t in thread_texts(bot)
    )
    card = card_json(bot, lead_id)
    assert "Claimed by <@UDANA>" in card and ids.INFO_RECEIVED not in card and ids.QUALIFY in card
    assert bot.slack.rejected == []


def test_info_received_with_nothing_ticked_is_answered_on_its_field(bot: Bot) -> None:
    lead_id = needs_info_lead(bot)
    bot.click(ids.INFO_RECEIVED, lead_id, "UDANA")
    response = bot.submit(bot.opened_view(ids.INFO_RECEIVED_VIEW), "UDANA", {ids.ARRIVED: {ids.ARRIVED: ticked()}})
    assert set(json.loads(response.body)["errors"]) == {ids.ARRIVED}
    assert lead(bot.ctx, lead_id).outcome == "needs_info"


def test_info_received_from_another_rep_is_refused_with_an_ephemeral_and_opens_nothing(bot: Bot) -> None:
    lead_id = needs_info_lead(bot)
    opened = len(bot.slack.calls_to("views.open"))
    bot.click(ids.INFO_RECEIVED, lead_id, "USAM")
    assert bot.ephemerals("USAM") == ["Only <@UDANA> or a manager can do that."]
    assert len(bot.slack.calls_to("views.open")) == opened
    assert lead(bot.ctx, lead_id).outcome == "needs_info"


def test_info_received_on_a_lead_no_longer_waiting_is_refused_and_changes_nothing(bot: Bot) -> None:
    lead_id = needs_info_lead(bot)
    bot.click(ids.INFO_RECEIVED, lead_id, "UDANA")
    view = bot.opened_view(ids.INFO_RECEIVED_VIEW)
    bot.click(ids.INFO_RECEIVED, lead_id, MANAGER)
    bot.submit(bot.opened_view(ids.INFO_RECEIVED_VIEW), MANAGER, {ids.ARRIVED: {ids.ARRIVED: ticked("specs")}})
    version = lead(bot.ctx, lead_id).version
    bot.submit(view, "UDANA", {ids.ARRIVED: {ids.ARRIVED: ticked("timeline")}}, view_id="VLATE")  # the stale modal
    assert bot.ephemerals("UDANA") == ["This lead is no longer waiting for info (it is claimed): nothing was changed."]
    assert lead(bot.ctx, lead_id).version == version


def test_the_qualify_modal_records_the_artefacts_requested_and_the_handoff_names_them(bot: Bot) -> None:
    lead_id = add_lead(bot.ctx)
    bot.deliver()
    bot.click(ids.QUALIFY, lead_id, "UDANA")
    view = bot.opened_view(ids.QUALIFY_VIEW)
    [field] = [b for b in view["blocks"] if b.get("block_id") == ids.ARTEFACTS]
    assert field["optional"] is True and [o["value"] for o in field["element"]["options"]] == [
        "drawings",
        "site_constraints",
        "compliance_documents",
        "lead_time",
        "contact_list",
    ]
    values = qualify_values() | {ids.ARTEFACTS: {ids.ARTEFACTS: ticked("drawings", "lead_time")}}
    assert bot.submit(view, "UDANA", values).status == 200
    with bot.ctx.session_factory() as session:
        [decision] = session.scalars(select(Decision).where(Decision.lead_id == lead_id))
    assert decision.details["artefacts"] == ["drawings", "lead_time"]
    bot.deliver()
    handoff = [t for t in thread_texts(bot) if "*Qualified to pursue*" in t]
    assert handoff and "*Known:* Fit, Intent, Need confirmed" in handoff[0]
    assert (
        "*Missing:* Authority partial · artefacts requested: drawings or part numbers, lead-time confirmation"
        in handoff[0]
    )
    assert "*Next:* Site visit on line 3 · <@UDANA>" in handoff[0]
    assert "artefacts requested: drawings or part numbers, lead-time confirmation" in card_json(bot, lead_id)
    assert bot.slack.rejected == []


def test_a_criterion_rated_unknown_gets_its_follow_up_questions_in_the_thread(bot: Bot) -> None:
    needs_info_lead(bot, authority="unknown", fit="confirmed")
    [line] = [t for t in thread_texts(bot) if "Follow-up questions" in t]
    assert "*Authority* (unknown)" in line and "• Who will approve requirements, and who owns procurement?" in line
    assert "*Fit*" not in line
    assert bot.slack.rejected == []


def test_qualify_with_need_unknown_adds_the_buying_motions_questions(bot: Bot) -> None:
    lead_id = add_lead(bot.ctx)
    bot.deliver()
    bot.click(ids.QUALIFY, lead_id, "UDANA")
    values = qualify_values() | {ids.NEED: {ids.NEED: radio("unknown")}}
    assert bot.submit(bot.opened_view(ids.QUALIFY_VIEW), "UDANA", values).status == 200
    bot.deliver()
    [line] = [t for t in thread_texts(bot) if "Follow-up questions" in t]
    assert "(Equipment replacement)" in line and "*Need* (unknown)" in line
    assert "• What is the outage or installation schedule, the site access, and who coordinates?" in line


def test_the_needs_info_reminder_reaches_the_owner_as_a_dm_naming_what_is_missing(bot: Bot, clock: Clock) -> None:
    lead_id = needs_info_lead(bot)
    clock.advance(days=bot.ctx.config.follow_ups.needs_info_days)
    [reminded] = needs_info.needs_info_reminders(bot.ctx)
    assert reminded.lead_id == lead_id and reminded.owner_id == "UDANA"
    bot.deliver()
    [dm] = [c.params for c in bot.slack.calls_to("chat.postMessage") if c.params.get("channel") == "UDANA"]
    assert "has been waiting for info since" in dm["text"] and "(7 days or more)" in dm["text"]
    assert "Still missing: specs, timeline." in dm["text"] and "Acme Metals" in dm["text"]
    assert bot.slack.rejected == []
