"""A route's working hours (`hours: "mon-fri 08:00-17:00"`): parse once, ask `is_open(at)`.

Grammar: clauses separated by `;`, each a day list and one or more windows:
`mon-fri 08:00-12:00, 13:00-17:00; sat 09:00-12:00`. Days are `mon`..`sun`, as ranges
(`mon-fri`, `fri-mon` wraps) and lists (`mon,wed,fri`). A window is `HH:MM-HH:MM` on the
local wall clock of the route's zone, `24:00` ends at midnight; windows do not cross midnight
(write `mon 22:00-24:00; tue 00:00-06:00`). Every question is asked of an aware instant and
answered in the zone, so a day with a DST change still opens at 08:00 local time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WINDOW = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True, slots=True)
class Hours:
    """Open windows per weekday (0 = Monday), as sorted, non-overlapping (start, end) minutes."""

    text: str
    week: tuple[tuple[tuple[int, int], ...], ...]

    def is_open(self, at: datetime, tz: ZoneInfo) -> bool:
        """Whether `at` (aware) falls inside a window, on the wall clock of `tz`."""
        local = at.astimezone(tz)
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.week[local.weekday()])

    def windows_on(self, day: date, tz: ZoneInfo) -> list[tuple[datetime, datetime]]:
        """The day's open windows as UTC instants (so their lengths are real time across DST changes)."""
        out = []
        for start, end in self.week[day.weekday()]:
            out.append((_at(day, start, tz), _at(day, end, tz)))
        return out


def _at(day: date, minute: int, tz: ZoneInfo) -> datetime:
    if minute >= MINUTES_PER_DAY:
        local = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    else:
        local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz)
    # Same-zone arithmetic on aware datetimes is wall-clock arithmetic: compare in UTC instead.
    return local.astimezone(UTC)


class HoursError(ValueError):
    """`hours:` is malformed; the message says where and shows the expected shape."""


def parse_hours(text: str) -> Hours:
    """Parse `mon-fri 08:00-17:00` (and lists, several windows, `;`-separated clauses) or raise HoursError."""
    if not isinstance(text, str) or not text.strip():
        raise HoursError('hours must be text such as "mon-fri 08:00-17:00"')
    week: list[list[tuple[int, int]]] = [[] for _ in DAYS]
    for clause in (c.strip() for c in text.lower().split(";")):
        if not clause:
            raise HoursError(f"{text!r}: empty clause between ';'")
        days_part, _, windows_part = clause.partition(" ")
        days = _days(days_part, text)
        windows = [w for w in re.split(r"[,\s]+", windows_part.strip()) if w]
        if not windows:
            raise HoursError(f'{clause!r}: no time window; write e.g. "{days_part} 08:00-17:00"')
        for window in windows:
            span = _window(window, clause)
            for day in days:
                week[day].append(span)
    normalised = []
    for i, spans in enumerate(week):
        spans.sort()
        for (_, a_end), (b_start, _) in pairwise(spans):
            if b_start < a_end:
                raise HoursError(f"{text!r}: windows overlap on {DAYS[i]}")
        normalised.append(tuple(spans))
    return Hours(text.strip(), tuple(normalised))


def _days(part: str, text: str) -> list[int]:
    out: list[int] = []
    for item in part.split(","):
        first, sep, last = item.partition("-")
        if first not in DAYS or (sep and last not in DAYS):
            raise HoursError(f"{text!r}: {item!r} is not a day or day range; use mon..sun, e.g. mon-fri or mon,wed")
        start = DAYS.index(first)
        end = DAYS.index(last) if sep else start
        span = (end - start) % 7
        out.extend((start + k) % 7 for k in range(span + 1))
    if len(out) != len(set(out)):
        raise HoursError(f"{text!r}: a day is listed twice in {part!r}")
    return out


def _window(window: str, clause: str) -> tuple[int, int]:
    m = _WINDOW.match(window)
    if not m:
        raise HoursError(f"{clause!r}: {window!r} is not a time window; use HH:MM-HH:MM such as 08:00-17:00")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
        raise HoursError(f"{clause!r}: {window!r} is not a time of day")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if end <= start:
        raise HoursError(f"{clause!r}: {window!r} ends before it starts; split a night shift at 24:00")
    return start, end


def working_minutes(start: datetime, end: datetime, *, hours: Hours, tz: ZoneInfo) -> float:
    """Minutes of open time between two aware instants (0 when `end` is not after `start`)."""
    if end <= start:
        return 0.0
    start, end = start.astimezone(UTC), end.astimezone(UTC)  # real elapsed time, not wall-clock
    total = timedelta()
    day = start.astimezone(tz).date()
    last = end.astimezone(tz).date()
    while day <= last:
        for open_at, close_at in hours.windows_on(day, tz):
            lo, hi = max(start, open_at), min(end, close_at)
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total.total_seconds() / 60
