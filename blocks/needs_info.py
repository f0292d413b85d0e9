"""Needs info comes back: the Info received modal, its thread line, and the owner's reminder DM."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block, CheckboxesElement, InputBlock, Option
from slack_sdk.models.views import View

from blocks import ids
from blocks.handoff import missing_words
from blocks.modals import State, about, modal, note_input, value_of
from blocks.text import SECTION, day, fit_mrkdwn, mention, one_line
from leadqual.decisions import MISSING_DETAILS
from leadqual.readmodels import LeadCard

PART = 300


def info_received_modal(card: LeadCard, *, metadata: str) -> View:
    """What arrived (the missing details, all ticked to start with) and a note."""
    options = [Option(value=key, label=label) for key, label in MISSING_DETAILS.items()]
    initial = [o for o in options if o.value in card.missing] or None
    blocks: list[Block] = [
        about(card),
        InputBlock(
            block_id=ids.ARRIVED,
            label="What arrived?",
            hint="The lead goes back to its owner, claimed and undecided.",
            element=CheckboxesElement(action_id=ids.ARRIVED, options=options, initial_options=initial),
        ),
        note_input(),
    ]
    return modal(ids.INFO_RECEIVED_VIEW, "Info received", blocks, metadata=metadata, submit="Back to owner")


def read_info_received(state: State) -> tuple[tuple[str, ...], str | None]:
    """(the details ticked as arrived, the note) from a submission."""
    return tuple(value_of(state, ids.ARRIVED) or ()), value_of(state, ids.NOTE)


def info_received_text(payload: dict[str, Any], actor: str) -> str:
    """`📬 @rep: info received (specs, timeline); back with @owner, claimed and undecided`."""
    arrived = missing_words(payload.get("arrived") or ())
    text = f"📬 {actor}: info received" + (f" ({one_line(arrived, PART)})" if arrived else "")
    owner = payload.get("owner")
    text += f"; back with {mention(owner)}, claimed and undecided" if owner else "; back in the queue"
    still = missing_words(payload.get("still_missing") or ())
    if still:
        text += f"\nStill missing: {one_line(still, PART)}"
    return text


def reminder_text(payload: dict[str, Any], *, lead: str, tz: ZoneInfo | None = None) -> str:
    """The owner's DM: `lead` (escaped, linked) still waits for what was missing."""
    days = int(payload.get("days") or 0)
    since = ""
    if isinstance(payload.get("decided_at"), str):
        try:
            since = f" since {day(datetime.fromisoformat(payload['decided_at']), tz)}"
        except ValueError:
            since = ""
    missing = missing_words(payload.get("missing") or ())
    text = f"❓ {lead} has been waiting for info{since} ({days} day{'s' if days != 1 else ''} or more)."
    if missing:
        text += f"\nStill missing: {one_line(missing, PART)}."
    text += "\nWhen it arrives, press *Info received* on the card; if it will not, decide the lead."
    return fit_mrkdwn(text, SECTION)


def is_reminder(payload: dict[str, Any]) -> bool:
    return payload.get("needs_info") == "reminder" and "text" not in payload
