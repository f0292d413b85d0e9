"""The card shows the account's earlier leads and how each ended (who, outcome, reason, date)."""

from __future__ import annotations

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

from blocks.account_history import history_line
from blocks.cards import lead_card
from leadqual.lead import Outcome
from leadqual.routing.accounts import AccountLead
from leadqual.services import triage
from tests.bot_helpers import (
    PRIORITY_LEAD,
    RECEIVED,
    Bot,
    add_lead,
    bot_fixture,  # noqa: F401  (the `bot` fixture)
    make_card,
)
from tests.conftest import Clock

ACME = {**PRIORITY_LEAD["company"], "domain": "acmemetals.com"}


def posted_cards(bot: Bot) -> list[str]:
    return [json.dumps(c.params.get("blocks"), ensure_ascii=False) for c in bot.slack.calls_to("chat.postMessage")]


def test_the_card_of_a_known_account_lists_its_earlier_leads_and_how_each_ended(bot: Bot, clock: Clock) -> None:
    first = add_lead(bot.ctx, company=ACME)
    triage.claim(bot.ctx, lead_id=first, user_id="UCARL")
    decided_on = clock.now.astimezone(bot.ctx.config.tz).date().isoformat()
    triage.decide(
        bot.ctx,
        lead_id=first,
        user_id="UCARL",
        decision=triage.DecisionInput(outcome=Outcome.NOT_QUALIFIED, reason="timing"),
    )
    clock.advance(days=3)
    second = add_lead(bot.ctx, company=ACME)
    claimed_on = clock.now.astimezone(bot.ctx.config.tz).date().isoformat()
    triage.claim(bot.ctx, lead_id=second, user_id="UDANA")
    clock.advance(days=1)
    third = add_lead(bot.ctx, company=ACME)
    other = add_lead(bot.ctx, company={**ACME, "domain": "elsewhere.com"})
    bot.deliver()

    reason = bot.ctx.config.reason("timing")
    assert reason is not None
    [card] = [c for c in posted_cards(bot) if f"Lead #{third} " in c]
    assert "Earlier leads at acmemetals.com" in card
    assert f"#{second} claimed by <@UDANA> · {claimed_on}" in card
    assert f"#{first} Not qualified by <@UCARL> ({reason.label}) · {decided_on}" in card
    assert card.index(f"#{second} ") < card.index(f"#{first} ")  # newest first
    [unrelated] = [c for c in posted_cards(bot) if f"Lead #{other} " in c]
    assert "Earlier leads" not in unrelated
    [oldest] = [c for c in posted_cards(bot) if f"Lead #{first} " in c and "Earlier" not in c]
    assert f"#{third} " not in oldest  # later leads are not "earlier"


def test_a_card_without_earlier_leads_has_no_history_block() -> None:
    blocks = lead_card(make_card())
    assert "Earlier leads" not in json.dumps([b.to_dict() for b in blocks])


def test_a_history_line_escapes_what_came_from_a_crm_import() -> None:
    lead = AccountLead(
        lead_id=7,
        name="x",
        received_at=RECEIVED,
        who="<!channel>",
        outcome="qualified",
        reason="<!here>",
        at=RECEIVED + timedelta(days=1),
    )
    line = history_line(lead, ZoneInfo("UTC"))
    assert "<!" not in line and line.startswith("• #7 Qualified to pursue by &lt;!channel&gt;")
