"""The check for private videos at the edge: a CloudFront Function on the media distribution's
default (S3) behaviour, viewer request, reading a CloudFront KeyValueStore.

The function (infra/edge/playback_check.js) applies chalicelib/playback/domain/access.py's media rule
to every request: a private video's playlists and segments need a playback session in the path,
checked with an HMAC; the store holds which videos are private and the session keys
(chalicelib/playback/domain/edge.py). The playback context keeps the store current: a consumer of
the video events writes the private ids, the session-key rotation the keys (docs/playback.md).

Why a CloudFront Function and not Lambda@Edge or signed cookies: see docs/playback.md. It runs
before the cache, on hits too; the embed page's behaviours (`/embed/*`, `/oembed`, infra.player)
go to the API and are not checked here.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import aws_cloudfront as cloudfront
from constructs import Construct

FUNCTION_CODE = Path(__file__).with_name("edge") / "playback_check.js"


def playback_check(scope: Construct) -> tuple[cloudfront.KeyValueStore, cloudfront.FunctionAssociation]:
    """The store and the function's association, for the media distribution's default behaviour."""
    store = cloudfront.KeyValueStore(
        scope, "PlaybackEdgeStore", comment="Videoplane: private video ids and playback session keys"
    )
    function = cloudfront.Function(
        scope,
        "PlaybackCheck",
        comment="Videoplane: playback sessions of private videos",
        code=cloudfront.FunctionCode.from_file(file_path=str(FUNCTION_CODE)),
        runtime=cloudfront.FunctionRuntime.JS_2_0,
        key_value_store=store,
        auto_publish=True,
    )
    association = cloudfront.FunctionAssociation(
        function=function, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
    )
    return store, association
