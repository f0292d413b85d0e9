"""Rule proposals from decided leads: raise, lower or retire a rule's points, move a group threshold.

Pure functions over counts (no database). Only the closed outcomes count: Qualified and Not
qualified; open outcomes (Nurture, Needs info) are not counted. ("Won" is kept for a closed
deal, once pipeline outcomes arrive.)

How a rule is judged
--------------------
- Rates are smoothed with a Beta prior centred on the overall qualification rate and worth
  `prior_strength` leads (Odoo's lead scoring adds a flat pseudo-count instead; centring the
  prior on the overall rate pulls small samples towards what is typical, not towards 50%).
- A rule's effect is the log odds ratio of qualifying where it fired vs where it did not (within
  its segments, for segment rules), on the smoothed counts, with Woolf's 95% interval
  (standard error sqrt(1/a + 1/b + 1/c + 1/d)); the digest also shows Newcombe's interval
  for the plain difference of the two rates, which is how people read it.
- Points are read as weight of evidence, as in a credit scorecard: a rule's points should be
  proportional to its log odds ratio. The scale (points per unit of log odds) is the median
  over the rules with clear evidence, so a proposal says which rules are out of line with
  the others, never what the whole ruleset "should" score.
- Leads that fail a must-have are left out of a rule's counts: the must-have caps their group
  whatever their points, and counting them would credit the rules that correlate with the
  must-have (a supported-country bonus) with the must-have's effect.
- A change is proposed only when both sides have `min_decided` decided leads, the whole 95%
  interval lies beyond a 25% tolerance around the current points, and the change is at
  least 5 points. A rule whose leads convert the wrong way (a bonus rule whose leads
  qualify less often, with the whole interval below zero) is proposed for retirement.
- Counts are marginal: a rule that usually fires together with a stronger one borrows some
  of its credit. The backtest shows what a change would really do before anyone applies it.

How a group threshold is judged
-------------------------------
When a group converts no better than the group below it (smoothed rates), the loop splits
the group where its own leads separate best (a raise of its fit or intent minimum, in steps
of 5, as a decision tree would pick it). The raise is proposed when the leads it would move
convert no better than the group below and the leads it keeps convert better than the group
below with the whole interval above zero, each side with `min_decided` decided leads.
"""

from leadqual.proposals.judgement import MIN_STEP, TOLERANCE, propose
from leadqual.proposals.model import (
    Evidence,
    EvidenceBasis,
    Proposal,
    ProposalKind,
    ScoreCell,
    Tally,
    apply_to_spec,
    proposal_id,
)
from leadqual.proposals.statistics import Z95, Contrast, contrast, family_z, newcombe, smoothed_rate, wilson

__all__ = [
    "MIN_STEP",
    "TOLERANCE",
    "Z95",
    "Contrast",
    "Evidence",
    "EvidenceBasis",
    "Proposal",
    "ProposalKind",
    "ScoreCell",
    "Tally",
    "apply_to_spec",
    "contrast",
    "family_z",
    "newcombe",
    "proposal_id",
    "propose",
    "smoothed_rate",
    "wilson",
]
