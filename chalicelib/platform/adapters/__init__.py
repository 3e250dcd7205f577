"""Platform adapters: DynamoDB, Secrets Manager, EventBridge, SQS, the webhook sender."""
