"""The quick screen on the card: four answers in one compact context block, the unknowns as "ask early"."""

from __future__ import annotations

import json
from typing import Any

from blocks.cards import lead_card
from leadqual.lead import Outcome
from leadqual.screen import Answer, Question, ScreenAnswer
from leadqual.services import cards
from leadqual.services.context import Context
from leadqual.services.intake import ingest, validate_leads
from tests.bot_helpers import HOSTILE_NAME, make_card
from tests.slack_standin import validate_message_blocks

SCREEN = (
    ScreenAnswer(Question.TARGET, "Target industry and region", Answer.YES, "Which industry?"),
    ScreenAnswer(Question.CAPABILITY, "Within capability", Answer.NO, "What product?"),
    ScreenAnswer(Question.NEED, "A clear need", Answer.UNKNOWN, "What problem exists today?"),
    ScreenAnswer(Question.TECHNICAL_CONTACT, "A technical contact", Answer.UNKNOWN, "Who is the engineer?"),
)


def screen_block(blocks: list[dict[str, Any]]) -> str:
    [text] = [
        e["text"]
        for b in blocks
        if b["type"] == "context"
        for e in b["elements"]
        if "Quick screen" in e.get("text", "")
    ]
    return str(text)


def test_the_card_shows_each_answer_and_lists_the_unknowns_to_ask_early() -> None:
    blocks = [b.to_dict() for b in lead_card(make_card(screen=SCREEN))]
    assert validate_message_blocks(blocks) == []
    text = screen_block(blocks)
    assert text == (
        "*Quick screen:* ✅ Target industry and region · ❌ Within capability · ❔ A clear need · ❔ A technical contact"
        "\n*Ask early:* What problem exists today? · Who is the engineer?"
    )
    assert len(blocks) == len(lead_card(make_card())) + 1  # one block, whatever the answers


def test_a_card_with_no_unknown_has_no_ask_early_line() -> None:
    known = tuple(ScreenAnswer(a.question, a.label, Answer.YES, a.ask) for a in SCREEN)
    assert "Ask early" not in screen_block([b.to_dict() for b in lead_card(make_card(screen=known))])


def test_a_decided_card_keeps_its_answers_but_no_longer_asks() -> None:
    decided = make_card(screen=SCREEN, outcome=Outcome.QUALIFIED, decided_by="U0REP", status="qualified")
    text = screen_block([b.to_dict() for b in lead_card(decided)])
    assert "❔ A clear need" in text and "Ask early" not in text


def test_configured_labels_are_escaped_on_the_card() -> None:
    hostile = (ScreenAnswer(Question.TARGET, HOSTILE_NAME[:60], Answer.UNKNOWN, "<!channel> ask?"),)
    blocks = [b.to_dict() for b in lead_card(make_card(screen=hostile))]
    text = screen_block(blocks)
    assert "<!channel>" not in text and "&lt;!channel&gt; ask?" in text


def test_a_stored_lead_card_carries_its_screen_from_what_the_lead_sent(ctx: Context) -> None:
    record = {
        "external_id": "screen-1",
        "company": {"name": "Acme Metals", "industry": "metals", "country": "US"},
        "contact": {"email": "dana@acmemetals.com", "title": "Purchasing Agent"},
        "message": "Send me a price list.",
    }
    [stored] = ingest(ctx, validate_leads([record]))
    card = cards.read_card(ctx, lead_id=stored.id)
    assert [(a.question, a.answer) for a in card.screen] == [
        (Question.TARGET, Answer.YES),
        (Question.CAPABILITY, Answer.UNKNOWN),
        (Question.NEED, Answer.UNKNOWN),
        (Question.TECHNICAL_CONTACT, Answer.NO),
    ]
    text = json.dumps([b.to_dict() for b in lead_card(card)], ensure_ascii=False)
    assert ctx.config.screen.need.ask in text and ctx.config.screen.technical_contact.ask not in text
