"""Settings of the hub, read from the environment (or a ``.env`` file).

Every value has an embedded default so that ``lotse serve`` runs on a fresh machine with
SQLite and all parts on localhost; a wrong value fails at start-up with a message that names
the variable, not later in front of a newcomer.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from lotse.languages import LANGUAGES
from lotse.paths import VAR

# An origin as browsers send it: scheme, host (name, IPv4 or [IPv6]) and an optional port; nothing else.
_HOST = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")
_ORIGIN = re.compile(r"^https?://(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:\d{1,5})?/?$")


class Settings(BaseSettings):
    # An empty variable counts as unset: a compose file passes `LOTSE_X: ${LOTSE_X:-}` for every
    # optional setting, and "" must not become a value (an empty webhook URL, an empty region).
    model_config = SettingsConfigDict(env_prefix="LOTSE_", env_file=".env", extra="ignore", env_ignore_empty=True)

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
    telegram_webhook_secret: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9_-]{1,256}$",
        description="secret Telegram sends in X-Telegram-Bot-Api-Secret-Token; webhook calls without it are refused",
    )
    telegram_webhook_url: str | None = Field(
        default=None, description="public https base URL of the hub; if set, the hub registers its webhook at start",
    )
    telegram_webhook_path: str = Field(default="/telegram/webhook", pattern=r"^/[\w/.-]*$")
    telegram_api_base_url: str | None = Field(
        default=None, description="Bot API server (default: https://api.telegram.org); tests point it at a fake",
    )

    rate_limit_session_per_minute: int = Field(
        default=30, ge=0, description="messages per conversation and minute on the public chat API (0: no limit)"
    )
    rate_limit_address_per_minute: int = Field(
        default=300, ge=0, description="chat API calls per client address and minute (0: no limit)"
    )
    # Hand-off and console.
    retention_days: int = Field(default=90, ge=1, le=3650, description="days a conversation is kept (told in consent)")
    retention_close_days: int = Field(
        default=30, ge=1, le=3650, description="days of inactivity after which a conversation and its cases are closed",
    )
    purge_interval_minutes: int = Field(
        default=60, ge=0, le=7 * 24 * 60, description="how often the hub runs the retention job (0: never)",
    )
    rasa_tracker_url: str | None = Field(
        default=None, description="SQLAlchemy URL of Rasa's tracker store, so erasure also wipes Rasa's copy "
        "(default: the SQLite file lotse serve gives Rasa, var/run/<hub port>/rasa-tracker.db)",
    )
    token_hours: float = Field(default=12, gt=0, le=24 * 30, description="how long a staff login lasts")
    public_url: str | None = Field(default=None, description="public base URL of the hub (links in e-mails)")
    smtp_host: str | None = Field(default=None, description="SMTP server for case notifications (none: no e-mail)")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "lotse@localhost"
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False

    # Web widget and kiosk.
    widget_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), description="comma-separated origins (https://www.kreis-kleve.de) whose pages may embed the "
        "chat widget; empty: only the hub's own pages",
    )
    kiosk_idle_seconds: int = Field(default=120, ge=10, le=3600, description="kiosk: idle time before the warning")
    kiosk_warn_seconds: int = Field(default=30, ge=5, le=600, description="kiosk: countdown before the screen is wiped")

    # Several hub instances behind a load balancer (README: "Running several instances").
    redis_url: str | None = Field(
        default=None, description="redis://host:port/db shared by all hub instances: pushes a message stored on "
        "one instance to streams open on the others, shares continue tokens and rate limits, and is Rasa's lock "
        "store under lotse serve; unset: a single instance, everything in-process",
    )

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            scheme = value.split(":")[0]
            raise ValueError(f"LOTSE_REDIS_URL must start with redis://, rediss:// or unix:// (got {scheme!r})")
        return value or None

    # Staff logins and districts (multi-tenancy).
    staff_idle_minutes: float = Field(
        default=30, ge=0, le=24 * 60,
        description="a staff login unused for this long is refused and must log in again (0: only LOTSE_TOKEN_HOURS)",
    )
    tenant_hosts: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict, description="comma-separated host=region pairs (kleve.lotse.example=kreis-kleve): "
        "new chats opened through that host name belong to that district unless they name a region themselves",
    )

    @field_validator("widget_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else list(value) if isinstance(value, list | tuple) else []
        origins = []
        for item in (str(i).strip() for i in items):
            if not item:
                continue
            if not _ORIGIN.match(item):
                raise ValueError(
                    f"LOTSE_WIDGET_ORIGINS: {item!r} is not an origin; write scheme://host[:port] "
                    "without a path, e.g. https://www.kreis-kleve.de"
                )
            origins.append(item.rstrip("/").lower())
        return tuple(origins)

    @field_validator("tenant_hosts", mode="before")
    @classmethod
    def _tenant_hosts(cls, value: object) -> dict[str, str]:
        if isinstance(value, dict):
            pairs = [(str(k), str(v)) for k, v in value.items()]
        else:
            pairs = []
            for item in (i.strip() for i in str(value or "").split(",")):
                if not item:
                    continue
                host, sep, region = item.partition("=")
                if not sep:
                    raise ValueError(
                        f"LOTSE_TENANT_HOSTS: {item!r} is not host=region, e.g. kleve.lotse.example=kreis-kleve")
                pairs.append((host, region))
        from knowledge import knowledge_dir

        known = {p.stem for p in (knowledge_dir() / "regions").glob("*.yml")}
        hosts = {}
        for host, region in ((h.strip().lower().rstrip("."), r.strip()) for h, r in pairs):
            if not _HOST.match(host):
                raise ValueError(f"LOTSE_TENANT_HOSTS: {host!r} is not a host name (no scheme, port or path)")
            if region not in known:
                raise ValueError(
                    f"LOTSE_TENANT_HOSTS: unknown region {region!r} for {host}; known: {', '.join(sorted(known))}")
            hosts[host] = region
        return hosts

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

    @field_validator("telegram_api_base_url")
    @classmethod
    def _optional_http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value.rstrip("/") if value else value

    @field_validator("telegram_webhook_url")
    @classmethod
    def _https_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise ValueError(f"{value!r}: Telegram only calls https:// webhooks")
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.telegram_webhook_url and not self.telegram_webhook_secret:
            raise ValueError("LOTSE_TELEGRAM_WEBHOOK_URL needs LOTSE_TELEGRAM_WEBHOOK_SECRET (to keep it private)")
        return self

    def telegram_webhook(self) -> str | None:
        """The full webhook address Telegram should call, or None when the hub has no public URL."""
        return f"{self.telegram_webhook_url}{self.telegram_webhook_path}" if self.telegram_webhook_url else None

    def tracker_store_url(self) -> str:
        """Where Rasa keeps its copy of the conversations (see lotse/supervisor.py)."""
        return self.rasa_tracker_url or f"sqlite:///{VAR / 'run' / str(self.hub_port) / 'rasa-tracker.db'}"

    def region_for_host(self, host: str | None) -> str | None:
        """The district a request's Host header belongs to (LOTSE_TENANT_HOSTS), port ignored."""
        if not host or not self.tenant_hosts:
            return None
        name = host.strip().lower().rsplit(":", 1)[0] if not host.startswith("[") else host.lower()
        return self.tenant_hosts.get(name.rstrip("."))

    def sqlite_path(self) -> Path | None:
        if self.database_url.startswith("sqlite:///"):
            return Path(self.database_url.removeprefix("sqlite:///"))
        return None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
