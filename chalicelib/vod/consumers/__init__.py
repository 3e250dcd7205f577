"""VOD consumers: upload parts, sources, encoding job states."""
