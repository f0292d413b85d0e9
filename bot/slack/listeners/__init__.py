"""Bolt listeners, one module per use, registered per kind (actions, views, commands, events)."""

from __future__ import annotations

from typing import Any


def lead_id_of(action: dict[str, Any]) -> int:
    """The lead a card button (value) or overflow option (`reassign:<id>`) is about."""
    value = action.get("value") or (action.get("selected_option") or {}).get("value") or ""
    return int(str(value).rsplit(":", 1)[-1])


def action_key(action: dict[str, Any], lead_id: int, user_id: str) -> str:
    """The idempotency key of one click: a retried delivery repeats it, a second click does not."""
    return f"{action['action_id']}:{lead_id}:{user_id}:{action.get('action_ts', '')}"


def card_metadata(body: dict[str, Any], lead_id: int) -> dict[str, Any]:
    """Which lead and card a modal opened from a card is about (its private_metadata)."""
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    return {"lead": lead_id, "channel": channel, "ts": container.get("message_ts")}
