"""The lead card and thread lines: valid Block Kit for any lead, hostile text escaped, Slack's limits kept."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block

from blocks import ids
from blocks.cards import card_buttons, fallback_text, lead_card
from blocks.text import escape, mrkdwn, plain
from blocks.thread import thread_line
from leadqual.groups import Group
from leadqual.lead import Outcome
from leadqual.readmodels import CardReason
from tests.bot_helpers import HOSTILE_NAME, RECEIVED, SPECIAL, make_card, mrkdwn_texts
from tests.slack_standin import validate_message_blocks


def as_json(blocks: list[Block]) -> list[dict[str, Any]]:
    return json.loads(json.dumps([b.to_dict() for b in blocks], ensure_ascii=False))


def test_a_card_is_valid_block_kit_with_the_lead_its_score_and_why() -> None:
    blocks = as_json(lead_card(make_card()))
    assert validate_message_blocks(blocks) == []
    text = json.dumps(blocks, ensure_ascii=False)
    for expected in (
        "Acme Metals",
        "Dana Ruiz, Maintenance Manager",
        "metals · US / TX",
        "web_form · rfq",
        "fit *80*",
        "intent *60*",
        "*Priority*",
        "RFQ or quote request (+40)",
        "Equipment replacement",
        "urgent",
        "Unclaimed",
    ):
        assert expected in text, expected


def test_hostile_lead_fields_are_escaped_so_nobody_is_pinged_and_no_link_is_forged() -> None:
    card = make_card(
        company=HOSTILE_NAME,
        contact_name="<!here>",
        contact_title="<@U0CEO>",
        message="<!everyone> see <http://x|y>",
        problem="a & b < c",
        campaign="<#C0GENERAL>",
    )
    blocks = as_json(lead_card(card))
    assert validate_message_blocks(blocks) == []
    texts = [*mrkdwn_texts(blocks), fallback_text(card)]
    assert not [t for t in texts if SPECIAL.search(t)]
    assert not any("<@U0CEO>" in t or "<@U0BOSS>" in t for t in texts)
    assert any("&lt;!channel&gt; &amp; &lt;https://evil.example|click here&gt;" in t for t in texts)
    assert "&lt;!channel&gt;" in fallback_text(card)


def test_long_fields_are_cut_to_slacks_limits_instead_of_rejected() -> None:
    card = make_card(
        company="A" * 300,
        contact_title="&" * 300,
        message="word " * 2000,
        problem="p" * 10_000,
        reasons=tuple(CardReason("R" * 300, 10, "fit") for _ in range(3)),
        failed_must_haves=tuple(f"must-{i}" * 40 for i in range(10)),
    )
    blocks = as_json(lead_card(card))
    assert validate_message_blocks(blocks) == []
    assert len(blocks[0]["text"]["text"]) <= 150
    assert all(len(t) <= 3000 for t in mrkdwn_texts(blocks))
    assert "&am…" not in json.dumps(blocks, ensure_ascii=False)  # never half an entity


def test_an_unclaimed_card_offers_claim_the_four_decisions_and_reassign() -> None:
    buttons = [b.to_dict() for b in card_buttons(make_card())]
    assert [b["action_id"] for b in buttons] == [
        ids.CLAIM,
        ids.QUALIFY,
        ids.DISQUALIFY,
        ids.NURTURE,
        ids.NEEDS_INFO,
        ids.MORE,
    ]
    assert {b.get("value") for b in buttons[:5]} == {"42"}
    assert buttons[5]["options"][0]["value"] == "reassign:42"


def test_a_claimed_card_offers_release_and_names_the_owner() -> None:
    card = make_card(owner_id="UDANA", status="claimed", claimed_at=RECEIVED, suggested_owner="USAM")
    blocks = as_json(lead_card(card))
    assert next(b["action_id"] for b in blocks[-1]["elements"]) == ids.RELEASE
    assert "Claimed by <@UDANA>" in json.dumps(blocks, ensure_ascii=False)
    assert "claimed by <@UDANA>" in fallback_text(card)


def test_an_unclaimed_card_names_the_suggested_owner() -> None:
    assert "suggested owner <@USAM>" in json.dumps(
        as_json(lead_card(make_card(suggested_owner="USAM"))), ensure_ascii=False
    )


def test_a_decided_card_shows_outcome_reason_and_only_reopen() -> None:
    card = make_card(
        owner_id="UDANA",
        outcome=Outcome.NOT_QUALIFIED,
        status="not_qualified",
        reason="spec_mismatch",
        reason_label="Spec mismatch",
        decided_by="UDANA",
        decided_at=RECEIVED,
    )
    blocks = as_json(lead_card(card))
    assert validate_message_blocks(blocks) == []
    assert [b["action_id"] for b in blocks[-1]["elements"]] == [ids.REOPEN]
    text = json.dumps(blocks, ensure_ascii=False)
    assert "*Not qualified* by <@UDANA>" in text and "Reason: Spec mismatch" in text


def test_a_nurtured_card_shows_its_follow_up_date() -> None:
    card = make_card(outcome=Outcome.NURTURE, decided_by="UDANA", follow_up_on=date(2027, 1, 15))
    assert "Follow up on 2027-01-15" in json.dumps(as_json(lead_card(card)), ensure_ascii=False)


lead_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=400)


@settings(max_examples=150, deadline=None)
@given(
    company=lead_text,
    name=st.none() | lead_text,
    title=st.none() | lead_text,
    message=st.none() | lead_text,
    problem=st.none() | lead_text,
    industry=st.none() | lead_text,
    source=st.none() | lead_text,
    label=lead_text,
    group=st.sampled_from(list(Group)),
    outcome=st.none() | st.sampled_from(list(Outcome)),
)
def test_any_lead_renders_a_card_slack_accepts(
    company: str,
    name: str | None,
    title: str | None,
    message: str | None,
    problem: str | None,
    industry: str | None,
    source: str | None,
    label: str,
    group: Group,
    outcome: Outcome | None,
) -> None:
    card = make_card(
        company=company or None,
        contact_name=name,
        contact_title=title,
        message=message,
        problem=problem,
        industry=industry,
        source=source,
        group=group,
        outcome=outcome,
        reasons=(CardReason(label or "x", 5, "fit"),),
        reason_label=label or None,
    )
    blocks = as_json(lead_card(card))
    assert validate_message_blocks(blocks) == []
    assert not [t for t in mrkdwn_texts(blocks) if SPECIAL.search(t)]
    assert not SPECIAL.search(fallback_text(card))


def test_text_helpers_escape_then_cut_without_splitting_entities() -> None:
    assert escape("<a & b>") == "&lt;a &amp; b&gt;"
    assert mrkdwn("&" * 10, 12) == "&amp;&amp;…"
    assert plain("  two\nlines  ", 5) == "two…"
    assert plain("", 10) == "-"


# ---------------------------------------------------------------------------
# Thread lines (the decision log)
# ---------------------------------------------------------------------------


def test_a_decision_line_says_who_when_what_and_why() -> None:
    line = thread_line(
        {
            "event": "decided",
            "actor": "UDANA",
            "at": "2026-11-23T15:00:00+00:00",
            "outcome": "not_qualified",
            "reason": "spec_mismatch",
            "reason_label": "Spec mismatch",
            "note": "Wrong <!channel> class",
        }
    )
    assert "*Not qualified* — decided by <@UDANA>" in line and "Reason: Spec mismatch" in line
    assert "2026-11-23 15:00 UTC" in line
    assert "&lt;!channel&gt;" in line and "<!channel>" not in line


def test_a_qualified_line_carries_the_fian_ratings_and_the_next_step() -> None:
    line = thread_line(
        {
            "event": "decided",
            "actor": "UDANA",
            "outcome": "qualified",
            "fian": {"fit": "confirmed", "intent": "confirmed", "authority": "partial", "need": None},
            "next_step": "Site visit",
            "next_step_on": "2026-12-01",
        }
    )
    assert "*Known:* Fit, Intent confirmed" in line
    assert "*Missing:* Authority partial" in line
    assert "*Next:* Site visit (by 2026-12-01) · <@UDANA>" in line


def test_ownership_lines_name_the_people_involved() -> None:
    assert "<@UMANAGER> reassigned this lead from <@UDANA> to <@USAM>" in thread_line(
        {"event": "reassigned", "actor": "UMANAGER", "from": "UDANA", "to": "USAM"}
    )
    assert "<@UDANA> reopened this lead (was Nurture)" in thread_line(
        {"event": "reopened", "actor": "UDANA", "previous": "nurture"}
    )
    assert "Missing: specs, site details" in thread_line(
        {"event": "decided", "actor": "UDANA", "outcome": "needs_info", "missing": ["specs", "site"]}
    )


def test_a_card_copy_with_changes_is_still_a_frozen_read_model() -> None:
    card = make_card()
    copy = dataclasses.replace(card, owner_id="UDANA")
    # LeadCard.claimed was only read here; the same check, spelled out.
    assert (copy.owner_id is not None and copy.outcome is None) and not (
        card.owner_id is not None and card.outcome is None
    )
