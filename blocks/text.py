"""Text that is safe to show in Slack: escaped for mrkdwn and cut to Slack's limits.

Every lead field is data from outside: `&`, `<` and `>` are escaped so a company named
`<!channel>` or `<https://evil|click>` pings nobody and forges no link
(https://api.slack.com/reference/surfaces/formatting#escaping). Limits come from slack_sdk's
models where they name them, so a long field is cut, never rejected by Slack.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import ButtonElement, HeaderBlock, InputBlock, Option, SectionBlock
from slack_sdk.models.views import View

ELLIPSIS = "…"

SECTION = SectionBlock.text_max_length  # 3000
SECTION_FIELD = 2000  # per field; slack_sdk does not name it
SECTION_FIELDS = SectionBlock.fields_max_length  # 10
HEADER = HeaderBlock.text_max_length  # 150
BUTTON = ButtonElement.text_max_length  # 75
OPTION_LABEL = Option.label_max_length  # 75
OPTION_VALUE = Option.value_max_length  # 150
CONTEXT_TEXT = 2000  # per context element
CONTEXT_ELEMENTS = 10
MODAL_TITLE = View.title_max_length  # 24
INPUT_LABEL = InputBlock.label_max_length  # 2000
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = View.blocks_max_length  # 100
FALLBACK_TEXT = 3000  # notification text: Slack truncates long ones anyway
PRIVATE_METADATA = View.private_metadata_max_length  # 3000

_ENTITY_TAIL = re.compile(r"&[a-z]{0,3}$")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def escape(value: object) -> str:
    """Escape `&`, `<` and `>` so Slack shows the text literally."""
    return str(value).translate(_ESCAPES)


def truncate(value: str, limit: int) -> str:
    """Cut `value` to at most `limit` characters, ending with an ellipsis when cut."""
    if len(value) <= limit:
        return value
    return value[: max(0, limit - len(ELLIPSIS))].rstrip() + ELLIPSIS


def mrkdwn(value: object, limit: int = SECTION) -> str:
    """Outside data for a mrkdwn field: escaped, then cut without splitting an entity like `&amp;`."""
    text = escape(value)
    if len(text) <= limit:
        return text
    cut = _ENTITY_TAIL.sub("", text[: max(0, limit - len(ELLIPSIS))])
    return cut.rstrip() + ELLIPSIS


def plain(value: object, limit: int) -> str:
    """Outside data for a plain_text field (never parsed for mentions or links), cut to `limit`."""
    return truncate(" ".join(str(value).split()), limit) or "-"


def one_line(value: object, limit: int) -> str:
    """Escaped mrkdwn on one line (newlines folded), for list rows and context elements."""
    return mrkdwn(" ".join(str(value).split()), limit)


def fit_mrkdwn(text: str, limit: int = SECTION) -> str:
    """Cut already-escaped mrkdwn we composed ourselves (entities and mentions stay whole)."""
    if len(text) <= limit:
        return text
    cut = text[: max(0, limit - len(ELLIPSIS))]
    cut = _ENTITY_TAIL.sub("", cut)
    if cut.rfind("<") > cut.rfind(">"):  # do not leave half a <@U123> mention
        cut = cut[: cut.rfind("<")]
    return cut.rstrip() + ELLIPSIS


def mention(user_id: str | None) -> str:
    """`<@U123>` for a Slack user id we stored ourselves; '-' when there is none."""
    if not user_id:
        return "-"
    return f"<@{user_id}>" if re.fullmatch(r"[UW][A-Z0-9]+", user_id) else escape(user_id)


def day(value: date | datetime | None, tz: ZoneInfo | None = None) -> str:
    """A date as YYYY-MM-DD (an aware datetime in `tz` first)."""
    if value is None:
        return "-"
    if isinstance(value, datetime):
        value = (value.astimezone(tz) if tz else value).date()
    return value.isoformat()


def when(value: datetime | None, tz: ZoneInfo | None = None) -> str:
    """A moment as `YYYY-MM-DD HH:MM TZ` in `tz` (default UTC)."""
    if value is None:
        return "-"
    local = value.astimezone(tz) if tz else value
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or "UTC")


def slack_date(value: datetime, fallback: str) -> str:
    """Slack's own date formatting (each reader sees their time zone) with an escaped fallback."""
    return f"<!date^{int(value.timestamp())}^{{date_short_pretty}} {{time}}|{escape(fallback)}>"
