"""VOD use cases, written against vod.ports and core.ports."""
