"""The handoff of a qualified lead: what is known, what is missing, what happens next (thread line and card).

Also the words for the artefacts the Qualify modal records and for the details Needs info
waits for, shared by the card, the thread and the modals.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from blocks.text import mention, one_line
from leadqual.decisions import MISSING_DETAILS, Artefact, Criterion, Rating

PART = 300

ARTEFACT_LABELS: dict[str, str] = {
    Artefact.DRAWINGS: "Drawings or part numbers",
    Artefact.SITE_CONSTRAINTS: "Site constraints",
    Artefact.COMPLIANCE: "Compliance documents",
    Artefact.LEAD_TIME: "Lead-time confirmation",
    Artefact.CONTACTS: "Contact list",
}


def artefact_words(artefacts: Iterable[str]) -> str:
    """`drawings or part numbers, contact list` (lower case, in the order given)."""
    return ", ".join(ARTEFACT_LABELS.get(str(a), str(a)).lower() for a in artefacts)


def missing_words(missing: Iterable[str]) -> str:
    """`specs, site details` for Needs info's missing-detail keys."""
    return ", ".join(MISSING_DETAILS.get(str(m), str(m)).lower() for m in missing)


def handoff_lines(
    fian: Mapping[str, str],
    *,
    artefacts: Iterable[str] = (),
    next_step: str | None = None,
    next_step_on: str | None = None,
    owner: str | None = None,
) -> list[str]:
    """Known (criteria confirmed), Missing (criteria not confirmed, artefacts requested), Next (step, date, owner)."""
    ratings = {str(k): str(v) for k, v in fian.items() if v}
    known = [Criterion(k).label for k in _fian_order(ratings) if ratings[k] == Rating.CONFIRMED]
    order = _fian_order(ratings)
    open_ = [f"{Criterion(k).label} {one_line(ratings[k], 20)}" for k in order if ratings[k] != Rating.CONFIRMED]
    asked = artefact_words(artefacts)
    lines = []
    if known:
        lines.append("*Known:* " + ", ".join(known) + " confirmed")
    missing = [*open_, *([f"artefacts requested: {one_line(asked, PART)}"] if asked else [])]
    lines.append("*Missing:* " + (" · ".join(missing) if missing else "nothing"))
    if next_step:
        due = f" (by {one_line(next_step_on, 20)})" if next_step_on else ""
        by = f" · {mention(owner)}" if owner else ""
        lines.append(f"*Next:* {one_line(next_step, PART)}{due}{by}")
    return lines


def _fian_order(ratings: Mapping[str, str]) -> list[str]:
    return [c.value for c in Criterion if c.value in ratings]
