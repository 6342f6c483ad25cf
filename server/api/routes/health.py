"""Health of every part, so `lotse serve` and a load balancer know when Lotse can answer."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, Request, Response
from sqlalchemy import text

from server.api.deps import SessionDep, SettingsDep
from server.schemas import Health, PartHealth

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
def health(request: Request, response: Response, db: SessionDep, settings: SettingsDep) -> Health:
    parts: dict[str, PartHealth] = {}
    try:
        db.execute(text("SELECT 1"))
        parts["database"] = PartHealth(ok=True)
    except Exception as exc:  # report, never raise: this is the page people look at during an outage
        parts["database"] = PartHealth(ok=False, detail=type(exc).__name__)
    parts["rasa"] = PartHealth(ok=request.app.state.conversations.dialogue.healthy())
    try:
        ok = httpx.get(f"{settings.action_server_url}/health", timeout=2).status_code == 200
        parts["action_server"] = PartHealth(ok=ok)
    except httpx.HTTPError as exc:
        parts["action_server"] = PartHealth(ok=False, detail=type(exc).__name__)
    healthy = all(p.ok for p in parts.values())
    if not healthy:
        response.status_code = 503
    return Health(status="ok" if healthy else "degraded", parts=parts)
