"""Pipeline outcomes the CRM pushes: a HubSpot deal or a Salesforce Opportunity as stage reports.

Both are pure: they take what the CRM sent (a deal and its associated contacts' ids, an
Opportunity's Outbound Message fields) and return `StageReport`s naming leads by
`external_id` (`hubspot:<contactId>`, `salesforce:<LeadId>`). Which of those leads are stored
is the service's business (`leadqual.services.pipeline.record_known_in`).

HubSpot deal: https://developers.hubspot.com/docs/api/crm/deals (`dealstage` holds the
stage's internal id, `closedwon` / `closedlost` in the default pipeline; `amount` and
`closedate` are strings). Salesforce Opportunity: `StageName`, `IsWon`, `IsClosed`, `Amount`,
`CloseDate` (a date), `CurrencyIsoCode` (multi-currency orgs only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import TypeAdapter, ValidationError

from leadqual.crm import hubspot, salesforce
from leadqual.crm.config import HubSpotDeals, SalesforceOpportunities
from leadqual.pipeline import Stage, StageReport

DEAL_PROPERTIES = ("dealstage", "amount", "deal_currency_code", "closedate")
_MOMENT = TypeAdapter(datetime)
MAX_AMOUNT = Decimal("1e16")  # StageReport keeps 18 digits, 2 of them decimals


def deal_stage(dealstage: str | None, config: HubSpotDeals) -> Stage:
    """The pipeline stage of a HubSpot `dealstage` (internal id) through `crm.hubspot.deals.stages`."""
    return Stage(config.stages.get(dealstage or "", config.otherwise))


def deal_reports(
    deal: Mapping[str, Any], contacts: Sequence[str], config: HubSpotDeals, *, occurred_at: datetime
) -> list[StageReport]:
    """One report per associated contact: the deal's stage, when, and for how much.

    `deal` is one result of the deals batch read; `contacts` its contacts' ids, as
    `leadqual.crm.hubspot.associated_ids` reads them from the associations batch read.
    """
    props = deal.get("properties") or {}
    stage = deal_stage(props.get("dealstage"), config)
    if stage is Stage.OPPORTUNITY:
        at = moment(props.get("createdate")) or moment(deal.get("createdAt")) or occurred_at
    else:
        at = moment(props.get("closedate")) or occurred_at
    amount, currency = money(props.get("amount")), currency_code(props.get("deal_currency_code"))
    return [
        StageReport(
            external_id=hubspot.external_id(contact_id),
            stage=stage,
            at=at,
            amount=amount,
            currency=currency if amount is not None else None,
            source="hubspot",
        )
        for contact_id in dict.fromkeys(str(c) for c in contacts)
    ]


def opportunity_stage(fields: Mapping[str, str | None], config: SalesforceOpportunities) -> Stage:
    """StageName through `stages`, then IsWon / IsClosed, else an opportunity."""
    named = config.stages.get(fields.get("StageName") or "")
    if named is not None:
        return Stage(named)
    if _true(fields.get("IsWon")):
        return Stage.WON
    if _true(fields.get("IsClosed")):
        return Stage.LOST
    return Stage.OPPORTUNITY


def opportunity_report(
    fields: Mapping[str, str | None], lead_id: str, config: SalesforceOpportunities, *, now: datetime
) -> StageReport:
    """The report an Opportunity's fields make for the Lead `lead_id` it came from."""
    stage = opportunity_stage(fields, config)
    if stage is Stage.OPPORTUNITY:
        at = moment(fields.get("CreatedDate")) or now
    else:
        at = moment(fields.get("CloseDate")) or moment(fields.get("LastModifiedDate")) or now
    amount = money(fields.get("Amount"))
    return StageReport(
        external_id=salesforce.external_id(lead_id),
        stage=stage,
        at=at,
        amount=amount,
        currency=currency_code(fields.get("CurrencyIsoCode")) if amount is not None else None,
        source="salesforce",
    )


def opportunity_lead(fields: Mapping[str, str | None], config: SalesforceOpportunities) -> str | None:
    """The Lead Id the Opportunity's `lead_field` holds (18 characters), or None."""
    value = fields.get(config.lead_field) if config.lead_field else None
    return long_id(value) if value else None


def long_id(sf_id: str) -> str | None:
    """A Salesforce id in its 18-character form (the case-safe suffix added to a 15-character id)."""
    sf_id = sf_id.strip()
    if len(sf_id) == 18 and sf_id.isalnum():
        return sf_id
    if len(sf_id) != 15 or not sf_id.isalnum():
        return None
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
    suffix = ""
    for chunk in (sf_id[0:5], sf_id[5:10], sf_id[10:15]):
        bits = sum(1 << i for i, ch in enumerate(chunk) if "A" <= ch <= "Z")
        suffix += alphabet[bits]
    return sf_id + suffix


def moment(value: object) -> datetime | None:
    """A CRM date or date-time (ISO 8601, epoch milliseconds, or a plain date) in UTC; None when unusable."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and len(value) == 10 and value[4] == "-":
        try:
            return datetime.combine(datetime.fromisoformat(value).date(), time(0), tzinfo=UTC)
        except ValueError:
            return None
    try:
        parsed = _MOMENT.validate_python(value)
    except ValidationError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def money(value: object) -> Decimal | None:
    """`"42000"`, `"42000.50"` or `42000.0` as a non-negative amount; None when unset or not a number."""
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0 or amount >= MAX_AMOUNT:
        return None
    return amount.quantize(Decimal("0.01"))


def currency_code(value: object) -> str | None:
    code = str(value).strip().upper() if isinstance(value, str) else ""
    return code if len(code) == 3 and code.isalpha() else None


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"
