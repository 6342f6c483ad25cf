"""Lotse: shared core (languages, locales, language detection) and the command line."""
