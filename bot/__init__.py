"""Telegram channel of Lotse: a thin adapter between Telegram updates and the hub.

The hub (``server/``) owns conversations; this package only translates. In production the hub
mounts it behind a webhook (``server/api/routes/telegram.py``); for local development
``lotse telegram poll`` runs it with long polling (``bot/polling.py``).
"""
