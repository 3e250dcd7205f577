"""The rooms domain: entities and pure rules; no AWS, no HTTP."""
