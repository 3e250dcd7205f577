"""Shared adapters: the single table, S3 objects, idempotency records, the audit log."""
