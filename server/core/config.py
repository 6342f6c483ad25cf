"""Settings of the hub, read from the environment (or a ``.env`` file).

Every value has an embedded default so that ``lotse serve`` runs on a fresh machine with
SQLite and all parts on localhost; a wrong value fails at start-up with a message that names
the variable, not later in front of a newcomer.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from lotse.languages import LANGUAGES
from lotse.paths import VAR


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOTSE_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{VAR / 'lotse.db'}",
        validation_alias=AliasChoices("DATABASE_URL", "LOTSE_DATABASE_URL"),
        description="SQLAlchemy URL; sqlite:///path (default) or postgresql+psycopg://...",
    )
    rasa_url: str = Field(default="http://127.0.0.1:5005", description="Rasa server (REST channel)")
    action_server_url: str = Field(default="http://127.0.0.1:5055", description="rasa-sdk action server")
    rasa_timeout_seconds: float = Field(default=20.0, gt=0)
    hub_host: str = "127.0.0.1"
    hub_port: int = Field(default=8000, ge=1, le=65535)
    default_language: str = Field(default="de", description="language before anything is detected")
    welcome_center_region: str = Field(
        default="kreis-kleve", description="region whose Welcome Center is named in fallbacks"
    )
    default_region: str | None = Field(default=None, description="region of new sessions without one")
    max_message_chars: int = Field(default=4000, ge=1, le=20000)
    telegram_bot_token: str | None = Field(
        default=None, validation_alias=AliasChoices("TELEGRAM_BOT_TOKEN", "LOTSE_TELEGRAM_BOT_TOKEN")
    )

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql")):
            raise ValueError(
                f"DATABASE_URL must start with sqlite:// or postgresql (got {value.split(':')[0]!r})"
            )
        return value

    @field_validator("default_language")
    @classmethod
    def _supported_language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"LOTSE_DEFAULT_LANGUAGE {value!r} is not one of {sorted(LANGUAGES)}")
        return value

    @field_validator("rasa_url", "action_server_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value.rstrip("/")

    def sqlite_path(self) -> Path | None:
        if self.database_url.startswith("sqlite:///"):
            return Path(self.database_url.removeprefix("sqlite:///"))
        return None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
