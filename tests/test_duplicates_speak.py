"""Duplicates speak: a duplicate of an open lead adds a line to its card's thread; intake still says duplicate."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from leadqual.db.models import Event, OutboxMessage
from leadqual.duplicates import what_is_new
from leadqual.services import triage
from leadqual.services.intake import ingest, validate_leads
from leadqual.statuses import IntakeEvent
from tests.bot_helpers import (
    PRIORITY_LEAD,
    Bot,
    bot_fixture,  # noqa: F401  (the `bot` fixture)
)

FIRST: dict[str, Any] = {**PRIORITY_LEAD, "external_id": "form-1"}
AGAIN: dict[str, Any] = {
    **PRIORITY_LEAD,
    "external_id": "hubspot:77",
    "source": "hubspot",
    "contact": {**PRIORITY_LEAD["contact"], "phone": "+1 555 0100"},
    "signals": [*PRIORITY_LEAD["signals"], {"type": "spec_sheet_download", "value": "P-200"}],
}


def thread_lines(bot: Bot) -> list[str]:
    return [c.params["text"] for c in bot.slack.calls_to("chat.postMessage") if c.params.get("thread_ts")]


def test_a_duplicate_of_an_open_lead_posts_what_is_new_in_the_cards_thread(bot: Bot) -> None:
    [first] = ingest(bot.ctx, validate_leads([FIRST]))
    bot.deliver()
    [again] = ingest(bot.ctx, validate_leads([AGAIN]))
    assert again.duplicate is True and again.id == first.id
    bot.deliver()
    [line] = thread_lines(bot)
    assert line.startswith("📨 The same contact sent this lead again (from hubspot, hubspot:77)")
    assert "`contact.phone` +1 555 0100" in line and "`source` hubspot" in line
    assert "signals spec_sheet_download:P-200" in line
    assert "rfq_request" not in line  # seen before: not news
    with bot.ctx.session_factory() as session:
        [event] = session.scalars(select(Event).where(Event.kind == IntakeEvent.DUPLICATE)).all()
    assert event.lead_id == first.id and event.data["source"] == "hubspot"


def test_a_long_source_and_message_still_store_and_the_line_keeps_a_line_of_them(bot: Bot) -> None:
    ingest(bot.ctx, validate_leads([FIRST]))
    bot.deliver()
    [again] = ingest(bot.ctx, validate_leads([{**AGAIN, "source": "s" * 200, "message": "m" * 5000}]))
    assert again.duplicate is True
    bot.deliver()
    [line] = thread_lines(bot)
    assert "`message` " + "m" * 50 in line and len(line) < 3000


def test_the_same_duplicate_sent_twice_and_resends_of_the_first_lead_say_nothing_more(bot: Bot) -> None:
    ingest(bot.ctx, validate_leads([FIRST]))
    bot.deliver()
    ingest(bot.ctx, validate_leads([AGAIN]))
    [resend] = ingest(bot.ctx, validate_leads([FIRST]))  # a retried request: same external id
    assert resend.duplicate is True
    bot.deliver()
    with bot.ctx.session_factory() as session:
        lines = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "thread")).all()
    assert len(lines) == 1
    ingest(bot.ctx, validate_leads([{**AGAIN, "external_id": None}]))  # new content: a second line
    ingest(bot.ctx, validate_leads([{**AGAIN, "external_id": None}]))  # the same again: nothing
    bot.deliver()
    assert len(thread_lines(bot)) == 2


def test_a_duplicate_of_a_decided_lead_is_a_new_lead(bot: Bot) -> None:
    [first] = ingest(bot.ctx, validate_leads([FIRST]))
    triage.decide(
        bot.ctx,
        lead_id=first.id,
        user_id="UMANAGER",
        decision=triage.DecisionInput(outcome=triage.Outcome.NOT_QUALIFIED, reason="timing"),
    )
    [later] = ingest(bot.ctx, validate_leads([{**AGAIN, "external_id": "hubspot:78"}]))
    assert later.duplicate is False and later.id != first.id


def test_what_is_new_lists_changed_fields_and_unseen_signals_only() -> None:
    stored = {"source": "web_form", "company": {"name": "Acme", "employees": 850}, "signals": [{"type": "rfq"}]}
    incoming = {
        "source": "web_form",
        "external_id": "x-2",
        "company": {"name": "Acme", "employees": 900, "region": "TX"},
        "signals": [{"type": "rfq"}, {"type": "page_view", "value": "/pricing"}],
    }
    new = what_is_new(stored, incoming)
    assert new.fields == (("company.employees", "900"), ("company.region", "TX"))
    assert new.signals == ("page_view:/pricing",)
    assert what_is_new(stored, stored).empty


def test_the_same_contact_twice_in_one_batch_speaks_once_and_a_resend_of_the_batch_says_nothing(bot: Bot) -> None:
    first, again = ingest(bot.ctx, validate_leads([FIRST, AGAIN]))
    assert first.duplicate is False and again.duplicate is True and again.id == first.id
    ingest(bot.ctx, validate_leads([FIRST, AGAIN]))  # the whole request retried
    ingest(bot.ctx, validate_leads([AGAIN]))  # the duplicate alone, as it was
    bot.deliver()
    [line] = thread_lines(bot)
    assert "hubspot:77" in line
    with bot.ctx.session_factory() as session:
        events = session.scalars(select(Event).where(Event.kind == IntakeEvent.DUPLICATE)).all()
    assert [e.lead_id for e in events] == [first.id]


def test_a_duplicate_of_a_lead_without_a_card_is_recorded_once_however_often_it_is_resent(bot: Bot) -> None:
    [first] = ingest(bot.ctx, validate_leads([FIRST]), post=False)
    for _ in range(3):
        ingest(bot.ctx, validate_leads([AGAIN]))
    with bot.ctx.session_factory() as session:
        events = session.scalars(select(Event).where(Event.kind == IntakeEvent.DUPLICATE)).all()
        lines = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "thread")).all()
    assert [e.lead_id for e in events] == [first.id] and lines == []


def test_a_resend_of_a_lead_with_a_float_postgres_gives_back_as_a_decimal_says_nothing(bot: Bot) -> None:
    # Found by test_fuzz_intake: jsonb returns -6.042740126082157e+16 as the integer -60427401260821570,
    # which Python does not count equal to the float, so the resend looked like new content and spoke.
    lead = {**PRIORITY_LEAD, "external_id": None, "attributes": {"size": -6.042740126082157e16, "ratio": 0.1}}
    [first] = ingest(bot.ctx, validate_leads([lead]))
    [again] = ingest(bot.ctx, validate_leads([lead]))
    assert again.duplicate is True and again.id == first.id
    with bot.ctx.session_factory() as session:
        assert session.scalars(select(Event).where(Event.kind == IntakeEvent.DUPLICATE)).all() == []
