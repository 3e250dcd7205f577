"""Platform consumers: the outbox publisher and the webhook dispatcher and deliverer."""
