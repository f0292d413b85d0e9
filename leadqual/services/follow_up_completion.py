"""Follow-up completion for the digest: due follow-ups done within `follow_ups.overdue_days`, by rep and overall.

A due follow-up is a `follow_up_due` event (one per lead and due day, written when the owner's
reminder listed it, kept after Done clears the date). It is done in time when a
`follow_up_done` event for the same lead and due day came before the start of its overdue day
(due day + overdue_days, local). It counts in the period in which that overdue day starts, so
every follow-up counted already has its answer.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadqual.calendar import Period, local_midnight
from leadqual.db.models import Event
from leadqual.follow_ups import Completion, FollowUpCompletion, overdue_from
from leadqual.services.context import Context
from leadqual.statuses import FollowUpEvent, LeadEvent


def completion(ctx: Context, session: Session, *, week: Period, window: Period) -> FollowUpCompletion:
    """Completion over the digest's week and its window (the window holds the week)."""
    days = ctx.config.follow_ups.overdue_days
    tz = ctx.config.tz
    since = window.start - timedelta(days=days + 2)  # a due event is written on or after its due day
    due: dict[tuple[int, date], str] = {}
    for lead_id, data in session.execute(
        select(Event.lead_id, Event.data).where(Event.kind == FollowUpEvent.DUE, Event.at >= since)
    ):
        day = _day((data or {}).get("due"))
        if lead_id is not None and day is not None:
            due[(lead_id, day)] = str((data or {}).get("owner") or "-")
    done: set[tuple[int, date]] = set()
    for lead_id, data, at in session.execute(
        select(Event.lead_id, Event.data, Event.at).where(Event.kind == LeadEvent.FOLLOW_UP_DONE, Event.at >= since)
    ):
        day = _day((data or {}).get("due"))
        if lead_id is not None and day is not None and at < local_midnight(overdue_from(day, days), tz):
            done.add((lead_id, day))
    tallies: dict[str, list[int]] = {}  # rep -> [week due, week done, window due, window done]
    for (lead_id, day), rep in due.items():
        deadline = local_midnight(overdue_from(day, days), tz)
        in_week, in_window = week.start <= deadline < week.end, window.start <= deadline < window.end
        if not in_window:
            continue
        tally = tallies.setdefault(rep, [0, 0, 0, 0])
        hit = (lead_id, day) in done
        tally[2] += 1
        tally[3] += hit
        if in_week:
            tally[0] += 1
            tally[1] += hit
    by_rep = tuple(
        (rep, Completion(t[0], t[1]), Completion(t[2], t[3]))
        for rep, t in sorted(tallies.items(), key=lambda kv: (-kv[1][2], kv[0]))
    )
    return FollowUpCompletion(
        overdue_days=days,
        week=Completion(sum(w.due for _, w, _ in by_rep), sum(w.done for _, w, _ in by_rep)),
        window=Completion(sum(t.due for *_, t in by_rep), sum(t.done for *_, t in by_rep)),
        by_rep=by_rep,
    )


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None
