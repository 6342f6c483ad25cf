"""The hub's own pages: the web chat, the kiosk and the embeddable widget script."""
