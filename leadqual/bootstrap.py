"""Wire Settings into a ready Context: config, rules file, database schema, active ruleset."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from leadqual.config import AppConfig, default_rules_path, load_config
from leadqual.db.engine import make_engine, make_session_factory, schema_is_current, upgrade_schema
from leadqual.errors import ConfigError
from leadqual.rules import RulesetSpec, load_ruleset_file
from leadqual.services.context import Context, utcnow
from leadqual.services.rulesets import sync_rules_file
from leadqual.settings import Settings


def load_app_config(settings: Settings) -> AppConfig:
    """The YAML config with LEADBOT_CHANNEL and LEADBOT_MANAGERS applied."""
    return load_config(settings.config_file).with_overrides(channel=settings.channel, managers=settings.managers)


def rules_path(settings: Settings, config: AppConfig) -> Path:
    """LEADBOT_RULES, else the config's `rules:`, else the packaged default."""
    return settings.rules_file or config.rules_path() or default_rules_path()


def load_rules(settings: Settings, config: AppConfig) -> tuple[RulesetSpec, Path]:
    path = rules_path(settings, config)
    return load_ruleset_file(path), path


def bootstrap(
    settings: Settings,
    *,
    session_factory: sessionmaker[Session] | None = None,
    clock: Callable[[], datetime] = utcnow,
    migrate: bool | None = None,
) -> Context:
    """Build the Context every edge uses. Bad config or rules raise ConfigError naming file and line.

    SQLite databases are migrated automatically (they belong to this process); a shared
    PostgreSQL must be migrated with `leadbot db upgrade`, so a web process never races a
    schema change.
    """
    config = load_app_config(settings)
    spec, path = load_rules(settings, config)
    if session_factory is None:
        engine = make_engine(settings.database_url)
        if migrate if migrate is not None else settings.is_sqlite:
            upgrade_schema(engine)
        elif not schema_is_current(engine):
            raise ConfigError("The database schema is not up to date: run `leadbot db upgrade` first.")
        session_factory = make_session_factory(engine)
    ctx = Context(session_factory=session_factory, config=config, clock=clock)
    sync_rules_file(ctx, spec, source=str(path))
    return ctx
