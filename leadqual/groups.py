"""The five score groups, best first (DESIGN.md, DOMAIN.md)."""

from __future__ import annotations

from enum import StrEnum


class Group(StrEnum):
    PRIORITY = "priority"
    QUALIFIED_REVIEW = "qualified_review"
    NURTURE = "nurture"
    RESEARCH = "research"
    POOR_FIT = "poor_fit"

    @property
    def rank(self) -> int:
        """0 for Priority, 4 for Poor fit: lower is better."""
        return _ORDER.index(self)

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def action(self) -> str:
        return _ACTIONS[self]

    @property
    def routed(self) -> bool:
        """Poor fit is kept out of the sales queue."""
        return self is not Group.POOR_FIT

    def capped_at(self, best: Group) -> Group:
        """This group, or `best` if `best` is worse."""
        return self if self.rank >= best.rank else best


_ORDER = list(Group)
_LABELS = {
    Group.PRIORITY: "Priority",
    Group.QUALIFIED_REVIEW: "Qualified review",
    Group.NURTURE: "Nurture",
    Group.RESEARCH: "Research",
    Group.POOR_FIT: "Poor fit",
}
_ACTIONS = {
    Group.PRIORITY: "Fast sales handoff",
    Group.QUALIFIED_REVIEW: "Manual qualification",
    Group.NURTURE: "Educational follow-up",
    Group.RESEARCH: "Track and educate",
    Group.POOR_FIT: "Keep out of the sales queue",
}
