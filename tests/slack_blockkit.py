"""Block Kit as Slack checks it, for the stand-ins: slack_sdk's own models plus the limits they skip.

`validate_message_blocks` and `validate_view` return the errors Slack would answer with
`invalid_blocks` (JSON-pointer style paths), or an empty list.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.basic_objects import JsonObject
from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    HeaderBlock,
    InputBlock,
    SectionBlock,
    TextObject,
)
from slack_sdk.models.views import View

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_TEXT_LENGTH = 40_000
# Limits Slack enforces but slack_sdk 3.48's validate_json() does not.
MAX_SECTION_FIELD_LENGTH = 2000

# ---------------------------------------------------------------------------
# Block Kit validation
# ---------------------------------------------------------------------------


def located(message: str, pointer: str) -> str:
    return f"{message} [json-pointer:{pointer}]"


def decode_json_param(value: Any) -> tuple[Any, bool]:
    """Blocks and views may arrive as a JSON string (form data) or as JSON."""
    if isinstance(value, (bytes, bytearray)):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        try:
            return json.loads(value), True
        except ValueError:
            return value, False
    return value, True


def _text_of(obj: Any) -> str | None:
    return getattr(obj, "text", None) if obj is not None else None


def _validation_errors(obj: JsonObject) -> list[str]:
    """Messages from slack_sdk's validators for ``obj`` itself (not its children).

    ``validate_json()`` stops at the first failing validator; when it fails,
    run every validator so that all problems are reported, as Slack does.
    """
    try:
        obj.validate_json()
        return []
    except Exception:
        pass
    messages: list[str] = []
    for name in sorted(dir(type(obj))):
        if name.startswith("__"):
            continue
        validator = getattr(obj, name, None)
        if not (callable(validator) and getattr(validator, "validator", False)):
            continue
        try:
            validator()
        except SlackObjectFormationError as e:
            messages.append(str(e))
        except Exception as e:  # a validator tripping over odd input is still invalid
            messages.append(f"invalid value ({type(e).__name__}: {e})")
    return messages or ["invalid object"]


def _walk(raw: Any, obj: JsonObject, pointer: str, errors: list[str]) -> None:
    """Validate a parsed slack_sdk model and everything nested in it.

    slack_sdk's ``validate_json()`` only checks the object it is called on, not
    its children (a section's accessory button, an actions block's elements, an
    input's element...), so walk the tree, in parallel with the raw JSON so that
    we can report what the models silently drop or coerce.
    """
    errors.extend(located(message, pointer) for message in _validation_errors(obj))

    if isinstance(raw, dict):
        if isinstance(obj, TextObject):
            if raw.get("type") not in ("plain_text", "mrkdwn"):
                errors.append(located(f"unsupported text type: {raw.get('type')!r}", f"{pointer}/type"))
            if not isinstance(raw.get("text"), str) or not raw["text"]:
                errors.append(located("must be more than 0 characters", f"{pointer}/text"))
        # Only where `attributes` really lists the JSON keys: classes with their
        # own to_dict() (Option, ConfirmObject, ...) declare no attributes.
        if type(obj).to_dict is JsonObject.to_dict:
            known = set(obj.attributes) | {"type"}
            for key in sorted(set(raw) - known):
                errors.append(located(f"invalid additional property: {key}", pointer))

    for attr in sorted(obj.attributes):
        try:
            value = getattr(obj, attr, None)
        except Exception:  # pragma: no cover - defensive, a property that raises
            continue
        raw_value = raw.get(attr) if isinstance(raw, dict) else None
        child = f"{pointer}/{attr}"
        if isinstance(value, JsonObject):
            if isinstance(value, TextObject) and isinstance(raw_value, str):
                errors.append(located("must provide an object", child))
            _walk(raw_value, value, child, errors)
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                raw_item = raw_value[i] if isinstance(raw_value, list) and i < len(raw_value) else None
                if isinstance(item, JsonObject):
                    _walk(raw_item, item, f"{child}/{i}", errors)
                elif item is None and raw_item is not None:
                    kind = raw_item.get("type") if isinstance(raw_item, dict) else raw_item
                    errors.append(located(f"unsupported type: {kind!r}", f"{child}/{i}"))
        elif value is None and isinstance(raw_value, dict) and "type" in raw_value:
            errors.append(located(f"unsupported type: {raw_value['type']!r}", child))


def _must_be_plain_text(raw: Any, pointer: str, errors: list[str]) -> None:
    if isinstance(raw, dict) and raw.get("type") != "plain_text":
        errors.append(located("must be a plain_text text object", f"{pointer}/type"))


def _extra_block_checks(raw: dict, block: Block, pointer: str, errors: list[str]) -> None:
    """Limits Slack enforces that slack_sdk's models do not."""
    if isinstance(block, HeaderBlock):
        _must_be_plain_text(raw.get("text"), f"{pointer}/text", errors)
    if isinstance(block, SectionBlock):
        for i, field in enumerate(block.fields or []):
            text = _text_of(field)
            if text is not None and len(text) > MAX_SECTION_FIELD_LENGTH:
                errors.append(
                    located(
                        f"must be less than {MAX_SECTION_FIELD_LENGTH + 1} characters",
                        f"{pointer}/fields/{i}/text",
                    )
                )
    if isinstance(block, InputBlock):
        _must_be_plain_text(raw.get("label"), f"{pointer}/label", errors)
    # Buttons anywhere inside the block: text must be plain_text.
    _check_buttons(raw, block, pointer, errors)


def _check_buttons(raw: Any, obj: Any, pointer: str, errors: list[str]) -> None:
    if isinstance(obj, ButtonElement) and isinstance(raw, dict):
        _must_be_plain_text(raw.get("text"), f"{pointer}/text", errors)
    if not isinstance(obj, JsonObject):
        return
    for attr in obj.attributes:
        value = getattr(obj, attr, None)
        raw_value = raw.get(attr) if isinstance(raw, dict) else None
        if isinstance(value, JsonObject):
            _check_buttons(raw_value, value, f"{pointer}/{attr}", errors)
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                raw_item = raw_value[i] if isinstance(raw_value, list) and i < len(raw_value) else None
                _check_buttons(raw_item, item, f"{pointer}/{attr}/{i}", errors)


def _validate_block(raw: Any, pointer: str, errors: list[str]) -> None:
    if not isinstance(raw, dict):
        errors.append(located("must provide an object", pointer))
        return
    if "type" not in raw:
        errors.append(located("missing required field: type", pointer))
        return
    try:
        # Block.parse does not mutate its input, but be safe: it is the caller's.
        block = Block.parse(copy.deepcopy(raw))
    except Exception as e:
        errors.append(located(f"invalid block ({type(e).__name__}: {e})", pointer))
        return
    if block is None:
        # Block.parse only logs a warning and returns None for unknown types.
        errors.append(located(f"unsupported type: {raw.get('type')!r}", f"{pointer}/type"))
        return
    _walk(raw, block, pointer, errors)
    _extra_block_checks(raw, block, pointer, errors)


def validate_message_blocks(
    blocks: Any, *, pointer: str = "/blocks", max_blocks: int = MAX_MESSAGE_BLOCKS
) -> list[str] | None:
    """Return Slack-style error strings for a ``blocks`` array ([] if valid).

    Returns None when ``blocks`` is not a JSON array at all (Slack answers
    ``invalid_blocks_format`` for that rather than ``invalid_blocks``).
    """
    blocks, parsed = decode_json_param(blocks)
    if not parsed or not isinstance(blocks, list):
        return None
    errors: list[str] = []
    if len(blocks) > max_blocks:
        errors.append(located(f"no more than {max_blocks} items allowed", pointer))
    for i, raw in enumerate(blocks):
        _validate_block(raw, f"{pointer}/{i}", errors)
    return errors


def validate_view(view: Any, *, pointer: str = "/view") -> list[str]:
    """Return Slack-style error strings for a view payload ([] if valid)."""
    view, parsed = decode_json_param(view)
    if not parsed or not isinstance(view, dict):
        return [located("must provide an object", pointer)]
    errors: list[str] = []
    try:
        model = View(**copy.deepcopy(view))
    except Exception as e:
        return [located(f"invalid view ({type(e).__name__}: {e})", pointer)]
    raw_blocks = view.get("blocks")
    too_many = isinstance(raw_blocks, list) and len(raw_blocks) > MAX_VIEW_BLOCKS
    for message in _validation_errors(model):
        if too_many and message.startswith("views must contain"):
            continue  # reported below, with a pointer, by validate_message_blocks
        errors.append(located(message, pointer))

    view_type = view.get("type")
    if view_type == "modal" and not view.get("title"):
        errors.append(located("missing required field: title", pointer))
    for key in ("title", "submit", "close"):
        if key in view:
            _must_be_plain_text(view[key], f"{pointer}/{key}", errors)
    if raw_blocks is None:
        errors.append(located("missing required field: blocks", pointer))
    else:
        block_errors = validate_message_blocks(raw_blocks, pointer=f"{pointer}/blocks", max_blocks=MAX_VIEW_BLOCKS)
        if block_errors is None:
            errors.append(located("must provide an array", f"{pointer}/blocks"))
        else:
            errors.extend(block_errors)
    return errors
