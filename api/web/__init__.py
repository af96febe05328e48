"""The web workspace: server-rendered pages on the same app, services and rules as the API."""
