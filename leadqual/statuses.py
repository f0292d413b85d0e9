"""The stored states and origins, each named once: the columns hold their values.

StrEnum members compare and serialise as their strings, so rows and JSON written before
these enums existed read the same.
"""

from __future__ import annotations

from enum import StrEnum


class LeadStatus(StrEnum):
    """Where a lead is in triage; after a decision the status is the outcome's value."""

    NEW = "new"
    CLAIMED = "claimed"
    QUALIFIED = "qualified"
    NOT_QUALIFIED = "not_qualified"
    NURTURE = "nurture"
    NEEDS_INFO = "needs_info"


class LeadEvent(StrEnum):
    """What a rep did to a lead, as the audit log and the card's thread record it."""

    CLAIMED = "claimed"
    RELEASED = "released"
    REASSIGNED = "reassigned"
    DECIDED = "decided"
    REOPENED = "reopened"
    INFO_RECEIVED = "info_received"  # a Needs-info lead back to its owner, claimed and undecided


class RoutingEvent(StrEnum):
    """What routing recorded in the audit log: not a rep's triage step, so not in LeadEvent (the thread)."""

    ROTATION_SKIP = "rotation_skip"  # a rep passed over for a lead (away, off hours, at capacity)
    REP_AWAY = "rep_away"
    REP_BACK = "rep_back"


class OutboxKind(StrEnum):
    """What an outbox row sends."""

    CARD = "card"  # post a lead's card to its channel
    CARD_UPDATE = "card_update"  # chat.update the card in place
    THREAD = "thread"  # a line in the card's thread
    DM = "dm"  # a direct message (escalations, digest)
    EPHEMERAL = "ephemeral"  # an ephemeral note to one user in a channel
    HUBSPOT = "hubspot"  # write a lead's change back to its HubSpot contact
    SALESFORCE = "salesforce"  # write a lead's change back to its Salesforce Lead


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


class ProposalStatus(StrEnum):
    OPEN = "open"
    APPLIED = "applied"
    ROLLED_BACK = "rolled_back"


class RulesetOrigin(StrEnum):
    """How a ruleset version came to be."""

    FILE = "file"  # loaded from a rules file whose content was new
    APPLY = "apply"  # a proposal applied to the active version
    ROLLBACK = "rollback"  # the previous version reactivated
