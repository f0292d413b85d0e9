"""The baseline for the scoring benchmark: interpret the rules' YAML dicts per lead, every time.

This is what a straightforward implementation does: walk each condition mapping, split
the field path, look values up with getattr, lower-case lists and re-search regexes per
lead. It gives the same answers as `leadqual.scoring.score` (checked in the benchmark).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from leadqual.groups import Group
from leadqual.lead import Lead
from leadqual.rules import RuleKind, RulesetSpec


def naive_score(lead: Lead, spec: RulesetSpec) -> tuple[int, int, Group]:
    today = lead.received_at.date() if lead.received_at else date.today()
    segment = next((s.id for s in spec.segments if _holds(s.when, lead, today)), None)
    fit = intent = 0
    for rule in spec.rules:
        if rule.segments and segment not in rule.segments:
            continue
        if _holds(rule.when, lead, today):
            points = -rule.points if rule.kind is RuleKind.NEGATIVE else rule.points
            if rule.target is RuleKind.FIT:
                fit += points
            else:
                intent += points
    fit, intent = min(100, max(0, fit)), min(100, max(0, intent))
    group = next((g for g, t in spec.groups.items() if fit >= t.fit and intent >= t.intent), Group.POOR_FIT)
    for must in spec.must_have:
        if must.segments and segment not in must.segments:
            continue
        if not _holds(must.when, lead, today):
            group = group.capped_at(must.otherwise)
    return fit, intent, group


def _value(lead: Lead, path: str) -> Any:
    if path.startswith("attributes."):
        return lead.attributes.get(path.split(".", 1)[1])
    obj: Any = lead
    for part in path.split("."):
        obj = getattr(obj, part, None)
    return obj


def _low(v: Any) -> Any:
    return v.lower() if isinstance(v, str) else v


def _holds(cond: dict[str, Any], lead: Lead, today: date) -> bool:
    if "all" in cond:
        return all(_holds(c, lead, today) for c in cond["all"])
    if "any" in cond:
        return any(_holds(c, lead, today) for c in cond["any"])
    if "not" in cond:
        return not _holds(cond["not"], lead, today)
    if "signal" in cond:
        values = [(s.value or "").lower() for s in lead.signals if s.type == cond["signal"].lower()]
        if "value" in cond:
            values = [v for v in values if v == str(cond["value"]).lower()]
        if "value_matches" in cond:
            values = [v for v in values if re.search(cond["value_matches"], v, re.IGNORECASE)]
        return len(values) >= cond.get("min_count", 1)
    v = _value(lead, cond["field"])
    op = next(k for k in cond if k != "field")
    arg = cond[op]
    if op == "exists":
        return (v is not None and v != "" and v != []) is arg
    if v is None or v == "":
        return False
    if op == "eq":
        return bool(_low(v) == _low(arg))
    if op == "in":
        return _low(v) in [_low(a) for a in arg]
    if op == "not_in":
        return _low(v) not in [_low(a) for a in arg]
    if op == "contains":
        needles = arg if isinstance(arg, list) else [arg]
        return any(str(n).lower() in str(v).lower() for n in needles)
    if op == "matches":
        return re.search(arg, str(v), re.IGNORECASE) is not None
    if op in ("gte", "lte"):
        bound = date.fromisoformat(arg) if isinstance(arg, str) else arg
        if isinstance(bound, date):
            value = v.date() if isinstance(v, datetime) else v
        else:
            try:
                value = float(v)
            except (TypeError, ValueError):
                return False
        return bool(value >= bound if op == "gte" else value <= bound)
    if op == "domain_in":
        domain = str(v).lower().rsplit("@", 1)[-1]
        return any(domain == d or domain.endswith("." + d) for d in (str(a).lower() for a in arg))
    if op == "within_days":
        return isinstance(v, date) and 0 <= (v - today).days <= arg
    raise ValueError(op)
