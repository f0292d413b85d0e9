"""The `crm:` config section and the CRM settings: defaults from DESIGN.md, mistakes named at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadqual.config import load_config
from leadqual.crm.config import HUBSPOT_PROPERTIES, SALESFORCE_FIELDS
from leadqual.errors import ConfigError
from leadqual.settings import load_settings

CRM_ENV = (
    "LEADBOT_PUBLIC_URL",
    "HUBSPOT_CLIENT_SECRET",
    "HUBSPOT_ACCESS_TOKEN",
    "HUBSPOT_API_URL",
    "SALESFORCE_INSTANCE_URL",
    "SALESFORCE_ACCESS_TOKEN",
    "SALESFORCE_CLIENT_ID",
    "SALESFORCE_CLIENT_SECRET",
    "SALESFORCE_ORGANIZATION_ID",
    "SALESFORCE_API_VERSION",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in CRM_ENV:
        monkeypatch.delenv(name, raising=False)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "leadbot.yaml"
    path.write_text(text)
    return path


def test_without_a_crm_section_the_design_defaults_apply() -> None:
    crm = load_config().crm
    assert crm.hubspot.properties == HUBSPOT_PROPERTIES
    assert crm.hubspot.properties["numberofemployees"] == "company.employees"
    assert crm.hubspot.write_back.status_property == "hs_lead_status"
    assert crm.hubspot.write_back.statuses.not_qualified == "UNQUALIFIED"
    assert crm.hubspot.write_back.reason_property == "leadbot_reason"
    assert crm.hubspot.write_back.link_property == "leadbot_card_url"
    assert crm.salesforce.fields == SALESFORCE_FIELDS
    assert crm.salesforce.write_back.statuses.claimed == "Working - Contacted"
    assert crm.salesforce.write_back.reason_field == "Leadbot_Reason__c"
    assert crm.salesforce.write_back.link_field == "Leadbot_Card_URL__c"
    assert crm.hubspot.owners == {} and crm.salesforce.owners == {}


def test_a_custom_property_is_added_to_the_defaults_and_null_drops_one(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
crm:
  hubspot:
    properties: {plant_size: attributes.plant_size, hs_analytics_source: null}
    owners: {U01AAA: "61234567"}
""",
    )
    hubspot = load_config(path).crm.hubspot
    assert hubspot.properties["plant_size"] == "attributes.plant_size"
    assert hubspot.properties["email"] == "contact.email"
    assert "hs_analytics_source" not in hubspot.properties
    assert hubspot.owners == {"U01AAA": "61234567"}


def test_an_unknown_lead_field_in_a_mapping_stops_start_up_naming_file_line_and_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """timezone: UTC
crm:
  salesforce:
    fields:
      Company: company.name
      Rating: contact.rating
""",
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}:6: crm.salesforce.fields.Rating: unknown lead field 'contact.rating'")


def test_an_unknown_write_back_status_is_named_with_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """crm:
  hubspot:
    write_back:
      statuses: {claimed: IN_PROGRESS, won: CUSTOMER}
""",
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}:4: crm.hubspot.write_back.statuses.won:")


def test_crm_settings_have_their_defaults_and_normalised_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    s = load_settings()
    assert s.hubspot_api_url == "https://api.hubapi.com" and s.salesforce_api_version == "v61.0"
    assert s.hubspot_client_secret is None and s.salesforce_instance_url is None and s.public_url is None
    monkeypatch.setenv("LEADBOT_PUBLIC_URL", "https://leads.acme.com/")
    monkeypatch.setenv("SALESFORCE_INSTANCE_URL", "https://acme.my.salesforce.com/")
    monkeypatch.setenv("SALESFORCE_ORGANIZATION_ID", "00D5g000004ABCDEAS")
    monkeypatch.setenv("HUBSPOT_CLIENT_SECRET", "")
    s = load_settings()
    assert s.public_url == "https://leads.acme.com"
    assert s.salesforce_instance_url == "https://acme.my.salesforce.com"
    assert s.salesforce_organization_id == "00D5g000004ABCDEAS"
    assert s.hubspot_client_secret is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LEADBOT_PUBLIC_URL", "leads.acme.com"),
        ("SALESFORCE_ORGANIZATION_ID", "00D5g00000"),
        ("SALESFORCE_API_VERSION", "latest"),
        ("HUBSPOT_API_URL", "api.hubapi.com"),
    ],
)
def test_a_bad_crm_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(info.value).startswith("Invalid setting " + name)


def test_write_back_is_on_by_default_and_a_yaml_switch_turns_it_off_per_crm(tmp_path: Path) -> None:
    assert load_config().crm.writes_back("hubspot") and load_config().crm.writes_back("salesforce")
    path = write(tmp_path, "crm:\n  hubspot:\n    write_back: {enabled: false}\n")
    crm = load_config(path).crm
    assert not crm.writes_back("hubspot") and crm.writes_back("salesforce")
    assert crm.hubspot.write_back.status_property == "hs_lead_status"  # the rest keeps its defaults


def test_a_write_back_switch_that_is_not_a_boolean_stops_start_up_naming_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, "crm:\n  salesforce:\n    write_back:\n      enabled: sometimes\n")
    with pytest.raises(ConfigError, match=r"crm\.salesforce\.write_back\.enabled"):
        load_config(path)


def test_deal_stage_mappings_add_to_the_defaults_and_an_unknown_stage_stops_start_up(tmp_path: Path) -> None:
    path = write(tmp_path, "crm:\n  hubspot:\n    deals:\n      stages: {contractsigned: won, closedlost: null}\n")
    assert load_config(path).crm.hubspot.deals.stages == {"closedwon": "won", "contractsigned": "won"}
    bad = write(tmp_path, "crm:\n  salesforce:\n    opportunities:\n      stages: {Verbal Yes: maybe}\n")
    with pytest.raises(ConfigError, match=r"crm\.salesforce\.opportunities\.stages"):
        load_config(bad)
