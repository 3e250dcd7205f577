"""Platform entities and pure rules."""
