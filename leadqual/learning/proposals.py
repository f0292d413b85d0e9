"""The conditional learner's kept changes as the digest's proposals: `Learning` in, `Proposal` objects out.

`as_proposals` turns the changes `learn` kept into the same `Proposal` objects the marginal method makes, so the
digest, `leadbot digest --json`, the store and Slack's Apply work unchanged. Each carries its
evidence as data (`basis` conditional, the effect with the others held fixed and its interval,
the counts within the strongest co-firing rule's strata, how it did on the held-out weeks, in
`figures`); `blocks.proposal_words` puts it in words.
"""

from __future__ import annotations

from dataclasses import replace

from leadqual.learning.learn import CheckedChange, CheckedThreshold, HeldOut, Learning
from leadqual.learning.strata import StrataEvidence
from leadqual.proposals import EvidenceBasis, Proposal, ProposalKind, proposal_id


def as_proposals(learning: Learning, *, version: int, holdout_weeks: int) -> list[Proposal]:
    """The kept rule changes (strongest first), then the kept threshold moves, as digest proposals."""
    out = [_rule_proposal(c, version, holdout_weeks) for c in learning.kept]
    out += [_threshold_proposal(t, holdout_weeks) for t in learning.thresholds if t.kept]
    return out


def _held_out_figures(held: HeldOut | None, weeks: int) -> dict[str, float]:
    if held is None:
        return {}
    return {
        "held_out_weeks": weeks,
        "held_out_precision_before": round(held.before.precision, 4),
        "held_out_precision_after": round(held.after.precision, 4),
        "held_out_caught_before": held.before.caught,
        "held_out_caught_after": held.after.caught,
        "held_out_priority_before": held.before.priority,
        "held_out_priority_after": held.after.priority,
    }


def _strata_figures(s: StrataEvidence | None) -> dict[str, float]:
    if s is None:
        return {}
    out: dict[str, float] = {"strata_phi": round(s.phi, 4)}
    for name, stratum in (("with_other", s.among_other), ("without_other", s.among_rest)):
        for side, c in (("fired", stratum.fired), ("not_fired", stratum.not_fired)):
            out[f"strata_{name}_{side}_success"] = c.success
            out[f"strata_{name}_{side}_failure"] = c.failure
    return out


def _rule_proposal(checked: CheckedChange, version: int, weeks: int) -> Proposal:
    c = checked.change
    e = c.effect
    kind = ProposalKind(c.kind.value)
    figures: dict[str, float] = {
        "log_odds": round(e.log_odds, 4),
        "log_odds_low": round(e.low, 4),
        "log_odds_high": round(e.high, 4),
        "fired_success": e.fired.success,
        "fired_failure": e.fired.failure,
        "not_fired_success": e.not_fired.success,
        "not_fired_failure": e.not_fired.failure,
        **(
            {
                "implied_points": round(c.implied, 1),
                "implied_low": round(c.implied_low, 1),
                "implied_high": round(c.implied_high, 1),
                "points_per_log_odds": round(c.scale, 2),
            }
            if c.scale
            else {}
        ),
        **_strata_figures(checked.strata),
        **_held_out_figures(checked.held_out, weeks),
    }
    return Proposal(
        id=proposal_id(version, kind, c.rule, "points", c.proposed),
        kind=kind,
        target=c.rule,
        label=c.label,
        setting="points",
        current=c.current,
        proposed=c.proposed,
        ruleset_version=version,
        figures=figures,
        strength=round(c.strength, 4),
        basis=EvidenceBasis.CONDITIONAL,
        strata_with=checked.strata.other_label if checked.strata else None,
    )


def _threshold_proposal(t: CheckedThreshold, weeks: int) -> Proposal:
    p = t.proposal
    return replace(p, figures={**p.figures, **_held_out_figures(t.held_out, weeks)}, after_rule_changes=True)
