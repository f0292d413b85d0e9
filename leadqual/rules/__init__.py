"""Scoring rules: the YAML file format, its validation, and compiled conditions."""

from leadqual.rules.conditions import compile_condition
from leadqual.rules.spec import (
    GroupThreshold,
    MustHaveSpec,
    RuleKind,
    RulesetSpec,
    RuleSpec,
    SegmentSpec,
    content_hash,
    dump_ruleset,
    load_ruleset_file,
    parse_ruleset_text,
)

__all__ = [
    "GroupThreshold",
    "MustHaveSpec",
    "RuleKind",
    "RuleSpec",
    "RulesetSpec",
    "SegmentSpec",
    "compile_condition",
    "content_hash",
    "dump_ruleset",
    "load_ruleset_file",
    "parse_ruleset_text",
]
