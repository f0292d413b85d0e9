"""Every action_id, callback_id and block_id Leadbot uses, defined once.

`blocks/` builds with these and the listeners in `bot/slack/listeners/` match on them, so a
rename cannot leave a button without a handler. Other slices add their constants here.
"""

from __future__ import annotations

from dataclasses import dataclass

from leadqual.decisions import Criterion
from leadqual.lead import Outcome

# --- Lead card: one actions block; every button's value is the lead id ------------------
CARD_ACTIONS = "lead_actions"
CLAIM = "lead_claim"
RELEASE = "lead_release"
QUALIFY = "lead_qualify"
DISQUALIFY = "lead_disqualify"
NURTURE = "lead_nurture"
NEEDS_INFO = "lead_needs_info"
REOPEN = "lead_reopen"
INFO_RECEIVED = "lead_info_received"  # on a Needs-info card: opens INFO_RECEIVED_VIEW
MORE = "lead_more"  # overflow menu; option values are f"{MORE_REASSIGN}:{lead_id}"
MORE_REASSIGN = "reassign"

# --- Decision modals (callback_id) and their input blocks (block_id == action_id) --------
QUALIFY_VIEW = "qualify_view"
DISQUALIFY_VIEW = "disqualify_view"
NURTURE_VIEW = "nurture_view"
NEEDS_INFO_VIEW = "needs_info_view"
REASSIGN_VIEW = "reassign_view"
INFO_RECEIVED_VIEW = "info_received_view"
ADD_LEAD_VIEW = "add_lead_view"


@dataclass(frozen=True, slots=True)
class DecisionIds:
    """One outcome's card button and the modal it opens (whose submission blocks.modals reads back)."""

    outcome: Outcome
    button: str  # action_id on the card
    label: str  # the button's text
    view: str  # callback_id of its modal


# The one table from a decision to its button, its modal and (by callback_id) its reader.
DECISIONS = (
    DecisionIds(Outcome.QUALIFIED, QUALIFY, "Qualify", QUALIFY_VIEW),
    DecisionIds(Outcome.NOT_QUALIFIED, DISQUALIFY, "Disqualify", DISQUALIFY_VIEW),
    DecisionIds(Outcome.NURTURE, NURTURE, "Nurture", NURTURE_VIEW),
    DecisionIds(Outcome.NEEDS_INFO, NEEDS_INFO, "Needs info", NEEDS_INFO_VIEW),
)
DECISION_BY_BUTTON = {d.button: d for d in DECISIONS}
DECISION_BY_VIEW = {d.view: d for d in DECISIONS}
DECISION_VIEWS = {d.outcome.value: d.view for d in DECISIONS}

# One input block per FIAN criterion, named after it.
FIAN_BLOCKS: dict[str, str] = {c.value: f"fian_{c.value}" for c in Criterion}
FIT, INTENT, AUTHORITY, NEED = (FIAN_BLOCKS[c] for c in Criterion)
MOTION = "motion"
NEXT_STEP = "next_step"
NEXT_STEP_ON = "next_step_on"
REASON = "reason"
FOLLOW_UP_ON = "follow_up_on"
MISSING = "missing"
NOTE = "note"
REASSIGN_TO = "reassign_to"
ARTEFACTS = "artefacts"  # Qualify: artefacts requested
ARRIVED = "arrived"  # Info received: which missing details arrived

# --- /lead add-lead modal ---------------------------------------------------------------
LEAD_COMMAND = "/lead"
ADD_COMPANY = "add_company"
ADD_CONTACT_NAME = "add_contact_name"
ADD_EMAIL = "add_email"
ADD_TITLE = "add_title"
ADD_INDUSTRY = "add_industry"
ADD_COUNTRY = "add_country"
ADD_NEED = "add_need"
ADD_MESSAGE = "add_message"

# --- App Home -----------------------------------------------------------------------------
HOME_REFRESH = "home_refresh"

# --- Slack message metadata (chat.postMessage `metadata.event_type`) ----------------------
CARD_EVENT_TYPE = "leadbot_card"

# --- Weekly digest (DM to managers): Apply carries the proposal id, Roll back the version it undoes
APPLY_PROPOSAL = "proposal_apply"
ROLLBACK_RULESET = "ruleset_rollback"
DIGEST_PROPOSAL_BLOCK = "digest_proposal"  # block_id prefix: f"{DIGEST_PROPOSAL_BLOCK}:{proposal_id}"
DIGEST_ROLLBACK_BLOCK = "digest_rollback"
