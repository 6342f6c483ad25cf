from fastapi import APIRouter

from server.api.routes import auth, cases, kiosk, locales, sessions, speech

api_router = APIRouter()
api_router.include_router(sessions.router)
api_router.include_router(locales.router)
api_router.include_router(auth.router)
api_router.include_router(cases.router)
api_router.include_router(kiosk.router)
api_router.include_router(speech.router)
