"""Modals and the App Home: valid views within Slack's limits, and submissions read back into the domain."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from blocks import ids
from blocks.add_lead import add_lead_errors, add_lead_modal, read_add_lead
from blocks.home import home_view
from blocks.modals import (
    decision_errors,
    decode_metadata,
    disqualify_modal,
    encode_metadata,
    needs_info_modal,
    nurture_modal,
    qualify_modal,
    read_decision,
    reassign_modal,
)
from leadqual.config import load_config
from leadqual.decisions import Problem, Rating
from leadqual.errors import InvalidLead
from leadqual.groups import Group
from leadqual.lead import Outcome
from leadqual.readmodels import Home, WeekNumbers
from leadqual.services.intake import validate_leads
from tests.bot_helpers import HOSTILE_NAME, make_card
from tests.slack_standin import validate_view

CONFIG = load_config()
MOTIONS = [("equipment_replacement", "Equipment replacement"), ("compliance_upgrade", "Compliance upgrade")]
META = encode_metadata(lead=42, channel="C0LEADS", ts="1700000000.000100")


def view_json(view: Any) -> dict[str, Any]:
    return json.loads(json.dumps(view.to_dict(), ensure_ascii=False))


def all_modals() -> dict[str, Any]:
    card = make_card(company=HOSTILE_NAME * 5)
    return {
        ids.QUALIFY_VIEW: qualify_modal(card, motions=MOTIONS, metadata=META),
        ids.DISQUALIFY_VIEW: disqualify_modal(card, reasons=CONFIG.reasons, metadata=META),
        ids.NURTURE_VIEW: nurture_modal(card, metadata=META),
        ids.NEEDS_INFO_VIEW: needs_info_modal(card, metadata=META),
        ids.REASSIGN_VIEW: reassign_modal(card, metadata=META),
        ids.ADD_LEAD_VIEW: add_lead_modal(metadata=encode_metadata(channel="C0LEADS")),
    }


@pytest.mark.parametrize("callback_id", list(all_modals()))
def test_every_modal_is_a_valid_view_with_a_short_title_and_escaped_lead(callback_id: str) -> None:
    view = view_json(all_modals()[callback_id])
    assert validate_view(view) == []
    assert view["callback_id"] == callback_id
    assert len(view["title"]["text"]) <= 24
    text = json.dumps(view, ensure_ascii=False)
    assert "<!channel>" not in text and "<https://evil" not in text


def test_the_qualify_modal_asks_each_fian_criterion_and_preselects_the_leads_buying_motion() -> None:
    view = view_json(qualify_modal(make_card(), motions=MOTIONS, metadata=META))
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    for block_id in ids.FIAN_BLOCKS.values():
        options = [o["value"] for o in blocks[block_id]["element"]["options"]]
        assert options == ["confirmed", "partial", "unknown"]
    assert blocks[ids.MOTION]["element"]["initial_option"]["value"] == "equipment_replacement"
    assert blocks[ids.NEXT_STEP_ON]["element"]["type"] == "datepicker"
    assert decode_metadata(view["private_metadata"]) == {"lead": 42, "channel": "C0LEADS", "ts": "1700000000.000100"}


def test_the_disqualify_modal_offers_exactly_the_configured_reasons_and_requires_one() -> None:
    view = view_json(disqualify_modal(make_card(), reasons=CONFIG.reasons, metadata=META))
    [reason] = [b for b in view["blocks"] if b.get("block_id") == ids.REASON]
    assert [o["value"] for o in reason["element"]["options"]] == [r.code for r in CONFIG.reasons]
    assert not reason.get("optional", False)


def state(**blocks: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    return {block_id: {block_id: value} for block_id, value in blocks.items()}


def radio(value: str) -> dict[str, Any]:
    return {"type": "radio_buttons", "selected_option": {"value": value, "text": {"type": "plain_text", "text": value}}}


def test_a_qualify_submission_reads_back_as_a_decision() -> None:
    values = state(
        **{
            ids.FIT: radio("confirmed"),
            ids.INTENT: radio("confirmed"),
            ids.AUTHORITY: radio("partial"),
            ids.NEED: {"type": "radio_buttons", "selected_option": None},
            ids.MOTION: {"type": "static_select", "selected_option": {"value": "compliance_upgrade"}},
            ids.NEXT_STEP: {"type": "plain_text_input", "value": "  Site visit "},
            ids.NEXT_STEP_ON: {"type": "datepicker", "selected_date": "2026-12-01"},
            ids.NOTE: {"type": "plain_text_input", "value": None},
        }
    )
    decision = read_decision(ids.QUALIFY_VIEW, values)
    assert decision.outcome is Outcome.QUALIFIED
    assert decision.fian == {
        "fit": Rating.CONFIRMED,
        "intent": Rating.CONFIRMED,
        "authority": Rating.PARTIAL,
        "need": None,
    }
    assert (decision.motion, decision.next_step, decision.next_step_on, decision.note) == (
        "compliance_upgrade",
        "Site visit",
        date(2026, 12, 1),
        None,
    )


def test_other_submissions_read_back_as_their_outcomes() -> None:
    dq = read_decision(
        ids.DISQUALIFY_VIEW, state(**{ids.REASON: {"type": "static_select", "selected_option": {"value": "no_budget"}}})
    )
    assert (dq.outcome, dq.reason) == (Outcome.NOT_QUALIFIED, "no_budget")
    nurture = read_decision(
        ids.NURTURE_VIEW, state(**{ids.FOLLOW_UP_ON: {"type": "datepicker", "selected_date": "2027-01-15"}})
    )
    assert nurture.follow_up_on == date(2027, 1, 15)
    info = read_decision(
        ids.NEEDS_INFO_VIEW,
        state(**{ids.MISSING: {"type": "checkboxes", "selected_options": [{"value": "specs"}, {"value": "timeline"}]}}),
    )
    assert info.missing == ("specs", "timeline")


def test_field_errors_land_on_the_block_that_shows_the_field() -> None:
    problems = {"fit": Problem.REQUIRED, "follow_up_on": Problem.REQUIRED, "reason": Problem.REQUIRED}
    assert decision_errors({**problems, "missing": Problem.REQUIRED}) == {
        ids.FIT: "Rate fit.",
        ids.FOLLOW_UP_ON: "Pick a follow-up date.",
        ids.REASON: "Pick a reason.",
        ids.MISSING: "Tick at least one missing detail.",
    }


def test_the_add_lead_form_reads_into_an_intake_record_and_its_errors_map_to_fields() -> None:
    values = state(
        **{
            ids.ADD_COMPANY: {"type": "plain_text_input", "value": "Acme"},
            ids.ADD_EMAIL: {"type": "email_text_input", "value": "dana@acme.com"},
            ids.ADD_COUNTRY: {"type": "plain_text_input", "value": "us"},
            ids.ADD_NEED: {"type": "plain_text_input", "value": "Pump failed"},
            ids.ADD_TITLE: {"type": "plain_text_input", "value": None},
        }
    )
    record = read_add_lead(values, user_id="UDANA")
    assert record == {
        "source": "slack",
        "attributes": {"added_by": "UDANA"},
        "company": {"name": "Acme", "country": "us"},
        "contact": {"email": "dana@acme.com"},
        "need": {"problem": "Pump failed"},
    }
    [lead] = validate_leads([record])
    assert lead.company.country == "US"
    with pytest.raises(InvalidLead) as info:
        validate_leads(
            [read_add_lead(state(**{ids.ADD_EMAIL: {"type": "email_text_input", "value": "nope"}}), user_id="UDANA")]
        )
    assert set(add_lead_errors(info.value.errors)) == {ids.ADD_EMAIL}
    with pytest.raises(InvalidLead) as info:
        validate_leads([read_add_lead(state(), user_id="UDANA")])
    assert set(add_lead_errors(info.value.errors)) == {ids.ADD_COMPANY}


def test_the_home_tab_stays_valid_with_many_hostile_leads_and_shows_a_managers_week() -> None:
    cards = tuple(
        make_card(id=i, company=HOSTILE_NAME * 10, owner_id="UDANA", claimed_at=datetime.now(UTC)) for i in range(15)
    )
    follow = tuple(
        make_card(
            id=100 + i, outcome=Outcome.NURTURE, follow_up_on=date(2026, 11, 25), channel_id=None, message_ts=None
        )
        for i in range(15)
    )
    week = WeekNumbers(
        starts=datetime(2026, 11, 23, 6, tzinfo=UTC),
        received=dict.fromkeys(Group, 2),
        claimed=4,
        decided=dict.fromkeys(Outcome, 1),
        median_minutes_to_claim=12.4,
    )
    view = view_json(home_view(Home("UDANA", cards, 40, follow, 15, week)))
    assert validate_view(view) == []
    text = json.dumps(view, ensure_ascii=False)
    assert "<!channel>" not in text and "…and 25 more" in text
    assert "Median time to first claim*\\n12 min" in text and "Received (10)" in text
    assert "https://slack.com/archives/C0LEADS/p1700000000000100" in text


def test_a_reps_home_without_leads_says_so_and_shows_no_numbers() -> None:
    view = view_json(home_view(Home("UDANA", (), 0, (), 0, None)))
    assert validate_view(view) == []
    text = json.dumps(view)
    assert "Nothing claimed" in text and "This week" not in text
