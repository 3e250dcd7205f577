"""Private tokens of private videos: the mint is shared with live streams (core/adapters/private_tokens.py)."""

from chalicelib.core.adapters.private_tokens import TOKEN_COLLECTION, TOKEN_TTL, DynamoPrivateTokenMint

__all__ = ["TOKEN_COLLECTION", "TOKEN_TTL", "DynamoPrivateTokenMint"]
