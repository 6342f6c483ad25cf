from fastapi import APIRouter

from server.api.routes import locales, sessions

api_router = APIRouter()
api_router.include_router(sessions.router)
api_router.include_router(locales.router)
