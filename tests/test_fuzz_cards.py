"""Fuzzing what Slack would show of a lead: score it, build its card, modals, Home rows and thread lines.

Hypothesis makes leads in the v1 format from hostile text (Slack mentions and links, `&<>`,
RTL, emoji, control characters, text at the length limits) and card states (claimed, decided,
imported from a CRM with a free-text `decided_by`). Each lead is validated, scored with the
packaged rules and turned into the card's read model exactly as the worker does
(`intake.prepare` builds the row, `cards.card_for` reads it); no database is needed for that.
A last property goes through a real database (SQLite and PostgreSQL): intake, triage and
`render_outbox`, i.e. what the worker would send.

Every rendered message must pass slack_sdk's validation and the stricter Slack stand-in's,
stay within Slack's limits, and contain no `<`, `>` or `&` from lead data except escaped:
the only mentions, links and channel references left are the ones the builder means (a
stored Slack user id, a card permalink, the leads channel).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from pydantic import ValidationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from blocks.cards import fallback_text, lead_card
from blocks.errors import user_message
from blocks.home import home_view
from blocks.modals import (
    disqualify_modal,
    encode_metadata,
    needs_info_modal,
    nurture_modal,
    qualify_modal,
    reassign_modal,
)
from blocks.text import FALLBACK_TEXT, HEADER, SECTION, SECTION_FIELD
from blocks.thread import thread_line
from bot.slack.listeners.views.add_lead import added_message
from bot.slack.messages import render_outbox
from leadqual.config import default_rules_path, load_config
from leadqual.db.models import LeadRow, OutboxMessage
from leadqual.decisions import FIAN, MISSING_DETAILS, DecisionInput, Rating, check_decision
from leadqual.errors import AlreadyClaimed, NotOwner
from leadqual.groups import Group
from leadqual.lead import Lead, Outcome
from leadqual.readmodels import Home, LeadCard
from leadqual.rules import load_ruleset_file
from leadqual.scoring import Ruleset, score
from leadqual.services import cards, outbox, triage
from leadqual.services.context import Context
from leadqual.services.intake import Ingested, ingest, prepare
from tests.slack_standin import (
    MAX_MESSAGE_BLOCKS,
    MAX_TEXT_LENGTH,
    MAX_VIEW_BLOCKS,
    validate_message_blocks,
    validate_view,
)

CHANNEL = "C0LEADS"
CARD_TS = "1700000000.000100"
CONFIG = load_config().with_overrides(channel=CHANNEL, managers=["UMANAGER"])
SPEC = load_ruleset_file(default_rules_path())
RULESET = Ruleset.compile(SPEC)
MOTIONS = [(s.id, s.label or s.id) for s in SPEC.segments]
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)

# The read model is built by the real `card_for`; its only database use is the compiled ruleset
# of the lead's version, which this Context already holds, so its sessions never connect.
PLAIN = Context(session_factory=sessionmaker(), config=CONFIG, clock=lambda: NOW, _compiled={RULESET.version: RULESET})


def fuzz(examples: int) -> hsettings:
    """Hypothesis settings for a rendering property (no deadline: slack_sdk's validation is not fast)."""
    return hsettings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
    )


# ---------------------------------------------------------------------------
# Hostile text and leads
# ---------------------------------------------------------------------------

# What a lead must never do in Slack: ping, link, or break the markup (the brief's classics first).
CLASSICS = [
    "<!channel>",
    "<!here>",
    "<@U123>",
    "<#C123>",
    "<https://evil|x>",
    "&",
    "<",
    ">",
    "<!everyone>",
    "<!subteam^S123>",
    "<mailto:a@b.c|mail>",
    "<@W0BOSS|boss>",
    "<!date^1^{date}|x>",
    "&amp;",
    "&lt;",
    "&#60;",
    "*bold*",
    "_it_",
    "~s~",
    "`c`",
    "```",
    "> quote",
    "\n> quote",
    "{lead}",
    "|",
    "<>",
    "<<>>",
    "<a|b|c>",
    "https://evil.example",
    "<!channel",
    "!here>",
]
DECOR = [
    "مصنع الصلب",
    "שלום",
    "\u202eevil\u202c",
    "\u200b",
    "e\u0301",
    "🔥",
    "👩\u200d👩\u200d👧",
    "漢字",
    "\x07",
    "\x1b[31m",
    "\u2028",
    "\r\n",
    "\n",
    "\t",
    " ",
    "\u3000",
]
piece = st.one_of(
    st.sampled_from(CLASSICS),
    st.sampled_from(CLASSICS),
    st.sampled_from(DECOR),
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=10),
)


def hostile(limit: int = 300) -> st.SearchStrategy[str]:
    """Lead text: classics mixed with any Unicode, or one of them repeated up to `limit` characters."""
    return st.one_of(
        st.lists(piece, min_size=1, max_size=8).map("".join).map(lambda t: t[:limit]),
        st.builds(
            lambda p, n: (p * (limit // max(1, len(p)) + 1))[:n],
            st.sampled_from(CLASSICS + DECOR),
            st.integers(limit - 5, limit),
        ),
    )


SLACK_IDS = ["U0DANA", "U0SAM", "W0BOSS", "UMANAGER"]
user_id = st.sampled_from(SLACK_IDS)


def lead_records() -> st.SearchStrategy[dict[str, Any]]:
    text, long = hostile(), hostile(10_000)
    return st.fixed_dictionaries(
        {
            "company": st.fixed_dictionaries(
                {"name": text},
                optional={
                    "industry": st.one_of(st.sampled_from(["metals", "water"]), text),
                    "country": st.one_of(st.sampled_from(["US", "MX", "DE"]), text),
                    "region": text,
                    "employees": st.integers(0, 10_000_000),
                },
            ),
            "contact": st.fixed_dictionaries(
                {},
                optional={
                    "name": text,
                    "title": st.one_of(st.sampled_from(["Maintenance Manager", "Student"]), text),
                    "email": st.sampled_from(["dana@acmemetals.com", "x@gmail.com"]),
                    "phone": text,
                },
            ),
        },
        optional={
            "source": text,
            "campaign": text,
            "offer": st.one_of(st.just("rfq"), text),
            "received_at": st.sampled_from(
                ["2026-11-20T14:03:00Z", "0001-01-02T00:00:00Z", "9999-12-30T00:00:00Z", "2026-03-08T08:30:00+14:00"]
            ),
            "signals": st.lists(
                st.fixed_dictionaries(
                    {"type": st.sampled_from(["rfq_request", "page_view", "spec_sheet_download", "bom_review"])},
                    optional={"value": text},
                ),
                max_size=6,
            ),
            "need": st.fixed_dictionaries(
                {},
                optional={
                    "scope": st.one_of(st.sampled_from(["replacement", "upgrade"]), text),
                    "problem": long,
                    "needed_by": st.dates(min_value=date(1, 1, 2), max_value=date(9999, 12, 30)).map(date.isoformat),
                },
            ),
            "message": long,
            "attributes": st.dictionaries(text, text, max_size=3),
            "outcome": st.fixed_dictionaries(
                {"status": st.sampled_from(list(Outcome))},
                optional={
                    "reason": st.one_of(st.sampled_from(["spam", "timing"]), hostile(64)),
                    "decided_by": st.one_of(user_id, hostile(64)),
                },
            ),
        },
    )


def validated(record: dict[str, Any]) -> Lead:
    try:
        return Lead.model_validate(record)
    except ValidationError:
        assume(False)  # a lead intake refuses never reaches Slack
        raise


# The state a card can be in, on top of what intake stored.
moments = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC))
card_state = st.fixed_dictionaries(
    {},
    optional={
        "owner_id": user_id,
        "suggested_owner": user_id,
        "claimed_at": moments,
        "outcome": st.sampled_from(list(Outcome)),
        "decided_by": st.one_of(user_id, hostile(64)),
        "decided_at": moments,
        "reason": st.one_of(st.sampled_from([r.code for r in CONFIG.reasons]), hostile(64)),
        "follow_up_on": moments,
        "posted": st.booleans(),
        "details": st.fixed_dictionaries(
            {},
            optional={
                "next_step": hostile(300),
                "missing": st.lists(st.one_of(st.sampled_from(["specs", "site"]), hostile(40)), max_size=6),
                "artefacts": st.lists(st.one_of(st.sampled_from(["drawings", "lead_time"]), hostile(40)), max_size=5),
                "fian": st.dictionaries(st.sampled_from(["fit", "intent", "authority", "need"]), hostile(20)),
            },
        ),
    },
)


def card_of(lead: Lead, state: dict[str, Any], *, lead_id: int = 42) -> LeadCard:
    """Score `lead`, build its stored row as intake does, apply `state`, and read the card as the worker does."""
    row = prepare(lead, RULESET, NOW)
    row["group"] = row.pop("score_group")  # the column's attribute name on LeadRow
    # JSON columns hand back parsed JSON; prepare holds it serialised for the insert.
    row |= {"id": lead_id, "payload": json.loads(row["payload"]), "hits": json.loads(row["hits"])}
    stored = LeadRow(**row)
    details: dict[str, Any] = {}
    for key, value in state.items():
        if key == "details":
            details = value
        elif key == "posted":
            stored.channel_id, stored.message_ts = (CHANNEL, CARD_TS) if value else (None, None)
        elif key == "outcome":
            stored.outcome = stored.status = value.value
        else:
            setattr(stored, key, value)
    with Session() as unbound:
        return cards.card_for(PLAIN, unbound, stored, details=details)


# ---------------------------------------------------------------------------
# What counts as escaped
# ---------------------------------------------------------------------------

MENTION = re.compile(r"<@([A-Z0-9]+)>")
CHANNEL_REF = re.compile(r"<#([A-Z0-9]+)>")
CARD_LINK = re.compile(r"<https://slack\.com/archives/([A-Z0-9]+)/p(\d+)\|([^<>]*)>")
QUOTE = re.compile(r"(?m)^> ")  # the builder quotes the lead's message line by line
ENTITY = re.compile(r"&(amp|lt|gt);")


def unescaped(text: str, *, users: Iterable[str] = (), channels: Iterable[str] = (CHANNEL,)) -> list[str]:
    """What in mrkdwn `text` Slack would turn into a ping, a link or markup that the builder did not mean.

    The builder's own constructs are mentions of stored Slack user ids, card permalinks (whose
    label is lead data, so it is checked like the rest) and the leads channel; after taking those
    out, any `<` or `>` (bar a line-start quote) or a bare `&` came from lead data unescaped.
    """
    problems = [f"mention of {u}" for u in MENTION.findall(text) if u not in set(users)]
    problems += [f"channel {c}" for c in CHANNEL_REF.findall(text) if c not in set(channels)]
    problems += [f"link to {c}" for c, _, _ in CARD_LINK.findall(text) if c not in set(channels)]
    rest = CARD_LINK.sub(lambda m: m.group(3), text)
    rest = QUOTE.sub("", CHANNEL_REF.sub("", MENTION.sub("", rest)))
    if "<" in rest or ">" in rest:
        problems.append(f"raw angle bracket in {rest[max(0, rest.find('<') - 20) :][:80]!r}")
    if "&" in ENTITY.sub("", rest):
        problems.append("bare &")
    return problems


def texts(node: Any, kind: str) -> list[str]:
    """Every `kind` ("mrkdwn" or "plain_text") text in a Block Kit tree."""
    if isinstance(node, dict):
        found = [node["text"]] if node.get("type") == kind and isinstance(node.get("text"), str) else []
        return found + [t for v in node.values() for t in texts(v, kind)]
    if isinstance(node, list):
        return [t for v in node for t in texts(v, kind)]
    return []


def as_json(value: Any) -> Any:
    """What goes over the wire: must be valid UTF-8 JSON (a lone surrogate would fail here)."""
    return json.loads(json.dumps(value, ensure_ascii=False).encode("utf-8"))


def users_in(card: LeadCard) -> set[str]:
    return {u for u in (card.owner_id, card.decided_by, card.suggested_owner) if u}


def check_message(blocks: list[Block], text: str, *, users: set[str]) -> list[dict[str, Any]]:
    """A message's blocks and notification text: valid for slack_sdk and the stand-in, in limits, escaped."""
    raw = as_json([b.to_dict() for b in blocks])
    assert len(raw) <= MAX_MESSAGE_BLOCKS
    for block in raw:
        parsed = Block.parse(dict(block))
        assert parsed is not None
        parsed.validate_json()  # slack_sdk's own checks
    assert validate_message_blocks(raw) == []  # the stand-in's stricter ones
    for block in raw:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= HEADER
        for field in block.get("fields") or ():
            assert len(field["text"]) <= SECTION_FIELD
    assert 0 < len(text) <= min(FALLBACK_TEXT, MAX_TEXT_LENGTH)
    for mrkdwn in [*texts(raw, "mrkdwn"), text]:
        assert len(mrkdwn) <= SECTION
        assert unescaped(mrkdwn, users=users) == [], mrkdwn
    return raw


def check_view(view: View, *, users: set[str]) -> dict[str, Any]:
    raw = as_json(view.to_dict())
    view.validate_json()
    assert validate_view(raw) == []
    assert len(raw["blocks"]) <= MAX_VIEW_BLOCKS
    for mrkdwn in texts(raw, "mrkdwn"):
        assert len(mrkdwn) <= SECTION
        assert unescaped(mrkdwn, users=users) == [], mrkdwn
    return raw


# ---------------------------------------------------------------------------
# The card (plain objects)
# ---------------------------------------------------------------------------

HOSTILE = "<!channel> <!here> <@U123> <#C123> <https://evil|x> & < >"


@fuzz(300)
@given(record=lead_records(), state=card_state)
@example(
    record={
        "company": {"name": HOSTILE},
        "contact": {"name": "<!here>", "title": "<@U123>"},
        "message": "<!channel>\n> <https://evil|x>\n&lt;",
        "campaign": "<#C123>",
    },
    state={},
)
@example(
    record={"company": {"name": "<https://evil|x>" * 20}, "message": "&" * 10_000, "need": {"problem": "<" * 10_000}},
    state={"outcome": Outcome.NOT_QUALIFIED, "decided_by": "<!here>", "reason": "<@U123>", "owner_id": "U0DANA"},
)
@example(
    record={
        "company": {"name": "&" * 300},
        "contact": {"title": ">" * 300},
        "outcome": {"status": "qualified", "decided_by": "<!channel>" * 6},
    },
    state={"posted": True},
)
def test_any_lead_scores_in_range_and_its_card_is_valid_block_kit_that_pings_and_links_nothing(
    record: dict[str, Any], state: dict[str, Any]
) -> None:
    lead = validated(record)
    scored = score(lead, RULESET)
    assert 0 <= scored.fit <= 100 and 0 <= scored.intent <= 100 and isinstance(scored.group, Group)
    assert all(h.rule_id in {r.id for r in SPEC.rules} for h in scored.hits)

    card = card_of(lead, state)
    assert (card.fit, card.intent, card.group) == (scored.fit, scored.intent, scored.group)
    raw = check_message(lead_card(card, tz=CONFIG.tz), fallback_text(card), users=users_in(card))
    [actions] = [b for b in raw if b["type"] == "actions"]
    # Buttons carry the lead id and nothing the lead said.
    assert all(e["value"] == str(card.id) for e in actions["elements"] if e["type"] == "button")


# ---------------------------------------------------------------------------
# Modals and the App Home (plain objects)
# ---------------------------------------------------------------------------


@fuzz(120)
@given(record=lead_records(), state=card_state, rows=st.integers(1, 15))
@example(
    record={"company": {"name": HOSTILE}, "contact": {"name": "<!here>", "title": "&<>" * 100}},
    state={"owner_id": "U0DANA", "posted": True},
    rows=15,
)
def test_every_modal_and_home_row_about_any_lead_is_a_valid_view_that_pings_and_links_nothing(
    record: dict[str, Any], state: dict[str, Any], rows: int
) -> None:
    card = card_of(validated(record), state)
    users = users_in(card)
    metadata = encode_metadata(lead=card.id, channel=card.channel_id, ts=card.message_ts)
    for view in (
        qualify_modal(card, motions=MOTIONS, metadata=metadata),
        disqualify_modal(card, reasons=CONFIG.reasons, metadata=metadata),
        nurture_modal(card, metadata=metadata),
        needs_info_modal(card, metadata=metadata),
    ):
        check_view(view, users=users)
    if card.owner_id:  # Reassign shows the current owner in a user picker
        check_view(reassign_modal(card, metadata=metadata), users=users)
    decided = card if card.outcome else None
    home = Home(
        user_id="U0DANA",
        open_claims=(card,) * rows,
        open_total=rows + 3,
        follow_ups=(decided,) * rows if decided else (),
        follow_ups_total=rows if decided else 0,
        week=None,
    )
    check_view(home_view(home, tz=CONFIG.tz), users=users)


# ---------------------------------------------------------------------------
# Thread lines and ephemeral answers (plain objects)
# ---------------------------------------------------------------------------

at = st.one_of(moments.map(datetime.isoformat), st.just("not a time"), st.none())
thread_payloads = st.one_of(
    st.fixed_dictionaries({"event": st.just("claimed"), "actor": user_id, "at": at}),
    st.fixed_dictionaries({"event": st.just("released"), "actor": user_id, "at": at, "owner": user_id}),
    st.fixed_dictionaries(
        {
            "event": st.just("reassigned"),
            "actor": user_id,
            "at": at,
            "from": st.one_of(st.none(), user_id),
            "to": user_id,
        }
    ),
    st.fixed_dictionaries(
        {
            "event": st.just("reopened"),
            "actor": user_id,
            "at": at,
            "previous": st.one_of(st.sampled_from(list(Outcome)).map(str), hostile(64)),
        }
    ),
    st.fixed_dictionaries(
        {
            "event": st.just("decided"),
            "actor": user_id,
            "at": at,
            "outcome": st.sampled_from([o.value for o in Outcome]),
        },
        optional={
            "reason": hostile(64),
            "reason_label": hostile(),
            "note": hostile(3000),
            "fian": st.fixed_dictionaries({c: st.sampled_from([r.value for r in Rating]) for c in FIAN}),
            "motion": hostile(64),
            "next_step": hostile(300),
            "next_step_on": st.dates().map(date.isoformat),
            "follow_up_on": st.dates().map(date.isoformat),
            "missing": st.lists(st.one_of(st.sampled_from(list(MISSING_DETAILS)), hostile(40)), max_size=6),
        },
    ),
    st.fixed_dictionaries({"event": hostile(40), "actor": st.one_of(user_id, hostile(64)), "at": at}),
)


@fuzz(250)
@given(payload=thread_payloads, note=st.one_of(st.none(), hostile(3000)))
@example(
    payload={
        "event": "decided",
        "actor": "U0DANA",
        "at": NOW.isoformat(),
        "outcome": "not_qualified",
        "reason_label": "<!channel>",
        "next_step": "<https://evil|x>",
    },
    note="<@U123> & <#C123>",
)
def test_a_thread_line_for_any_change_is_within_slacks_limits_and_pings_and_links_nothing(
    payload: dict[str, Any], note: str | None
) -> None:
    line = thread_line({**payload, "note": note} if note is not None else payload, tz=CONFIG.tz)
    as_json(line)
    assert 0 < len(line) <= SECTION
    users = {v for k, v in payload.items() if k in ("actor", "owner", "from", "to") and v in SLACK_IDS}
    assert unescaped(line, users=users) == [], line


@fuzz(120)
@given(
    name=hostile(), owner=st.one_of(user_id, hostile(64)), duplicate=st.booleans(), group=st.sampled_from(list(Group))
)
@example(name=HOSTILE, owner="<!channel>", duplicate=False, group=Group.PRIORITY)
def test_ephemeral_answers_that_name_a_lead_or_its_owner_ping_and_link_nothing(
    name: str, owner: str, duplicate: bool, group: Group
) -> None:
    result = Ingested(id=7, external_id=None, fit=80, intent=60, group=group, duplicate=duplicate)
    users = {owner} if owner in SLACK_IDS else set()
    for text in (
        added_message(result, name, CONFIG.channel_for(group)),
        user_message(AlreadyClaimed(owner)),
        user_message(NotOwner(owner)),
    ):
        as_json(text)
        assert unescaped(text, users=users) == [], text


# ---------------------------------------------------------------------------
# Through the database: what the worker would send (SQLite and PostgreSQL)
# ---------------------------------------------------------------------------


def pending(ctx: Context, lead_id: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """Render every pending outbox row of the lead as the worker would, and mark it sent."""
    with ctx.transaction() as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.lead_id == lead_id, OutboxMessage.status == "pending")
            .order_by(OutboxMessage.id)
        ).all()
        for row in rows:
            kwargs = render_outbox(ctx, session, row)
            if row.kind == outbox.CARD:  # the worker records where the card landed
                lead = session.get(LeadRow, lead_id)
                assert lead is not None
                lead.channel_id, lead.message_ts = kwargs["channel"], CARD_TS
            row.status = "sent"
            yield row.kind, kwargs


@fuzz(25)
@given(record=lead_records(), note=hostile(3000), next_step=hostile(300))
@example(
    record={"company": {"name": HOSTILE}, "contact": {"title": "<@U123>"}, "message": "<!here>"},
    note="<!channel> <https://evil|x>",
    next_step="<#C123> & more",
)
def test_what_the_worker_sends_for_a_hostile_lead_through_the_database_pings_and_links_nothing(
    ctx: Context, record: dict[str, Any], note: str, next_step: str
) -> None:
    record = {
        **record,
        "outcome": None,
        "company": {**record["company"], "country": "US"},
        "signals": [{"type": "rfq_request"}],
    }  # routed, so it has a card to send
    lead = validated(record)
    [result] = ingest(ctx, [lead])
    assume(not result.duplicate and ctx.config.channel_for(result.group) is not None)
    sent = list(pending(ctx, result.id))
    triage.claim(ctx, lead_id=result.id, user_id="U0DANA")
    decision = DecisionInput(
        outcome=Outcome.QUALIFIED,
        fian={c: Rating.CONFIRMED for c in FIAN},
        next_step=next_step.strip()[:300] or "call",
        note=note,
        next_step_on=NOW.date(),
    )
    assume(not check_decision(decision, config=ctx.config, today=ctx.today()))
    triage.decide(ctx, lead_id=result.id, user_id="U0DANA", decision=decision)
    with ctx.transaction() as session:  # another slice's message naming the lead, e.g. an SLA reminder
        outbox.enqueue(
            session,
            outbox.THREAD,
            lead_id=result.id,
            channel_id=CHANNEL,
            payload={"text": "⏱ {lead} is still unclaimed"},
            now=ctx.now(),
        )
    sent += list(pending(ctx, result.id))

    kinds = [kind for kind, _ in sent]
    assert kinds.count(outbox.CARD) == 1 and outbox.CARD_UPDATE in kinds and kinds.count(outbox.THREAD) >= 3
    for _, kwargs in sent:
        if "blocks" in kwargs:
            check_message([Block.parse(b) for b in kwargs["blocks"]], kwargs["text"], users={"U0DANA"})
        else:
            as_json(kwargs["text"])
            assert 0 < len(kwargs["text"]) <= FALLBACK_TEXT
            assert unescaped(kwargs["text"], users={"U0DANA"}) == [], kwargs["text"]


@pytest.mark.parametrize("text", [c for c in CLASSICS if any(ch in c for ch in "<>&")])
def test_each_classic_is_shown_escaped_on_the_card_not_dropped(text: str) -> None:
    card = card_of(validated({"company": {"name": f"Acme {text}"}, "message": f"see {text}"}), {})
    shown = " ".join(texts(as_json([b.to_dict() for b in lead_card(card)]), "mrkdwn")) + fallback_text(card)
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").strip()
    assert escaped in shown
    assert unescaped(shown) == []


def test_a_moment_a_day_from_datetimes_limits_still_renders_in_the_configured_zone() -> None:
    # received_at is validated to 0001-01-02 .. 9999-12-30 UTC so the card's local time exists.
    for received in ("0001-01-02T00:00:00Z", "9999-12-30T00:00:00Z"):
        card = card_of(
            validated({"company": {"name": "Edge"}, "received_at": received}),
            {"claimed_at": datetime(1, 1, 2, tzinfo=UTC) + timedelta(hours=1), "owner_id": "U0DANA"},
        )
        check_message(lead_card(card, tz=CONFIG.tz), fallback_text(card), users={"U0DANA"})
