"""The one Settings object: every environment variable Leadbot reads, validated at start-up."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from leadqual.errors import ConfigError

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_HUBSPOT_API_URL = "https://api.hubapi.com"
_SLACK_ID = re.compile(r"^[A-Z0-9]{2,}$")


def normalise_database_url(url: str) -> str:
    """Map Heroku-style `postgres://` and bare `postgresql://` URLs to the psycopg 3 driver."""
    url = url.strip()
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Settings(BaseSettings):
    """Leadbot's configuration from the environment (and a `.env` file)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    slack_bot_token: SecretStr | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(DEFAULT_SLACK_API_URL, alias="SLACK_API_URL")
    database_url: str = Field("sqlite:///leadbot.db", alias="DATABASE_URL")
    config_file: Path | None = Field(None, alias="LEADBOT_CONFIG")
    rules_file: Path | None = Field(None, alias="LEADBOT_RULES")
    channel: str | None = Field(None, alias="LEADBOT_CHANNEL")
    managers: Annotated[list[str], NoDecode] = Field(default_factory=list, alias="LEADBOT_MANAGERS")
    intake_token: SecretStr | None = Field(None, alias="LEADBOT_INTAKE_TOKEN")
    port: int = Field(3000, alias="PORT", ge=1, le=65535)

    # CRM connectors (DESIGN.md, "CRM connectors").
    public_url: str | None = Field(None, alias="LEADBOT_PUBLIC_URL")
    hubspot_client_secret: SecretStr | None = Field(None, alias="HUBSPOT_CLIENT_SECRET")
    hubspot_access_token: SecretStr | None = Field(None, alias="HUBSPOT_ACCESS_TOKEN")
    hubspot_api_url: str = Field(DEFAULT_HUBSPOT_API_URL, alias="HUBSPOT_API_URL")
    salesforce_instance_url: str | None = Field(None, alias="SALESFORCE_INSTANCE_URL")
    salesforce_access_token: SecretStr | None = Field(None, alias="SALESFORCE_ACCESS_TOKEN")
    salesforce_client_id: SecretStr | None = Field(None, alias="SALESFORCE_CLIENT_ID")
    salesforce_client_secret: SecretStr | None = Field(None, alias="SALESFORCE_CLIENT_SECRET")
    salesforce_organization_id: str | None = Field(None, alias="SALESFORCE_ORGANIZATION_ID")
    salesforce_api_version: str = Field("v61.0", alias="SALESFORCE_API_VERSION")

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token_is_xoxb(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and v.get_secret_value() and not v.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return v or None

    @field_validator("slack_app_token")
    @classmethod
    def _app_token_is_xapp(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and v.get_secret_value() and not v.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return v if v is not None and v.get_secret_value() else None

    @field_validator("slack_signing_secret", "intake_token")
    @classmethod
    def _empty_secret_is_unset(cls, v: SecretStr | None) -> SecretStr | None:
        return v if v is not None and v.get_secret_value() else None

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, v: str) -> str:
        v = v.strip()
        if not re.match(r"^https?://[^/\s]+", v):
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return v if v.endswith("/") else v + "/"

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, v: str) -> str:
        v = normalise_database_url(v)
        if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", v):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return v

    @field_validator("channel")
    @classmethod
    def _channel(cls, v: str | None) -> str | None:
        if v is not None and v.strip() and not _SLACK_ID.match(v.strip()):
            raise ValueError("must be a channel ID such as C0123ABCD (not a #name)")
        return v.strip() if v and v.strip() else None

    @field_validator("managers", mode="before")
    @classmethod
    def _managers(cls, v: object) -> object:
        if isinstance(v, str):
            v = [part.strip() for part in v.split(",") if part.strip()]
        if isinstance(v, list):
            bad = [m for m in v if not _SLACK_ID.match(str(m))]
            if bad:
                raise ValueError(f"must be user IDs such as U0123ABCD, got {bad[0]!r}")
        return v

    @field_validator(
        "hubspot_client_secret",
        "hubspot_access_token",
        "salesforce_access_token",
        "salesforce_client_id",
        "salesforce_client_secret",
    )
    @classmethod
    def _empty_crm_secret_is_unset(cls, v: SecretStr | None) -> SecretStr | None:
        return v if v is not None and v.get_secret_value().strip() else None

    @field_validator("public_url", "hubspot_api_url", "salesforce_instance_url")
    @classmethod
    def _base_url(cls, v: str | None) -> str | None:
        # Kept without a trailing slash: paths such as /crm/hubspot are appended to it.
        if v is None or not v.strip():
            return None
        v = v.strip()
        if not re.match(r"^https?://[^/\s]+", v):
            raise ValueError("must be an http(s) URL such as https://leads.acme.com")
        return v.rstrip("/")

    @field_validator("salesforce_organization_id")
    @classmethod
    def _org_id(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        if not re.match(r"^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$", v.strip()):
            raise ValueError("must be a 15- or 18-character Salesforce org id such as 00D5g000004ABCDEAS")
        return v.strip()

    @field_validator("salesforce_api_version")
    @classmethod
    def _api_version(cls, v: str) -> str:
        v = v.strip()
        v = v if v.startswith("v") else "v" + v
        if not re.match(r"^v\d{2,3}\.\d$", v):
            raise ValueError("must be an API version such as v61.0")
        return v

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings(**overrides: object) -> Settings:
    """Read Settings, turning a validation error into one line that names the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "settings"
            alias = Settings.model_fields[field].alias if field in Settings.model_fields else field
            problems.append(f"{alias or field}: {err['msg']}")
        raise ConfigError("Invalid setting " + "; ".join(problems)) from None
