"""VOD entities and pure rules."""
