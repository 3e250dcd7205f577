"""Queue and stream consumers (Chalice event sources)."""
