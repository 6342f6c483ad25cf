"""Client for Rasa's REST channel: the hub asks Rasa for the next dialogue move, nothing more."""

from __future__ import annotations

import logging
from typing import Any

import httpx

log = logging.getLogger(__name__)


class DialogueUnavailable(RuntimeError):
    """Rasa (or the action server behind it) could not give an answer."""


class RasaClient:
    def __init__(self, base_url: str, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(timeout=timeout)

    def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        """Rasa's bot messages for one user message, or DialogueUnavailable."""
        try:
            response = self._client.post(
                f"{self.base_url}/webhooks/rest/webhook",
                json={"sender": sender, "message": text, "metadata": metadata},
            )
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            # No message text in the log: it may contain personal data.
            log.warning("dialogue engine unavailable: %s", type(exc).__name__)
            raise DialogueUnavailable(str(type(exc).__name__)) from exc
        if not isinstance(body, list):
            raise DialogueUnavailable("unexpected response")
        if not body:
            # Rasa answers [] when an action failed: the action server is down or broken.
            raise DialogueUnavailable("no reply")
        return [m for m in body if isinstance(m, dict)]

    def resume(self, sender: str) -> None:
        """Un-pause a conversation Rasa holds paused for a case (``ConversationPaused``)."""
        try:
            # After the pause Rasa never ran action_listen; without it the next message would not
            # match any rule, and Rasa would answer nothing.
            response = self._client.post(
                f"{self.base_url}/conversations/{sender}/tracker/events",
                json=[{"event": "resume"}, {"event": "action", "name": "action_listen"}],
            )
            response.raise_for_status()
        except httpx.HTTPError as exc:
            log.warning("could not resume the dialogue: %s", type(exc).__name__)
            raise DialogueUnavailable(str(type(exc).__name__)) from exc

    def healthy(self) -> bool:
        try:
            return self._client.get(f"{self.base_url}/", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def close(self) -> None:
        self._client.close()
