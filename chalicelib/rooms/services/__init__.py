"""Rooms use-cases, against the ports."""
