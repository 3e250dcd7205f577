"""Pure domain: entities, rules and use-case errors. No chalice, no boto3."""
