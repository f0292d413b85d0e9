"""Declarative conditions compiled once into predicates.

A condition is data (`{field: company.industry, in: [metals]}`), never code. Compiling
turns it into a closure over pre-lowered sets and pre-compiled regexes, so scoring a lead
is a handful of attribute reads and set look-ups.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, datetime
from operator import attrgetter
from typing import Any

from leadqual.lead import Lead

Predicate = Callable[[Lead, date], bool]
Path = tuple[str | int, ...]

FIELDS = frozenset(
    {
        "external_id",
        "source",
        "campaign",
        "offer",
        "received_at",
        "message",
        "company.name",
        "company.domain",
        "company.industry",
        "company.country",
        "company.region",
        "company.employees",
        "contact.name",
        "contact.email",
        "contact.title",
        "contact.phone",
        "contact.email_domain",
        "need.scope",
        "need.problem",
        "need.needed_by",
    }
)
FIELD_OPERATORS = (
    "eq",
    "in",
    "not_in",
    "contains",
    "matches",
    "gte",
    "lte",
    "exists",
    "domain_in",
    "within_days",
)
SIGNAL_KEYS = frozenset({"signal", "value", "value_matches", "min_count"})


class ConditionError(ValueError):
    """A condition is malformed; `path` points into the YAML for the line number."""

    def __init__(self, path: Path, message: str) -> None:
        self.path = path
        super().__init__(message)


def compile_condition(cond: Any, path: Path = (), *, fields: frozenset[str] = FIELDS) -> Predicate:
    """Compile a condition mapping into a predicate, or raise ConditionError.

    `fields` are the dotted paths a `field:` may name (routes add the score's `segment`).
    """
    if not isinstance(cond, dict) or not cond:
        raise ConditionError(path, "a condition must be a mapping such as {field: ..., eq: ...}")
    keys = set(cond)
    if keys & {"all", "any"}:
        (combinator,) = _only(cond, path, {"all", "any"})
        parts = cond[combinator]
        if not isinstance(parts, list) or not parts:
            raise ConditionError((*path, combinator), f"{combinator} needs a non-empty list")
        preds = tuple(compile_condition(p, (*path, combinator, i), fields=fields) for i, p in enumerate(parts))
        return _all_of(preds) if combinator == "all" else _any_of(preds)
    if "not" in keys:
        _only(cond, path, {"not"})
        inner = compile_condition(cond["not"], (*path, "not"), fields=fields)
        return lambda lead, today: not inner(lead, today)
    if "signal" in keys:
        return _compile_signal(cond, path)
    if "field" in keys:
        return _compile_field(cond, path, fields)
    raise ConditionError(path, f"unknown condition keys {sorted(keys)}; use field, signal, all, any or not")


def _all_of(preds: tuple[Predicate, ...]) -> Predicate:
    # Plain loops: any()/all() over a generator cost a frame per lead, and this runs per rule.
    def test(lead: Lead, today: date) -> bool:
        for p in preds:  # noqa: SIM110
            if not p(lead, today):
                return False
        return True

    return test


def _any_of(preds: tuple[Predicate, ...]) -> Predicate:
    def test(lead: Lead, today: date) -> bool:
        for p in preds:  # noqa: SIM110
            if p(lead, today):
                return True
        return False

    return test


def _only(cond: dict[str, Any], path: Path, allowed: set[str]) -> list[str]:
    extra = set(cond) - allowed
    if extra or len(cond) != 1:
        raise ConditionError(path, f"{' / '.join(sorted(set(cond)))} cannot be combined here")
    return list(cond)


def _compile_signal(cond: dict[str, Any], path: Path) -> Predicate:
    extra = set(cond) - SIGNAL_KEYS
    if extra:
        raise ConditionError(path, f"unknown key {sorted(extra)[0]!r} for a signal condition")
    kind = cond["signal"]
    if not isinstance(kind, str) or not kind.strip():
        raise ConditionError((*path, "signal"), "signal must be a signal type such as rfq_request")
    kind = kind.strip().lower()
    min_count = cond.get("min_count", 1)
    if not isinstance(min_count, int) or isinstance(min_count, bool) or min_count < 1:
        raise ConditionError((*path, "min_count"), "min_count must be a whole number of 1 or more")
    exact = str(cond["value"]).lower() if "value" in cond else None
    pattern = _regex(cond["value_matches"], (*path, "value_matches")) if "value_matches" in cond else None

    def matches(value: str) -> bool:
        if exact is not None and value != exact:
            return False
        return pattern is None or pattern.search(value) is not None

    if exact is None and pattern is None:
        return lambda lead, today: len(lead.signal_values.get(kind, ())) >= min_count
    return lambda lead, today: sum(1 for v in lead.signal_values.get(kind, ()) if matches(v)) >= min_count


def _getter(field: str, path: Path, fields: frozenset[str] = FIELDS) -> Callable[[Lead], Any]:
    if field.startswith("attributes."):
        key = field.removeprefix("attributes.")
        return lambda lead: lead.attributes.get(key)
    if field not in fields:
        raise ConditionError(
            path, f"unknown field {field!r}; use one of {', '.join(sorted(fields))} or attributes.NAME"
        )
    return attrgetter(field)


def _compile_field(cond: dict[str, Any], path: Path, fields: frozenset[str] = FIELDS) -> Predicate:
    field = cond["field"]
    if not isinstance(field, str):
        raise ConditionError((*path, "field"), "field must be a dotted path such as company.industry")
    get = _getter(field.strip(), (*path, "field"), fields)
    ops = [k for k in cond if k != "field"]
    if len(ops) != 1:
        raise ConditionError(path, f"a field condition needs exactly one operator ({', '.join(FIELD_OPERATORS)})")
    op = ops[0]
    arg = cond[op]
    at = (*path, op)
    if op not in FIELD_OPERATORS:
        raise ConditionError(at, f"unknown operator {op!r}; use one of {', '.join(FIELD_OPERATORS)}")
    test = _OPERATORS[op](arg, at)
    if op == "exists":
        return lambda lead, today: test(get(lead), today)
    return lambda lead, today: (v := get(lead)) is not None and v != "" and test(v, today)


Test = Callable[[Any, date], bool]


def _norm(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _scalar_list(arg: Any, at: Path, what: str) -> list[Any]:
    if not isinstance(arg, list) or not arg:
        raise ConditionError(at, f"{what} needs a non-empty list")
    if any(isinstance(a, dict | list) for a in arg):
        raise ConditionError(at, f"{what} takes plain values, not mappings or lists")
    return arg


def _op_eq(arg: Any, at: Path) -> Test:
    if isinstance(arg, dict | list):
        raise ConditionError(at, "eq takes one plain value; use in for a list")
    want = _norm(arg)
    return lambda v, today: _norm(v) == want


def _op_in(arg: Any, at: Path) -> Test:
    allowed = frozenset(_norm(a) for a in _scalar_list(arg, at, "in"))
    return lambda v, today: (v.lower() if v.__class__ is str else v) in allowed


def _op_not_in(arg: Any, at: Path) -> Test:
    banned = frozenset(_norm(a) for a in _scalar_list(arg, at, "not_in"))
    return lambda v, today: _norm(v) not in banned


def _op_contains(arg: Any, at: Path) -> Test:
    needles = tuple(_norm(a) for a in (arg if isinstance(arg, list) else [arg]))
    if not needles or any(not isinstance(n, str) or not n for n in needles):
        raise ConditionError(at, "contains takes a word or a list of words")

    def test(v: Any, today: date) -> bool:
        if isinstance(v, list | tuple):
            return any(_norm(x) in needles for x in v)
        text = str(v).lower()
        return any(n in text for n in needles)

    return test


def _regex(arg: Any, at: Path) -> re.Pattern[str]:
    if not isinstance(arg, str) or not arg:
        raise ConditionError(at, "matches takes a regular expression")
    try:
        return re.compile(arg, re.IGNORECASE)
    except re.error as exc:
        raise ConditionError(at, f"invalid regular expression: {exc}") from None


def _op_matches(arg: Any, at: Path) -> Test:
    pattern = _regex(arg, at)
    return lambda v, today: pattern.search(str(v)) is not None


def _comparable(arg: Any, at: Path, op: str) -> Any:
    if isinstance(arg, bool) or not isinstance(arg, int | float | date | str):
        raise ConditionError(at, f"{op} takes a number or a date")
    if isinstance(arg, str):
        try:
            return date.fromisoformat(arg)
        except ValueError:
            raise ConditionError(at, f"{op} takes a number or an ISO date (YYYY-MM-DD)") from None
    return arg.date() if isinstance(arg, datetime) else arg


def _coerce_like(v: Any, bound: Any) -> Any:
    if isinstance(bound, date):
        return v.date() if isinstance(v, datetime) else v if isinstance(v, date) else None
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return v
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _op_gte(arg: Any, at: Path) -> Test:
    bound = _comparable(arg, at, "gte")
    return lambda v, today: (c := _coerce_like(v, bound)) is not None and c >= bound


def _op_lte(arg: Any, at: Path) -> Test:
    bound = _comparable(arg, at, "lte")
    return lambda v, today: (c := _coerce_like(v, bound)) is not None and c <= bound


def _op_exists(arg: Any, at: Path) -> Test:
    if not isinstance(arg, bool):
        raise ConditionError(at, "exists takes true or false")
    return lambda v, today: (v is not None and v != "" and v != []) is arg


def _op_domain_in(arg: Any, at: Path) -> Test:
    domains = frozenset(str(d).lower().lstrip("@") for d in _scalar_list(arg, at, "domain_in"))

    def test(v: Any, today: date) -> bool:
        # The domain or any parent of it: eu.acme.com matches acme.com; a set look-up per label.
        labels = str(v).lower().rsplit("@", 1)[-1].split(".")
        return any(".".join(labels[i:]) in domains for i in range(len(labels)))

    return test


def _op_within_days(arg: Any, at: Path) -> Test:
    if isinstance(arg, bool) or not isinstance(arg, int) or arg < 0:
        raise ConditionError(at, "within_days takes a whole number of days")

    def test(v: Any, today: date) -> bool:
        when = v.date() if isinstance(v, datetime) else v
        return isinstance(when, date) and 0 <= (when - today).days <= arg

    return test


_OPERATORS: dict[str, Callable[[Any, Path], Test]] = {
    "eq": _op_eq,
    "in": _op_in,
    "not_in": _op_not_in,
    "contains": _op_contains,
    "matches": _op_matches,
    "gte": _op_gte,
    "lte": _op_lte,
    "exists": _op_exists,
    "domain_in": _op_domain_in,
    "within_days": _op_within_days,
}


def referenced_signals(cond: Any) -> Sequence[str]:
    """The signal types a condition mentions (for docs and proposal wording)."""
    if not isinstance(cond, dict):
        return []
    if "signal" in cond:
        return [str(cond["signal"]).lower()]
    out: list[str] = []
    for key in ("all", "any"):
        for part in cond.get(key, []) or []:
            out.extend(referenced_signals(part))
    if "not" in cond:
        out.extend(referenced_signals(cond["not"]))
    return out
