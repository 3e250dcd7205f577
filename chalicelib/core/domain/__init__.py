"""Shared pure rules and entities (no chalice, boto3, botocore or Powertools)."""
