"""The case managers' console: server-rendered pages over the same services as the case API."""
