"""Bolt listeners, one module per use, registered per kind (actions, views, commands, events)."""

from __future__ import annotations

from typing import Any

from blocks.text import escape
from leadqual.errors import LeadNotFound

MAX_LEAD_ID = 2**63 - 1  # leads.id is a BIGINT


def lead_id_of(action: dict[str, Any]) -> int:
    """The lead a card button (value) or overflow option (`reassign:<id>`) is about."""
    value = action.get("value") or (action.get("selected_option") or {}).get("value") or ""
    return lead_id(str(value).rsplit(":", 1)[-1])


def lead_id(value: object) -> int:
    """`value` as a lead id; LeadNotFound (told to the user as such) when it cannot name a lead.

    A value that was no number, or beyond BIGINT, raised ValueError or a database overflow
    instead: the user read "Something went wrong on Leadbot's side" and a failure was logged.
    """
    try:
        number = int(str(value))
    except ValueError:
        raise LeadNotFound(escape(str(value)[:40])) from None
    if not 0 < number <= MAX_LEAD_ID:
        raise LeadNotFound(number)
    return number


def action_key(action: dict[str, Any], lead_id: int, user_id: str) -> str:
    """The idempotency key of one click: a retried delivery repeats it, a second click does not."""
    return f"{action['action_id']}:{lead_id}:{user_id}:{action.get('action_ts', '')}"


def card_metadata(body: dict[str, Any], lead_id: int) -> dict[str, Any]:
    """Which lead and card a modal opened from a card is about (its private_metadata)."""
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    return {"lead": lead_id, "channel": channel, "ts": container.get("message_ts")}
