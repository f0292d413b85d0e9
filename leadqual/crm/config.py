"""The `crm:` section of the YAML config: how CRM values map to lead fields, and what goes back.

A `properties:` (HubSpot) or `fields:` (Salesforce) map given in the file is laid over the
defaults below, so adding one custom property keeps the standard ones; map a key to `null`
to drop a default.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from leadqual.crm.fields import check_lead_field

LeadField = Annotated[str, AfterValidator(check_lead_field)]
CrmName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
# Keys of `owners`: Slack user ids (as in the rest of the config).
PipelineStageName = Literal["opportunity", "won", "lost"]  # leadqual.pipeline.Stage's values
SlackUser = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{2,}$")]

HUBSPOT_PROPERTIES: dict[str, str] = {
    "company": "company.name",
    "email": "contact.email",
    "firstname": "contact.first_name",
    "lastname": "contact.last_name",
    "jobtitle": "contact.title",
    "phone": "contact.phone",
    "country": "company.country",
    "state": "company.region",
    "industry": "company.industry",
    "numberofemployees": "company.employees",
    "hs_analytics_source": "source",
    "message": "message",
}
SALESFORCE_FIELDS: dict[str, str] = {
    "Company": "company.name",
    "Email": "contact.email",
    "FirstName": "contact.first_name",
    "LastName": "contact.last_name",
    "Title": "contact.title",
    "Phone": "contact.phone",
    "Country": "company.country",
    "State": "company.region",
    "Industry": "company.industry",
    "NumberOfEmployees": "company.employees",
    "LeadSource": "source",
    "Description": "message",
}


class _Cfg(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def over_defaults(given: object, defaults: dict[str, str]) -> object:
    """Lay a mapping from the file over the defaults; a key mapped to null drops that default."""
    if given is None:
        return dict(defaults)
    if not isinstance(given, dict):
        return given  # pydantic reports the type error
    merged: dict[Any, Any] = {**defaults, **given}
    return {key: target for key, target in merged.items() if target is not None}


class HubSpotStatuses(_Cfg):
    """The `hs_lead_status` value for each Leadbot state."""

    claimed: CrmName = "IN_PROGRESS"
    qualified: CrmName = "OPEN_DEAL"
    not_qualified: CrmName = "UNQUALIFIED"
    nurture: CrmName = "ATTEMPTED_TO_CONTACT"
    needs_info: CrmName = "CONNECTED"


class HubSpotWriteBack(_Cfg):
    enabled: bool = True  # false: claims and decisions queue nothing for HubSpot
    status_property: CrmName = "hs_lead_status"
    statuses: HubSpotStatuses = Field(default_factory=HubSpotStatuses)
    reason_property: CrmName | None = "leadbot_reason"
    link_property: CrmName | None = "leadbot_card_url"
    owner_property: CrmName = "hubspot_owner_id"


# HubSpot's default pipeline's closing stages (internal ids); any other stage is an opportunity.
HUBSPOT_DEAL_STAGES: dict[str, PipelineStageName] = {"closedwon": "won", "closedlost": "lost"}


class HubSpotDeals(_Cfg):
    """How a HubSpot deal's `dealstage` (its internal id) becomes a pipeline stage."""

    stages: dict[CrmName, PipelineStageName] = Field(default_factory=lambda: dict(HUBSPOT_DEAL_STAGES))
    otherwise: PipelineStageName = "opportunity"  # every stage not in `stages`

    @field_validator("stages", mode="before")
    @classmethod
    def _over_defaults(cls, v: object) -> object:
        return over_defaults(v, dict(HUBSPOT_DEAL_STAGES))


class SalesforceOpportunities(_Cfg):
    """How an Opportunity in an Outbound Message finds its lead and its pipeline stage.

    Its lead: `lead_field` on the Opportunity holding the Lead Id it was converted from, or
    else the Opportunity a converted Lead named in its `ConvertedOpportunityId`. Its stage:
    `stages` (StageName -> stage) first, then IsWon / IsClosed, else an opportunity.
    """

    lead_field: CrmName | None = "Leadbot_Lead_Id__c"
    stages: dict[CrmName, PipelineStageName] = Field(default_factory=dict)


class HubSpotConfig(_Cfg):
    properties: dict[CrmName, LeadField] = Field(default_factory=lambda: dict(HUBSPOT_PROPERTIES))
    write_back: HubSpotWriteBack = Field(default_factory=HubSpotWriteBack)
    deals: HubSpotDeals = Field(default_factory=HubSpotDeals)
    owners: dict[SlackUser, CrmName] = Field(default_factory=dict)  # Slack user -> hubspot_owner_id

    @field_validator("properties", mode="before")
    @classmethod
    def _over_defaults(cls, v: object) -> object:
        return over_defaults(v, HUBSPOT_PROPERTIES)


class SalesforceStatuses(_Cfg):
    """The Lead `Status` picklist value for each Leadbot state."""

    claimed: CrmName = "Working - Contacted"
    qualified: CrmName = "Qualified"
    not_qualified: CrmName = "Unqualified"
    nurture: CrmName = "Nurturing"
    needs_info: CrmName = "Working - Contacted"


class SalesforceWriteBack(_Cfg):
    enabled: bool = True  # false: claims and decisions queue nothing for Salesforce
    status_field: CrmName = "Status"
    statuses: SalesforceStatuses = Field(default_factory=SalesforceStatuses)
    reason_field: CrmName | None = "Leadbot_Reason__c"
    link_field: CrmName | None = "Leadbot_Card_URL__c"
    owner_field: CrmName = "OwnerId"


class SalesforceConfig(_Cfg):
    fields: dict[CrmName, LeadField] = Field(default_factory=lambda: dict(SALESFORCE_FIELDS))
    write_back: SalesforceWriteBack = Field(default_factory=SalesforceWriteBack)
    opportunities: SalesforceOpportunities = Field(default_factory=SalesforceOpportunities)
    owners: dict[SlackUser, CrmName] = Field(default_factory=dict)  # Slack user -> Salesforce user id

    @field_validator("fields", mode="before")
    @classmethod
    def _over_defaults(cls, v: object) -> object:
        return over_defaults(v, SALESFORCE_FIELDS)


class CrmConfig(_Cfg):
    hubspot: HubSpotConfig = Field(default_factory=HubSpotConfig)
    salesforce: SalesforceConfig = Field(default_factory=SalesforceConfig)

    def writes_back(self, crm: str) -> bool:
        """Whether write-back to `crm` (`hubspot` | `salesforce`) is switched on."""
        if crm == "hubspot":
            return self.hubspot.write_back.enabled
        if crm == "salesforce":
            return self.salesforce.write_back.enabled
        return False
