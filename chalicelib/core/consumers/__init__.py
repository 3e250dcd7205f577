"""Helpers shared by every queue and stream consumer."""
