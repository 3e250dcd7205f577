"""Shared use cases (rate limits)."""
