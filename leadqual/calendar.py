"""Calendar arithmetic in the configured time zone: ISO weeks, periods, local days.

Pure: the digest, the triage services and the CLI all name weeks and days through here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open span of time [start, end) in UTC, with its name."""

    label: str
    start: datetime
    end: datetime


def parse_iso_week(text: str) -> tuple[int, int]:
    """Read `2026-W48` (or `2026W48`); raise ValueError naming the expected form."""
    cleaned = text.strip().upper().replace("W", "-W").replace("--", "-")
    try:
        year_text, week_text = cleaned.split("-W")
        year, week = int(year_text), int(week_text)
        date.fromisocalendar(year, week, 1)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO week such as 2026-W48") from None
    return year, week


def iso_week_label(year: int, week: int) -> str:
    return f"{year}-W{week:02d}"


def week_period(iso_week: str, tz: ZoneInfo) -> Period:
    """The ISO week from Monday 00:00 to the next Monday 00:00 in `tz`."""
    year, week = parse_iso_week(iso_week)
    monday = date.fromisocalendar(year, week, 1)
    return Period(iso_week_label(year, week), utc_midnight(monday, tz), utc_midnight(monday + timedelta(7), tz))


def trailing_period(iso_week: str, weeks: int, tz: ZoneInfo) -> Period:
    """The `weeks` ISO weeks ending with `iso_week` (inclusive)."""
    last = week_period(iso_week, tz)
    year, week = parse_iso_week(iso_week)
    first_monday = date.fromisocalendar(year, week, 1) - timedelta(weeks=weeks - 1)
    return Period(f"{weeks} weeks to {last.label}", utc_midnight(first_monday, tz), last.end)


def week_of(moment: datetime, tz: ZoneInfo) -> str:
    """The ISO week a moment falls in, in `tz`."""
    year, week, _ = moment.astimezone(tz).isocalendar()
    return iso_week_label(year, week)


def previous_week(iso_week: str) -> str:
    year, week = parse_iso_week(iso_week)
    prev = date.fromisocalendar(year, week, 1) - timedelta(weeks=1)
    y, w, _ = prev.isocalendar()
    return iso_week_label(y, w)


def utc_midnight(day: date, tz: ZoneInfo) -> datetime:
    """Midnight at the start of `day` in `tz`, as a UTC moment."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def local_today(now: datetime, tz: ZoneInfo) -> date:
    """The date `now` falls on in `tz` (follow-up dates are local dates)."""
    return now.astimezone(tz).date()


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """Local midnight of `day`: a follow-up is due from the start of its day."""
    return datetime.combine(day, time.min, tzinfo=tz)
