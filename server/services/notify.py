"""Telling staff about new cases: the console's live badge, and e-mail when SMTP is set up.

The e-mail carries no personal data (no name, no message text, not even the topic's details):
only that a case is waiting, its number, team, language and urgency, and where to log in.
"""

from __future__ import annotations

import logging
import smtplib
import threading
from email.message import EmailMessage
from typing import Any

from server.core.config import Settings
from server.services.events import EventBus, SessionRef

log = logging.getLogger(__name__)


def team_channel(team: str) -> str:
    return f"team:{team}"


class Notifier:
    def __init__(self, settings: Settings, bus: EventBus) -> None:
        self.settings = settings
        self.bus = bus

    def console(self, team: str, event: dict[str, Any]) -> None:
        """Push to consoles open for ``team`` (the console's event stream subscribes to it)."""
        self.bus.publish(SessionRef(team_channel(team), "console"), event)

    def new_case(self, case_id: int, team: str, team_name: str, team_email: str | None,
                 language: str, urgency: str, region: str | None = None) -> None:
        # The region lets a console of another district with a team of the same name skip it.
        self.console(team, {"type": "case_created", "case_id": case_id, "team": team,
                            "language": language, "urgency": urgency, "region": region})
        if team_email and self.settings.smtp_host:
            threading.Thread(
                target=self._mail, args=(case_id, team_name, team_email, language, urgency), daemon=True
            ).start()

    def _mail(self, case_id: int, team_name: str, to: str, language: str, urgency: str) -> None:
        message = EmailMessage()
        message["From"] = self.settings.smtp_from
        message["To"] = to
        flag = "DRINGEND: " if urgency == "urgent" else ""
        message["Subject"] = f"{flag}Lotse: neuer Fall #{case_id} für {team_name}"
        link = f"{self.settings.public_url}/console/cases/{case_id}" if self.settings.public_url else "/console"
        message.set_content(
            f"Ein neuer Fall wartet auf Ihr Team ({team_name}).\n"
            f"Fall: #{case_id}\nSprache: {language}\nDringlichkeit: {urgency}\n\n"
            f"Bitte in der Konsole anmelden: {link}\n"
        )
        try:
            with smtplib.SMTP(self.settings.smtp_host or "", self.settings.smtp_port, timeout=10) as smtp:
                if self.settings.smtp_starttls:
                    smtp.starttls()
                if self.settings.smtp_user:
                    smtp.login(self.settings.smtp_user, self.settings.smtp_password or "")
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("case notification e-mail failed: %s", type(exc).__name__)
