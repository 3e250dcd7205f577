"""Rooms consumers (table stream)."""
