"""VOD adapters: DynamoDB items, S3 multipart, MediaConvert, the guarded fetcher."""
