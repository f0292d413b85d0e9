"""The lead fields a CRM property or field may map to (DESIGN.md, "CRM connectors")."""

from __future__ import annotations

from leadqual.rules.conditions import FIELDS as CONDITION_FIELDS

# Every v1 lead field a CRM value can fill: the fields rules may test, less the derived
# `contact.email_domain`, plus `contact.first_name` and `contact.last_name`, which are joined
# into `contact.name`; `attributes.<key>` keeps any other value as is.
LEAD_FIELDS = (CONDITION_FIELDS - {"contact.email_domain"}) | {"contact.first_name", "contact.last_name"}
ATTRIBUTES = "attributes."


def check_lead_field(path: str) -> str:
    """Refuse a mapping target that is not a lead field (ValueError, so config errors name the key)."""
    path = path.strip()
    if path in LEAD_FIELDS or (path.startswith(ATTRIBUTES) and len(path) > len(ATTRIBUTES)):
        return path
    raise ValueError(f"unknown lead field {path!r}; use one of {', '.join(sorted(LEAD_FIELDS))} or attributes.<name>")
