"""Projects, API keys, auth, audit, webhooks and the event catalogue."""
