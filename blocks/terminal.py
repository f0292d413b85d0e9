"""Block Kit read aloud for a terminal: the one renderer behind the CLI's and the demo's text.

The digest, the cards and every other message are written once, as Block Kit (blocks.*).
`blocks_text` reads them as plain text: mrkdwn markers dropped, entities unescaped, links and
mentions spelled out, tables kept aligned, and each button shown as the CLI command that does
what the button does in Slack (where there is one).
"""

from __future__ import annotations

import html
import re
from typing import Any

from blocks import ids
from blocks.digest import digest_blocks
from leadqual.readmodels import Digest

# What a button does in Slack, as the command that does it from a terminal.
_COMMANDS = {
    ids.APPLY_PROPOSAL: "Apply: leadbot rules apply {value}",
    ids.ROLLBACK_RULESET: "Undo with: leadbot rules rollback",
}
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")
_ANGLED = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")
_SHORTCODES = {":warning:": "WARNING:"}


def digest_report(digest: Digest) -> str:
    """The weekly digest as plain text: the Slack message itself, read aloud, a blank line between blocks."""
    return "\n\n".join(text for b in digest_blocks(digest) if (text := blocks_text([b.to_dict()])))


def blocks_text(blocks: list[dict[str, Any]]) -> str:
    """A readable rendering of Block Kit: headers, sections, fields, context, buttons."""
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            lines.append(f"== {block['text']['text']} ==")
        elif kind == "section":
            if block.get("text"):
                lines.append(_plain(block["text"]))
            lines += [_plain(f) for f in block.get("fields", [])]
            accessory = block.get("accessory") or {}
            if accessory.get("type") == "button":
                lines.append(_button(accessory))
        elif kind == "context":
            lines.append("  ".join(_plain(e) for e in block.get("elements", []) if "text" in e))
        elif kind == "actions":
            lines.append("  ".join(_button(e) for e in block.get("elements", []) if e.get("type") == "button"))
        elif kind == "divider":
            lines.append("-" * 40)
    return "\n".join(lines)


def _button(element: dict[str, Any]) -> str:
    command = _COMMANDS.get(element.get("action_id", ""))
    if command is not None:
        return command.format(value=element.get("value", ""))
    return f"[{element['text']['text']}]"


def _plain(text: dict[str, Any]) -> str:
    """A text object as a terminal shows it (plain_text as is; mrkdwn without its markup)."""
    value = str(text.get("text", ""))
    if text.get("type") != "mrkdwn":
        return value
    parts = value.split("```")
    # Even parts are prose; odd parts were fenced (tables): kept as laid out, on their own lines
    # (Slack shows the entities escaped inside a fence as their characters, so does the terminal).
    out = [_prose(p) if i % 2 == 0 else html.unescape(p.strip("\n")) for i, p in enumerate(parts)]
    return "\n".join(part for part in (o.strip("\n") for o in out) if part)


def _prose(value: str) -> str:
    value = _ANGLED.sub(_spell, value)
    value = _BOLD.sub(r"\1", value)
    value = _ITALIC.sub(r"\1", value)
    value = value.replace("`", "")
    for code, word in _SHORTCODES.items():
        value = value.replace(code, word)
    return html.unescape(value)


def _spell(match: re.Match[str]) -> str:
    target, label = match.group(1), match.group(2)
    if target.startswith("!date^"):
        return label or ""
    if target.startswith("@"):
        return "@" + target[1:]
    if target.startswith("#"):
        return label or "#" + target[1:]
    if target.startswith("!"):
        return "@" + (label or target[1:])
    return f"{label} ({target})" if label and label != target else target
