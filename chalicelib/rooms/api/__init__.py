"""Rooms routes: one module per resource."""
