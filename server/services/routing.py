"""Routing tables: which team answers a hand-off, and when that team is at work.

Routing is configuration, not code, so that each of the 54 KI districts can describe its own
house (``config/routing/<region>.yml``); a wrong file fails at start-up with the file's name.
"""

from __future__ import annotations

import os
from datetime import datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from lotse.paths import ROOT

ROUTING_DIR = ROOT / "config" / "routing"


def routing_dir() -> Path:
    """``LOTSE_ROUTING_DIR``, so an installation keeps its tables outside the checkout."""
    return Path(os.environ.get("LOTSE_ROUTING_DIR") or ROUTING_DIR)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Team(BaseModel):
    name: str
    email: str | None = None


class Route(BaseModel):
    team: str
    topic: str | None = None
    towns: list[str] | None = None
    urgency: Literal["normal", "urgent"] | None = None

    def matches(self, topic: str | None, town: str | None, urgency: str) -> bool:
        if self.topic is not None and self.topic != topic:
            return False
        if self.urgency is not None and self.urgency != urgency:
            return False
        return self.towns is None or (town is not None and town.casefold() in {t.casefold() for t in self.towns})


class RoutingTable(BaseModel):
    timezone: str = "Europe/Berlin"
    staff_language: str = "de"
    teams: dict[str, Team]
    routes: list[Route] = Field(default_factory=list)
    default_team: str
    office_hours: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("office_hours")
    @classmethod
    def _hours(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for day, spans in value.items():
            if day not in DAYS:
                raise ValueError(f"unknown day {day!r}; use {', '.join(DAYS)}")
            for span in spans:
                start, _, end = span.partition("-")
                if _parse_time(start) >= _parse_time(end):
                    raise ValueError(f"{day}: {span!r} must be HH:MM-HH:MM with the start before the end")
        return value

    @model_validator(mode="after")
    def _known_teams(self) -> RoutingTable:
        ZoneInfo(self.timezone)
        for team in [self.default_team, *(r.team for r in self.routes)]:
            if team not in self.teams:
                raise ValueError(f"route to unknown team {team!r}; teams: {', '.join(self.teams)}")
        return self

    def route(self, topic: str | None, town: str | None, urgency: str) -> str:
        return next((r.team for r in self.routes if r.matches(topic, town, urgency)), self.default_team)

    def _spans(self, day: datetime) -> list[tuple[datetime, datetime]]:
        spans = []
        for span in self.office_hours.get(DAYS[day.weekday()], []):
            start, _, end = span.partition("-")
            spans.append((datetime.combine(day.date(), _parse_time(start), day.tzinfo),
                          datetime.combine(day.date(), _parse_time(end), day.tzinfo)))
        return spans

    def next_opening(self, now: datetime) -> datetime | None:
        """None while the office is open; otherwise when it opens next (local time)."""
        if not self.office_hours:
            return None  # no hours configured: always answered
        local = now.astimezone(ZoneInfo(self.timezone))
        for offset in range(8):
            day = local + timedelta(days=offset)
            for start, end in self._spans(day):
                if offset == 0 and start <= local < end:
                    return None
                if start > local:
                    return start
        return None


def _parse_time(value: str) -> time:
    try:
        return time.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a time HH:MM") from None


class RoutingError(ValueError):
    pass


def _load(path: Path) -> RoutingTable:
    try:
        return RoutingTable.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (ValidationError, ValueError, yaml.YAMLError) as exc:
        raise RoutingError(f"{path}: {exc}") from exc


def routing_for(region: str | None, directory: Path | None = None) -> RoutingTable:
    return _routing_for(region, directory or routing_dir())


@lru_cache(maxsize=64)
def _routing_for(region: str | None, directory: Path) -> RoutingTable:
    own = directory / f"{region}.yml" if region else None
    return _load(own if own is not None and own.exists() else directory / "default.yml")


def all_teams(directory: Path | None = None) -> dict[str, Team]:
    """Every team of every routing file (staff are members of teams by id)."""
    teams: dict[str, Team] = {}
    for path in sorted((directory or routing_dir()).glob("*.yml")):
        teams.update(_load(path).teams)
    return teams
