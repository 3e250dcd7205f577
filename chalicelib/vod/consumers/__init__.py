"""VOD consumers: upload parts, sources, encoding job states, and the purge of removed videos."""
