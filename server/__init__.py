"""The hub: owns conversations and channels, stores every message, asks Rasa for the next move."""
